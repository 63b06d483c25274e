/*
 * stack_bench — what a stack costs on each of the shim's two paths
 * (preload/stack.c): libunwind's cached unw_backtrace, which a bounded
 * number of live threads may use (each such thread holds a 256 KiB trace
 * cache), and libgcc's _Unwind_Backtrace, which every other thread uses.
 *
 * Part 1, the unwinders alone (with or without the shim): a walk of
 * FRAMES frames from the bottom of a chain of non-inlined calls, by
 *   unw_backtrace                         (the fast path)
 *   unw_init_local2 + unw_step            (libunwind's cursor walk, not used)
 *   _Unwind_Backtrace, libgcc_s           (the slow path; the shim links
 *                                          the same code from libgcc_eh.a)
 * each against unw_backtrace in alternating repetitions (the ratio is the
 * median of the per-pair ratios).
 *
 * Part 2, under the shim: a put+get pair (two events with FRAMES-frame
 * stacks, pool_poison=0:pool_protect=0) on three threads running the same
 * code, each against thread F in alternating repetitions:
 *   F   took a place on the fast path (it asked first);
 *   S   asked when 64 other live threads held every place: the slow path;
 *   C   started after those 64 threads exited, and took a place again.
 * Before the bound on places, every thread was on the fast path (F's cost).
 * The bench checks in its own log that F's and S's events have one and the
 * same stack (both walks give the same frames), of FRAMES frames.
 *
 *   LD_PRELOAD=build/libguard.so \
 *   GUARD_OPTIONS=log_dir=DIR:pool_poison=0:pool_protect=0:max_frames=16 \
 *   build/bench/stack_bench 16
 *
 * usage: stack_bench [-t MS_PER_REP] [-r REPS] FRAMES     (FRAMES = max_frames)
 */
#include "bench_common.h"

#include <pthread.h>
#include <semaphore.h>
#include <unwind.h>

#define EXTRA_DEPTH 8   /* calls beyond FRAMES: every walk is cut at FRAMES */
#define HOLDERS 64      /* threads that take every place (the shim has 16) */
#define ASKING_PAIRS 8  /* 16 safe points: a thread asks at its 8th */
#define OBJ_SIZE 64

static volatile unsigned sink;

/* ---- part 1: the unwinders ------------------------------------------------- */

typedef struct { uint64_t regs[128]; } context_space; /* >= unw_context_t (ucontext_t) */
typedef struct { uint64_t words[160]; } cursor_space; /* >= unw_cursor_t (127 words) */

static struct {
    int (*backtrace)(void **, int);
    int (*getcontext)(void *);
    int (*init_local2)(void *, void *, int);
    int (*get_reg)(void *, int, uint64_t *);
    int (*step)(void *);
} unw;

enum { WALK_BACKTRACE, WALK_STEP, WALK_LIBGCC };

struct gcc_walk {
    void **pcs;
    int n, max;
};

static _Unwind_Reason_Code gcc_frame(struct _Unwind_Context *ctx, void *arg)
{
    struct gcc_walk *w = arg;
    w->pcs[w->n++] = (void *)_Unwind_GetIP(ctx);
    return w->n < w->max ? _URC_NO_REASON : _URC_END_OF_STACK;
}

__attribute__((noinline)) static int walk(int how, int frames)
{
    void *pcs[GUARD_MAX_FRAMES];
    if (how == WALK_BACKTRACE)
        return unw.backtrace(pcs, frames);
    if (how == WALK_LIBGCC) {
        struct gcc_walk w = {pcs, 0, frames};
        _Unwind_Backtrace(gcc_frame, &w);
        return w.n;
    }
    context_space uc;
    cursor_space cursor;
    int n = 0;
    if (unw.getcontext(&uc) < 0 || unw.init_local2(&cursor, &uc, 0) < 0)
        return 0;
    do {
        uint64_t ip = 0;
        if (unw.get_reg(&cursor, 16 /* UNW_REG_IP on x86-64 */, &ip) < 0 || ip == 0)
            break;
        pcs[n++] = (void *)ip;
    } while (n < frames && unw.step(&cursor) > 0);
    return n;
}

struct walk_run {
    int how, frames;
    unsigned depth;
    int got;
};

__attribute__((noinline)) static void walk_down(struct walk_run *r, unsigned depth, uint64_t n)
{
    if (depth == 0)
        for (uint64_t i = 0; i < n; i++)
            r->got = walk(r->how, r->frames);
    else
        walk_down(r, depth - 1, n);
    sink = depth;
}

static void run_walks(void *arg, uint64_t n)
{
    struct walk_run *r = arg;
    walk_down(r, r->depth, n);
}

static int load_libunwind(void)
{
    void *h = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
    if (!h)
        return -1;
    unw.backtrace = (int (*)(void **, int))dlsym(h, "unw_backtrace");
    unw.getcontext = (int (*)(void *))dlsym(h, "_Ux86_64_getcontext");
    unw.init_local2 = (int (*)(void *, void *, int))dlsym(h, "_ULx86_64_init_local2");
    unw.get_reg = (int (*)(void *, int, uint64_t *))dlsym(h, "_ULx86_64_get_reg");
    unw.step = (int (*)(void *))dlsym(h, "_ULx86_64_step");
    return unw.backtrace && unw.getcontext && unw.init_local2 && unw.get_reg && unw.step ? 0 : -1;
}

