/*
 * logread.c — reading one libguard log, defensively.
 *
 * A log is untrusted field data: it may come from a process killed with
 * SIGKILL in the middle of a write, from a disk that filled up, or from a
 * fuzzer.  So every length is checked against the record that holds it,
 * and every fixed part is memcpy'd into a local struct (no unaligned or
 * out-of-bounds access, whatever the bytes).
 *
 * A nightly run leaves gigabytes of logs, so a log is not read into
 * memory: it is mapped (read-only, private), walked once front to back, and
 * the pages behind the walk are dropped from the mapping every
 * DROP_BEHIND bytes, so that the resident set stays small whatever the
 * file's size.  A file truncated while it is being read (a process still
 * writing, a disk cleaned up) would raise SIGBUS on the missing pages: a
 * handler turns that into an input error for that log (siglongjmp back to
 * lg_read), never a crash of the analyzer.  When mmap is not possible the
 * file is read with read() as before.
 *
 * Resynchronisation after a bad record header follows the writer's model:
 * the writer reserves space, fills it, and stores the record header last,
 * so a killed process leaves zero-filled gaps (or a record whose header is
 * still zero) and a zero-filled (sparse) tail.  See read_records().
 *
 * This file walks the file and decides what is damage; logrec.c validates
 * and interprets single records.
 */
#define _GNU_SOURCE
#include "logread_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Pages behind the walk are dropped from the mapping this often. */
#define DROP_BEHIND (32u << 20)

/* Messages about torn or corrupt regions shown per log; a fuzzed or badly
 * damaged log would otherwise bury the report in them. */
#define MAX_REGION_MESSAGES 20u

static uint32_t log_pid(const struct reader *r)
{
    return r->log ? r->log->hdr.pid : 0;
}

/* Format a message; NULL only when out of memory (then a fixed text). */
static char *vformat(const char *fmt, va_list ap)
{
    char *msg = NULL;
    if (vasprintf(&msg, fmt, ap) < 0)
        return NULL;
    return msg;
}

/* One message about a damaged region, at most MAX_REGION_MESSAGES per log
 * on stderr (the rest are counted). */
static void region_message(struct reader *r, int level, const char *fallback, const char *fmt,
                           va_list ap)
{
    if (r->messages >= MAX_REGION_MESSAGES) {
        r->suppressed++;
        return;
    }
    r->messages++;
    char *msg = vformat(fmt, ap);
    notes_add(r->notes, level, r->path, log_pid(r), "%s", msg ? msg : fallback);
    free(msg);
}

