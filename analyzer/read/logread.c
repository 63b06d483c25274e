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
 * file is read with pread(), in memory that follows its data (both in
 * logfile.c).
 *
 * Time and memory follow the log's data, never its apparent size: the
 * unused end of a chunk (up to a GiB with log_chunk_kb) is a hole or
 * zeros, and a log may have been extended.  Holes (SEEK_DATA/SEEK_HOLE)
 * are never read, zeros are skipped a word at a time, and every scan
 * drops the pages it went over (see skip_hole()).
 *
 * Resynchronisation after a bad record header follows the writer's model:
 * the writer reserves space, fills it, and stores the record header last,
 * so a killed process leaves zero-filled gaps (or a record whose header is
 * still zero) and a zero-filled (sparse) tail.  See read_records().  A file
 * header that is damaged (zeros, or garbage before a valid PROCESS record)
 * over intact records is an error naming offset 0, and the records are
 * read all the same (see damaged_header()).
 *
 * This file walks the file and decides what is damage; logfile.c brings
 * it into memory; logrec.c validates
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

/* Drop the whole pages of [lo, hi) from the mapping: what a scan for the
 * next record has read (a scan may go over a region twice, so it cannot
 * count on drop_behind's mark). */
static void drop_range(struct reader *r, size_t lo, size_t hi)
{
    if (!r->mapped)
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    lo = (lo + page - 1) / page * page;
    hi = hi / page * page;
    if (hi > lo)
        madvise((unsigned char *)r->buf + lo, hi - lo, MADV_DONTNEED);
}

/* ---- holes and zeros ---------------------------------------------------- */

/*
 * A log's apparent size says little about its data: the unused end of its
 * last chunk is a hole (punched at exit, or never written), a chunk may be
 * a GiB (log_chunk_kb), and a log may have been extended (truncate).  Bytes
 * in a hole are zeros, so they are never read: reading them would cost a
 * page fault per page (and, on tmpfs, a page of memory each).  Zeros the
 * file really holds are scanned in words, dropping the pages behind.
 */

/* The first offset >= off that is not in a hole of the file, or r->len
 * (without SEEK_DATA every byte is data). */
static size_t skip_hole(struct reader *r, size_t off)
{
    if (off >= r->len)
        return r->len;
    if (off >= r->data_lo && off < r->data_hi)
        return off;
    if (off >= r->hole_lo && off < r->hole_hi)
        off = r->hole_hi;
    if (off >= r->len)
        return r->len;
    if (off >= r->data_lo && off < r->data_hi)
        return off;
    off_t d = r->seek_data && r->fd >= 0 ? lseek(r->fd, (off_t)off, SEEK_DATA) : -1;
    if (d < 0) {
        if (r->seek_data && r->fd >= 0 && errno == ENXIO) {
            /* holes up to the end of the file */
            r->hole_lo = off;
            r->hole_hi = r->len;
            return r->len;
        }
        r->seek_data = false; /* not supported here: every byte is data */
        r->data_lo = 0;
        r->data_hi = r->len;
        return off;
    }
    size_t lo = (uint64_t)d < r->len ? (size_t)d : r->len;
    if (lo > off) {
        r->hole_lo = off;
        r->hole_hi = lo;
    }
    if (lo >= r->len)
        return r->len;
    off_t h = lseek(r->fd, d, SEEK_HOLE);
    size_t hi = h > d && (uint64_t)h < r->len ? (size_t)h : r->len;
    r->data_lo = lo;
    r->data_hi = hi;
    return lo;
}

/* The index of the first non-zero byte of p[0..n), or n. */
static size_t first_nonzero(const unsigned char *p, size_t n)
{
    size_t i = 0;
    for (; i < n && ((uintptr_t)(p + i) & 7); i++)
        if (p[i])
            return i;
    for (; n - i >= 64; i += 64) {
        uint64_t w[8];
        memcpy(w, p + i, sizeof w);
        if (w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7])
            break;
    }
    for (; i < n; i++)
        if (p[i])
            return i;
    return n;
}

/* The first offset in [from, to) that holds a non-zero byte, or to.
 * Holes are skipped unread; pages scanned are dropped behind. */
