/*
 * nss.c — every public door into NSS, the name service switch: the user,
 * group, shadow, host, network, protocol, service, rpc, ethers, alias and
 * netgroup lookups, and the libc functions that make them inside libc
 * (initgroups, getnameinfo, getlogin, ...), where no hook can see the
 * inner call.  docs/checks.md lists them by database, with where the list
 * comes from (glibc's sources) and what is left out.
 *
 * Three checks:
 *   - nss-nonreentrant-threads: the non-reentrant functions (getpwuid,
 *     gethostbyname, getservbyname, ...) return a pointer into static
 *     storage that POSIX lets every such function of the same database
 *     share; a second thread calling one while the process has more than
 *     one thread can overwrite the first thread's result under its feet.
 *     Fires on the second thread's call, whether or not the two calls
 *     happened to overlap in this run.
 *   - nss-erange-not-retried: a getpw*_r/getgr*_r call failed with ERANGE
 *     (buffer too small: *result is NULL) and the thread never called
 *     again with a larger buffer for the same key, so the caller took "too
 *     small" for "no such user".  Checked when the thread moves on to
 *     another lookup, and at exit.
 *   - fork-unsafe-call: every door takes locks and may load NSS modules;
 *     in a child forked from a multithreaded process it can deadlock
 *     before exec (children.c decides).
 *
 * NSS calls cost microseconds (file parsing, maybe IPC), so the checks'
 * bookkeeping is small beside them.  The hooks never change a result: all
 * their work is done before the real call, with errno and h_errno put
 * back, so the program sees exactly the real call's result, errno and
 * h_errno.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/types.h>

#include "guard_internal.h"
#include "hook.h"

/* ---- nss-nonreentrant-threads ------------------------------------------ */

/* The groups of functions that may share one static result: POSIX lets a
 * later call of any non-reentrant function of a database overwrite what
 * an earlier one returned (getpwnam's result by getpwuid, gethostbyname's
 * by gethostbyaddr); getlogin and cuserid each have their own. */
enum nss_family {
    FAM_PASSWD, FAM_GROUP, FAM_SHADOW, FAM_GSHADOW, FAM_HOSTS, FAM_NETWORKS,
    FAM_PROTOCOLS, FAM_SERVICES, FAM_RPC, FAM_ALIASES, FAM_NETGROUP, FAM_GETLOGIN,
    FAM_CUSERID, NFAMILIES,
    FAM_NONE = -1 /* reentrant: fork-unsafe-call only */
};
static const char *const family_db[NFAMILIES] = {
    "passwd", "group", "shadow", "gshadow", "hosts", "networks", "protocols", "services",
    "rpc", "aliases", "netgroup", "getlogin", "cuserid"};

/* The first thread to use a non-reentrant function of each family. */
static struct {
    _Atomic pid_t tid;
    uint32_t stack;
    const char *call;
} first[NFAMILIES];
static struct guard_lock report_lock;
static uint32_t reported_stacks[64];     /* report each calling site once */
static unsigned nreported;

static int already_reported(uint32_t stack)
{
    int seen = 0;
    if (!guard_lock_acquire(&report_lock))
        return 1;
    for (unsigned i = 0; i < nreported; i++)
        seen |= reported_stacks[i] == stack;
    if (!seen && nreported < 64)
        reported_stacks[nreported++] = stack;
    guard_lock_release(&report_lock);
    return seen;
}

