/*
 * slog.c — writing one process image's log (docs/log-format.md), from the
 * supervisor's side.
 *
 * The records are the shim's: the same header, PROCESS record, module map,
 * stacks, events, findings, notes and END.  Differences, all within the
 * format: stacks are always raw (the thread's rsp and pc and a copy of its
 * stack, which the analyzer unwinds offline; the other registers are zero
 * unless the thread was stopped with ptrace); the module map is read from
 * /proc/<pid>/maps when the first stack of an image is written, and again
 * when a stack's pc lies outside it (a library loaded since).
 *
 * Invariants: the file is made at the first record with
 * O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, mode 0600, in the supervisor (never
 * in the program); each record is one write(2), so what was written is in
 * the page cache if the supervisor is killed; a record never exceeds
 * GUARD_REC_MAX_SIZE.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sup.h"
#include "guard_names.h"

void slog_init(struct slog *l, pid_t pid, pid_t ppid, int forked, uint64_t start_mono,
               const char *exe, const char *args, size_t args_len)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
    l->pid = pid;
    l->ppid = ppid;
    l->forked_child = forked;
    struct timespec rt, mono;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    uint64_t now_mono = (uint64_t)mono.tv_sec * 1000000000ull + (uint64_t)mono.tv_nsec;
    l->start_mono = start_mono ? start_mono : now_mono;
    l->start_rt = (uint64_t)rt.tv_sec * 1000000000ull + (uint64_t)rt.tv_nsec -
                  (now_mono - l->start_mono);
    snprintf(l->exe, sizeof l->exe, "%s", exe ? exe : "");
    if (args && args_len) {
        l->args = malloc(args_len);
        if (l->args) {
            memcpy(l->args, args, args_len);
            l->args_len = args_len;
            for (size_t i = 0; i < args_len; i++)
                l->argc += args[i] == '\0';
        }
    }
    l->next_stack = 1;
}

void slog_close(struct slog *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
    l->failed = 1; /* closed for good: a record after this has no place */
    free(l->args);
    l->args = NULL;
    free(l->ranges);
    l->ranges = NULL;
    l->nranges = 0;
}

/* A full disk: said once for the run.  A later record may fit again, and
 * a reader resynchronises after a torn one. */
static void write_failed(const struct slog *l, ssize_t n)
{
    static int said;
    if (!said++)
        sup_warn("cannot write %s: %s; records from now on may be lost (the program runs on)",
                 l->path, n < 0 ? strerror(errno) : "short write");
}

static void write_rec(struct slog *l, void *rec, uint32_t type, size_t size)
{
    struct guard_rec *r = rec;
    size_t total = guard_rec_round((uint32_t)size);
    r->sync = GUARD_REC_SYNC;
    r->type = (uint16_t)type;
    r->size = (uint32_t)total;
    if (size < total)
        memset((char *)rec + size, 0, total - size);
    const char *p = rec;
    while (total) {
        ssize_t n = write(l->fd, p, total);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            write_failed(l, n);
            return;
        }
        p += n;
        total -= (size_t)n;
    }
}

static void write_process(struct slog *l)
{
    size_t exe_len = strnlen(l->exe, 4096);
    size_t args_len = l->args_len > 8192 ? 8192 : l->args_len;
    uint32_t argc = 0;
    for (size_t i = 0; i < args_len; i++)
        argc += l->args[i] == '\0';
    const char *opts = sup_opt.guard_options ? sup_opt.guard_options : "";
    size_t opt_len = strnlen(opts, 1024);
    size_t size = sizeof(struct guard_rec_process) + exe_len + args_len + opt_len;
    struct guard_rec_process *p = calloc(1, guard_rec_round((uint32_t)size));
    if (!p)
        return;
    guard_rec_process_fill(p, argc, (uint32_t)l->pid, l->exe, exe_len, l->args, args_len, opts,
                           opt_len);
    write_rec(l, p, GUARD_REC_PROCESS, size);
    free(p);
}

/* Create the file, its header and its PROCESS record (guard.<exe>.<pid>.log,
 * or guard.<exe>.<pid>.<random>.log when the name is taken). */
