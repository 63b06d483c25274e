/*
 * event_bench — what recording one event costs: stack capture (libunwind),
 * de-duplication in the stack depot, and the event record in the mmap'd log.
 *
 * A put+get pair of a 64-byte object is issued from the bottom of a chain of
 * non-inlined recursive calls deeper than the stack the shim keeps, so that
 * the captured stack has exactly max_frames frames.  With poisoning and
 * protection off, put and get do nothing but record their event, so the
 * cost of one event is half the cost of a pair.  In the steady state the
 * shim writes pool events in their 32-byte short form (the first put of an
 * object is a full 64-byte event); the bench prints the sizes it finds.
 *
 *   LD_PRELOAD=build/libguard.so \
 *   GUARD_OPTIONS=log_dir=DIR:pool_poison=0:pool_protect=0:max_frames=16 \
 *   build/bench/event_bench 16
 *
 * The argument is the number of frames the stack must have; it must equal
 * max_frames (default 32).  The bench checks in its own log that the STACK
 * records of its events have exactly that many frames, and that its puts
 * were neither poisoned nor protected; it fails (exit 1) otherwise.
 * Without the shim it reports the cost of the weak null tests.
 *
 * Target (b), docs/performance.md: an event with a 16-frame stack costs at
 * most 2 us.
 *
 * usage: event_bench [-t MS_PER_REP] [-r REPS] FRAMES
 */
#include "bench_common.h"

#define EXTRA_DEPTH 8 /* recursion beyond FRAMES: the capture must be cut at max_frames */
#define OBJ_SIZE 64

static char pool;
static unsigned char *obj;
static volatile unsigned sink;

__attribute__((noinline)) static void leaf(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        guard_pool_put(&pool, obj, OBJ_SIZE);
        guard_pool_get(&pool, obj, OBJ_SIZE);
        BENCH_ESCAPE(obj);
    }
}

/* Not inlined, not a tail call (the store after the call): one real frame
 * per level. */
__attribute__((noinline)) static void recurse(unsigned depth, uint64_t n)
{
    if (depth == 0)
        leaf(n);
    else
        recurse(depth - 1, n);
    sink = depth;
}

struct run {
    unsigned depth;
};

static void run_pairs(void *arg, uint64_t n)
{
    recurse(((struct run *)arg)->depth, n);
}

/* ---- checking the log ----------------------------------------------------- */

struct check {
    uint32_t stack_ids[2]; /* put, get: of the last of each in the log */
    int nframes[2];
    unsigned rec_size[2];  /* what the last put and get were written as */
    unsigned put_flags;    /* from the first (full) put event */
    int found;
};

/* Puts and gets of obj, in either form: the full 64-byte event, or the
 * 32-byte short record the shim writes once the log has said the object's
 * pool, size and flags in full (common/guard_log.h).  The last of each is
 * what the timed loop writes. */
static int find_events(const struct guard_rec *r, void *arg)
{
    struct check *c = arg;
    int i = -1;
    uint32_t stack = 0;
    if (r->type == GUARD_REC_EVENT && r->size >= sizeof(struct guard_rec_event)) {
        const struct guard_rec_event *ev = (const void *)r;
        if (ev->args[1] != (uintptr_t)obj)
            return 0;
        i = ev->kind == GUARD_EV_POOL_PUT ? 0 : ev->kind == GUARD_EV_POOL_GET ? 1 : -1;
        stack = ev->stack_id;
        if (i == 0 && !(c->found & 4)) {
            c->put_flags = (unsigned)ev->args[3];
            c->found |= 4;
        }
    } else if ((r->type == GUARD_REC_POOL_PUT || r->type == GUARD_REC_POOL_GET) &&
               r->size >= sizeof(struct guard_rec_pool)) {
        const struct guard_rec_pool *p = (const void *)r;
        if (p->obj != (uintptr_t)obj)
            return 0;
        i = r->type == GUARD_REC_POOL_PUT ? 0 : 1;
        stack = p->stack_id;
    }
    if (i >= 0) {
        c->stack_ids[i] = stack;
        c->rec_size[i] = r->size;
        c->found |= 1 << i;
    }
    return 0;
}

