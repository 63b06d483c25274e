/*
 * pool_poison_floor.c — the least the field profile's poison can cost:
 * guard_pool_put and guard_pool_get as a preloaded library that fills
 * every put object with a poison byte and, at its next get, checks that
 * every byte still holds it, doing nothing else (no record, no table, no
 * protection).  Run beside native by pool_threads --poison-floor
 * (docs/performance.md, "What the field profile costs"): what the field
 * profile can cost at best while every put is poisoned, as the field
 * profile requires (a late write caught every time).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define POISON 0xa5u

static volatile unsigned long late_writes; /* counted, so the check is not optimized out */

void guard_pool_put(const void *pool, void *obj, size_t size);
void guard_pool_get(const void *pool, void *obj, size_t size);

void guard_pool_put(const void *pool, void *obj, size_t size)
{
    (void)pool;
    memset(obj, POISON, size);
}

void guard_pool_get(const void *pool, void *obj, size_t size)
{
    (void)pool;
    const uint64_t want = 0x0101010101010101ull * POISON;
    const unsigned char *b = obj;
    uint64_t diff = 0;
    size_t i = 0;
    for (; i + 8 <= size; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        diff |= w ^ want;
    }
    for (; i < size; i++)
        diff |= b[i] ^ POISON;
    if (diff)
        late_writes++;
}