static size_t next_nonzero(struct reader *r, size_t from, size_t to)
{
    size_t off = from;
    if (to > r->len)
        to = r->len;
    while (off < to) {
        off = skip_hole(r, off);
        if (off >= to)
            return to;
        size_t end = r->data_hi > off && r->data_hi < to ? r->data_hi : to;
        size_t mark = off;
        while (off < end) {
            size_t n = end - off < (1u << 20) ? end - off : (1u << 20);
            size_t i = first_nonzero(r->buf + off, n);
            if (i < n)
                return off + i;
            off += n;
            if (off - mark >= DROP_BEHIND) {
                drop_range(r, mark, off);
                mark = off;
            }
        }
        drop_range(r, mark, off);
    }
    return to;
}

/* The offset just past the last non-zero byte of [from, to), or from
 * (a short region: callers bound it to one record). */
static size_t nonzero_end(const struct reader *r, size_t from, size_t to)
{
    while (to > from && r->buf[to - 1] == 0)
        to--;
    return to;
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

/* The next offset >= from (in 8-byte steps from `from`) that holds a
 * record that validates, or r->len if there is none; *first_nz: the first
 * non-zero byte at or after from (r->len: none).  A record starts with its
 * (non-zero) sync word: runs of zeros and holes are skipped at once. */
static size_t find_next_record(struct reader *r, size_t from, size_t *first_nz)
{
    char why[8];
    struct guard_rec rec;
    size_t off = from;
    *first_nz = r->len;
    while (off < r->len && r->len - off >= sizeof rec) {
        size_t nz = next_nonzero(r, off, r->len);
        if (*first_nz == r->len)
            *first_nz = nz;
        if (nz >= r->len)
            break;
        off += (nz - off) / GUARD_REC_ALIGN * GUARD_REC_ALIGN; /* the slot holding nz */
        if (r->len - off < sizeof rec)
            break;
        uint16_t sync;
        memcpy(&sync, r->buf + off, sizeof sync);
        if (sync == GUARD_REC_SYNC && rec_check(r, off, &rec, why, sizeof why) == REC_OK)
            return off;
        off += GUARD_REC_ALIGN;
    }
    return r->len;
}

/* Are all bytes of [from, to) zero (holes included)? */
static bool region_zero(struct reader *r, size_t from, size_t to)
{
    return next_nonzero(r, from, to) >= to;
}

/* A region that starts with an all-zero record header and whose non-zero
 * bytes fit in one record: a record the writer had filled but not yet
 * committed (header written last) when the process died. */
static bool looks_torn(struct reader *r, size_t off, size_t end)
{
    if (end - off < sizeof(struct guard_rec) || !all_zero(r->buf + off, sizeof(struct guard_rec)))
        return false;
    return end - off <= GUARD_REC_MAX_SIZE || region_zero(r, off + GUARD_REC_MAX_SIZE, end);
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
 * Zeros and holes are skipped without reading them (see skip_hole), so the
 * cost follows the log's data, not its apparent size.
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
        /* a slot of the event ring cut by the end of the file holds
         * records of its own: the last record, not a region to resync in */
        if (st == REC_PAST_EOF && r->len - off >= sizeof rec && lg_ring_cut_slot(r, off, &rec)) {
            lg_region_note(r, "truncated last record at offset %zu (an event ring slot): its "
                           "records up to the end of the file are read", off);
            break;
        }
        size_t nz;
        size_t next = find_next_record(r, off + GUARD_REC_ALIGN, &nz);
        size_t gap = next - off, head = gap < GUARD_REC_ALIGN ? gap : GUARD_REC_ALIGN;
        bool zero = all_zero(r->buf + off, head) && nz >= next;
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
                           nonzero_end(r, off, r->len - off > GUARD_REC_MAX_SIZE
                                                   ? off + GUARD_REC_MAX_SIZE : r->len) - off,
                           off);
        else
            reader_error(r, "corrupt record at offset %zu (%s)", off, why);
        break;
    }
}

/* ---- the file header ----------------------------------------------- */

/* The pid in a log's file name, guard.<exe>.<pid>[.<N>].log (N <= 99, see
 * docs/log-format.md); 0 when it has none. */
static uint32_t pid_from_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n < 4 || strcmp(base + n - 4, ".log") != 0)
        return 0;
    unsigned long num[2] = {0, 0};
    size_t k = 0;
    const char *end = base + n - 4; /* the numeric components before ".log", last first */
    while (k < 2) {
        const char *p = end;
        while (p > base && p[-1] >= '0' && p[-1] <= '9')
            p--;
        if (p == end || p == base || p[-1] != '.' || end - p > 10)
            break;
        num[k++] = strtoul(p, NULL, 10);
        end = p - 1;
    }
    unsigned long pid = k == 2 && num[0] >= 1 && num[0] <= 99 ? num[1] : k ? num[0] : 0;
    return pid <= UINT32_MAX ? (uint32_t)pid : 0;
}

