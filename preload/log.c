/*
 * log.c — the crash-proof event log writer.
 *
 * Why a shared file mapping: an event must be on disk the moment it is
 * recorded, even if the process is SIGKILLed one instruction later, and
 * recording must cost tens of nanoseconds (pool put/get are hot).  Stores
 * into a MAP_SHARED mapping of the log file land in the page cache at once
 * and survive the death of the process; there is no user-space buffer to
 * lose and no system call per event.
 *
 * Layout: the file grows in chunks (log_chunk_kb).  A writer reserves bytes
 * with one atomic add on the tail offset; a record never straddles a chunk
 * (the remainder of a chunk is filled with a PAD record).  The record
 * header (sync word, type, size) is stored last, in one 8-byte release
 * store, so a reader sees either a whole record or zeros.  A writer killed
 * between reserve and commit leaves a zero gap: the analyzer skips it.
 *
 * Disk space for a chunk is reserved with fallocate() before its first
 * record (the file is mapped 16 MiB ahead of its length: see map_window):
 * a store into a mapped page that the file system cannot back would raise
 * SIGBUS in the host program.  No space: logging stops, the program runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guard_internal.h"
#include "hook.h"
#include "guard_names.h"

#define MAX_CHUNKS 8192
#define RESWEEP 16 /* see map_chunk */
/* Added to the tail when the log ends: past every chunk, so that no
 * reservation after it can succeed. */
#define LOG_CLOSED (1ull << 62)

static int log_usable;                /* the file exists and its first chunk is mapped */
static dev_t log_dev;                 /* the file the shim created: its path must */
static ino_t log_ino;                 /* still lead to it (see open_log) */
static size_t chunk_size;
static size_t first_chunk;            /* chunk 0 is smaller: most processes are short */
#define FIRST_CHUNK_MAX (16u << 10)

static inline uint64_t chunk_start(uint64_t k)
{
    return k == 0 ? 0 : first_chunk + (k - 1) * chunk_size;
}
static inline size_t chunk_len(uint64_t k) { return k == 0 ? first_chunk : chunk_size; }
static inline uint64_t chunk_of(uint64_t off)
{
    return off < first_chunk ? 0 : 1 + (off - first_chunk) / chunk_size;
}
/* Where the next record goes, written by every record: in parent-only
 * memory (guard_alloc_parent_only), so that a fork does not make the
 * parent's next record a page fault.  `here` says the tail is this
 * process's: a process cloned without our fork handlers (a raw clone or
 * fork system call) finds it 0 and writes nothing into its parent's log. */
struct log_tail {
    _Atomic uint64_t offset;
    _Atomic int here;
};
static struct log_tail fallback_tail;
static struct log_tail *tail = &fallback_tail;
GUARD_LARGE static _Atomic(char *) chunks[MAX_CHUNKS];
/* The chunks are mapped a window of many at a time (WINDOW_BYTES): one
 * mapping of the file's next 16 MiB, before the file is that long (each
 * chunk is given its disk space before its first record; nothing touches
 * a page beyond the end of the file).  Every mapping costs each fork and
 * each exec of the process, so a long-running parent's forks must not
 * get slower the more it has logged. */
#define WINDOW_BYTES (16u << 20)
static unsigned window_chunks;        /* chunks per window: WINDOW_BYTES / chunk_size, at least 1 */
GUARD_LARGE static _Atomic(char *) windows[MAX_CHUNKS];
GUARD_LARGE static _Atomic uint64_t window_not_forked[MAX_CHUNKS / 64]; /* MADV_DONTFORK: a fork child has not it */
static unsigned chunks_mapped;        /* under grow_lock */
static struct guard_lock grow_lock;
static _Atomic uint32_t dropped;
static _Atomic int log_failed;        /* no more space, or no file */
GUARD_LARGE static char log_path_buf[PATH_MAX];

GUARD_FORK_WRITTEN static _Atomic uint32_t log_epoch = 1; /* a new log file: nothing written in it yet */

