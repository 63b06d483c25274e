#!/bin/sh
# bench/analyzer_bench.sh [BUILD] — how fast, and in how much memory, the
# analyzer reads a nightly run's worth of logs (target: 1 GB in under 30 s
# with a peak RSS under 500 MB on a 2-core machine).
#
# 1. Seed logs from real programs under the shim: pool_uar (pool events,
#    threads, a child process, findings) and crash_threads (a crash with 8
#    threads' stacks).  Their PROCESS, MODULE and STACK records are real, so
#    the synthetic logs symbolize against real binaries.
# 2. A generator (C, embedded below) writes RUNS run directories of logs
#    totalling SIZE_MB: one test-runner process per run that spawns and
#    reaps the others; in every log, pool put/get traffic over hundreds of
#    objects (mostly 32-byte short records, every object's first event and
#    some others full), thousands of distinct stacks made from the seeds'
#    with their innermost frames moved to other code, thread starts, a few
#    percent of logs with findings (double-put, use-after-return, the same
#    few dozen bugs across logs, so they fold), a few crashes (the seed's
#    CRASH and THREAD_STACK records after synthetic history), a few logs of
#    killed processes (no END), a zero-filled sparse tail as the shim leaves.
#    Log sizes are skewed: many small ones, some of tens of MB, one big.
# 3. /usr/bin/time -v on `guard-analyze --format=FORMAT RUN...` for json,
#    text, sarif and junit: elapsed time and maximum resident set size, with
#    the logs in the page cache (as for a nightly job that analyzes what it
#    just wrote; a cold cache adds the disk's read time).
#
# Environment: SIZE_MB (default 1024), RUNS (4), LOGS (1200 in all),
# BENCH_DIR (default a fresh directory under TMPDIR, removed at the end
# unless KEEP=1).  Exit status 0 when every analysis ran (status 1: the logs
# hold findings); a missed target is printed, not a failure.
set -u

BUILD=${1:-build}
SIZE_MB=${SIZE_MB:-1024}
RUNS=${RUNS:-4}
LOGS=${LOGS:-1200}
KEEP=${KEEP:-0}

for t in "$BUILD/guard-analyze" "$BUILD/libguard.so" "$BUILD/testprogs/pool_uar" \
         "$BUILD/testprogs/crash_threads"; do
    if [ ! -x "$t" ] && [ ! -f "$t" ]; then
        echo "analyzer_bench.sh: $t is missing: run 'make' first" >&2
        exit 2
    fi
done
if [ ! -x /usr/bin/time ]; then
    echo "analyzer_bench.sh: /usr/bin/time is missing (Debian package 'time')" >&2
    exit 2
fi
SHIM=$(cd "$BUILD" && pwd)/libguard.so
ANALYZER=$(cd "$BUILD" && pwd)/guard-analyze
WORK=$(mktemp -d "${TMPDIR:-/tmp}/guard-anabench.XXXXXX") || exit 2
BENCH_DIR=${BENCH_DIR:-$WORK/logs}
if [ "$KEEP" = 1 ]; then
    trap 'rm -rf "$WORK/seed-a" "$WORK/seed-b" "$WORK/gen" "$WORK/gen.c" "$WORK/time.txt"; rmdir "$WORK" 2>/dev/null' EXIT
else
    trap 'rm -rf "$WORK"; case "$BENCH_DIR" in "$WORK"/*) ;; *) rm -rf "$BENCH_DIR";; esac' EXIT
fi
trap 'exit 130' INT TERM
unset LD_PRELOAD GUARD_OPTIONS

# ---- 1. seeds ----------------------------------------------------------
mkdir -p "$WORK/seed-a" "$WORK/seed-b"
GUARD_OPTIONS="log_dir=$WORK/seed-a" LD_PRELOAD=$SHIM "$BUILD/testprogs/pool_uar" \
    >/dev/null 2>&1
GUARD_OPTIONS="log_dir=$WORK/seed-b" LD_PRELOAD=$SHIM "$BUILD/testprogs/crash_threads" \
    >/dev/null 2>&1