/* A log whose file header is damaged over intact records (a disk error,
 * or a machine crash that lost the page): the header is made up (pid from
 * the file name until the PROCESS record says; parent, start time and flags
 * unknown) and the records are read from the header's end.  An input error
 * naming offset 0, like any other damage. */
static struct lg_log *damaged_header(struct reader *r, const char *what, size_t first)
{
    struct lg_log *log = xcalloc(1, sizeof *log);
    log->path = xstrdup(r->path);
    log->hdr.magic = GUARD_LOG_MAGIC;
    log->hdr.version = GUARD_LOG_VERSION;
    log->hdr.header_size = sizeof(struct guard_file_header);
    log->hdr.pid = pid_from_name(r->path);
    r->log = log;
    r->header_damaged = true;
    reader_error(r, "damaged file header at offset 0 (%s): the records after it are read from "
                 "offset %zu on; the process's parent, start time and flags are unknown", what,
                 first);
    return log;
}

/* Does a valid PROCESS record (always the first) sit right after the
 * header?  Then a header that does not validate is damage, not another
 * kind of file. */
static bool process_record_follows(const struct reader *r)
{
    char why[8];
    struct guard_rec rec;
    size_t at = sizeof(struct guard_file_header);
    return r->len > at && rec_check(r, at, &rec, why, sizeof why) == REC_OK &&
           rec.type == GUARD_REC_PROCESS;
}

static struct lg_log *read_header(struct reader *r)
{
    const unsigned char *b = r->buf;
    size_t len = r->len;
    if (len == 0) {
        /* The shim creates the file, then sizes it: a process killed in
         * between (or one that found no space and could not remove it)
         * leaves 0 bytes.  Nothing to report, nothing wrong with the input. */
        notes_add(r->notes, NOTE_INFO, r->path, 0,
                  "empty log (0 bytes: the process ended before its log was written)");
        return NULL;
    }
    if (len >= sizeof(struct guard_file_header) && all_zero(b, sizeof(struct guard_file_header))) {
        /* The writer sizes and maps the file before it stores the header:
         * a process killed in between leaves zeros, and nothing else.
         * Nothing to report, nothing wrong with the input.  (A file shorter
         * than the header is not that: the writer never produces one.)
         * Records after a zero header are another story: the header was
         * lost (a disk error), the records were not. */
        size_t nz, first = find_next_record(r, sizeof(struct guard_file_header), &nz);
        if (first < len)
            return damaged_header(r, "all zeros", first);
        if (nz < len) {
            reader_error(r, "damaged file header at offset 0 (all zeros), and no valid record "
                         "after it");
            return NULL;
        }
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
        else if (process_record_follows(r))
            return damaged_header(r, "bad magic", sizeof(struct guard_file_header));
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
        if (h.header_size != sizeof h && process_record_follows(r)) {
            struct lg_log *log = damaged_header(r, "bad header_size", sizeof h);
            log->hdr = h; /* the rest of it looked right */
            log->hdr.header_size = sizeof h;
            return log;
        }
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
    /* A log without an END record is the process tree's business: how
     * the process ended is in its parent's log, if anywhere
     * (proctree_end.c). */
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
    if (!lg_file_open(path, &m, &err, &what)) {
        *input_error = true;
        notes_add(notes, NOTE_ERROR, path, 0, "cannot read: %s", what ? what : strerror(err));
        free(r);
        return NULL;
    }
    r->buf = m.buf;
    r->len = m.len;
    r->mapped = m.mapped;
    r->fd = m.fd;
    r->seek_data = true;
    sigjmp_buf jb;
    if (m.mapped) {
        lg_file_sigbus_arm(&jb, m.buf, m.len);
        if (sigsetjmp(jb, 1)) {
            /* the file shrank under the mapping */
            reader_error(r, "the file was truncated while it was being read (at offset %zu of "
                         "%zu): the rest is not read", lg_file_sigbus_disarm(), m.len);
            goto out;
        }
    }
    r->log = read_header(r);
    if (r->log) {
        read_records(r, r->log->hdr.header_size);
        lg_ring_flush(r);
    }
out:
    lg_file_sigbus_disarm();
    lg_file_close(&m);
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
    lg_ring_done(r);
    lg_rec_done(r);
    free(r);
    return log;
}

bool lg_pool_spans;
size_t lg_pool_spans_max;

void lg_free(struct lg_log *log)
{
    if (!log)
        return;
    free(log->pool_spans);
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