/* The file is created at the first record, not at start-up (log_always=0):
 * most processes of a test suite or a build record nothing, and creating a
 * file costs more than all the rest of the shim's start-up.  A process that records
 * nothing still appears in the process tree, from its parent's records. */
enum { LOG_OFF, LOG_PENDING, LOG_OPENING, LOG_OPEN, LOG_FAILED };
GUARD_FORK_WRITTEN static _Atomic int log_state = LOG_OFF;
static _Atomic int log_opener;        /* tid of the thread creating the file */
GUARD_FORK_WRITTEN static pid_t pending_ppid;
GUARD_FORK_WRITTEN static int pending_forked;
GUARD_FORK_WRITTEN static uint64_t start_realtime_ns, start_monotonic_ns; /* when the process (image) started */
/* in a fork child: when its parent called fork (see take_start_time) */
GUARD_FORK_WRITTEN static struct guard_fork_stamp fork_stamp;
GUARD_FORK_WRITTEN static int inherited;                 /* a fork child: chunks are the parent's */
static _Atomic int preamble_open;     /* the opener is writing the preamble */

const char *guard_log_path(void) { return guard_log_created() ? log_path_buf : ""; }
/* The file's epoch plus the ring's refills: both only grow, so the sum
 * changes whenever the log may have lost what it had (a new file, or a
 * refilled ring slot) and never comes back to a value it had. */
uint32_t guard_log_epoch(void)
{
    return atomic_load_explicit(&log_epoch, memory_order_relaxed) + guard_log_ring_refills();
}
uint32_t guard_log_file_epoch(void) { return atomic_load_explicit(&log_epoch, memory_order_relaxed); }
int guard_log_here(void) { return atomic_load_explicit(&tail->here, memory_order_relaxed); }
uint32_t guard_log_dropped(void) { return atomic_load(&dropped); }

/* A hooked call that passed through unrecorded while the thread was inside
 * the shim (hook.h's guard_hook_begin_counted). */
void guard_log_missed_call(void)
{
    if (guard_hot()->depth > 0 && !guard_fork_in_vfork_child && guard_is_active())
        atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
}

/* The log's descriptor, opened by its path for the time of one growth
 * (a chunk's disk space and mapping) and closed again: the program never
 * sees a descriptor of ours between two calls (a test of its own open
 * descriptors, or a daemon that closes every one, finds none).  The path is
 * absolute, and the file must still be the one the shim created (device
 * and inode): -1 when it cannot be opened or is another file now. */
static int open_checked(const char *path, int flags)
{
    int saved = errno;
    int fd = guard_sys_open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | flags, 0);
    errno = saved;
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_dev != log_dev || st.st_ino != log_ino) {
        guard_sys_close(fd);
        return -1;
    }
    return fd;
}

static inline uint64_t window_start(unsigned w) { return chunk_start((uint64_t)w * window_chunks); }
static inline size_t window_len(unsigned w)
{
    return (size_t)(window_start(w + 1) - window_start(w));
}

/* When the path leads elsewhere now (the program mounted over the log's
 * directory in a mount namespace of its own, or renamed it), the file is
 * still mapped: it is opened through the mapping of its first window
 * (/proc/self/map_files, which the kernel allows to a process with
 * CAP_SYS_ADMIN, the one that can mount). */
static int open_log(void)
{
    int fd = open_checked(log_path_buf, O_NOFOLLOW);
    if (fd >= 0)
        return fd;
    char *first = atomic_load_explicit(&windows[0], memory_order_acquire);
    if (!first)
        return -1;
    char path[80];
    guard_fmt(path, sizeof path, "/proc/self/map_files/%lx-%lx", (unsigned long)(uintptr_t)first,
              (unsigned long)((uintptr_t)first + window_len(0)));
    return open_checked(path, 0);
}