static void nonreentrant_call(const char *call, enum nss_family fam)
{
    pid_t self = guard_gettid();
    uint32_t stack = guard_stack_capture(2);
    pid_t expected = 0;
    if (atomic_compare_exchange_strong(&first[fam].tid, &expected, self)) {
        first[fam].stack = stack;
        first[fam].call = call;
        return;
    }
    if (expected == self)
        return;
    int threads = guard_threads_count();
    if (threads < 2 || already_reported(stack))
        return;
    const char *advice = fam == FAM_CUSERID   ? "pass cuserid() a buffer of L_cuserid bytes"
                         : fam == FAM_GETLOGIN ? "use getlogin_r() with a buffer per thread"
                                               : "use the _r variants with a buffer per thread";
    struct guard_finding f;
    guard_finding_init(&f, GUARD_FK_NSS_NONREENTRANT_THREADS, self);
    f.other_tid = expected;
    f.call = call;
    guard_fmt(f.summary, sizeof f.summary,
              "%s() called on thread T%d while thread T%d also uses %s() (%d threads): the "
              "non-reentrant %s lookups return one static result buffer that any later call "
              "may overwrite; %s",
              call, (int)self, (int)expected, first[fam].call ? first[fam].call : "?", threads,
              family_db[fam], advice);
    f.stacks[0] = (struct guard_finding_stack_ref){GUARD_ROLE_CALL, stack, (uint32_t)self};
    f.stacks[1] = (struct guard_finding_stack_ref){GUARD_ROLE_OTHER_CALL, first[fam].stack,
                                                   (uint32_t)expected};
    f.nstacks = 2;
    guard_report_finding(&f);
}

/* ---- nss-erange-not-retried --------------------------------------------- */

/* Pending ERANGEs live in one small table keyed by thread (not in TLS: a
 * thread may exit before the exit check reads its entry). */
struct erange_pending {
    pid_t tid;            /* 0: free slot */
    const char *call;
    uint64_t key;         /* uid/gid, or a hash of the name */
    size_t buflen;
    uint32_t stack;
};

#define MAX_PENDING 64
GUARD_LARGE static struct erange_pending pending[MAX_PENDING];
static struct guard_lock pending_lock;
static _Atomic int any_pending;

static uint64_t name_key(const char *name)
{
    uint64_t h = 1469598103934665603ull;
    for (; name && *name; name++)
        h = (h ^ (unsigned char)*name) * 1099511628211ull;
    return h;
}

static void report_erange(const struct erange_pending *p)
{
    struct guard_finding f;
    guard_finding_init(&f, GUARD_FK_NSS_ERANGE_NOT_RETRIED, p->tid);
    f.call = p->call;
    f.bytes = (unsigned)p->buflen;
    guard_fmt(f.summary, sizeof f.summary,
              "%s() failed with ERANGE (a %zu-byte buffer is too small) and was never retried "
              "with a larger one: the caller saw *result == NULL, which reads as \"no such "
              "entry\"", p->call, p->buflen);
    f.stacks[0] = (struct guard_finding_stack_ref){GUARD_ROLE_CALL, p->stack, (uint32_t)p->tid};
    f.nstacks = p->stack ? 1 : 0;
    guard_report_finding(&f);
}

/* Take this thread's pending ERANGE out of the table, if any. */
static int take_pending(pid_t tid, struct erange_pending *out)
{
    int found = 0;
    if (!atomic_load(&any_pending) || !guard_lock_acquire(&pending_lock))
        return 0;
    for (unsigned i = 0; i < MAX_PENDING; i++)
        if (pending[i].tid == tid) {
            *out = pending[i];
            pending[i].tid = 0;
            found = 1;
            break;
        }
    guard_lock_release(&pending_lock);
    return found;
}

/* Before every reentrant lookup: a pending ERANGE is settled by a retry of
 * the same call for the same key with a larger buffer, and reported if the
 * thread moved on to something else. */
static void settle_pending(const char *call, uint64_t key, size_t buflen)
{
    struct erange_pending p;
    if (!take_pending(guard_gettid(), &p))
        return;
    if (!strcmp(p.call, call) && p.key == key && buflen > p.buflen)
        return; /* retried properly */
    report_erange(&p);
}

static void after_reentrant(const char *call, uint64_t key, size_t buflen, int rc)
{
    if (rc != ERANGE || !guard_lock_acquire(&pending_lock))
        return;
    for (unsigned i = 0; i < MAX_PENDING; i++)
        if (pending[i].tid == 0) {
            pending[i] = (struct erange_pending){guard_gettid(), call, key, buflen,
                                                 guard_stack_capture(2)};
            atomic_store(&any_pending, 1);
            break;
        }
    guard_lock_release(&pending_lock);
}