int slog_ready(struct slog *l)
{
    if (l->fd >= 0)
        return 1;
    if (l->failed)
        return 0;
    char name[96];
    guard_exe_short_name(l->exe, name, sizeof name);
    for (int attempt = 0; attempt < 100; attempt++) {
        uint32_t salt = 0;
        if (attempt && getrandom(&salt, sizeof salt, GRND_NONBLOCK) != sizeof salt)
            salt = (uint32_t)sup_now_ns() ^ (uint32_t)attempt;
        if (attempt == 0)
            snprintf(l->path, sizeof l->path, "%s/guard.%s.%d.log", sup_opt.log_dir, name,
                     (int)l->pid);
        else
            snprintf(l->path, sizeof l->path, "%s/guard.%s.%d.%x.log", sup_opt.log_dir, name,
                     (int)l->pid, salt);
        l->fd = open(l->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (l->fd >= 0 || errno != EEXIST)
            break;
    }
    if (l->fd < 0) {
        static int warned; /* once: a log directory that fails fails for every log */
        if (!warned++)
            sup_warn("cannot create log %s: %s; the program runs on without it", l->path,
                     strerror(errno));
        l->failed = 1;
        return 0;
    }
    (void)fchmod(l->fd, 0600);
    struct guard_file_header h;
    memset(&h, 0, sizeof h);
    h.magic = GUARD_LOG_MAGIC;
    h.version = GUARD_LOG_VERSION;
    h.header_size = sizeof h;
    h.pid = (uint32_t)l->pid;
    h.ppid = (uint32_t)l->ppid;
    h.start_realtime_ns = l->start_rt;
    h.start_monotonic_ns = l->start_mono;
    h.flags = l->forked_child ? GUARD_FILE_FORKED_CHILD : 0;
    h.page_size = (uint32_t)sysconf(_SC_PAGESIZE);
    ssize_t n = write(l->fd, &h, sizeof h);
    if (n != (ssize_t)sizeof h) {
        write_failed(l, n);
        close(l->fd);
        l->fd = -1;
        l->failed = 1;
        return 0;
    }
    write_process(l);
    return 1;
}

/* ---- the module map -------------------------------------------------------- */

struct elf_facts {
    Elf64_Phdr ph[32];
    unsigned nload;
    uint64_t min_vaddr;
    uint8_t build_id[64];
    unsigned build_id_len;
};

static int read_elf(const char *path, struct elf_facts *e)
{
    memset(e, 0, sizeof *e);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    Elf64_Ehdr eh;
    Elf64_Phdr all[64];
    int ok = pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
             !memcmp(eh.e_ident, ELFMAG, SELFMAG) && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
             eh.e_phentsize == sizeof(Elf64_Phdr) && eh.e_phnum > 0 && eh.e_phnum <= 64 &&
             pread(fd, all, eh.e_phnum * sizeof(Elf64_Phdr), (off_t)eh.e_phoff) ==
                 (ssize_t)(eh.e_phnum * sizeof(Elf64_Phdr));
    e->min_vaddr = UINT64_MAX;
    for (unsigned i = 0; ok && i < eh.e_phnum; i++) {
        if (all[i].p_type == PT_LOAD && e->nload < 32) {
            e->ph[e->nload++] = all[i];
            if (all[i].p_vaddr < e->min_vaddr)
                e->min_vaddr = all[i].p_vaddr;
        } else if (all[i].p_type == PT_NOTE && !e->build_id_len && all[i].p_filesz < 4096) {
            unsigned char notes[4096];
            ssize_t n = pread(fd, notes, all[i].p_filesz, (off_t)all[i].p_offset);
            for (ssize_t off = 0; n > 0 && off + 12 <= n;) {
                Elf64_Nhdr nh;
                memcpy(&nh, notes + off, sizeof nh);
                size_t name_sz = (nh.n_namesz + 3) & ~3u, desc_sz = (nh.n_descsz + 3) & ~3u;
                if (off + 12 + (ssize_t)(name_sz + desc_sz) > n)
                    break;
                if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                    !memcmp(notes + off + 12, "GNU", 4) && nh.n_descsz <= sizeof e->build_id) {
                    memcpy(e->build_id, notes + off + 12 + name_sz, nh.n_descsz);
                    e->build_id_len = nh.n_descsz;
                    break;
                }
                off += 12 + (ssize_t)(name_sz + desc_sz);
            }
        }
    }
    close(fd);
    return ok && e->nload ? 0 : -1;
}