/* The window that holds chunk k, mapped if it is not yet (under grow_lock). */
static char *map_window(int log_fd, unsigned k)
{
    unsigned w = k / window_chunks;
    char *m = atomic_load_explicit(&windows[w], memory_order_relaxed);
    if (m)
        return m;
    m = mmap(NULL, window_len(w), PROT_READ | PROT_WRITE, MAP_SHARED, log_fd, (off_t)window_start(w));
    if (m == MAP_FAILED)
        return NULL;
    /* A fork child writes a log of its own, so the fork need not give it
     * this one's mappings (each is a mapping less for every fork to copy
     * and every exec to tear down) -- once the tail is in wiped memory:
     * a child cloned without our fork handlers then finds no tail and
     * never touches the chunks it does not have. */
    if (tail != &fallback_tail && guard_alloc_parent_only_wiped()) {
        int saved = errno;
        if (madvise(m, window_len(w), MADV_DONTFORK) == 0)
            atomic_fetch_or(&window_not_forked[w / 64], 1ull << (w % 64));
        errno = saved;
    }
    atomic_store_explicit(&windows[w], m, memory_order_release);
    return m;
}

/* Gives [off, off + len) of the log its disk blocks before any record is
 * stored there: a store into a page the file system cannot back is SIGBUS
 * in the program.  Where fallocate is not supported (ext2, ext3, NFSv3)
 * the blocks are written with zeros (ftruncate would make a sparse file,
 * whose pages get their blocks only when stored to).  0, or -1 when the
 * disk is full. */
static int reserve_disk(int log_fd, off_t off, size_t len)
{
    int saved = errno;
    int rc = fallocate(log_fd, 0, off, (off_t)len);
    if (rc != 0 && (errno == EOPNOTSUPP || errno == ENOSYS)) {
        static const char zeros[4096];
        rc = 0;
        for (size_t done = 0; done < len && rc == 0;) {
            size_t n = len - done < sizeof zeros ? len - done : sizeof zeros;
            long w = guard_sys_call6(SYS_pwrite64, log_fd, (long)zeros, (long)n,
                                     (long)(off + (off_t)done), 0, 0);
            if (w == -EINTR)
                continue;
            if (w <= 0)
                rc = -1;
            else
                done += (size_t)w;
        }
    }
    errno = saved;
    return rc;
}

/* The log cannot grow: say so in its header (the first chunk stays
 * mapped and its blocks are on disk), for the analyzer to know that what
 * follows is missing, not absent. */
void guard_log_header_flag(uint32_t flag)
{
    char *first = atomic_load_explicit(&chunks[0], memory_order_acquire);
    if (first)
        atomic_fetch_or((_Atomic uint32_t *)&((struct guard_file_header *)first)->flags, flag);
}
static void mark_stopped(void) { guard_log_header_flag(GUARD_FILE_NO_SPACE); }

static char *map_chunk(unsigned k)
{
    char *p = atomic_load_explicit(&chunks[k], memory_order_acquire);
    if (p)
        return p;
    if (!guard_lock_acquire(&grow_lock))
        return NULL; /* a signal handler interrupted this thread while it grew the log */
    p = atomic_load_explicit(&chunks[k], memory_order_acquire);
    int log_fd = -1;
    while (!p && !atomic_load(&log_failed)) {
        /* Chunks are mapped in order, so chunks_mapped only grows. */
        unsigned next = chunks_mapped;
        off_t off = (off_t)chunk_start(next);
        size_t len = chunk_len(next);
        if (log_fd < 0 && (log_fd = open_log()) < 0) {
            atomic_store(&log_failed, 1);
            mark_stopped();
            break;
        }
        int rc = reserve_disk(log_fd, off, len);
        if (rc != 0) {
            atomic_store(&log_failed, 1);
            mark_stopped();
            break;
        }
        char *window = map_window(log_fd, next);
        if (!window) {
            atomic_store(&log_failed, 1);
            break;
        }
        char *m = window + (off - (off_t)window_start(next / window_chunks));
        atomic_store_explicit(&chunks[next], m, memory_order_release);
        chunks_mapped = next + 1;
        /* The shim never reads its log back: the pages of the chunk before
         * the last leave the process's resident set (their data stays in
         * the file), so a long run's memory does not grow with its log.  A
         * writer preempted between its reservation and its stores (for a
         * scheduler's time slice, while others fill several chunks) faults
         * its page back in: every RESWEEP chunks the 2 * RESWEEP chunks
         * behind are dropped again, so that such pages do not stay for the
         * rest of the run. */
        if (next >= 2) {
            unsigned last = next - 2;
            unsigned first = next % RESWEEP == 0 && next >= 2 * RESWEEP ? next - 2 * RESWEEP : last;
            int saved = errno;
            for (unsigned c = first; c <= last; c++) {
                char *old = atomic_load_explicit(&chunks[c], memory_order_relaxed);
                if (old)
                    (void)madvise(old, chunk_len(c), MADV_DONTNEED);
            }
            errno = saved;
        }
        p = atomic_load_explicit(&chunks[k], memory_order_acquire);
    }
    if (log_fd >= 0)
        guard_sys_close(log_fd);
    guard_lock_release(&grow_lock);
    return p;
}

