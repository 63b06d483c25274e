/*
 * pool_sample_floor.c — the least any sampling design of the pool checks
 * can cost: guard_pool_put and guard_pool_get as a preloaded library that
 * only counts puts down to the next sampled one (one in 1000 per thread)
 * and, at a get, probes a small table of sampled objects, doing nothing
 * else.  Run beside native by pool_threads (docs/performance.md, "What the
 * field profile costs"): what the field profile's 1.10 x target would
 * leave if the poison and its check were sampled too, as GWP-ASan samples
 * allocations, instead of done at every put.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SAMPLE 1000
#define SLOTS 4096

static __thread long countdown = SAMPLE;
static _Atomic uintptr_t sampled[SLOTS];

static _Atomic uintptr_t *slot_of(const void *obj)
{
    return &sampled[((uintptr_t)obj >> 6) % SLOTS];
}

void guard_pool_put(const void *pool, void *obj, size_t size);
void guard_pool_get(const void *pool, void *obj, size_t size);

void guard_pool_put(const void *pool, void *obj, size_t size)
{
    (void)pool;
    (void)size;
    if (--countdown > 0)
        return;
    countdown = SAMPLE;
    atomic_store_explicit(slot_of(obj), (uintptr_t)obj, memory_order_relaxed);
}

void guard_pool_get(const void *pool, void *obj, size_t size)
{
    (void)pool;
    (void)size;
    _Atomic uintptr_t *s = slot_of(obj);
    if (__builtin_expect(atomic_load_explicit(s, memory_order_relaxed) == (uintptr_t)obj, 0))
        atomic_store_explicit(s, 0, memory_order_relaxed);
}