static int part1(const struct bench_opts *o, int frames)
{
    if (load_libunwind() < 0) {
        fprintf(stderr, "stack_bench: cannot load libunwind.so.8\n");
        return 1;
    }
    printf("part 1: one walk of %d frames, the unwinders alone\n", frames);
    printf("  %-34s %11s %11s %9s\n", "walk", "median ns", "ns/frame", "ratio");
    struct walk_run fast = {WALK_BACKTRACE, frames, (unsigned)frames + EXTRA_DEPTH, 0};
    const char *names[] = {"unw_backtrace (fast path)", "unw_init_local2 + unw_step",
                           "_Unwind_Backtrace (slow path)"};
    for (int how = WALK_STEP; how <= WALK_LIBGCC; how++) {
        struct walk_run other = {how, frames, (unsigned)frames + EXTRA_DEPTH, 0};
        struct bench_pair p = bench_measure_pair(run_walks, &other, run_walks, &fast, o);
        if (other.got != frames || fast.got != frames) {
            fprintf(stderr, "stack_bench: walks of %d and %d frames, not %d\n", other.got, fast.got,
                    frames);
            return 1;
        }
        if (how == WALK_STEP)
            printf("  %-34s %11.1f %11.1f %9s\n", names[0], p.b.median_ns, p.b.median_ns / frames,
                   "1");
        printf("  %-34s %11.1f %11.1f %8.1fx\n", names[how], p.a.median_ns, p.a.median_ns / frames,
               p.ratio.median_ns);
    }
    return 0;
}

/* ---- part 2: the shim's two paths -------------------------------------------- */

static char pool;

struct pair_run {
    unsigned char *obj;
    unsigned depth;
};

__attribute__((noinline)) static void pairs_down(struct pair_run *r, unsigned depth, uint64_t n)
{
    if (depth == 0)
        for (uint64_t i = 0; i < n; i++) {
            guard_pool_put(&pool, r->obj, OBJ_SIZE);
            guard_pool_get(&pool, r->obj, OBJ_SIZE);
            BENCH_ESCAPE(r->obj);
        }
    else
        pairs_down(r, depth - 1, n);
    sink = depth;
}

/* A thread that runs put+get pairs when told to: every timed pair of
 * every thread comes from the same code, down the same chain of calls. */
struct runner {
    pthread_t th;
    sem_t go, done;
    struct pair_run run;
    uint64_t n;
    int quit;
};

static void *runner_main(void *arg)
{
    struct runner *r = arg;
    for (;;) {
        sem_wait(&r->go);
        if (r->quit)
            return NULL;
        pairs_down(&r->run, r->run.depth, r->n);
        sem_post(&r->done);
    }
}

/* n pairs on the runner's thread (the hand-over is two semaphore posts
 * in a repetition of ~100 ms) */
static void on_runner(void *arg, uint64_t n)
{
    struct runner *r = arg;
    r->n = n;
    sem_post(&r->go);
    sem_wait(&r->done);
}

static int runner_start(struct runner *r, int frames)
{
    memset(r, 0, sizeof *r);
    r->run.obj = calloc(1, OBJ_SIZE);
    r->run.depth = (unsigned)frames + EXTRA_DEPTH;
    sem_init(&r->go, 0, 0);
    sem_init(&r->done, 0, 0);
    if (!r->run.obj || pthread_create(&r->th, NULL, runner_main, r) != 0)
        return -1;
    on_runner(r, ASKING_PAIRS); /* its safe points: it asks for a place */
    return 0;
}

static void runner_stop(struct runner *r)
{
    r->quit = 1;
    sem_post(&r->go);
    pthread_join(r->th, NULL);
    free(r->run.obj);
}

static pthread_barrier_t holders_asked, holders_go;

static void *holder_main(void *arg)
{
    struct pair_run *run = arg;
    pairs_down(run, run->depth, ASKING_PAIRS);
    pthread_barrier_wait(&holders_asked);
    pthread_barrier_wait(&holders_go);
    return NULL;
}

/* The stack ids of the last put of each of two objects in the log. */
struct last_puts {
    uintptr_t obj[2];
    uint32_t stack[2];
    int nframes[2];
};

static int find_puts(const struct guard_rec *r, void *arg)
{
    struct last_puts *c = arg;
    uintptr_t obj = 0;
    uint32_t stack = 0;
    if (r->type == GUARD_REC_EVENT && r->size >= sizeof(struct guard_rec_event)) {
        const struct guard_rec_event *ev = (const void *)r;
        if (ev->kind != GUARD_EV_POOL_PUT)
            return 0;
        obj = (uintptr_t)ev->args[1];
        stack = ev->stack_id;
    } else if (r->type == GUARD_REC_POOL_PUT && r->size >= sizeof(struct guard_rec_pool)) {
        const struct guard_rec_pool *p = (const void *)r;
        obj = (uintptr_t)p->obj;
        stack = p->stack_id;
    }
    for (int i = 0; i < 2; i++)
        if (obj && obj == c->obj[i])
            c->stack[i] = stack;
    return 0;
}