static int log_materialize(void);
static void drop_inherited_log(void);
static void write_file_header(struct guard_file_header *h);

/* The chunk after k, mapped and its pages made present and writable
 * before any writer reaches it: a writer that finds a page of a shared file
 * mapping absent faults, and with several threads writing the same page
 * each one faults and waits for the page's lock in turn (on ext4 each
 * fault also maps the page's block).  Called once per chunk, by the one
 * reservation that crosses its middle: the grow lock and the system calls
 * are what a reservation crossing into a new chunk pays anyway, and the
 * chunk's blocks were to be reserved half a chunk later.  Not from the
 * small first chunk: most processes never leave it, and must not pay for
 * a chunk they will not write.  A kernel without
 * MADV_POPULATE_WRITE (before 5.14) refuses it: the pages then fault in as
 * before. */
static void map_ahead(uint64_t k)
{
    if (k + 1 >= MAX_CHUNKS || atomic_load_explicit(&chunks[k + 1], memory_order_acquire))
        return;
    char *next = map_chunk((unsigned)(k + 1));
    if (next) {
        int saved = errno;
        (void)madvise(next, chunk_len(k + 1), MADV_POPULATE_WRITE);
        errno = saved;
    }
}

/* The bound of log_max_mb: records other than events may fill the file
 * up to it; events (which the ring can take instead) only up to three
 * quarters, so that findings, stacks and the crash still fit after a
 * flood of process records.  0: none but MAX_CHUNKS. */
static uint64_t log_cap;
GUARD_FORK_WRITTEN static _Atomic int cap_noted; /* a fork child's log says it again */

static void note_cap(void)
{
    if (!atomic_exchange(&cap_noted, 1))
        guard_log_note("the log reached three quarters of log_max_mb=%u: events from here on are "
                       "%s", guard_opt.log_max_mb,
                       guard_opt.log_ring_kb ? "kept in the ring only" : "dropped");
}

/* Events past three quarters of the bound go to the ring (or nowhere). */
static int events_capped(void)
{
    return log_cap && atomic_load_explicit(&tail->offset, memory_order_relaxed) >= log_cap / 4 * 3;
}

/* May the ring add a slot of `size` bytes to the stream?  Below three
 * quarters of the bound, as events. */
int guard_log_ring_room(uint32_t size)
{
    return !log_cap ||
           atomic_load_explicit(&tail->offset, memory_order_relaxed) + size <= log_cap / 4 * 3;
}

