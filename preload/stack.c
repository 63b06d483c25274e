/*
 * stack.c — call stacks: capture with libunwind, de-duplicate per process.
 *
 * A program that puts and gets pool objects a million times does so from a
 * handful of call sites, so each distinct stack is written to the log once
 * (a STACK record) and events refer to it by id.  The depot is a fixed,
 * lock-free open-addressing table keyed by a 64-bit hash of the frames: no
 * malloc, no lock, safe from signal handlers.  Symbolization happens
 * offline in the analyzer; here we keep raw lookup addresses only.
 *
 * libunwind is not linked: loading it (and the liblzma it needs) was a
 * third of what the shim cost every short process, most of which never
 * take a stack.  It is dlopen'ed at the first "safe point": a hook of a
 * call that a signal handler cannot legitimately make (pthread_create,
 * fork, posix_spawn, the pool API, NSS, namespace calls), where the loader
 * and malloc locks are certainly not held by an interrupted frame of this
 * thread.  A stack wanted before that — in a crash handler, a wait() or a
 * time call of a process that never reached a safe point — is written raw
 * (registers and a copy of the stack memory) and unwound by the analyzer.
 *
 * libunwind's fast unw_backtrace costs each thread that calls it a 256 KiB
 * trace cache, kept until the thread exits; so only a bounded number of
 * live threads use it, and the others walk with libgcc's unwinder
 * ("Which threads use unw_backtrace" below).
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <link.h>
#include <pthread.h>
#include <sys/uio.h>
#include <unistd.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "guard_internal.h"
#include "hook.h"
#include "sys.h"

#define DEPOT_SLOTS (1u << 16)  /* distinct stacks kept in memory */
#define DEPOT_PROBES 64
#define MAX_IDS (1u << 18)

struct depot_slot {
    _Atomic uint64_t hash;      /* 0: free */
    _Atomic uint32_t id;        /* 0: being filled */
    _Atomic int filler;         /* the thread filling it */
    uint32_t nframes;
    uint64_t *frames;
};

/* ---- loading libunwind ---------------------------------------------- */

enum { UNW_NONE, UNW_LOADING, UNW_READY, UNW_FAILED };
static _Atomic int unwinder = UNW_NONE;
static struct {
    int (*backtrace)(void **, int);
    int (*init_local2)(unw_cursor_t *, unw_context_t *, int);
    int (*get_reg)(unw_cursor_t *, int, unw_word_t *);
    int (*step)(unw_cursor_t *);
} unw;

/* libunwind checks that it can read an address before it reads it, by
 * write()ing a byte from there into a pipe it opens when it initialises:
 * two descriptors the program would see for the rest of its life (in
 * /proc/self/fd, in a child given pass_fds, in a close-every-fd loop that
 * would then pull them from under libunwind).  So while this thread
 * initialises libunwind, the pipe2 hook hands it two numbers that no
 * descriptor can have (GUARD_UNWINDER_FD_*), and the read, write and
 * syscall hooks answer its calls on them: the pipe is always empty, and a
 * byte can be written from an address exactly when it can be read. */
static __thread int unwinder_initialising;

GUARD_EXPORT int pipe2(int fds[2], int flags)
{
    if (__builtin_expect(unwinder_initialising, 0)) {
        fds[0] = GUARD_UNWINDER_FD_READ;
        fds[1] = GUARD_UNWINDER_FD_WRITE;
        return 0;
    }
    return GUARD_REAL(pipe2)(fds, flags);
}

long guard_unwinder_fd_io(long fd, uintptr_t addr)
{
    if (fd == GUARD_UNWINDER_FD_WRITE && guard_sys_readable8((const void *)addr))
        return 1;
    errno = fd == GUARD_UNWINDER_FD_READ ? EAGAIN : fd == GUARD_UNWINDER_FD_WRITE ? EFAULT : EBADF;
    return -1;
}

static void initialise_without_descriptors(void (*init)(void))
{
    unwinder_initialising = 1;
    init();
    unwinder_initialising = 0;
}

static int (*unw_set_policy)(unw_addr_space_t, unw_caching_policy_t);
static unw_addr_space_t *unw_local_space;

static void set_per_thread_caching(void)
{
    if (unw_set_policy && unw_local_space)
        unw_set_policy(*unw_local_space, UNW_CACHE_PER_THREAD);
}