SEED_A=$(ls "$WORK"/seed-a/guard.pool_uar.*.log 2>/dev/null | head -1)
SEED_B=$(ls "$WORK"/seed-b/guard.crash_threads.*.log 2>/dev/null | head -1)
if [ -z "$SEED_A" ] || [ -z "$SEED_B" ]; then
    echo "analyzer_bench.sh: the seed programs wrote no logs" >&2
    exit 2
fi

# ---- 2. the generator ----------------------------------------------------
cat > "$WORK/gen.c" <<'EOF'
/* gen.c — synthetic libguard logs from two real seed logs (see
 * bench/analyzer_bench.sh).  Deterministic for a given seed. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard_log.h"

#define CHUNK (256u << 10)

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static uint64_t below(uint64_t n) { return n ? rnd() % n : 0; }

struct seed {
    unsigned char *buf;
    size_t len;
    struct guard_file_header hdr;
    /* record offsets by kind */
    size_t *mods, nmods;
    size_t *stacks, nstacks;
    size_t crash, *tstacks, ntstacks, crash_finding;
    uint32_t max_stack_id;
    uint32_t gen;        /* module map generation of the first map */
    char exe[512];
    /* executable ranges of the main module and of the others */
    uint64_t xlo[64], xhi[64];
    int nx, main_x;
};

static void die(const char *m) { perror(m); exit(2); }

static void load_seed(struct seed *s, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path);
    struct stat st;
    fstat(fileno(f), &st);
    s->buf = malloc((size_t)st.st_size);
    s->len = fread(s->buf, 1, (size_t)st.st_size, f);
    fclose(f);
    memcpy(&s->hdr, s->buf, sizeof s->hdr);
    s->main_x = -1;
    size_t off = s->hdr.header_size;
    while (off + sizeof(struct guard_rec) <= s->len) {
        struct guard_rec r;
        memcpy(&r, s->buf + off, sizeof r);
        if (r.sync != GUARD_REC_SYNC || r.size < 8 || off + r.size > s->len)
            break;
        switch (r.type) {
        case GUARD_REC_MODULE: {
            struct guard_rec_module m;
            memcpy(&m, s->buf + off, sizeof m);
            if (!s->nmods)
                s->gen = m.generation;
            if (m.generation != s->gen)
                break;
            s->mods = realloc(s->mods, (s->nmods + 1) * sizeof *s->mods);
            s->mods[s->nmods++] = off;
            for (unsigned i = 0; i < m.nsegs && s->nx < 64; i++) {
                struct guard_segment g;
                memcpy(&g, s->buf + off + sizeof m + i * sizeof g, sizeof g);
                if (!(g.flags & 1) || (m.flags & GUARD_MODULE_VDSO))
                    continue;
                if (m.flags & GUARD_MODULE_MAIN)
                    s->main_x = s->nx;
                s->xlo[s->nx] = m.base + g.vaddr;
                s->xhi[s->nx] = m.base + g.vaddr + g.memsz;
                s->nx++;
            }
            break;
        }
        case GUARD_REC_STACK: {
            struct guard_rec_stack k;
            memcpy(&k, s->buf + off, sizeof k);
            s->stacks = realloc(s->stacks, (s->nstacks + 1) * sizeof *s->stacks);
            s->stacks[s->nstacks++] = off;
            if (k.id > s->max_stack_id)
                s->max_stack_id = k.id;
            break;
        }
        case GUARD_REC_PROCESS: {
            struct guard_rec_process p;
            memcpy(&p, s->buf + off, sizeof p);
            size_t n = p.exe_len < sizeof s->exe - 1 ? p.exe_len : sizeof s->exe - 1;
            memcpy(s->exe, s->buf + off + sizeof p, n);
            s->exe[n] = 0;
            break;
        }
        case GUARD_REC_CRASH:
            s->crash = off;
            break;
        case GUARD_REC_THREAD_STACK:
            s->tstacks = realloc(s->tstacks, (s->ntstacks + 1) * sizeof *s->tstacks);
            s->tstacks[s->ntstacks++] = off;
            break;
        case GUARD_REC_FINDING: {
            struct guard_rec_finding fr;
            memcpy(&fr, s->buf + off, sizeof fr);
            if (fr.kind == GUARD_FK_CRASH)
                s->crash_finding = off;
            break;
        }
        }
        off += r.size;
    }
    if (!s->nmods || !s->nstacks || s->main_x < 0) {
        fprintf(stderr, "gen: %s: no modules or stacks\n", path);
        exit(2);
    }
}