/* The stream: every record but those guard_log_reserve sends to the ring. */
void *guard_log_stream_reserve(uint16_t type, uint32_t size)
{
    (void)type;
    if (__builtin_expect(atomic_load_explicit(&log_state, memory_order_acquire) != LOG_OPEN, 0) &&
        !log_materialize())
        goto drop;
    if (!log_usable || atomic_load_explicit(&log_failed, memory_order_relaxed) ||
        !atomic_load_explicit(&tail->here, memory_order_relaxed))
        goto drop;
    size = guard_rec_round(size);
    if (size > GUARD_REC_MAX_SIZE || size > chunk_size)
        goto drop;
    for (;;) {
        uint64_t off = atomic_fetch_add_explicit(&tail->offset, size, memory_order_relaxed);
        if (log_cap && off + size > log_cap)
            goto drop;
        uint64_t k = chunk_of(off);
        if (k >= MAX_CHUNKS)
            goto drop;
        char *base = map_chunk((unsigned)k);
        if (!base)
            goto drop;
        uint64_t in_chunk = off - chunk_start(k);
        if (in_chunk + size <= chunk_len(k)) {
            char *rec = base + in_chunk;
            uint64_t half = chunk_len(k) / 2;
            if (__builtin_expect(k > 0 && in_chunk < half && in_chunk + size >= half, 0))
                map_ahead(k);
            return rec;
        }
        /* Would straddle: pad the rest of this chunk, and the start of the
         * next one that this reservation took too (the next reservation
         * begins after it), then try again.  Left as zeros, those bytes
         * would read as a torn record. */
        struct guard_rec pad = {GUARD_REC_SYNC, GUARD_REC_PAD, (uint32_t)(chunk_len(k) - in_chunk)};
        uint64_t word;
        memcpy(&word, &pad, sizeof word);
        atomic_store_explicit((_Atomic uint64_t *)(base + in_chunk), word, memory_order_release);
        uint64_t over = off + size - chunk_start(k + 1);
        char *next = k + 1 < MAX_CHUNKS ? map_chunk((unsigned)(k + 1)) : NULL;
        if (next && over >= sizeof pad) {
            struct guard_rec tail = {GUARD_REC_SYNC, GUARD_REC_PAD, (uint32_t)over};
            memcpy(&word, &tail, sizeof word);
            atomic_store_explicit((_Atomic uint64_t *)next, word, memory_order_release);
        }
    }
drop:
    atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
    return NULL;
}

/* Pool put and get records go to the ring when there is one: the pool's
 * short records are reserved with type 0 (typed when committed). */
static inline int ringed_type(uint16_t type)
{
    return type == 0 || type == GUARD_REC_POOL_PUT || type == GUARD_REC_POOL_GET;
}

void *guard_log_reserve(uint16_t type, uint32_t size)
{
    if (ringed_type(type) && (guard_opt.log_ring_kb || events_capped())) {
        if (!guard_opt.log_ring_kb)
            note_cap();
        void *rec = guard_opt.log_ring_kb ? guard_log_ring_reserve(size) : NULL;
        if (!rec)
            atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
        return rec;
    }
    return guard_log_stream_reserve(type, size);
}

/* The caller has filled everything after the 8-byte header, which it
 * never writes itself: the header (sync word, type, size) is stored here,
 * last and in one 8-byte store, so that a writer killed at any instruction
 * leaves either a whole record or a header of zeros (a header whose type
 * and size were stored before its sync word reads as damage). */
void guard_log_commit(void *recp, uint16_t type, uint32_t size)
{
    struct guard_rec hdr = {GUARD_REC_SYNC, type, guard_rec_round(size)};
    uint64_t word;
    memcpy(&word, &hdr, sizeof word);
    atomic_store_explicit((_Atomic uint64_t *)recp, word, memory_order_release);
}

void guard_log_event(uint16_t kind, uint32_t stack_id, uint64_t a0, uint64_t a1,
                     uint64_t a2, uint64_t a3, const char *payload, size_t payload_len)
{
    if (payload_len > 4096)
        payload_len = 4096;
    uint32_t size = (uint32_t)(sizeof(struct guard_rec_event) + payload_len);
    struct guard_rec_event *ev;
    int pool = kind == GUARD_EV_POOL_PUT || kind == GUARD_EV_POOL_GET;
    if (__builtin_expect(events_capped(), 0)) {
        note_cap();
        if (!guard_opt.log_ring_kb) {
            atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
            return;
        }
        pool = 1; /* every event, now */
    }
    if (pool && guard_opt.log_ring_kb)
        ev = guard_log_ring_reserve(size);
    else
        ev = guard_log_stream_reserve(GUARD_REC_EVENT, size);
    if (!ev) {
        if (pool && guard_opt.log_ring_kb)
            atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
        return;
    }
    ev->time_ns = guard_now_ns();
    ev->tid = (uint32_t)guard_gettid();
    ev->kind = kind;
    ev->payload_len = (uint16_t)payload_len;
    ev->stack_id = stack_id;
    ev->reserved = 0;
    ev->args[0] = a0;
    ev->args[1] = a1;
    ev->args[2] = a2;
    ev->args[3] = a3;
    if (payload_len)
        memcpy(ev + 1, payload, payload_len);
    guard_log_commit(ev, GUARD_REC_EVENT, size);
}

