/*
 * guard.h — libguard's public annotation API.
 *
 * Tell libguard when an object leaves and re-enters a pool (a free list, a
 * buffer cache, a sync.Pool-like recycler).  Under the shim
 * (LD_PRELOAD=libguard.so), an access to the object between guard_pool_put
 * and the next guard_pool_get of it is reported as a use-after-return.
 *
 * The functions are weak: a program annotated with this header runs
 * unchanged, and at no cost beyond a test of a pointer, without the shim.
 * The macros below call the function only when the shim defines it, so
 * `guard_pool_put(pool, obj, size);` is safe to write either way.
 *
 * pool: any address that names the pool (used only for reports).
 * obj/size: the region the object's owner may use.  Leave out any bytes the
 * pool itself writes while the object is in the pool (a free-list link):
 * after put, the region is poisoned and its whole pages are made
 * inaccessible.
 */
#ifndef GUARD_H
#define GUARD_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void guard_pool_get(const void *pool, void *obj, size_t size) __attribute__((weak));
void guard_pool_put(const void *pool, void *obj, size_t size) __attribute__((weak));

#ifdef __cplusplus
}
#endif

/* A function-like macro is not expanded again inside its own expansion, so
 * these call the real (weak) functions, but only when they are present. */
#define guard_pool_get(pool, obj, size) \
    (guard_pool_get ? guard_pool_get((pool), (obj), (size)) : (void)0)
#define guard_pool_put(pool, obj, size) \
    (guard_pool_put ? guard_pool_put((pool), (obj), (size)) : (void)0)

#endif /* GUARD_H */