static void load_unwinder(void)
{
    int expected = UNW_NONE;
    if (!atomic_compare_exchange_strong(&unwinder, &expected, UNW_LOADING))
        return; /* loaded, failed, or another thread is at it: raw stacks meanwhile */
    void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    int (*set_policy)(unw_addr_space_t, unw_caching_policy_t) = NULL;
    unw_addr_space_t *local = NULL;
    if (h) {
        unw.backtrace = (int (*)(void **, int))dlsym(h, "unw_backtrace");
        unw.init_local2 = (int (*)(unw_cursor_t *, unw_context_t *, int))dlsym(h, "_ULx86_64_init_local2");
        unw.get_reg = (int (*)(unw_cursor_t *, int, unw_word_t *))dlsym(h, "_ULx86_64_get_reg");
        unw.step = (int (*)(unw_cursor_t *))dlsym(h, "_ULx86_64_step");
        set_policy = (int (*)(unw_addr_space_t, unw_caching_policy_t))dlsym(h, "_ULx86_64_set_caching_policy");
        local = dlsym(h, "_ULx86_64_local_addr_space");
    }
    if (!unw.backtrace || !unw.init_local2 || !unw.get_reg || !unw.step) {
        guard_fmt_stderr("libguard: cannot load libunwind.so.8 (%s): stacks are written raw, for the "
                     "analyzer to unwind\n", h ? "symbols missing" : "not found");
        atomic_store_explicit(&unwinder, UNW_FAILED, memory_order_release);
        return;
    }
    /* The first call into libunwind initialises it (and opens its pipe). */
    unw_set_policy = set_policy;
    unw_local_space = local;
    int saved = errno;
    initialise_without_descriptors(set_per_thread_caching);
    errno = saved;
    atomic_store_explicit(&unwinder, UNW_READY, memory_order_release);
}

static int unwinder_ready(void)
{
    return atomic_load_explicit(&unwinder, memory_order_acquire) == UNW_READY;
}

/* ---- which threads use unw_backtrace --------------------------------- *
 *
 * unw_backtrace keeps, for each thread that calls it, a hash of 1<<14
 * frame descriptions (16 bytes each, every one written when the hash is
 * made): 256 KiB resident per thread, given back only by a pthread key
 * destructor when the thread exits.  1,000 threads that each took one
 * stack were 280 MB.  Its cursor walk (unw_init_local2/unw_step) keeps no
 * per-thread state but takes the cache lock, with two rt_sigprocmask
 * calls, at every frame; libgcc's _Unwind_Backtrace (linked into the
 * shim, see fork/walk.c) finds each frame's unwind information through
 * _dl_find_object, without lock, system call or memory of its own, but
 * parses it again at every frame.  docs/performance.md has the costs of
 * the three.
 *
 * So at most FAST_THREADS live threads have a place on the fast path
 * (unw_backtrace); every other thread walks with libgcc.  A thread asks
 * for a place at its FAST_AFTER'th safe point that wants a stack, so that
 * threads that take a handful of stacks (a lookup at start-up, a short
 * task) leave the places to the busy ones.  Places are handed out only at
 * safe points (guard_stack_prepare), and a thread's place comes back when
 * it exits (the destructor of fast_key, which runs in the same exit as
 * libunwind's own destructor that frees the cache).  So the trace caches
 * of the process are at most FAST_THREADS, plus those of threads between
 * the two destructors of their exit.  A thread that has a place never
 * loses it before its exit (its cache is there anyway).
 *
 * Invariant: a thread calls unw_backtrace only while its state is FAST. */
#define FAST_THREADS 16 /* 16 x 256 KiB: 4 MiB of trace caches */
#define FAST_AFTER 8

enum { THREAD_SLOW, THREAD_ASKING, THREAD_FAST, THREAD_EXITED, THREAD_NEVER };
GUARD_FORK_WRITTEN static _Atomic int fast_threads; /* places held by live threads */
static pthread_key_t fast_key;
static pthread_once_t fast_key_once = PTHREAD_ONCE_INIT;
static int fast_key_made;
static __thread struct {
    unsigned safe_points; /* seen on the slow path, up to FAST_AFTER - 1 */
    unsigned char state;
} this_thread;