/* ---- output -------------------------------------------------------- */

static FILE *out;
static uint64_t written, now_ns;

static void emit(const void *p, size_t n)
{
    if (fwrite(p, 1, n, out) != n)
        die("write");
    written += n;
}

static void emit_rec(void *rec, size_t fixed, const void *payload, size_t plen, uint16_t type)
{
    struct guard_rec *h = rec;
    h->sync = GUARD_REC_SYNC;
    h->type = type;
    h->size = guard_rec_round((uint32_t)(fixed + plen));
    static const unsigned char zero[8];
    emit(rec, fixed);
    if (plen)
        emit(payload, plen);
    emit(zero, h->size - fixed - plen);
}

/* Stacks of this log: seed stacks keep their ids; synthetic ones are
 * written on first use, like the shim's depot does. */
struct synth {
    uint32_t base_stack; /* index into seed stacks */
    uint64_t top[2];
    uint32_t id;         /* 0: not written yet in this log */
};

static struct seed *S;
static struct synth *syn;
static uint32_t nsyn, next_id;

static void write_stack(uint32_t id, const uint64_t *pcs, uint32_t n, uint32_t gen)
{
    struct guard_rec_stack k;
    memset(&k, 0, sizeof k);
    k.id = id;
    k.nframes = n;
    k.generation = gen;
    emit_rec(&k, sizeof k, pcs, n * sizeof *pcs, GUARD_REC_STACK);
}

static uint64_t random_pc(int main_only)
{
    int x = main_only || below(3) == 0 ? S->main_x : (int)below((uint64_t)S->nx);
    uint64_t span = S->xhi[x] - S->xlo[x];
    return S->xlo[x] + below(span ? span : 1);
}

static uint32_t use_stack(uint32_t i)
{
    struct synth *y = &syn[i];
    if (y->id)
        return y->id;
    struct guard_rec_stack k;
    memcpy(&k, S->buf + S->stacks[y->base_stack], sizeof k);
    uint64_t pcs[GUARD_MAX_FRAMES];
    uint32_t n = k.nframes < GUARD_MAX_FRAMES - 2 ? k.nframes : GUARD_MAX_FRAMES - 2;
    memcpy(pcs + 2, S->buf + S->stacks[y->base_stack] + sizeof k, n * sizeof *pcs);
    pcs[0] = y->top[0];
    pcs[1] = y->top[1];
    y->id = next_id++;
    write_stack(y->id, pcs, n + 2, S->gen);
    return y->id;
}

static void new_synth(uint32_t count, int main_only)
{
    free(syn);
    syn = calloc(count, sizeof *syn);
    nsyn = count;
    for (uint32_t i = 0; i < count; i++) {
        syn[i].base_stack = (uint32_t)below(S->nstacks);
        syn[i].top[0] = random_pc(main_only);
        syn[i].top[1] = random_pc(1);
    }
}

static void ev(uint32_t tid, uint16_t kind, uint32_t stack, uint64_t a0, uint64_t a1,
               uint64_t a2, uint64_t a3, const void *payload, uint16_t plen)
{
    struct guard_rec_event e;
    memset(&e, 0, sizeof e);
    e.time_ns = now_ns;
    e.tid = tid;
    e.kind = kind;
    e.payload_len = plen;
    e.stack_id = stack;
    e.args[0] = a0;
    e.args[1] = a1;
    e.args[2] = a2;
    e.args[3] = a3;
    emit_rec(&e, sizeof e, payload, plen, GUARD_REC_EVENT);
}

