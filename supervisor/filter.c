/*
 * filter.c — the seccomp filter of a supervised program, installed by the
 * launcher's child just before it execs the program.
 *
 * Watched (SECCOMP_RET_USER_NOTIF): the calls that start processes (clone
 * without CLONE_THREAD, clone3, fork, vfork), replace them (execve,
 * execveat), reap them (wait4, waitid), signal them (kill), and the
 * namespace calls (unshare, setns, mount, umount2, pivot_root, chroot,
 * sethostname).  A waitid with WNOWAIT, which reaps nothing, passes (Go
 * waits so for each child before it reaps it with wait4).  Everything
 * else is allowed at the cost of the filter alone.
 *
 * Invariants: exit and exit_group are never watched (a program whose
 * supervisor is gone must still be able to end); calls of another
 * architecture or the x32 ABI pass (the supervisor reads x86-64
 * registers); a thread's clone (CLONE_THREAD in the low word of its first
 * argument) passes, since threads are not processes.  clone3 takes its
 * flags in memory, which a filter cannot read: every clone3 is watched and
 * the supervisor reads the flags.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sup.h"

static const int watched[] = {
    SYS_clone3, SYS_fork,    SYS_vfork, SYS_execve, SYS_execveat, SYS_wait4,
    SYS_kill,   SYS_unshare, SYS_setns, SYS_mount,  SYS_umount2,  SYS_pivot_root,
    SYS_chroot, SYS_sethostname,
};
#define NWATCHED (sizeof watched / sizeof watched[0])

/* Install the filter with a new listener; returns the listener fd, or -1
 * with errno.  Without CAP_SYS_ADMIN the kernel takes a filter only under
 * no_new_privs (which set-user-ID programs then do not honour). */
int filter_install(int *killable)
{
    struct sock_filter f[20 + 2 * NWATCHED];
    unsigned n = 0;
#define STMT(c, k) (f[n++] = (struct sock_filter)BPF_STMT((c), (k)))
#define JUMP(c, k, t, e) (f[n++] = (struct sock_filter)BPF_JUMP((c), (k), (t), (e)))
    STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1); /* x32 */
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    for (unsigned i = 0; i < NWATCHED; i++) {
        JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)watched[i], 0, 1);
        STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
    }
    /* waitid: watched unless WNOWAIT is in its options (the low word of
     * its fourth argument); the load is only made on paths that return */
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_waitid, 0, 4);
    STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3]));
    JUMP(BPF_JMP | BPF_JSET | BPF_K, WNOWAIT, 0, 1);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
    /* clone: watched unless it makes a thread */
    JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 1, 0);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
    JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
#undef STMT
#undef JUMP
    struct sock_fprog prog = {(unsigned short)n, f};
    if (geteuid() != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    /* The killable wait (Linux 5.19): once the supervisor has received a
     * call, only a fatal signal takes the thread out of it, so a call is
     * never both answered and interrupted (and made again). */
    unsigned long flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
    *killable = 1;
    for (int attempt = 0; attempt < 3; attempt++) {
        long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
        if (fd >= 0)
            return (int)fd;
        if (errno == EINVAL && (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)) {
            flags &= ~(unsigned long)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
            *killable = 0;
        } else if (errno != EACCES || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
            break;
        }
    }
    return -1;
}