static int find_stacks(const struct guard_rec *r, void *arg)
{
    struct check *c = arg;
    if (r->type != GUARD_REC_STACK || r->size < sizeof(struct guard_rec_stack))
        return 0;
    const struct guard_rec_stack *s = (const void *)r;
    for (int i = 0; i < 2; i++)
        if (s->id == c->stack_ids[i])
            c->nframes[i] = (int)s->nframes;
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    int first = bench_parse_opts(argc, argv, &o);
    long frames = first > 0 && first + 1 == argc ? strtol(argv[first], NULL, 10) : 0;
    if (frames < 1 || frames > (long)GUARD_MAX_FRAMES) {
        fprintf(stderr, "usage: %s [-t MS_PER_REP] [-r REPS] FRAMES\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int shim = bench_shim_loaded();
    obj = malloc(OBJ_SIZE);
    if (!obj)
        return 1;
    memset(obj, 0, OBJ_SIZE);
    struct run run = {(unsigned)frames + EXTRA_DEPTH};

    printf("event_bench: %ld-frame stacks; shim %s; GUARD_OPTIONS='%s'\n", frames,
           shim ? "LOADED" : "not loaded", bench_env("GUARD_OPTIONS"));
    if (shim) {
        /* Two pairs through the very same call path as the timed loop (the
         * first put is written in full, then the short form follows), then
         * read back what the shim recorded. */
        run_pairs(&run, 2);
        char *log = NULL;
        long len = bench_read_own_log(&log);
        struct check c = {{0, 0}, {-1, -1}, {0, 0}, 0, 0};
        if (len < 0) {
            printf("  (no log to read back: log=0?  Stack depth and mode are NOT checked)\n");
            goto measure;
        }
        if (bench_walk_log(log, len, find_events, &c) < 0 || c.found != 7) {
            fprintf(stderr, "event_bench: the put/get events are not in the log\n");
            free(log);
            return 1;
        }
        bench_walk_log(log, len, find_stacks, &c);
        free(log);
        printf("  from the log: put stack #%u has %d frames, get stack #%u has %d frames; put %s\n",
               c.stack_ids[0], c.nframes[0], c.stack_ids[1], c.nframes[1],
               c.put_flags ? "was POISONED/PROTECTED" : "neither poisoned nor protected");
        printf("  the timed loop's records: put %u bytes, get %u bytes (%s)\n", c.rec_size[0],
               c.rec_size[1], c.rec_size[0] == sizeof(struct guard_rec_pool) &&
               c.rec_size[1] == sizeof(struct guard_rec_pool) ? "the short form" : "not both short");
        if (c.nframes[0] != frames || c.nframes[1] != frames) {
            fprintf(stderr, "event_bench: expected %ld-frame stacks: run with "
                            "GUARD_OPTIONS=...:max_frames=%ld\n", frames, frames);
            return 1;
        }
        if (c.put_flags) {
            fprintf(stderr, "event_bench: run with GUARD_OPTIONS=...:pool_poison=0:pool_protect=0 "
                            "to time the event alone\n");
            return 1;
        }
    }
measure:
    printf("  %u repetitions of ~%u ms; recursion depth %u below main\n\n", o.reps, o.rep_ms,
           run.depth);
    struct bench_result r = bench_measure(run_pairs, &run, &o);
    printf("  %-8s %-22s %11s %10s %10s %12s\n", "frames", "operation", "median ns", "best ns",
           "worst ns", "M ops/s");
    printf("  %-8ld %-22s %11.1f %10.1f %10.1f %12.2f\n", frames, "put+get pair (2 events)",
           r.median_ns, r.best_ns, r.worst_ns, 1e3 / r.median_ns);
    printf("  %-8ld %-22s %11.1f %10.1f %10.1f %12.2f\n", frames, "one event", r.median_ns / 2,
           r.best_ns / 2, r.worst_ns / 2, 2e3 / r.median_ns);
    if (shim && frames == 16)
        printf("\n  target (b): one event with a 16-frame stack <= 2000 ns: measured %.1f ns "
               "(median): %s\n", r.median_ns / 2, r.median_ns / 2 <= 2000 ? "MET" : "MISSED");
    free(obj);
    return 0;
}