static void pool_short(uint32_t tid, int put, uint32_t stack, uint64_t obj)
{
    struct guard_rec_pool p;
    memset(&p, 0, sizeof p);
    p.tid = tid;
    p.stack_id = stack;
    p.obj = obj;
    p.time_ns = now_ns;
    emit_rec(&p, sizeof p, NULL, 0, put ? GUARD_REC_POOL_PUT : GUARD_REC_POOL_GET);
}

static void finding(uint16_t kind, uint32_t tid, uint64_t pool, uint64_t obj, uint64_t size,
                    uint32_t s1, uint16_t r1, uint32_t s2, uint16_t r2, const char *summary)
{
    struct guard_rec_finding f;
    memset(&f, 0, sizeof f);
    f.time_ns = now_ns;
    f.tid = tid;
    f.kind = kind;
    f.pool = pool;
    f.obj = obj;
    f.size = size;
    f.other_tid = tid;
    f.nstacks = 2;
    f.summary_len = (uint32_t)strlen(summary);
    unsigned char pay[1024];
    struct guard_finding_stack st[2] = {{r1, s1, tid, 0}, {r2, s2, tid, 0}};
    memcpy(pay, st, sizeof st);
    memcpy(pay + sizeof st, summary, f.summary_len);
    emit_rec(&f, sizeof f, pay, sizeof st + f.summary_len, GUARD_REC_FINDING);
}

/* the seed's own records of one type range, copied with their times moved */
static void copy_rec(size_t off)
{
    struct guard_rec r;
    memcpy(&r, S->buf + off, sizeof r);
    unsigned char tmp[GUARD_REC_MAX_SIZE];
    memcpy(tmp, S->buf + off, r.size);
    uint64_t t = now_ns;
    if (r.type == GUARD_REC_CRASH || r.type == GUARD_REC_THREAD_STACK ||
        r.type == GUARD_REC_FINDING)
        memcpy(tmp + 8, &t, 8); /* time_ns follows the header in all three */
    emit(tmp, r.size);
}

struct objinfo {
    uint64_t addr, size, pool;
    int out;      /* taken (between get and put) */
    int seen[2];  /* a full get [0] / put [1] record written for it */
};