void guard_log_note(const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    size_t len = guard_fmt_va(text, sizeof text, fmt, ap);
    va_end(ap);
    uint32_t size = (uint32_t)(sizeof(struct guard_rec_note) + len);
    struct guard_rec_note *note = guard_log_reserve(GUARD_REC_NOTE, size);
    if (!note)
        return;
    note->time_ns = guard_now_ns();
    note->tid = (uint32_t)guard_gettid();
    note->len = (uint32_t)len;
    memcpy(note + 1, text, len);
    guard_log_commit(note, GUARD_REC_NOTE, size);
}

/* ---- opening ------------------------------------------------------------ */

/* Start-up: remember what the header will say; create the file now only
 * with log_always=1. */
int guard_log_open(pid_t ppid, int forked_child)
{
    if (!guard_opt.log)
        return 0;
    long page = sysconf(_SC_PAGESIZE);
    chunk_size = (size_t)guard_opt.log_chunk_kb * 1024;
    chunk_size = (chunk_size + (size_t)page - 1) & ~((size_t)page - 1);
    first_chunk = chunk_size < FIRST_CHUNK_MAX ? chunk_size : FIRST_CHUNK_MAX;
    first_chunk = (first_chunk + (size_t)page - 1) & ~((size_t)page - 1);
    window_chunks = chunk_size < WINDOW_BYTES ? (unsigned)(WINDOW_BYTES / chunk_size) : 1;
    /* at a chunk's start: a chunk's disk space is taken whole, so the
     * file never grows past the bound */
    log_cap = (uint64_t)guard_opt.log_max_mb << 20;
    if (log_cap)
        log_cap = chunk_start(chunk_of(log_cap));
    if (log_cap && log_cap < first_chunk + chunk_size)
        log_cap = first_chunk + chunk_size; /* room for the preamble and a finding or two */
    pending_ppid = ppid;
    pending_forked = forked_child;
    start_realtime_ns = guard_now_ns_on(CLOCK_REALTIME);
    start_monotonic_ns = guard_now_ns_on(CLOCK_MONOTONIC);
    atomic_store(&log_state, LOG_PENDING);
    if (guard_opt.log_always)
        return log_materialize() ? 0 : -1;
    return 0;
}

GUARD_FORK_PATH int guard_log_created(void)
{
    return atomic_load(&log_state) == LOG_OPEN;
}

/* A fork child's start: when its parent called fork, if the fork hook
 * stamped it (fork_stamp), else now.  Other processes took it at
 * start-up. */
static void take_start_time(void)
{
    if (start_monotonic_ns)
        return;
    const struct guard_fork_stamp *stamp = &fork_stamp;
    if (stamp->monotonic_ns && stamp->pid == pending_ppid) {
        start_monotonic_ns = stamp->monotonic_ns;
        start_realtime_ns = stamp->realtime_ns;
    } else {
        start_realtime_ns = guard_now_ns_on(CLOCK_REALTIME);
        start_monotonic_ns = guard_now_ns_on(CLOCK_MONOTONIC);
    }
}

/* Create the file, map its first chunk, write the header, the PROCESS
 * record and the module map: the preamble the analyzer reads first.  One
 * thread does it; others wait for it (it takes tens of microseconds), but
 * a signal handler that interrupted the creating thread itself cannot, and
 * writes its own records (they land after the preamble or are dropped).
 * Everything here is async-signal-safe but the module walk, which is the
 * one the stack writer does anyway. */
