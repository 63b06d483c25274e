/*
 * hook.c — the table of real functions, filled lazily from hook_list.h.
 *
 * A slot is resolved at the hook's first call with dlsym(RTLD_NEXT), which
 * may allocate (dlerror state) but never calls back into a hook of ours.
 * Racing threads store the same answer.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include "hook.h"

_Atomic(void *) guard_hook_real_table[GUARD_HOOK_COUNT];

#define GUARD_API(name)
#define GUARD_HOOK(name, ret, params) [GUARD_HOOK_ID_##name] = #name,
static const char *const hook_names[GUARD_HOOK_COUNT] = {
#include "hook_list.h"
};
#undef GUARD_HOOK

void *guard_hook_resolve(enum guard_hook_id id)
{
    void *fn = dlsym(RTLD_NEXT, hook_names[id]);
    atomic_store_explicit(&guard_hook_real_table[id], fn, memory_order_relaxed);
    return fn;
}

/* Each listed type is the one libc declares, where libc declares the
 * function (the fortified __open_2 family is declared only under
 * _FORTIFY_SOURCE, and the hooks' own definitions check those). */
extern int __open_2(const char *, int);
extern int __open64_2(const char *, int);
extern int __openat_2(int, const char *, int);
extern int umount(const char *);
extern sighandler_t bsd_signal(int, sighandler_t);
extern int execveat(int, const char *, char *const[], char *const[], int);
extern int __getlogin_r_chk(char *, size_t, size_t);
#define GUARD_HOOK(name, ret, params)                                                       \
    _Static_assert(__builtin_types_compatible_p(__typeof__(name), ret params),            \
                   "hook_list.h: the type of " #name " is not libc's");
#include "hook_list.h"
#undef GUARD_HOOK
#undef GUARD_API