static void write_log(const char *dir, uint32_t pid, uint32_t ppid, uint64_t target, int crash,
                      int killed, int runner, uint32_t nchildren, uint32_t child_pid0,
                      unsigned logno, const uint64_t *bug_top)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/guard.%s.%u.log", dir, crash ? "crashy_test" : "unit_test",
             pid);
    out = fopen(path, "wb");
    if (!out)
        die(path);
    written = 0;
    static char iobuf[1 << 20];
    setvbuf(out, iobuf, _IOFBF, sizeof iobuf);
    now_ns += 1000000 + below(5000000);

    struct guard_file_header h = S->hdr;
    h.pid = pid;
    h.ppid = ppid;
    h.start_monotonic_ns = now_ns;
    h.start_realtime_ns = 1700000000000000000ull + now_ns;
    h.flags = 0;
    emit(&h, sizeof h);
    size_t hs = h.header_size > sizeof h ? h.header_size - sizeof h : 0;
    static const unsigned char zeros[4096];
    emit(zeros, hs);

    /* PROCESS */
    char args[256];
    int alen = snprintf(args, sizeof args, "%s%c--case%ccase-%u", S->exe, 0, 0, logno) + 1;
    const char *opts = crash ? "log_dir=/nightly/logs:crash_events=12" : "log_dir=/nightly/logs";
    struct guard_rec_process p;
    memset(&p, 0, sizeof p);
    p.argc = 3;
    p.exe_len = (uint32_t)strlen(S->exe);
    p.args_len = (uint32_t)alen;
    p.options_len = (uint32_t)strlen(opts);
    p.main_tid = pid;
    unsigned char pay[2048];
    memcpy(pay, S->exe, p.exe_len);
    memcpy(pay + p.exe_len, args, (size_t)alen);
    memcpy(pay + p.exe_len + alen, opts, p.options_len);
    emit_rec(&p, sizeof p, pay, p.exe_len + p.args_len + p.options_len, GUARD_REC_PROCESS);
    for (size_t i = 0; i < S->nmods; i++)
        copy_rec(S->mods[i]);
    for (size_t i = 0; i < S->nstacks; i++)
        copy_rec(S->stacks[i]);
    next_id = S->max_stack_id + 1;
    new_synth(200 + (uint32_t)below(4000), 0);

    /* threads */
    uint32_t nthreads = 1 + (uint32_t)below(8);
    uint32_t tids[8];
    for (uint32_t i = 0; i < nthreads; i++) {
        tids[i] = i == 0 ? pid : pid + 1 + i;
        if (i)
            ev(tids[i], GUARD_EV_THREAD_START, use_stack((uint32_t)below(nsyn)), pid, 0, 0, 0,
               NULL, 0);
    }

    /* the runner spawns and reaps every test of its run */
    for (uint32_t c = 0; runner && c < nchildren; c++) {
        char sp[128];
        int n = snprintf(sp, sizeof sp, "%s%c%s%c--case%ccase-%u", S->exe, 0, S->exe, 0, 0,
                         logno + 1 + c) + 1;
        now_ns += 20000;
        ev(pid, GUARD_EV_SPAWN, use_stack(0), child_pid0 + c, GUARD_SPAWN_POSIX_SPAWN, 0, 1, sp,
           (uint16_t)n);
    }

    uint32_t nobj = 16 + (uint32_t)below(700);
    struct objinfo *objs = calloc(nobj, sizeof *objs);
    static const uint64_t sizes[] = {48, 256, 4096, 65536};
    uint64_t heap = 0x55d000000000ull + (below(1 << 20) << 12);
    for (uint32_t i = 0; i < nobj; i++) {
        objs[i].size = sizes[below(4)];
        objs[i].addr = heap;
        heap += (objs[i].size + 4095) & ~4095ull;
        objs[i].pool = 0x7ffc00000000ull + (i % 4) * 64;
    }
    /* a handful of hot call sites, as in a real program */
    uint32_t hot = 8 + (uint32_t)below(24);

    int bug = below(100) < 3 && !runner && S->main_x >= 0 && !crash;
    int uar = below(100) < 1 && !runner && !crash;
    uint64_t mid = target / 2;
    while (written < target) {
        uint32_t t = tids[below(nthreads)];
        uint32_t o = (uint32_t)below(nobj);
        struct objinfo *ob = &objs[o];
        now_ns += 150 + below(2000);
        uint32_t st = use_stack(below(10) < 8 ? (uint32_t)below(hot) : (uint32_t)below(nsyn));
        int put = ob->out;
        if (!ob->seen[put] || below(100) < 12) {
            ev(t, put ? GUARD_EV_POOL_PUT : GUARD_EV_POOL_GET, st, ob->pool, ob->addr, ob->size,
               put ? GUARD_PUT_POISONED | (ob->size >= 4096 ? GUARD_PUT_PROTECTED : 0) : 0,
               NULL, 0);
            ob->seen[put] = 1;
        } else {
            pool_short(t, put, st, ob->addr);
        }
        ob->out = !put;
        if (bug && written >= mid) {
            /* the same few dozen double-put bugs across all logs */
            bug = 0;
            unsigned b = (unsigned)below(30);
            syn[0].top[0] = bug_top[2 * b];
            syn[0].top[1] = bug_top[2 * b + 1];
            syn[0].base_stack = b % (uint32_t)S->nstacks;
            syn[0].id = 0;
            uint32_t s1 = use_stack(0);
            syn[1].top[0] = bug_top[2 * b + 1];
            syn[1].top[1] = bug_top[2 * b];
            syn[1].base_stack = (b + 1) % (uint32_t)S->nstacks;
            syn[1].id = 0;
            uint32_t s2 = use_stack(1);
            unsigned reps = 1 + (unsigned)below(40);
            for (unsigned k = 0; k < reps; k++) {
                char sum[200];
                snprintf(sum, sizeof sum, "object 0x%llx (%llu bytes) of pool 0x%llx put back "
                         "by thread T%u while already in the pool (first put by thread T%u)",
                         (unsigned long long)ob->addr, (unsigned long long)ob->size,
                         (unsigned long long)ob->pool, t, t);
                now_ns += 1000;
                finding(GUARD_FK_DOUBLE_PUT, t, ob->pool, ob->addr, ob->size, s1, GUARD_ROLE_PUT,
                        s2, GUARD_ROLE_FIRST_PUT, sum);
            }
        }
        if (uar && written >= mid) {
            uar = 0;
            unsigned b = 30 + (unsigned)below(10);
            syn[2].top[0] = bug_top[2 * b];
            syn[2].top[1] = bug_top[2 * b + 1];
            syn[2].base_stack = b % (uint32_t)S->nstacks;
            syn[2].id = 0;
            syn[3].top[0] = bug_top[2 * b + 1];
            syn[3].top[1] = bug_top[2 * b];
            syn[3].base_stack = (b + 3) % (uint32_t)S->nstacks;
            syn[3].id = 0;
            char sum[200];
            snprintf(sum, sizeof sum, "write after return: 1 byte(s) of object 0x%llx changed "
                     "while it was in the pool", (unsigned long long)ob->addr);
            finding(GUARD_FK_USE_AFTER_RETURN, t, ob->pool, ob->addr, ob->size, use_stack(2),
                    GUARD_ROLE_PUT, use_stack(3), GUARD_ROLE_GET, sum);
        }
    }
    free(objs);
    for (uint32_t c = 0; runner && c < nchildren; c++) {
        now_ns += 1000;
        ev(pid, GUARD_EV_REAP, use_stack(1), child_pid0 + c, 0, GUARD_REAP_WAITPID, 1, NULL, 0);
    }
    if (crash && S->crash) {
        now_ns += 1000;
        copy_rec(S->crash);
        for (size_t i = 0; i < S->ntstacks; i++)
            copy_rec(S->tstacks[i]);
        if (S->crash_finding)
            copy_rec(S->crash_finding);
    } else if (!killed) {
        struct guard_rec_end e;
        memset(&e, 0, sizeof e);
        e.time_ns = now_ns;
        emit_rec(&e, sizeof e, NULL, 0, GUARD_REC_END);
    }
    if (fflush(out) != 0)
        die("flush");
    /* the shim's file is a multiple of its chunk size, the rest zeros */
    uint64_t size = (written + CHUNK - 1) / CHUNK * CHUNK;
    if (ftruncate(fileno(out), (off_t)size) != 0)
        die("ftruncate");
    fclose(out);
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: gen OUTDIR SIZE_MB RUNS LOGS SEED_A SEED_B\n");
        return 2;
    }
    const char *outdir = argv[1];
    uint64_t total = strtoull(argv[2], NULL, 10) << 20;
    unsigned runs = (unsigned)atoi(argv[3]), nlogs = (unsigned)atoi(argv[4]);
    static struct seed a, b;
    load_seed(&a, argv[5]);
    load_seed(&b, argv[6]);
    if (runs < 1)
        runs = 1;
    if (nlogs < runs * 2)
        nlogs = runs * 2;
    /* skewed sizes: weight w = 1 for most, 20-80 for some, one of 150 */
    double *w = calloc(nlogs, sizeof *w), sum = 0;
    for (unsigned i = 0; i < nlogs; i++) {
        w[i] = 0.2 + (double)below(1000) / 500.0;
        if (below(100) < 3)
            w[i] = 20 + (double)below(60);
        sum += w[i];
    }
    w[nlogs / 2] = sum * 0.15; /* one big log: ~13% of the total */
    sum += w[nlogs / 2];
    /* bug sites: fixed PCs in the main module of seed a */
    S = &a;
    uint64_t bug_top[80];
    for (int i = 0; i < 80; i++)
        bug_top[i] = random_pc(1);
    unsigned per_run = nlogs / runs, logno = 0;
    /* Which logs end in a crash (~0.4 %) or are killed (~1 %): drawn here,
     * before any log is written, so that the sizes do not change how many
     * there are (drawn between the logs, at the default 1024 MB the stream
     * gave no crash at all).  At least one crash, in the first run, never
     * in a runner (the first log of each run). */
    unsigned char *fate = calloc(nlogs, 1); /* 1: crash, 2: killed */
    unsigned ncrash = 0;
    for (unsigned i = 0; i < nlogs; i++) {
        if (below(1000) < 4) {
            fate[i] = 1;
            ncrash += i % per_run != 0 || i >= per_run * runs;
        } else if (below(100) < 1) {
            fate[i] = 2;
        }
    }
    if (!ncrash)
        fate[per_run / 2] = 1;
    uint32_t pid = 20000;
    now_ns = 1000000000000ull;
    for (unsigned r = 0; r < runs; r++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/run-%u", outdir, r + 1);
        mkdir(outdir, 0755);
        if (mkdir(dir, 0755) != 0 && errno != EEXIST)
            die(dir);
        unsigned n = r + 1 == runs ? nlogs - per_run * r : per_run;
        uint32_t runner = pid++;
        for (unsigned i = 0; i < n; i++, logno++) {
            uint64_t target = (uint64_t)(w[logno] / sum * (double)total);
            if (target < 4096)
                target = 4096;
            int crash = i && fate[logno] == 1, killed = i && fate[logno] == 2;
            S = crash ? &b : &a;
            if (i == 0)
                write_log(dir, runner, 1, target, 0, 0, 1, n - 1, pid, logno, bug_top);
            else
                write_log(dir, pid++, runner, target, crash, killed, 0, 0, 0, logno, bug_top);
        }
    }
    return 0;
}
EOF
CC=${CC:-cc}
if ! $CC -std=gnu11 -O2 -Wall -Icommon -o "$WORK/gen" "$WORK/gen.c"; then
    echo "analyzer_bench.sh: cannot build the generator" >&2
    exit 2