static int log_materialize(void)
{
    int state = atomic_load_explicit(&log_state, memory_order_acquire);
    if (state == LOG_PENDING) {
        int expected = LOG_PENDING;
        if (atomic_compare_exchange_strong(&log_state, &expected, LOG_OPENING)) {
            atomic_store(&log_opener, (int)guard_gettid());
            if (inherited)
                drop_inherited_log();
            take_start_time();
            int ok = 0;
            const char *exe = guard_exe_path();
            int fd = guard_log_file_create(exe, log_path_buf, sizeof log_path_buf);
            if (fd >= 0) {
                struct stat st;
                if (fstat(fd, &st) == 0) {
                    log_dev = st.st_dev;
                    log_ino = st.st_ino;
                }
                guard_sys_close(fd); /* opened again for each growth: see open_log */
                log_usable = 1;
                if (tail == &fallback_tail) { /* the first log: made here, as the file is */
                    struct log_tail *own = guard_alloc_parent_only(sizeof *own);
                    if (own)
                        tail = own;
                }
                atomic_store(&tail->offset, sizeof(struct guard_file_header));
                atomic_store(&tail->here, 1);
                char *first = map_chunk(0);
                if (first) {
                    atomic_store(&preamble_open, 1);
                    write_file_header((struct guard_file_header *)first);
                    guard_log_file_process_record(exe, strlen(exe));
                    ok = 1;
                } else {
                    /* no space for the first chunk (a full disk): no file
                     * is left behind, and the program runs on without a log */
                    guard_fmt_stderr("libguard: no space for the log %s (file system full?); "
                                     "this process runs without a log\n", log_path_buf);
                    (void)guard_sys_call6(SYS_unlink, (long)log_path_buf, 0, 0, 0, 0, 0);
                    log_usable = 0;
                }
            }
            if (ok) {
                /* The module map is written through guard_log_reserve,
                 * which lets this thread through while it is the opener. */
                guard_modules_record();
            }
            atomic_store(&preamble_open, 0);
            atomic_store(&log_opener, 0);
            atomic_store_explicit(&log_state, ok ? LOG_OPEN : LOG_FAILED, memory_order_release);
            return ok;
        }
        state = expected;
    }
    if (state == LOG_OPENING) {
        if (atomic_load(&log_opener) == (int)guard_gettid())
            /* the preamble itself, or a signal handler inside it: its
             * records go after what the preamble has written so far, but
             * not before the file's first chunk is there (they are dropped) */
            return atomic_load(&preamble_open) && log_usable;
        for (unsigned spin = 0; spin < 1000000; spin++) {
            state = atomic_load_explicit(&log_state, memory_order_acquire);
            if (state != LOG_OPENING)
                break;
            if (spin > 64)
                sched_yield();
        }
    }
    return state == LOG_OPEN;
}

static void write_file_header(struct guard_file_header *h)
{
    h->version = GUARD_LOG_VERSION;
    h->header_size = sizeof *h;
    h->pid = (uint32_t)guard_pid;
    h->ppid = (uint32_t)pending_ppid;
    h->start_realtime_ns = start_realtime_ns;
    h->start_monotonic_ns = start_monotonic_ns;
    h->flags = pending_forked ? GUARD_FILE_FORKED_CHILD : 0;
    h->page_size = (uint32_t)sysconf(_SC_PAGESIZE);
    atomic_store_explicit((_Atomic uint64_t *)&h->magic, GUARD_LOG_MAGIC, memory_order_release);
}

/* In a fork child the log state is the parent's: the chunk mappings and
 * the descriptor are the parent's file.  Here only the state changes (a
 * few stores, no system call): the child's log is created at its first
 * record like any process's, and only then are the parent's chunks
 * unmapped and its descriptor closed (drop_inherited_log).  Most forked
 * children exec at once and never get there: the exec drops both. */