/* An error (exit status 2): corrupt data, or not a log at all. */
static void reader_error(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reader_error(struct reader *r, const char *fmt, ...)
{
    if (r->log)
        r->log->corrupt = true;
    *r->input_error = true; /* an error (exit 2) even when not repeated on stderr */
    va_list ap;
    va_start(ap, fmt);
    region_message(r, NOTE_ERROR, "corrupt log", fmt, ap);
    va_end(ap);
}

void lg_region_note(struct reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    region_message(r, NOTE_INFO, "damaged region skipped", fmt, ap);
    va_end(ap);
}

/* ---- reading the file ---------------------------------------------- */

/* ---- SIGBUS on a file truncated under the mapping ------------------- */

static __thread sigjmp_buf *bus_jmp;
static __thread const unsigned char *bus_lo, *bus_hi;
static __thread uintptr_t bus_addr;

static void on_sigbus(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    const unsigned char *a = info->si_addr;
    if (bus_jmp && a >= bus_lo && a < bus_hi) {
        bus_addr = (uintptr_t)a;
        siglongjmp(*bus_jmp, 1);
    }
    /* not ours: die of it */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_sigbus(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

/* ---- opening the file -------------------------------------------------- */

struct mapped {
    unsigned char *buf;
    size_t len;
    bool mapped;   /* else malloc'd */
};

static bool read_fd(int fd, size_t hint, struct mapped *m, int *err)
{
    size_t cap = hint ? hint + 1 : 65536, len = 0;
    unsigned char *buf = xmalloc(cap);
    for (;;) {
        if (len == cap) {
            if (cap > SIZE_MAX / 2) {
                *err = EFBIG;
                free(buf);
                return false;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *err = errno;
            free(buf);
            return false;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    m->buf = buf;
    m->len = len;
    m->mapped = false;
    return true;
}

static bool open_log(const char *path, struct mapped *m, int *err, const char **what)
{
    memset(m, 0, sizeof *m);
    *what = NULL;
    /* O_NONBLOCK: a FIFO named like a log must not hang the analyzer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        *err = errno;
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        *err = errno;
        close(fd);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        *err = 0;
        *what = "not a regular file";
        close(fd);
        return false;
    }
    bool ok = true;
    if (st.st_size > 0 && (uint64_t)st.st_size < SIZE_MAX / 2) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
            m->buf = p;
            m->len = (size_t)st.st_size;
            m->mapped = true;
        } else {
            ok = read_fd(fd, (size_t)st.st_size, m, err);
        }
    } else {
        ok = read_fd(fd, 0, m, err); /* size 0 or unknown: whatever read() gives */
    }
    close(fd);
    return ok;
}

static void close_log(struct mapped *m)
{
    if (m->mapped)
        munmap(m->buf, m->len);
    else
        free(m->buf);
    m->buf = NULL;
}

/* Drop the pages of [0, upto) from the mapping (they stay in the page
 * cache; the resident set of the analyzer no longer counts them). */
static void drop_behind(struct reader *r, size_t upto)
{
    if (!r->mapped)
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t end = upto / page * page;
    if (end > r->dropped) {
        madvise((unsigned char *)r->buf + r->dropped, end - r->dropped, MADV_DONTNEED);
        r->dropped = end;
    }
}

static enum rec_status rec_check(const struct reader *r, size_t off, struct guard_rec *rec, char *why,
                                 size_t whylen)
{
    why[0] = '\0';
    if (r->len - off < sizeof *rec) {
        snprintf(why, whylen, "record header cut by the end of file");
        return REC_PAST_EOF;
    }
    memcpy(rec, r->buf + off, sizeof *rec);
    if (rec->sync != GUARD_REC_SYNC) {
        snprintf(why, whylen, "bad sync word 0x%04x", rec->sync);
        return REC_BAD;
    }
    if (rec->size < sizeof *rec || rec->size % GUARD_REC_ALIGN != 0 ||
        rec->size > GUARD_REC_MAX_SIZE) {
        snprintf(why, whylen, "bad record size %u", rec->size);
        return REC_BAD;
    }
    if (rec->size > r->len - off) {
        snprintf(why, whylen, "record of %u bytes runs past the end of file", rec->size);
        return REC_PAST_EOF;
    }
    return lg_rec_type_check(r->buf + off, rec, why, whylen);
}

/* The next offset >= from (in 8-byte steps from the bad record) that holds
 * a record that validates, or r->len if there is none. */
static size_t find_next_record(const struct reader *r, size_t from)
{
    char why[8];
    struct guard_rec rec;
    for (size_t off = from; off < r->len && r->len - off >= sizeof rec; off += GUARD_REC_ALIGN) {
        /* most candidates fail on the sync word (a zero tail is most of a
         * log's file): check it before rec_check formats its reason */
        uint16_t sync;
        memcpy(&sync, r->buf + off, sizeof sync);
        if (sync == GUARD_REC_SYNC && rec_check(r, off, &rec, why, sizeof why) == REC_OK)
            return off;
    }
    return r->len;
}

/* The offset just past the last non-zero byte of [from, to), or from. */
static size_t nonzero_end(const struct reader *r, size_t from, size_t to)
{
    while (to > from && r->buf[to - 1] == 0)
        to--;
    return to;
}

/* A region that starts with an all-zero record header and whose non-zero
 * bytes fit in one record: a record the writer had filled but not yet
 * committed (header written last) when the process died. */
static bool looks_torn(const struct reader *r, size_t off, size_t end)
{
    if (end - off < sizeof(struct guard_rec) || !all_zero(r->buf + off, sizeof(struct guard_rec)))
        return false;
    return nonzero_end(r, off, end) - off <= GUARD_REC_MAX_SIZE;
}

/*
 * Walk the records.  On an invalid record header at offset X, look for the
 * next offset (8-byte steps) holding a record that validates:
 *  - found: the bytes in between are torn or unwritten data (a note) when
 *    they are zero or look like one uncommitted record, else corruption (an
 *    error); reading goes on from there either way;
 *  - not found: an all-zero rest is the unwritten end of the log (no
 *    message); a record cut by the end of file is a truncated last record
 *    (a note: the SIGKILL case); anything else is corruption.
 */
static void read_records(struct reader *r, size_t off)
{
    char why[192];
    struct guard_rec rec;
    size_t next_drop = DROP_BEHIND;
    while (off < r->len) {
        if (off >= next_drop) {
            drop_behind(r, off);
            next_drop = off + DROP_BEHIND;
        }
        enum rec_status st = rec_check(r, off, &rec, why, sizeof why);
        if (st == REC_OK) {
            lg_rec_handle(r, off, &rec);
            off += rec.size;
            continue;
        }
        size_t next = find_next_record(r, off + GUARD_REC_ALIGN);
        size_t gap = next - off;
        bool zero = all_zero(r->buf + off, gap);
        if (next < r->len) {
            if (zero || looks_torn(r, off, next))
                lg_region_note(r, "skipped %zu bytes of torn/unwritten data at offset %zu", gap, off);
            else
                reader_error(r, "corrupt record at offset %zu (%s; %zu bytes skipped up to the "
                             "next valid record)", off, why, gap);
            off = next;
            continue;
        }
        if (zero)
            break; /* the unwritten (sparse) end of the log */
        if (st == REC_PAST_EOF)
            lg_region_note(r, "truncated last record at offset %zu skipped", off);
        else if (looks_torn(r, off, r->len))
            lg_region_note(r, "skipped %zu bytes of a torn last record at offset %zu",
                        nonzero_end(r, off, r->len) - off, off);
        else
            reader_error(r, "corrupt record at offset %zu (%s)", off, why);
        break;
    }
}

/* ---- the file header ----------------------------------------------- */

static struct lg_log *read_header(struct reader *r)
{
    const unsigned char *b = r->buf;
    size_t len = r->len;
    if (len == 0) {
        reader_error(r, "empty file, not a libguard log (no file header)");
        return NULL;
    }
    if (len >= sizeof(struct guard_file_header) && all_zero(b, sizeof(struct guard_file_header))) {
        /* The writer sizes and maps the file before it stores the header:
         * a process killed in between leaves zeros.  Nothing to report,
         * nothing wrong with the input.  (A file shorter than the header is
         * not that: the writer never produces one.) */
        notes_add(r->notes, NOTE_INFO, r->path, 0,
                  "empty log (the process ended before it wrote the log header)");
        return NULL;
    }
    uint64_t magic = 0;
    memcpy(&magic, b, len < sizeof magic ? len : sizeof magic);
    if (len >= sizeof magic && magic == __builtin_bswap64(GUARD_LOG_MAGIC)) {
        reader_error(r, "log written with the other byte order (not supported)");
        return NULL;
    }
    if (len < sizeof magic || magic != GUARD_LOG_MAGIC) {
        if (len < sizeof magic && memcmp(b, &(uint64_t){GUARD_LOG_MAGIC}, len) == 0)
            reader_error(r, "truncated file header (%zu of 64 bytes)", len);
        else
            reader_error(r, "not a libguard log (bad magic)");
        return NULL;
    }
    if (len < sizeof(struct guard_file_header)) {
        reader_error(r, "truncated file header (%zu of 64 bytes)", len);
        return NULL;
    }
    struct guard_file_header h;
    memcpy(&h, b, sizeof h);
    if (h.version != GUARD_LOG_VERSION) {
        reader_error(r, "unsupported log format version %u (this analyzer reads version %u)",
                     h.version, GUARD_LOG_VERSION);
        return NULL;
    }
    if (h.header_size < sizeof h || h.header_size % GUARD_REC_ALIGN != 0 ||
        h.header_size > GUARD_REC_MAX_SIZE || h.header_size > len) {
        reader_error(r, "bad header_size %u in the file header", h.header_size);
        return NULL;
    }
    struct lg_log *log = xcalloc(1, sizeof *log);
    log->path = xstrdup(r->path);
    log->hdr = h;
    return log;
}

/* The notes about a log that was read (to the end or not). */
static void finish_notes(struct reader *r, struct lg_log *log, bool verbose)
{
    const char *path = r->path;
    struct notes *notes = r->notes;
    uint32_t pid = log->hdr.pid;
    if (r->suppressed)
        notes_add(notes, NOTE_INFO, path, pid, "%u more messages about damaged regions not shown",
                  r->suppressed);
    /* A log that ends at an exec (no END) is the process tree's business:
     * the story goes on in the new program's log, same pid, or if there
     * is none, proctree.c says so. */
    if (!log->ended && !log->exec_ended)
        notes_add(notes, NOTE_INFO, path, pid, "log ends without an END record (process killed?)");
    if (log->nshort_unresolved)
        notes_add(notes, NOTE_INFO, path, pid,
                  "%zu short pool %s an object with no full put/get event before %s in this "
                  "log: %s pool, size and flags are unknown", log->nshort_unresolved,
                  log->nshort_unresolved == 1 ? "record names" : "records name",
                  log->nshort_unresolved == 1 ? "it" : "them",
                  log->nshort_unresolved == 1 ? "its" : "their");
    if (log->npevents_dropped)
        notes_add(notes, NOTE_INFO, path, pid,
                  "%zu process events (spawn, reap, exec...) beyond the first %u not used",
                  log->npevents_dropped, LG_PEVENTS_MAX);
    if (log->dropped_events)
        notes_add(notes, NOTE_INFO, path, pid,
                  "the shim dropped %u records (log full, or a record from a reentrant signal)",
                  log->dropped_events);
    if (!log->have_process)
        notes_add(notes, NOTE_INFO, path, pid, "log has no PROCESS record");
    if (verbose)
        fprintf(stderr, ANALYZER_NAME ": %s: pid %u, %zu records (%zu modules, %zu stacks, "
                "%zu events of which %zu short pool records, %zu process events, %zu finding "
                "records, %zu of unknown types)\n", path, pid, log->nrecords, log->nmodules,
                log->nstacks, log->nevents, log->nshort, log->npevents, log->nfinding_records,
                log->nunknown);
}

/* ---- stacks nothing refers to ------------------------------------------ */

static void keep(struct lg_log *log, uint32_t id)
{
    struct lg_stack *st = NULL;
    if (!id)
        return;
    HASH_FIND(hh, log->stacks, &id, sizeof id, st);
    if (st)
        st->keep = true;
}

static void prune_stacks(struct lg_log *log)
{
    for (size_t i = 0; i < log->nfindings; i++)
        for (size_t k = 0; k < log->findings[i].nstacks; k++)
            keep(log, log->findings[i].stacks[k].stack_id);
    for (size_t i = 0; i < log->npevents; i++)
        keep(log, log->pevents[i].stack_id);
    for (size_t i = 0; i < log->nns; i++)
        keep(log, log->ns[i].ev.stack_id);
    const struct lg_crash *c = log->crash;
    if (c) {
        keep(log, c->stack_id);
        for (size_t i = 0; i < c->nthreads; i++)
            keep(log, c->threads[i].stack_id);
        for (size_t i = 0; i < c->ntev; i++)
            for (size_t j = 0; j < c->tev[i].n; j++)
                keep(log, c->tev[i].ev[j].stack_id);
        for (size_t i = 0; i < c->nobjs; i++) {
            keep(log, c->objs[i].put.stack_id);
            keep(log, c->objs[i].get.stack_id);
        }
        for (size_t i = 0; i < c->nns; i++)
            keep(log, c->ns_changes[i].stack_id);
    }
    struct lg_stack *st, *tmp;
    HASH_ITER(hh, log->stacks, st, tmp) {
        if (st->keep)
            continue;
        HASH_DEL(log->stacks, st);
        free(st->pcs);
        free(st->raw);
        free(st);
    }
}

struct lg_log *lg_read(const char *path, struct notes *notes, bool verbose, bool *input_error)
{
    /* on the heap: its fields change after sigsetjmp */
    struct reader *r = xcalloc(1, sizeof *r);
    r->path = path;
    r->notes = notes;
    r->verbose = verbose;
    r->input_error = input_error;
    r->ring_limit = LG_CRASH_EVENTS_DEFAULT;
    struct mapped m;
    int err = 0;
    const char *what = NULL;
    if (!open_log(path, &m, &err, &what)) {
        *input_error = true;
        notes_add(notes, NOTE_ERROR, path, 0, "cannot read: %s", what ? what : strerror(err));
        free(r);
        return NULL;
    }
    r->buf = m.buf;
    r->len = m.len;
    r->mapped = m.mapped;
    sigjmp_buf jb;
    if (m.mapped) {
        install_sigbus();
        bus_lo = m.buf;
        bus_hi = m.buf + m.len;
        bus_jmp = &jb;
        if (sigsetjmp(jb, 1)) {
            /* the file shrank under the mapping */
            bus_jmp = NULL;
            reader_error(r, "the file was truncated while it was being read (at offset %zu of "
                         "%zu): the rest is not read", (size_t)(bus_addr - (uintptr_t)m.buf),
                         m.len);
            goto out;
        }
    }
    r->log = read_header(r);
    if (r->log)
        read_records(r, r->log->hdr.header_size);
out:
    bus_jmp = NULL;
    close_log(&m);
    struct lg_log *log = r->log;
    if (log) {
        log->file_size = m.len;
        log->exec_ended = !log->ended && r->exec_pending;
        lg_crash_hist_done(r);
        lg_ns_done(r);
        prune_stacks(log);
        lg_unwind_raw_stacks(log);
        finish_notes(r, log, verbose);
    }
    lg_rec_done(r);
    free(r);
    return log;
}

void lg_free(struct lg_log *log)
{
    if (!log)
        return;
    free(log->path);
    free(log->exe);
    for (size_t i = 0; i < log->argc; i++)
        free(log->argv[i]);
    free(log->argv);
    free(log->options);
    for (size_t i = 0; i < log->nmodules; i++) {
        free(log->modules[i].path);
        free(log->modules[i].build_id);
        free(log->modules[i].segs);
    }
    free(log->modules);
    struct lg_stack *st, *tmp;
    HASH_ITER(hh, log->stacks, st, tmp) {
        HASH_DEL(log->stacks, st);
        free(st->pcs);
        free(st->raw);
        free(st);
    }
    for (size_t i = 0; i < log->nfindings; i++) {
        struct lg_finding *f = &log->findings[i];
        free(f->stacks);
        free(f->call);
        free(f->summary);
    }
    free(log->findings);
    for (size_t i = 0; i < log->npevents; i++)
        lg_event_clear(&log->pevents[i]);
    free(log->pevents);
    lg_crash_free(log->crash);
    lg_ns_free(log);
    free(log);
}

const struct lg_stack *lg_find_stack(const struct lg_log *log, uint32_t id)
{
    struct lg_stack *st = NULL;
    if (id == 0)
        return NULL;
    HASH_FIND(hh, log->stacks, &id, sizeof id, st);
    return st;
}

static bool module_contains(const struct lg_module *m, uint64_t pc)
{
    for (size_t i = 0; i < m->nsegs; i++) {
        uint64_t lo = m->base + m->segs[i].vaddr; /* unsigned: wraps, never UB */
        if (pc >= lo && pc - lo < m->segs[i].memsz)
            return true;
    }
    return false;
}

const struct lg_module *lg_find_module(const struct lg_log *log, uint64_t pc, uint32_t gen)
{
    const struct lg_module *le = NULL, *gt = NULL;
    for (size_t i = 0; i < log->nmodules; i++) {
        const struct lg_module *m = &log->modules[i];
        if (!module_contains(m, pc))
            continue;
        if (m->generation <= gen) {
            if (!le || m->generation > le->generation)
                le = m;
        } else if (!gt || m->generation < gt->generation) {
            gt = m;
        }
    }
    return le ? le : gt;
}

void lg_event_clear(struct lg_event *ev)
{
    free(ev->payload);
    ev->payload = NULL;
}

/* A payload of n bytes as a NUL-terminated copy that keeps inner NULs
 * (SPAWN and EXEC payloads are NUL-separated strings). */
static char *payload_copy(const void *p, size_t n)
{
    char *c = xmalloc(n + 1);
    memcpy(c, p, n);
    c[n] = '\0';
    return c;
}

void lg_event_copy(struct lg_event *dst, const struct lg_event *src)
{
    *dst = *src;
    dst->payload = src->payload ? payload_copy(src->payload, src->payload_len) : NULL;
}

const char *lg_event_kind_name(unsigned kind)
{
    switch (kind) {
    case GUARD_EV_POOL_PUT:
        return "pool-put";
    case GUARD_EV_POOL_GET:
        return "pool-get";
    case GUARD_EV_THREAD:
        return "thread";
    case GUARD_EV_SIGNAL_HANDLER:
        return "signal-handler";
    case GUARD_EV_DLOPEN:
        return "dlopen";
    case GUARD_EV_DLCLOSE:
        return "dlclose";
    case GUARD_EV_EXIT:
        return "exit";
    case GUARD_EV_FORK:
        return "fork";
    case GUARD_EV_SPAWN:
        return "spawn";
    case GUARD_EV_REAP:
        return "reap";
    case GUARD_EV_EXEC:
        return "exec";
    case GUARD_EV_EXEC_FAILED:
        return "exec-failed";
    case GUARD_EV_KILL:
        return "kill";
    case GUARD_EV_SIGCHLD:
        return "sigchld";
    case GUARD_EV_NS_CHANGE:
        return "ns-change";
    case GUARD_EV_NS_CALL:
        return "ns-call";
    case GUARD_EV_THREAD_START:
        return "thread-start";
    case GUARD_EV_CHILD_EXEC:
        return "child-exec";
    default:
        return NULL;
    }
}

bool lg_is_process_event(unsigned kind)
{
    switch (kind) {
    case GUARD_EV_SPAWN:
    case GUARD_EV_REAP:
    case GUARD_EV_EXEC:
    case GUARD_EV_EXEC_FAILED:
    case GUARD_EV_KILL:
    case GUARD_EV_SIGCHLD:
    case GUARD_EV_CHILD_EXEC:
        return true;
    default:
        return false;
    }
}

void lg_split_payload(const struct lg_event *ev, char **first, char ***argv, size_t *argc)
{
    *first = NULL;
    *argv = NULL;
    *argc = 0;
    if (!ev->payload)
        return;
    size_t cap = 0;
    const char *p = ev->payload, *end = ev->payload + ev->payload_len;
    bool have_first = false;
    while (p < end) {
        const char *nul = memchr(p, '\0', (size_t)(end - p));
        size_t l = nul ? (size_t)(nul - p) : (size_t)(end - p);
        char *s = xstrndup_bytes(p, l);
        if (!have_first) {
            *first = s;
            have_first = true;
        } else {
            VEC_GROW(*argv, *argc, cap);
            (*argv)[(*argc)++] = s;
        }
        p += l + (nul ? 1 : 0);
    }
}

void lg_free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

char *lg_payload_text(const struct lg_event *ev)
{
    if (!ev->payload)
        return xstrdup("");
    size_t n = ev->payload_len;
    while (n && ev->payload[n - 1] == '\0')
        n--;
    char *s = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = ev->payload[i] ? ev->payload[i] : ' ';
    s[n] = '\0';
    return s;
}