fi
rm -rf "$BENCH_DIR"
mkdir -p "$BENCH_DIR"
echo "generating ~${SIZE_MB} MB of logs: $RUNS runs, $LOGS logs in $BENCH_DIR"
if ! "$WORK/gen" "$BENCH_DIR" "$SIZE_MB" "$RUNS" "$LOGS" "$SEED_A" "$SEED_B"; then
    echo "analyzer_bench.sh: the generator failed" >&2
    exit 2
fi
echo "logs: $(find "$BENCH_DIR" -name 'guard.*.log' | wc -l) files" \
     "($(find "$BENCH_DIR" -name 'guard.crashy_test.*.log' | wc -l) of crashed processes)," \
     "$(du -sm --apparent-size "$BENCH_DIR" | cut -f1) MB apparent," \
     "$(du -sm "$BENCH_DIR" | cut -f1) MB on disk"
# warm the page cache, as a nightly job analyzing what it just wrote would
cat "$BENCH_DIR"/run-*/*.log > /dev/null

# ---- 3. measure ------------------------------------------------------
status=0
for fmt in json text sarif junit; do
    echo
    echo "\$ /usr/bin/time -v $ANALYZER --format=$fmt $BENCH_DIR/run-* > /dev/null"
    /usr/bin/time -v "$ANALYZER" --format=$fmt "$BENCH_DIR"/run-* > /dev/null 2> "$WORK/time.txt"
    rc=$?
    grep -E "Elapsed|Maximum resident|Exit status" "$WORK/time.txt" | sed 's/^\s*/  /'
    secs=$(awk -F': ' '/Elapsed/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$WORK/time.txt")
    kb=$(awk -F': ' '/Maximum resident/ {print $2}' "$WORK/time.txt")
    echo "  => ${secs}s, $((kb / 1024)) MB peak RSS (targets: 30 s, 500 MB)"
    grep -v -E "Elapsed|Maximum resident|Exit status|Command being timed|Command exited|^\s" \
        "$WORK/time.txt" | head -5
    case $rc in 0|1) ;; *) status=1 ;; esac
done
exit $status