GUARD_FORK_PATH void guard_log_after_fork_child(pid_t parent, const struct guard_fork_stamp *stamp)
{
    if (atomic_load(&log_state) == LOG_OFF)
        return; /* log=0 */
    inherited = 1; /* the parent's chunks and descriptor go at the first record */
    guard_lock_reset_in_child(&grow_lock);
    guard_log_ring_after_fork_child();
    if (atomic_load_explicit(&cap_noted, memory_order_relaxed))
        atomic_store(&cap_noted, 0);
    if (atomic_load_explicit(&log_opener, memory_order_relaxed))
        atomic_store(&log_opener, 0);
    if (atomic_load_explicit(&preamble_open, memory_order_relaxed))
        atomic_store(&preamble_open, 0); /* another thread was writing the parent's */
    pending_ppid = parent;
    pending_forked = 1;
    /* When it started: the fork hook's stamp, read at the first record
     * (see take_start_time); no clock here, whose code and vDSO pages a
     * child that execs at once would fault in for nothing. */
    start_monotonic_ns = 0;
    if (stamp)
        fork_stamp = *stamp;
    else if (fork_stamp.monotonic_ns)
        fork_stamp.monotonic_ns = 0;
    /* A new epoch now, not at the creation: the pool decides from it
     * whether an object's full record is already in this log. */
    atomic_fetch_add(&log_epoch, 1);
    atomic_store(&log_state, LOG_PENDING);
    if (guard_opt.log_always)
        log_materialize(); /* as at start-up: every process has its log */
}

/* The first record of a fork child: forget the parent's file.  munmap in
 * the child leaves the parent's mappings alone; the descriptor is closed
 * only if it still is the parent's log (the child may have reused the
 * number for a file of its own). */
static void drop_inherited_log(void)
{
    log_usable = 0; /* (the parent's file: no descriptor of it is held) */
    unsigned end = chunks_mapped + 1 < MAX_CHUNKS ? chunks_mapped + 1 : MAX_CHUNKS;
    /* forget them before they go: nothing may store into a chunk unmapped */
    for (unsigned k = 0; k < end; k++)
        atomic_store_explicit(&chunks[k], NULL, memory_order_relaxed);
    for (unsigned w = 0; window_chunks && w <= (end - 1) / window_chunks; w++) {
        char *p = atomic_exchange_explicit(&windows[w], NULL, memory_order_relaxed);
        uint64_t bit = 1ull << (w % 64);
        if (atomic_load_explicit(&window_not_forked[w / 64], memory_order_relaxed) & bit)
            atomic_fetch_and(&window_not_forked[w / 64], ~bit); /* not here: the address may be reused */
        else if (p)
            munmap(p, window_len(w));
    }
    chunks_mapped = 0;
    atomic_store(&log_failed, 0);
    atomic_store(&dropped, 0);
    log_path_buf[0] = '\0';
    inherited = 0;
}

void guard_log_end(int status)
{
    if (atomic_load(&log_state) != LOG_OPEN)
        return; /* nothing was recorded: no file, and none is made to say so */
    if (!atomic_load(&tail->here))
        return; /* cloned without our fork handlers: the log is the parent's */
    struct guard_rec_end *end = guard_log_reserve(GUARD_REC_END, sizeof *end);
    if (end) {
        end->time_ns = guard_now_ns();
        end->exit_status = status;
        end->dropped_events = atomic_load(&dropped);
        guard_log_commit(end, GUARD_REC_END, sizeof *end);
    }
    /* The log is closed: one atomic add moves the tail out of reach, so
     * every reservation made before it lies below `used`, and any made
     * after it is dropped.  Then the disk blocks of the unused tail go
     * back: no thread can store there any more (a store into a punched
     * page of a full tmpfs would be SIGBUS).  The file keeps its size and
     * the tail reads as zeros, the end of the log to the analyzer.  (Only
     * if the descriptor is still ours: see map_chunk.) */
    uint64_t closed_at = atomic_fetch_add(&tail->offset, LOG_CLOSED);
    if (closed_at >= LOG_CLOSED)
        return; /* closed already */
    int log_fd = log_usable ? open_log() : -1;
    if (log_fd >= 0) {
        long page = sysconf(_SC_PAGESIZE);
        uint64_t used = (closed_at + (uint64_t)page - 1) & ~((uint64_t)page - 1);
        uint64_t size = chunk_start(chunks_mapped);
        if (used < size)
            fallocate(log_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)used,
                      (off_t)(size - used));
        guard_sys_close(log_fd);
    }
}