static void write_module(struct slog *l, const char *path, uint64_t base, const struct elf_facts *e,
                         int main_exe)
{
    size_t path_len = strnlen(path, PATH_MAX);
    size_t size = sizeof(struct guard_rec_module) + e->nload * sizeof(struct guard_segment) +
                  e->build_id_len + path_len;
    struct guard_rec_module *m = calloc(1, guard_rec_round((uint32_t)size));
    if (!m)
        return;
    m->base = base;
    m->generation = l->generation;
    m->path_len = (uint32_t)path_len;
    m->build_id_len = (uint16_t)e->build_id_len;
    m->nsegs = (uint16_t)e->nload;
    m->flags = main_exe ? GUARD_MODULE_MAIN : 0;
    struct guard_segment *seg = (struct guard_segment *)(m + 1);
    for (unsigned i = 0; i < e->nload; i++) {
        seg[i].vaddr = e->ph[i].p_vaddr;
        seg[i].memsz = e->ph[i].p_memsz;
        seg[i].flags = e->ph[i].p_flags;
        uint64_t lo = base + e->ph[i].p_vaddr, hi = lo + e->ph[i].p_memsz;
        if ((e->ph[i].p_flags & PF_X) && (l->nranges & 63) == 0) {
            void *r = realloc(l->ranges, (l->nranges + 64) * sizeof *l->ranges);
            if (!r)
                continue;
            l->ranges = r;
        }
        if (e->ph[i].p_flags & PF_X)
            l->ranges[l->nranges++] = (struct slog_module_range){lo, hi};
    }
    char *p = (char *)(seg + e->nload);
    memcpy(p, e->build_id, e->build_id_len);
    memcpy(p + e->build_id_len, path, path_len);
    write_rec(l, m, GUARD_REC_MODULE, size);
    free(m);
}

/* A new generation of the module map: every ELF file mapped at offset 0
 * (its first mapping gives the load bias). */
