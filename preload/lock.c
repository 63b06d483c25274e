/*
 * lock.c — the shim's lock: an owner-aware spinlock that refuses, rather
 * than deadlocks, when a signal handler interrupts the thread holding it
 * and wants it too.  Held only for short, non-blocking work.
 */
#include <sched.h>
#include <stdatomic.h>

#include "guard_internal.h"

int guard_lock_acquire(struct guard_lock *lock)
{
    int self = (int)guard_gettid();
    for (unsigned spins = 0;; spins++) {
        int expected = 0;
        if (atomic_compare_exchange_weak_explicit(&lock->owner, &expected, self,
                                                  memory_order_acquire, memory_order_relaxed))
            return 1;
        if (expected == self)
            return 0; /* we interrupted ourselves: refuse rather than deadlock */
        if (spins > 64)
            sched_yield();
    }
}

void guard_lock_release(struct guard_lock *lock)
{
    atomic_store_explicit(&lock->owner, 0, memory_order_release);
}