/* At exit: ERANGEs never retried, on any thread. */
void guard_nss_at_exit(void)
{
    for (unsigned i = 0; i < MAX_PENDING && atomic_load(&any_pending); i++) {
        struct erange_pending p = pending[i];
        if (p.tid) {
            pending[i].tid = 0;
            report_erange(&p);
        }
    }
}

GUARD_FORK_PATH void guard_nss_after_fork_child(void)
{
    /* only what differs: see guard_pool_after_fork_child */
    guard_lock_reset_in_child(&report_lock);
    guard_lock_reset_in_child(&pending_lock);
    if (!atomic_load_explicit(&any_pending, memory_order_relaxed))
        return; /* the table was never written: not even read (each page read is a fault) */
    pid_t self = guard_gettid();
    for (unsigned i = 0; i < MAX_PENDING; i++)
        if (pending[i].tid && pending[i].tid != self)
            pending[i].tid = 0; /* other threads' lookups are the parent's business */
}

/* ---- the hooks ---------------------------------------------------------- */

#define REENTRANT_HOOK(name, keytype, keyexpr, entry)                                        \
    GUARD_EXPORT int name(keytype key, struct entry *result_buf, char *buf, size_t buflen,   \
                          struct entry **result)                                             \
    {                                                                                        \
        struct guard_hook h;                                                                 \
        if (guard_hook_begin(&h)) {                                                          \
            guard_stack_prepare();                                                           \
            guard_children_fork_unsafe_call(#name);                                          \
            settle_pending(#name, keyexpr, buflen);                                          \
            guard_hook_end(&h);                                                              \
        }                                                                                    \
        int rc = GUARD_REAL(name)(key, result_buf, buf, buflen, result);                     \
        if (guard_hook_begin(&h)) {                                                          \
            after_reentrant(#name, keyexpr, buflen, rc);                                     \
            guard_hook_end(&h);                                                              \
        }                                                                                    \
        return rc;                                                                           \
    }

REENTRANT_HOOK(getpwuid_r, uid_t, (uint64_t)key, passwd)
REENTRANT_HOOK(getpwnam_r, const char *, name_key(key), passwd)
REENTRANT_HOOK(getgrgid_r, gid_t, (uint64_t)key, group)
REENTRANT_HOOK(getgrnam_r, const char *, name_key(key), group)

/* Every door's work, before the real call: the checks, with errno and
 * h_errno put back so that the real call sees the program's.  Only the
 * static-result doors take a stack on every call, so only they load
 * libunwind (a program that just calls getaddrinfo does not pay for it;
 * fork-unsafe-call takes its stack with libgcc's unwinder). */
static void door(const char *call, enum nss_family fam)
{
    int saved_h_errno = h_errno;
    struct guard_hook h;
    if (guard_hook_begin(&h)) {
        if (fam != FAM_NONE)
            guard_stack_prepare();
        guard_children_fork_unsafe_call(call);
        if (fam != FAM_NONE)
            nonreentrant_call(call, fam);
        guard_hook_end(&h);
    }
    if (h_errno != saved_h_errno)
        h_errno = saved_h_errno;
}

#define DOOR(fam, ret, name, params, args)   \
    GUARD_EXPORT ret name params              \
    {                                         \
        door(#name, fam);                     \
        return GUARD_REAL(name) args;         \
    }
#define DOOR_VOID(fam, name, params, args)   \
    GUARD_EXPORT void name params             \
    {                                         \
        door(#name, fam);                     \
        GUARD_REAL(name) args;                \
    }

/* passwd, group, initgroups */
DOOR(FAM_PASSWD, struct passwd *, getpwuid, (uid_t uid), (uid))
DOOR(FAM_PASSWD, struct passwd *, getpwnam, (const char *name), (name))
DOOR(FAM_PASSWD, struct passwd *, getpwent, (void), ())
DOOR(FAM_NONE, int, getpwent_r, (struct passwd *pw, char *buf, size_t len, struct passwd **res),
     (pw, buf, len, res))
DOOR_VOID(FAM_NONE, setpwent, (void), ())
DOOR_VOID(FAM_NONE, endpwent, (void), ())
DOOR(FAM_NONE, int, getpw, (uid_t uid, char *buf), (uid, buf))
DOOR(FAM_GROUP, struct group *, getgrgid, (gid_t gid), (gid))
DOOR(FAM_GROUP, struct group *, getgrnam, (const char *name), (name))
DOOR(FAM_GROUP, struct group *, getgrent, (void), ())
DOOR(FAM_NONE, int, getgrent_r, (struct group *gr, char *buf, size_t len, struct group **res),
     (gr, buf, len, res))
DOOR_VOID(FAM_NONE, setgrent, (void), ())
DOOR_VOID(FAM_NONE, endgrent, (void), ())
DOOR(FAM_NONE, int, getgrouplist, (const char *user, gid_t group, gid_t *groups, int *ngroups),
     (user, group, groups, ngroups))
DOOR(FAM_NONE, int, initgroups, (const char *user, gid_t group), (user, group))

/* shadow, gshadow */
DOOR(FAM_SHADOW, struct spwd *, getspnam, (const char *name), (name))
DOOR(FAM_SHADOW, struct spwd *, getspent, (void), ())
DOOR(FAM_NONE, int, getspnam_r,
     (const char *name, struct spwd *sp, char *buf, size_t len, struct spwd **res),
     (name, sp, buf, len, res))
DOOR(FAM_NONE, int, getspent_r, (struct spwd *sp, char *buf, size_t len, struct spwd **res),
     (sp, buf, len, res))
DOOR_VOID(FAM_NONE, setspent, (void), ())
DOOR_VOID(FAM_NONE, endspent, (void), ())
DOOR(FAM_GSHADOW, struct sgrp *, getsgnam, (const char *name), (name))
DOOR(FAM_GSHADOW, struct sgrp *, getsgent, (void), ())
DOOR(FAM_NONE, int, getsgnam_r,
     (const char *name, struct sgrp *sg, char *buf, size_t len, struct sgrp **res),
     (name, sg, buf, len, res))
DOOR(FAM_NONE, int, getsgent_r, (struct sgrp *sg, char *buf, size_t len, struct sgrp **res),
     (sg, buf, len, res))
DOOR_VOID(FAM_NONE, setsgent, (void), ())
DOOR_VOID(FAM_NONE, endsgent, (void), ())

/* hosts */
DOOR(FAM_HOSTS, struct hostent *, gethostbyname, (const char *name), (name))
DOOR(FAM_HOSTS, struct hostent *, gethostbyname2, (const char *name, int af), (name, af))
DOOR(FAM_HOSTS, struct hostent *, gethostbyaddr, (const void *addr, socklen_t len, int type),
     (addr, len, type))
DOOR(FAM_HOSTS, struct hostent *, gethostent, (void), ())
DOOR(FAM_NONE, int, gethostbyname_r,
     (const char *name, struct hostent *he, char *buf, size_t len, struct hostent **res,
      int *herr),
     (name, he, buf, len, res, herr))
DOOR(FAM_NONE, int, gethostbyname2_r,
     (const char *name, int af, struct hostent *he, char *buf, size_t len,
      struct hostent **res, int *herr),
     (name, af, he, buf, len, res, herr))
DOOR(FAM_NONE, int, gethostbyaddr_r,
     (const void *addr, socklen_t alen, int type, struct hostent *he, char *buf, size_t len,
      struct hostent **res, int *herr),
     (addr, alen, type, he, buf, len, res, herr))
DOOR(FAM_NONE, int, gethostent_r,
     (struct hostent *he, char *buf, size_t len, struct hostent **res, int *herr),
     (he, buf, len, res, herr))
DOOR_VOID(FAM_NONE, sethostent, (int stayopen), (stayopen))
DOOR_VOID(FAM_NONE, endhostent, (void), ())
DOOR(FAM_NONE, int, getaddrinfo,
     (const char *node, const char *service, const struct addrinfo *hints,
      struct addrinfo **res),
     (node, service, hints, res))
DOOR(FAM_NONE, int, getaddrinfo_a,
     (int mode, struct gaicb *list[], int n, struct sigevent *sev), (mode, list, n, sev))
DOOR(FAM_NONE, int, getnameinfo,
     (const struct sockaddr *sa, socklen_t salen, char *host, socklen_t hostlen, char *serv,
      socklen_t servlen, int flags),
     (sa, salen, host, hostlen, serv, servlen, flags))
DOOR(FAM_NONE, long, gethostid, (void), ())

/* networks */
DOOR(FAM_NETWORKS, struct netent *, getnetbyname, (const char *name), (name))
DOOR(FAM_NETWORKS, struct netent *, getnetbyaddr, (uint32_t net, int type), (net, type))
DOOR(FAM_NETWORKS, struct netent *, getnetent, (void), ())
DOOR(FAM_NONE, int, getnetbyname_r,
     (const char *name, struct netent *ne, char *buf, size_t len, struct netent **res,
      int *herr),
     (name, ne, buf, len, res, herr))
DOOR(FAM_NONE, int, getnetbyaddr_r,
     (uint32_t net, int type, struct netent *ne, char *buf, size_t len, struct netent **res,
      int *herr),
     (net, type, ne, buf, len, res, herr))
DOOR(FAM_NONE, int, getnetent_r,
     (struct netent *ne, char *buf, size_t len, struct netent **res, int *herr),
     (ne, buf, len, res, herr))
DOOR_VOID(FAM_NONE, setnetent, (int stayopen), (stayopen))
DOOR_VOID(FAM_NONE, endnetent, (void), ())

/* protocols */
DOOR(FAM_PROTOCOLS, struct protoent *, getprotobyname, (const char *name), (name))
DOOR(FAM_PROTOCOLS, struct protoent *, getprotobynumber, (int proto), (proto))
DOOR(FAM_PROTOCOLS, struct protoent *, getprotoent, (void), ())
DOOR(FAM_NONE, int, getprotobyname_r,
     (const char *name, struct protoent *pe, char *buf, size_t len, struct protoent **res),
     (name, pe, buf, len, res))
DOOR(FAM_NONE, int, getprotobynumber_r,
     (int proto, struct protoent *pe, char *buf, size_t len, struct protoent **res),
     (proto, pe, buf, len, res))
DOOR(FAM_NONE, int, getprotoent_r,
     (struct protoent *pe, char *buf, size_t len, struct protoent **res), (pe, buf, len, res))
DOOR_VOID(FAM_NONE, setprotoent, (int stayopen), (stayopen))
DOOR_VOID(FAM_NONE, endprotoent, (void), ())

/* services */
DOOR(FAM_SERVICES, struct servent *, getservbyname, (const char *name, const char *proto),
     (name, proto))
DOOR(FAM_SERVICES, struct servent *, getservbyport, (int port, const char *proto), (port, proto))
DOOR(FAM_SERVICES, struct servent *, getservent, (void), ())
DOOR(FAM_NONE, int, getservbyname_r,
     (const char *name, const char *proto, struct servent *se, char *buf, size_t len,
      struct servent **res),
     (name, proto, se, buf, len, res))
DOOR(FAM_NONE, int, getservbyport_r,
     (int port, const char *proto, struct servent *se, char *buf, size_t len,
      struct servent **res),
     (port, proto, se, buf, len, res))
DOOR(FAM_NONE, int, getservent_r,
     (struct servent *se, char *buf, size_t len, struct servent **res), (se, buf, len, res))
DOOR_VOID(FAM_NONE, setservent, (int stayopen), (stayopen))
DOOR_VOID(FAM_NONE, endservent, (void), ())

/* rpc */
DOOR(FAM_RPC, struct rpcent *, getrpcbyname, (const char *name), (name))
DOOR(FAM_RPC, struct rpcent *, getrpcbynumber, (int number), (number))
DOOR(FAM_RPC, struct rpcent *, getrpcent, (void), ())
DOOR(FAM_NONE, int, getrpcbyname_r,
     (const char *name, struct rpcent *re, char *buf, size_t len, struct rpcent **res),
     (name, re, buf, len, res))
DOOR(FAM_NONE, int, getrpcbynumber_r,
     (int number, struct rpcent *re, char *buf, size_t len, struct rpcent **res),
     (number, re, buf, len, res))
DOOR(FAM_NONE, int, getrpcent_r, (struct rpcent *re, char *buf, size_t len, struct rpcent **res),
     (re, buf, len, res))
DOOR_VOID(FAM_NONE, setrpcent, (int stayopen), (stayopen))
DOOR_VOID(FAM_NONE, endrpcent, (void), ())

/* ethers, aliases, netgroup */
DOOR(FAM_NONE, int, ether_hostton, (const char *host, struct ether_addr *addr), (host, addr))
DOOR(FAM_NONE, int, ether_ntohost, (char *host, const struct ether_addr *addr), (host, addr))
DOOR(FAM_ALIASES, struct aliasent *, getaliasbyname, (const char *name), (name))
DOOR(FAM_ALIASES, struct aliasent *, getaliasent, (void), ())
DOOR(FAM_NONE, int, getaliasbyname_r,
     (const char *name, struct aliasent *ae, char *buf, size_t len, struct aliasent **res),
     (name, ae, buf, len, res))
DOOR(FAM_NONE, int, getaliasent_r,
     (struct aliasent *ae, char *buf, size_t len, struct aliasent **res), (ae, buf, len, res))
DOOR_VOID(FAM_NONE, setaliasent, (void), ())
DOOR_VOID(FAM_NONE, endaliasent, (void), ())
DOOR(FAM_NONE, int, setnetgrent, (const char *netgroup), (netgroup))
DOOR(FAM_NETGROUP, int, getnetgrent, (char **host, char **user, char **domain),
     (host, user, domain))
DOOR(FAM_NONE, int, getnetgrent_r,
     (char **host, char **user, char **domain, char *buf, size_t len),
     (host, user, domain, buf, len))
DOOR_VOID(FAM_NONE, endnetgrent, (void), ())
DOOR(FAM_NONE, int, innetgr,
     (const char *netgroup, const char *host, const char *user, const char *domain),
     (netgroup, host, user, domain))

/* lookups libc makes inside other functions */
DOOR(FAM_GETLOGIN, char *, getlogin, (void), ())
DOOR(FAM_NONE, int, getlogin_r, (char *name, size_t len), (name, len))
DOOR(FAM_NONE, int, __getlogin_r_chk, (char *name, size_t len, size_t cap), (name, len, cap))
DOOR(FAM_NONE, int, wordexp, (const char *words, wordexp_t *we, int flags), (words, we, flags))
DOOR(FAM_NONE, int, rcmd,
     (char **host, unsigned short port, const char *luser, const char *ruser, const char *cmd,
      int *fd2),
     (host, port, luser, ruser, cmd, fd2))
DOOR(FAM_NONE, int, rcmd_af,
     (char **host, unsigned short port, const char *luser, const char *ruser, const char *cmd,
      int *fd2, sa_family_t af),
     (host, port, luser, ruser, cmd, fd2, af))
DOOR(FAM_NONE, int, rexec,
     (char **host, int port, const char *user, const char *pass, const char *cmd, int *fd2),
     (host, port, user, pass, cmd, fd2))
DOOR(FAM_NONE, int, rexec_af,
     (char **host, int port, const char *user, const char *pass, const char *cmd, int *fd2,
      sa_family_t af),
     (host, port, user, pass, cmd, fd2, af))
DOOR(FAM_NONE, int, ruserok, (const char *rhost, int super, const char *ruser, const char *luser),
     (rhost, super, ruser, luser))
DOOR(FAM_NONE, int, ruserok_af,
     (const char *rhost, int super, const char *ruser, const char *luser, sa_family_t af),
     (rhost, super, ruser, luser, af))
DOOR(FAM_NONE, int, iruserok, (uint32_t raddr, int super, const char *ruser, const char *luser),
     (raddr, super, ruser, luser))
DOOR(FAM_NONE, int, iruserok_af,
     (const void *raddr, int super, const char *ruser, const char *luser, sa_family_t af),
     (raddr, super, ruser, luser, af))

/* cuserid returns its static buffer only when given none. */
GUARD_EXPORT char *cuserid(char *s)
{
    door("cuserid", s ? FAM_NONE : FAM_CUSERID);
    return GUARD_REAL(cuserid)(s);
}