static int find_depths(const struct guard_rec *r, void *arg)
{
    struct last_puts *c = arg;
    if (r->type != GUARD_REC_STACK || r->size < sizeof(struct guard_rec_stack))
        return 0;
    const struct guard_rec_stack *s = (const void *)r;
    for (int i = 0; i < 2; i++)
        if (s->id == c->stack[i])
            c->nframes[i] = (int)s->nframes;
    return 0;
}

/* F's last puts were on the fast path, S's on the slow one: one stack. */
static int check_same_stack(const struct runner *f, const struct runner *s, int frames)
{
    struct last_puts lp = {{(uintptr_t)f->run.obj, (uintptr_t)s->run.obj}, {0, 0}, {-1, -1}};
    if (bench_walk_own_log("stack_bench", find_puts, &lp) != 1) {
        printf("  (no log to read back: the two paths' stacks are NOT compared)\n\n");
        return 0;
    }
    bench_walk_own_log("stack_bench", find_depths, &lp);
    printf("  from the log: F's put has stack #%u (%d frames), S's put has stack #%u (%d frames)\n\n",
           lp.stack[0], lp.nframes[0], lp.stack[1], lp.nframes[1]);
    if (!lp.stack[0] || lp.stack[0] != lp.stack[1] || lp.nframes[0] != frames) {
        fprintf(stderr, "stack_bench: the two paths should give one stack of %d frames "
                        "(run with max_frames=%d)\n", frames, frames);
        return 1;
    }
    return 0;
}

static void print_pair(const char *name, const struct bench_pair *p, int with_f)
{
    if (with_f)
        printf("  %-44s %11.1f %9s\n", "F: a place on the fast path", p->b.median_ns / 2, "1");
    printf("  %-44s %11.1f %8.1fx\n", name, p->a.median_ns / 2, p->ratio.median_ns);
}

static int part2(const struct bench_opts *o, int frames)
{
    printf("\npart 2: one event (half a put+get pair) with a %d-frame stack, by thread\n", frames);
    struct runner f, s, c;
    if (runner_start(&f, frames) < 0)
        return 1;
    /* HOLDERS threads take every place left and stay alive */
    pthread_t holders[HOLDERS];
    struct pair_run runs[HOLDERS];
    pthread_barrier_init(&holders_asked, NULL, HOLDERS + 1);
    pthread_barrier_init(&holders_go, NULL, HOLDERS + 1);
    for (int i = 0; i < HOLDERS; i++) {
        runs[i].obj = calloc(1, OBJ_SIZE);
        runs[i].depth = (unsigned)frames + EXTRA_DEPTH;
        if (!runs[i].obj || pthread_create(&holders[i], NULL, holder_main, &runs[i]) != 0)
            return 1;
    }
    pthread_barrier_wait(&holders_asked);
    if (runner_start(&s, frames) < 0)
        return 1;
    int rc = check_same_stack(&f, &s, frames);
    printf("  %-44s %11s %9s\n", "thread", "median ns", "ratio");
    struct bench_pair fs = bench_measure_pair(on_runner, &s, on_runner, &f, o);
    print_pair("S: no place left (64 threads hold them)", &fs, 1);
    pthread_barrier_wait(&holders_go);
    for (int i = 0; i < HOLDERS; i++) {
        pthread_join(holders[i], NULL);
        free(runs[i].obj);
    }
    if (runner_start(&c, frames) < 0)
        return 1;
    struct bench_pair fc = bench_measure_pair(on_runner, &c, on_runner, &f, o);
    print_pair("C: a place again, after those threads exited", &fc, 0);

    if (fs.ratio.median_ns < 2)
        printf("  note: S is not much slower than F: did S get a place?\n");
    runner_stop(&f);
    runner_stop(&s);
    runner_stop(&c);
    return rc;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    int first = bench_parse_opts(argc, argv, &o);
    long frames = first > 0 && first + 1 == argc ? strtol(argv[first], NULL, 10) : 0;
    if (frames < 1 || frames > 128) {
        fprintf(stderr, "usage: %s [-t MS_PER_REP] [-r REPS] FRAMES\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int shim = bench_shim_loaded();
    printf("stack_bench: %ld-frame stacks; shim %s; GUARD_OPTIONS='%s'; %u repetitions of ~%u ms\n\n",
           frames, shim ? "LOADED" : "not loaded", bench_env("GUARD_OPTIONS"), o.reps, o.rep_ms);
    if (part1(&o, (int)frames))
        return 1;
    if (!shim) {
        printf("\npart 2 needs the shim (LD_PRELOAD=build/libguard.so)\n");
        return 0;
    }
    return part2(&o, (int)frames);
}