/* The exiting thread's place goes back to the others; stacks it takes
 * later in its exit (another library's destructor) walk with libgcc, so
 * that no trace cache is made again after libunwind freed this one. */
static void fast_thread_exits(void *unused)
{
    (void)unused;
    if (this_thread.state == THREAD_FAST)
        atomic_fetch_sub_explicit(&fast_threads, 1, memory_order_relaxed);
    this_thread.state = THREAD_EXITED;
}

static void make_fast_key(void)
{
    fast_key_made = pthread_key_create(&fast_key, fast_thread_exits) == 0;
}

static void ask_for_fast_path(void)
{
    this_thread.state = THREAD_ASKING; /* a signal handler's stack meanwhile walks with libgcc */
    int taken = atomic_load_explicit(&fast_threads, memory_order_relaxed);
    while (taken < FAST_THREADS &&
           !atomic_compare_exchange_weak_explicit(&fast_threads, &taken, taken + 1,
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
    if (taken >= FAST_THREADS) {
        this_thread.state = THREAD_SLOW; /* asks again at its next safe point */
        return;
    }
    /* Without the key (the program took all of them) the place is never
     * given back: the bound holds, the places run out. */
    pthread_once(&fast_key_once, make_fast_key);
    if (fast_key_made && pthread_setspecific(fast_key, &this_thread) != 0) {
        atomic_fetch_sub_explicit(&fast_threads, 1, memory_order_relaxed);
        this_thread.state = THREAD_NEVER; /* its exit could not be seen: never asks again */
        return;
    }
    this_thread.state = THREAD_FAST;
}

void guard_stack_prepare(void)
{
    if (__builtin_expect(atomic_load_explicit(&unwinder, memory_order_relaxed) == UNW_NONE, 0))
        load_unwinder();
    if (this_thread.state == THREAD_SLOW && unwinder_ready()) {
        if (this_thread.safe_points < FAST_AFTER - 1)
            this_thread.safe_points++;
        else
            ask_for_fast_path();
    }
}

GUARD_FORK_WRITTEN static _Atomic(struct depot_slot *) depot;           /* DEPOT_SLOTS entries */
GUARD_FORK_WRITTEN static _Atomic(_Atomic(struct depot_slot *) *) id_to_slot; /* MAX_IDS entries */
/* Stack ids handed out so far in this process's log (the next is one
 * more): written by each new stack, so in parent-only memory (a fork child
 * finds 0 there, as its new log needs) where the kernel can wipe it. */
static _Atomic uint32_t fallback_ids_used;
static _Atomic(void *) ids_used; /* made at the first stack */
static int ids_wiped_at_fork;

static uint32_t new_stack_id(void)
{
    _Atomic uint32_t *counter = guard_alloc_parent_only_object(&ids_used, sizeof *counter, &fallback_ids_used,
                                                         &ids_wiped_at_fork);
    return atomic_fetch_add(counter, 1) + 1;
}
static uintptr_t self_start, self_end;
static int find_self(struct dl_phdr_info *info, size_t size, void *data);
/* A fork child's copies of its parent's tables, unmapped when the child
 * makes its own (see guard_stack_after_fork_child). */
GUARD_FORK_WRITTEN static struct depot_slot *stale_depot;
GUARD_FORK_WRITTEN static void *stale_id_map;
/* The tables are MADV_WIPEONFORK (Linux 4.14 on): a fork child finds them
 * empty, which is what it needs, and the fork copies none of their page
 * tables.  Otherwise the child makes tables of its own. */
static int tables_wiped_at_fork;
static struct guard_lock tables_lock;

#define DEPOT_BYTES (sizeof(struct depot_slot) * DEPOT_SLOTS)
#define ID_MAP_BYTES (sizeof(_Atomic(struct depot_slot *)) * MAX_IDS)

/* Make the tables, at the process's first stack (a fork child's too):
 * most processes of a test suite never take one.  Anonymous memory is
 * untouched until used, so their size costs nothing but two mappings. */
static int make_tables(void)
{
    if (!guard_lock_acquire(&tables_lock))
        return 0; /* a signal handler inside this very call: no stack this time */
    if (!atomic_load_explicit(&depot, memory_order_acquire)) {
        if (stale_depot) {
            munmap(stale_depot, DEPOT_BYTES);
            munmap(stale_id_map, ID_MAP_BYTES);
            stale_depot = NULL;
            stale_id_map = NULL;
        }
        /* In parent-only memory, which a fork child sees empty. */
        void *d = guard_alloc_parent_only_pages(DEPOT_BYTES);
        void *m = d ? guard_alloc_parent_only_pages(ID_MAP_BYTES) : NULL;
        if (d && m) {
            tables_wiped_at_fork = guard_alloc_parent_only_wiped();
            atomic_store_explicit(&id_to_slot, m, memory_order_release);
            atomic_store_explicit(&depot, d, memory_order_release);
            guard_lock_release(&tables_lock);
            return 1;
        }
        if (d)
            munmap(d, DEPOT_BYTES); /* (never handed out again) */
        d = mmap(NULL, DEPOT_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        m = mmap(NULL, ID_MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (d != MAP_FAILED && m != MAP_FAILED) {
            int saved = errno;
            tables_wiped_at_fork = madvise(d, DEPOT_BYTES, MADV_WIPEONFORK) == 0 &&
                                   madvise(m, ID_MAP_BYTES, MADV_WIPEONFORK) == 0;
            errno = saved;
            atomic_store_explicit(&id_to_slot, m, memory_order_release);
            atomic_store_explicit(&depot, d, memory_order_release);
        } else {
            if (d != MAP_FAILED)
                munmap(d, DEPOT_BYTES);
            if (m != MAP_FAILED)
                munmap(m, ID_MAP_BYTES);
        }
    }
    guard_lock_release(&tables_lock);
    return atomic_load_explicit(&depot, memory_order_acquire) != NULL;
}

/* Called from guard_init() before any hook records. */
void guard_stack_init(void)
{
    if (!self_end)
        dl_iterate_phdr(find_self, (void *)(uintptr_t)guard_stack_init);
}

static int depot_ready(void)
{
    if (__builtin_expect(atomic_load_explicit(&depot, memory_order_acquire) != NULL, 1))
        return 1;
    return make_tables();
}

static uint64_t hash_frames(const uint64_t *pcs, unsigned n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
    for (unsigned i = 0; i < n; i++) {
        h ^= pcs[i];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
    }
    return h ? h : 1;
}

static void write_stack_record(uint32_t id, const uint64_t *pcs, unsigned n)
{
    guard_modules_refresh();
    uint32_t size = (uint32_t)(sizeof(struct guard_rec_stack) + n * sizeof(uint64_t));
    struct guard_rec_stack *s = guard_log_reserve(GUARD_REC_STACK, size);
    if (!s)
        return;
    s->id = id;
    s->nframes = n;
    s->generation = guard_modules_generation();
    s->flags = 0;
    memcpy(s->pcs, pcs, n * sizeof(uint64_t));
    guard_log_commit(s, GUARD_REC_STACK, size);
}

/* Find or add; returns the id. */
static uint32_t depot_intern(const uint64_t *pcs, unsigned n)
{
    if (n == 0 || !depot_ready())
        return 0;
    struct depot_slot *table = atomic_load_explicit(&depot, memory_order_acquire);
    _Atomic(struct depot_slot *) *ids = atomic_load_explicit(&id_to_slot, memory_order_acquire);
    uint64_t h = hash_frames(pcs, n);
    for (unsigned probe = 0; probe < DEPOT_PROBES; probe++) {
        struct depot_slot *slot = &table[(h + probe) & (DEPOT_SLOTS - 1)];
        uint64_t seen = atomic_load_explicit(&slot->hash, memory_order_acquire);
        if (seen == 0) {
            uint64_t expected = 0;
            if (!atomic_compare_exchange_strong(&slot->hash, &expected, h)) {
                seen = expected;
            } else {
                atomic_store_explicit(&slot->filler, (int)guard_gettid(), memory_order_relaxed);
                uint32_t id = new_stack_id();
                uint64_t *copy = guard_alloc(n * sizeof(uint64_t));
                if (copy)
                    memcpy(copy, pcs, n * sizeof(uint64_t));
                slot->frames = copy;
                slot->nframes = copy ? n : 0;
                write_stack_record(id, pcs, n);
                if (id < MAX_IDS)
                    atomic_store_explicit(&ids[id], slot, memory_order_release);
                atomic_store_explicit(&slot->id, id, memory_order_release);
                return id;
            }
        }
        if (seen == h) {
            /* Another thread may be between claiming the slot and
             * publishing its id: wait for it (it is writing one record),
             * but never for this very thread, interrupted by a signal
             * handler mid-fill: then fall back to a fresh record. */
            for (unsigned spin = 0; spin < 100000; spin++) {
                uint32_t id = atomic_load_explicit(&slot->id, memory_order_acquire);
                if (id)
                    return id;
                if (atomic_load_explicit(&slot->filler, memory_order_relaxed) == (int)guard_gettid())
                    break;
                if (spin > 64)
                    sched_yield();
            }
            break;
        }
    }
    /* Table full or contended: log the stack without de-duplication. */
    uint32_t id = new_stack_id();
    write_stack_record(id, pcs, n);
    return id;
}

/* The shim's own code range: frames inside it are dropped from the top of
 * a stack, so that a report starts at the program's call, whatever inlining
 * did to the shim's internal call chain. */

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t probe = (uintptr_t)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (probe >= lo && probe < hi) {
            self_start = lo;
            self_end = hi;
            return 1;
        }
    }
    return 0;
}

static int in_shim(uintptr_t pc)
{
    return pc >= self_start && pc < self_end;
}

GUARD_FORK_PATH int guard_stack_in_shim(uintptr_t pc) { return in_shim(pc); }

/* ---- raw stacks: registers + stack memory, unwound offline ------------- */

#define RAW_STACK_BYTES (16u << 10) /* enough for ~100 ordinary frames */
#define RAW_STACKS_MAX 256          /* per process: 4 MiB of log at most */
static _Atomic unsigned raw_written;

/* The DWARF register order of struct guard_stack_raw, from a ucontext. */
static void regs_from_ucontext(const ucontext_t *uc, uint64_t regs[17])
{
    static const int order[17] = {REG_RAX, REG_RDX, REG_RCX, REG_RBX, REG_RSI, REG_RDI,
                                  REG_RBP, REG_RSP, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                  REG_R12, REG_R13, REG_R14, REG_R15, REG_RIP};
    for (int i = 0; i < 17; i++)
        regs[i] = (uint64_t)uc->uc_mcontext.gregs[order[i]];
}

/* Copy the stack above sp into the log.  process_vm_readv on ourselves
 * stops at the first unmapped page instead of faulting, so the copy needs
 * no knowledge of where this thread's stack ends. */
static uint32_t write_raw_stack(const ucontext_t *uc, uint32_t raw_flags)
{
    if (atomic_fetch_add_explicit(&raw_written, 1, memory_order_relaxed) >= RAW_STACKS_MAX)
        return 0;
    guard_modules_refresh();
    uint32_t size = (uint32_t)(sizeof(struct guard_rec_stack) + sizeof(struct guard_stack_raw) +
                               RAW_STACK_BYTES);
    struct guard_rec_stack *s = guard_log_reserve(GUARD_REC_STACK, size);
    if (!s)
        return 0;
    struct guard_stack_raw *raw = (struct guard_stack_raw *)s->pcs;
    regs_from_ucontext(uc, raw->regs);
    raw->skip_lo = self_start;
    raw->skip_hi = self_end;
    raw->flags = raw_flags;
    uintptr_t sp = (uintptr_t)raw->regs[7];
    struct iovec local = {raw->bytes, RAW_STACK_BYTES};
    struct iovec remote = {(void *)sp, RAW_STACK_BYTES};
    ssize_t got = process_vm_readv(guard_pid, &local, 1, &remote, 1, 0);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (got < 0 && errno == EFAULT) {
        /* sp is past the end of its stack (an overflow: the fault came
         * from the push or the frame below the last mapped page): zeros
         * up to the next mapped page, then the stack from there, so that
         * the copy still starts at sp for the analyzer's unwind. */
        for (uintptr_t from = (sp | (page - 1)) + 1; got < 0 && from - sp < RAW_STACK_BYTES;
             from += page) {
            size_t gap = from - sp;
            struct iovec part = {raw->bytes + gap, RAW_STACK_BYTES - gap};
            struct iovec there = {(void *)from, RAW_STACK_BYTES - gap};
            ssize_t n = process_vm_readv(guard_pid, &part, 1, &there, 1, 0);
            if (n > 0) {
                memset(raw->bytes, 0, gap);
                got = (ssize_t)gap + n;
            }
        }
        if (got < 0)
            got = 0;
    } else if (got < 0) { /* no copies here: at most the rest of sp's page, if it is mapped */
        got = guard_sys_readable8((const void *)sp) ? (ssize_t)(page - (sp & (page - 1))) : 0;
        if (got)
            memcpy(raw->bytes, (void *)sp, (size_t)got);
    }
    raw->len = (uint32_t)got;
    uint32_t id = new_stack_id();
    s->id = id;
    s->nframes = 0;
    s->generation = guard_modules_generation();
    s->flags = GUARD_STACK_RAW;
    guard_log_commit(s, GUARD_REC_STACK, size); /* the unused rest of the copy reads as zeros */
    return id;
}

uint32_t guard_stack_write_raw_copy(const uint64_t regs[17], const void *bytes, uint32_t len,
                                    const struct guard_stack_join *join)
{
    /* No guard_modules_refresh (dl_iterate_phdr, under the loader's lock)
     * for each child's exec: the copy's code is what was loaded at the
     * fork, and the dlopen hook records each new map as it happens. */
    uint32_t padded = (len + 7) & ~7u;
    uint32_t size = (uint32_t)(sizeof(struct guard_rec_stack) + sizeof(struct guard_stack_raw) + padded +
                               (join->stack ? sizeof(struct guard_stack_join) : 0));
    struct guard_rec_stack *s = guard_log_reserve(GUARD_REC_STACK, size);
    if (!s)
        return 0;
    struct guard_stack_raw *raw = (struct guard_stack_raw *)s->pcs;
    memcpy(raw->regs, regs, sizeof raw->regs);
    raw->skip_lo = raw->skip_hi = 0;
    raw->flags = 0;
    raw->len = len;
    memcpy(raw->bytes, bytes, len);
    s->flags = GUARD_STACK_RAW;
    if (join->stack) {
        memcpy(raw->bytes + padded, join, sizeof *join);
        s->flags |= GUARD_STACK_RAW_JOIN;
    }
    uint32_t id = new_stack_id();
    s->id = id;
    s->nframes = 0;
    s->generation = guard_modules_generation();
    guard_log_commit(s, GUARD_REC_STACK, size);
    return id;
}

static __attribute__((noinline)) uint32_t raw_stack_here(void)
{
    ucontext_t uc;
    if (getcontext(&uc) != 0)
        return 0;
    return write_raw_stack(&uc, 0);
}

/* unw_backtrace (the fast path), into pcs like guard_stack_capture_raw.
 * Its own frame holds the return addresses, so that the slow path's
 * frames, on the thread's own stack, are not as deep. */
static __attribute__((noinline)) unsigned fast_walk(int skip, uint64_t *pcs, unsigned max)
{
    unsigned want = max + (unsigned)skip + 1;
    if (want > GUARD_MAX_FRAMES + 8)
        want = GUARD_MAX_FRAMES + 8;
    void *raw[want];
    int got = unw.backtrace(raw, (int)want);
    unsigned n = 0;
    int i = 0;
    while (i < got && in_shim((uintptr_t)raw[i] - 1))
        i++;
    for (; i < got && n < max; i++) {
        uintptr_t pc = (uintptr_t)raw[i];
        if (pc == 0)
            break;
        pcs[n++] = pc - 1; /* a return address: look up the call instruction */
    }
    return n;
}

/* The caller's frames, without the shim's own, into pcs (lookup
 * addresses); nothing is written.  Returns how many (0 when libunwind is
 * not loaded).  The innermost frames are dropped while they are the
 * shim's, however many there are (inlining decides that); `skip`, the
 * shim frames the caller expects above it, only sizes the walk. */
__attribute__((noinline)) unsigned guard_stack_capture_raw(int skip, uint64_t *pcs, unsigned max)
{
    if (max > guard_opt.max_frames)
        max = guard_opt.max_frames;
    if (!unwinder_ready() || max == 0)
        return 0;
    if (this_thread.state == THREAD_FAST)
        return fast_walk(skip, pcs, max);
    return guard_fork_walk_pcs(pcs, max); /* libgcc's walk (fork/walk.c) */
}

__attribute__((noinline)) uint32_t guard_stack_capture(int skip)
{
    if (!unwinder_ready())
        return raw_stack_here();
    /* max_frames long (32 by default), not GUARD_MAX_FRAMES: the frames
     * below this one reach that much less deep into the thread's stack */
    unsigned max = guard_opt.max_frames >= 1 && guard_opt.max_frames <= GUARD_MAX_FRAMES
                       ? guard_opt.max_frames : GUARD_MAX_FRAMES;
    uint64_t pcs[max];
    unsigned n = guard_stack_capture_raw(skip + 1, pcs, max);
    return depot_intern(pcs, n);
}

/* Frames captured elsewhere (a forked child's, see fork/board.c). */
uint32_t guard_stack_intern(const uint64_t *pcs, unsigned n)
{
    return depot_intern(pcs, n);
}

uint32_t guard_stack_capture_signal(void *ucontext)
{
    if (!unwinder_ready())
        return write_raw_stack(ucontext, GUARD_RAW_PC_EXACT);
    uint64_t pcs[GUARD_MAX_FRAMES];
    unw_cursor_t cursor;
    unsigned n = 0;
    if (unw.init_local2(&cursor, (unw_context_t *)ucontext, UNW_INIT_SIGNAL_FRAME) < 0)
        return 0;
    do {
        unw_word_t ip = 0;
        if (unw.get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0)
            break;
        /* frame 0 is the faulting instruction itself; the rest are return
         * addresses (unw_is_signal_frame tells a nested signal frame). */
        pcs[n] = (n == 0) ? ip : ip - 1;
        n++;
    } while (n < guard_opt.max_frames && unw.step(&cursor) > 0);
    return depot_intern(pcs, n);
}

/* From a context saved by getcontext/swapcontext on this thread (the
 * caller's stack, while we run on another one).  Every frame is a return
 * address; the shim's own frames at the top are dropped. */
uint32_t guard_stack_capture_context(void *ucontext)
{
    if (!unwinder_ready())
        return write_raw_stack(ucontext, 0);
    uint64_t pcs[GUARD_MAX_FRAMES];
    unw_cursor_t cursor;
    unsigned n = 0;
    if (unw.init_local2(&cursor, (unw_context_t *)ucontext, 0) < 0)
        return 0;
    do {
        unw_word_t ip = 0;
        if (unw.get_reg(&cursor, UNW_REG_IP, &ip) < 0 || ip == 0)
            break;
        if (n == 0 && in_shim(ip - 1))
            continue;
        pcs[n++] = ip - 1;
    } while (n < guard_opt.max_frames && unw.step(&cursor) > 0);
    return depot_intern(pcs, n);
}

unsigned guard_stack_frames(uint32_t id, const uint64_t **pcs)
{
    _Atomic(struct depot_slot *) *ids = atomic_load_explicit(&id_to_slot, memory_order_acquire);
    if (!ids || id == 0 || id >= MAX_IDS)
        return 0;
    struct depot_slot *slot = atomic_load_explicit(&ids[id], memory_order_acquire);
    if (!slot)
        return 0;
    *pcs = slot->frames;
    return slot->nframes;
}

/* The child's log is a new file: every stack must be written to it again
 * before use, so the child starts with empty tables: the kernel's wiped
 * copies, or else its own, made at its first stack (its copies of the
 * parent's are unmapped then: most children exec before that). */
GUARD_FORK_PATH void guard_stack_after_fork_child(void)
{
    struct depot_slot *d = atomic_load_explicit(&depot, memory_order_relaxed);
    if (d && !tables_wiped_at_fork) {
        stale_depot = d;
        stale_id_map = (void *)atomic_load_explicit(&id_to_slot, memory_order_relaxed);
        atomic_store(&depot, NULL);
        atomic_store(&id_to_slot, NULL);
    }
    guard_lock_reset_in_child(&tables_lock);
    _Atomic uint32_t *counter = atomic_load_explicit(&ids_used, memory_order_relaxed);
    if (counter && !ids_wiped_at_fork && atomic_load_explicit(counter, memory_order_relaxed) != 0)
        atomic_store(counter, 0);
    if (atomic_load_explicit(&raw_written, memory_order_relaxed))
        atomic_store(&raw_written, 0);
    /* the forking thread is the child's only one */
    int fast = this_thread.state == THREAD_FAST;
    if (atomic_load_explicit(&fast_threads, memory_order_relaxed) != fast)
        atomic_store(&fast_threads, fast);
}