static void write_modules(struct slog *l)
{
    char path[64], exe[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%d/exe", (int)l->pid);
    ssize_t n = readlink(path, exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    snprintf(path, sizeof path, "/proc/%d/maps", (int)l->pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    l->generation++;
    l->nranges = 0;
    long page = sysconf(_SC_PAGESIZE);
    char line[PATH_MAX + 128], last[PATH_MAX] = "";
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, hi, off;
        char perms[8];
        int pos = 0;
        if (sscanf(line, "%llx-%llx %7s %llx %*s %*s%n", &lo, &hi, perms, &off, &pos) < 4)
            continue;
        char *file = line + pos;
        while (*file == ' ')
            file++;
        file[strcspn(file, "\n")] = '\0';
        if (file[0] != '/' || off != 0 || !strcmp(file, last))
            continue;
        snprintf(last, sizeof last, "%s", file);
        struct elf_facts e;
        if (read_elf(file, &e) != 0)
            continue;
        uint64_t base = lo - (e.min_vaddr & ~(uint64_t)(page - 1));
        write_module(l, file, base, &e, exe[0] && !strcmp(file, exe));
    }
    fclose(f);
}

static int pc_known(const struct slog *l, uint64_t pc)
{
    for (size_t i = 0; i < l->nranges; i++)
        if (pc >= l->ranges[i].lo && pc < l->ranges[i].hi)
            return 1;
    return 0;
}

/* A raw stack: its id, 0 when nothing could be copied.  raw_flags:
 * GUARD_RAW_PC_EXACT when the pc is a faulting instruction. */
uint32_t slog_stack(struct slog *l, const struct peek_stack *st)
{
    return slog_stack_flags(l, st, 0);
}

/* One run of GUARD_STACK_RAW_ZRUNS: zeros, then n bytes as they are. */
static size_t zrun(uint8_t *out, size_t zeros, const uint8_t *lit, size_t n)
{
    uint16_t h[2] = {(uint16_t)zeros, (uint16_t)n};
    memcpy(out, h, sizeof h);
    memcpy(out + sizeof h, lit, n);
    return sizeof h + n;
}

/* The stack's bytes as GUARD_STACK_RAW_ZRUNS, by 8-byte words: a zero
 * word ends a run.  At most len + 16 bytes: a run costs 4 and saves at
 * least 8, but for the first, one after 64 KiB of non-zero words, and a
 * last partial word's. */
static size_t zruns_encode(uint8_t *out, const uint8_t *b, size_t len)
{
    const size_t cap = 65535 / 8, nw = len / 8;
    size_t o = 0, i = 0;
    while (i < nw) {
        size_t z = 0, e;
        uint64_t w;
        while (i + z < nw && z < cap && (memcpy(&w, b + 8 * (i + z), 8), w == 0))
            z++;
        for (e = i + z; e < nw && e - (i + z) < cap && (memcpy(&w, b + 8 * e, 8), w != 0); e++)
            ;
        o += zrun(out + o, 8 * z, b + 8 * (i + z), 8 * (e - i - z));
        i = e;
    }
    if (len % 8)
        o += zrun(out + o, 0, b + 8 * nw, len % 8);
    return o;
}

uint32_t slog_stack_flags(struct slog *l, const struct peek_stack *st, uint32_t raw_flags)
{
    if (!st->regs[7] || !slog_ready(l))
        return 0;
    if (!l->generation || !pc_known(l, st->regs[16]))
        write_modules(l);
    /* one record at a time (one thread): the headers zeroed, the runs
     * written over the rest, write_rec zeroes the padding */
    static union {
        struct guard_rec_stack r;
        uint8_t bytes[sizeof(struct guard_rec_stack) + sizeof(struct guard_stack_raw) +
                      PEEK_STACK_BYTES + 16 + 8];
    } buf;
    struct guard_rec_stack *r = &buf.r;
    memset(&buf, 0, sizeof(struct guard_rec_stack) + sizeof(struct guard_stack_raw));
    r->id = l->next_stack++;
    r->nframes = 0;
    r->generation = l->generation;
    r->flags = GUARD_STACK_RAW | GUARD_STACK_RAW_ZRUNS;
    struct guard_stack_raw *raw = (struct guard_stack_raw *)r->pcs;
    memcpy(raw->regs, st->regs, sizeof raw->regs);
    raw->flags = raw_flags;
    raw->len = st->len;
    size_t size = sizeof(struct guard_rec_stack) + sizeof(struct guard_stack_raw) +
                  zruns_encode(raw->bytes, st->bytes, st->len);
    write_rec(l, r, GUARD_REC_STACK, size);
    return r->id;
}

void slog_event(struct slog *l, uint64_t t, pid_t tid, unsigned kind, uint32_t stack,
                uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, const void *payload,
                size_t len, uint32_t flags)
{
    if (!slog_ready(l))
        return;
    if (len > 4096)
        len = 4096;
    struct {
        struct guard_rec_event e;
        char payload[4096 + 8];
    } r;
    memset(&r.e, 0, sizeof r.e);
    r.e.time_ns = t;
    r.e.tid = (uint32_t)tid;
    r.e.kind = (uint16_t)kind;
    r.e.payload_len = (uint16_t)len;
    r.e.stack_id = stack;
    r.e.reserved = flags;
    r.e.args[0] = a0;
    r.e.args[1] = a1;
    r.e.args[2] = a2;
    r.e.args[3] = a3;
    if (len)
        memcpy(r.payload, payload, len);
    write_rec(l, &r, GUARD_REC_EVENT, sizeof r.e + len);
}

void slog_finding(struct slog *l, uint64_t t, const struct slog_finding *f)
{
    if (!slog_ready(l))
        return;
    size_t call_len = f->call ? strnlen(f->call, 64) : 0;
    size_t sum_len = strnlen(f->summary, sizeof f->summary);
    size_t size = sizeof(struct guard_rec_finding) + f->nstacks * sizeof(struct guard_finding_stack) +
                  call_len + sum_len;
    struct guard_rec_finding *r = calloc(1, guard_rec_round((uint32_t)size));
    if (!r)
        return;
    r->time_ns = t;
    r->tid = (uint32_t)f->tid;
    r->kind = (uint16_t)f->kind;
    r->flags = (uint16_t)f->flags;
    r->other_tid = (uint32_t)f->other_tid;
    r->addr = f->addr;
    r->bytes = f->bytes;
    r->nstacks = (uint16_t)f->nstacks;
    r->call_len = (uint16_t)call_len;
    r->summary_len = (uint32_t)sum_len;
    char *p = (char *)(r + 1);
    memcpy(p, f->stacks, f->nstacks * sizeof(struct guard_finding_stack));
    p += f->nstacks * sizeof(struct guard_finding_stack);
    if (call_len)
        memcpy(p, f->call, call_len);
    memcpy(p + call_len, f->summary, sum_len);
    write_rec(l, r, GUARD_REC_FINDING, size);
    free(r);
}

void slog_note(struct slog *l, pid_t tid, const char *fmt, ...)
{
    if (!slog_ready(l))
        return;
    struct {
        struct guard_rec_note n;
        char text[512];
    } r;
    memset(&r.n, 0, sizeof r.n);
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(r.text, sizeof r.text, fmt, ap);
    va_end(ap);
    if (len < 0)
        len = 0;
    if ((size_t)len >= sizeof r.text)
        len = sizeof r.text - 1;
    r.n.time_ns = sup_now_ns();
    r.n.tid = (uint32_t)tid;
    r.n.len = (uint32_t)len;
    write_rec(l, &r, GUARD_REC_NOTE, sizeof r.n + (size_t)len);
}

void slog_end(struct slog *l, int32_t status)
{
    if (!slog_ready(l))
        return;
    struct guard_rec_end e;
    memset(&e, 0, sizeof e);
    e.time_ns = sup_now_ns();
    e.exit_status = status;
    write_rec(l, &e, GUARD_REC_END, sizeof e);
}

/* One shim log: walk its records; where the first unwritten (zero) record
 * header is, if the last record is neither END nor an exec and an END fits
 * before the end of the file, write END there.  Its writer is gone (the
 * process has ended), so nothing else writes the file. */
static void end_shim_log(int dirfd, const char *name, int32_t status)
{
    int fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    struct guard_file_header h;
    uint64_t off = sizeof h, size = 0;
    unsigned last = 0;
    uint16_t last_kind = 0;
    if (fstat(fd, &st) != 0 || pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
        h.magic != GUARD_LOG_MAGIC || h.version != GUARD_LOG_VERSION || h.header_size != sizeof h)
        goto out;
    size = (uint64_t)st.st_size;
    for (;;) {
        struct guard_rec r;
        if (off + sizeof r > size || pread(fd, &r, sizeof r, (off_t)off) != (ssize_t)sizeof r)
            goto out; /* no room left: leave it */
        if (r.sync != GUARD_REC_SYNC)
            break;
        if (r.size < sizeof r || r.size % GUARD_REC_ALIGN || r.size > GUARD_REC_MAX_SIZE)
            goto out; /* damaged: not ours to mend */
        if (r.type != GUARD_REC_PAD) {
            last = r.type;
            if (r.type == GUARD_REC_EVENT && pread(fd, &last_kind, sizeof last_kind,
                                                   (off_t)(off + offsetof(struct guard_rec_event, kind))) != 2)
                last_kind = 0;
        }
        off += r.size;
    }
    if (last == GUARD_REC_END || (last == GUARD_REC_EVENT && last_kind == GUARD_EV_EXEC) ||
        off + sizeof(struct guard_rec_end) > size)
        goto out;
    struct guard_rec_end e;
    memset(&e, 0, sizeof e);
    e.time_ns = sup_now_ns();
    e.exit_status = status;
    /* the body first, the header last: a reader sees all of it or none */
    if (pwrite(fd, (char *)&e + sizeof e.rec, sizeof e - sizeof e.rec,
               (off_t)(off + sizeof e.rec)) == (ssize_t)(sizeof e - sizeof e.rec)) {
        struct guard_rec r = {GUARD_REC_SYNC, GUARD_REC_END, sizeof e};
        (void)!pwrite(fd, &r, sizeof r, (off_t)off);
    }
out:
    close(fd);
}

void slog_end_shim_logs(pid_t pid, const char *own, int32_t status)
{
    DIR *d = opendir(sup_opt.log_dir);
    if (!d)
        return;
    const char *own_name = strrchr(own, '/') ? strrchr(own, '/') + 1 : own;
    char mid[32];
    snprintf(mid, sizeof mid, ".%d.", (int)pid);
    for (struct dirent *de; (de = readdir(d));) {
        size_t n = strlen(de->d_name);
        if (strncmp(de->d_name, "guard.", 6) || n < 10 || strcmp(de->d_name + n - 4, ".log") ||
            !strcmp(de->d_name, own_name))
            continue;
        /* guard.<exe>.<pid>.log or guard.<exe>.<pid>.<hex>.log */
        const char *at = strstr(de->d_name + 5, mid);
        if (!at)
            continue;
        const char *rest = at + strlen(mid);
        if (strcmp(rest, "log") && !(strspn(rest, "0123456789abcdef") + 4 == strlen(rest) &&
                                      !strcmp(rest + strlen(rest) - 4, ".log")))
            continue;
        end_shim_log(dirfd(d), de->d_name, status);
    }
    closedir(d);
}

/* A record made by the caller (CRASH, THREAD_STACK): its header is set here. */
void slog_raw(struct slog *l, void *rec, uint32_t type, size_t size)
{
    if (slog_ready(l))
        write_rec(l, rec, type, size);
}
