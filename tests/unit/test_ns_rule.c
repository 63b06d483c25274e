/*
 * test_ns_rule.c — the namespace-off-thread rule (common/guard_ns_rule.h),
 * the shim's and the analyzer's, on its own: every case of docs/checks.md,
 * with the calls' times given, so the races a program can only sometimes
 * produce are exact here.  Namespaces are small numbers; time is a counter.
 *
 * links:
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "unit.h"

#include "guard_ns_rule.h"

enum { HOST = 100, C1 = 200, C2 = 300, MNT = GUARD_NSK_MNT, NET = GUARD_NSK_NET };
enum { POOL = 0x4000, MAIN = 0x5000, OTHER = 0x6000 }; /* origins */

static struct guard_ns_rule r;
static uint64_t now;

static void reset(void)
{
    memset(&r, 0, sizeof r);
    now = 0;
}

static void move(uint32_t tid, int kind, uint64_t from, uint64_t to, uint32_t call, uint64_t origin)
{
    guard_ns_rule_moved(&r, tid, kind, from, to, 1000 + tid, call, origin, ++now);
}

/* A call of `kind` by tid, in namespace `mine`, beginning now: the thread
 * it is left behind by (0: none), as the shim judges it. */
static uint32_t call(uint32_t tid, int kind, uint64_t mine, uint64_t origin, int setup)
{
    uint64_t began = ++now;
    if (guard_ns_rule_own_step(&r, tid, kind, setup, began))
        return 0;
    const struct guard_ns_thread *t = guard_ns_rule_left_behind(&r, tid, kind, mine, began, origin);
    return t ? t->tid : 0;
}

static void test_left_behind_while_pending(void)
{
    reset();
    move(2, MNT, HOST, C1, GUARD_NS_UNSHARE, OTHER);
    CHECK(call(2, MNT, C1, OTHER, 1) == 0, "the mover's propagation change is its own");
    CHECK(call(1, MNT, HOST, MAIN, 0) == 2, "main's mount while T2's move is pending");
    CHECK(call(1, MNT, HOST, MAIN, 0) == 2, "again: still pending");
    CHECK(call(2, MNT, C1, OTHER, 0) == 0, "T2's first step, in its own namespace");
    CHECK(call(1, MNT, HOST, MAIN, 0) == 0, "after T2's step: other work");
    CHECK(call(3, MNT, C1, OTHER, 0) == 0, "a thread born into C1 (inherited) is not left behind");
    CHECK(guard_ns_rule_moved_into(&r, 3, MNT, C1) && guard_ns_rule_moved_into(&r, 3, MNT, C1)->tid == 2,
          "...but the timeline can say whose namespace it is in");
}

static void test_call_that_began_before_the_step(void)
{
    reset();
    move(2, MNT, HOST, C1, GUARD_NS_UNSHARE, OTHER);
    uint64_t began = ++now;                        /* main's mount begins */
    CHECK(guard_ns_rule_own_step(&r, 2, MNT, 0, ++now) == 1, "T2 begins its step");
    CHECK(!guard_ns_rule_own_step(&r, 1, MNT, 0, began), "main is not in a namespace of its own");
    const struct guard_ns_thread *t = guard_ns_rule_left_behind(&r, 1, MNT, HOST, began, MAIN);
    CHECK(t && t->tid == 2, "a call that began while the move was pending is judged as then");
    began = ++now;
    CHECK(!guard_ns_rule_left_behind(&r, 1, MNT, HOST, began, MAIN), "one that began after: not");
    CHECK(!guard_ns_rule_left_behind(&r, 1, MNT, HOST, 0, MAIN), "one that began before the move: not");
}

static void test_dedicated_threads(void)
{
    reset();
    move(2, MNT, HOST, C1, GUARD_NS_UNSHARE, POOL);
    move(3, MNT, HOST, C2, GUARD_NS_UNSHARE, POOL);
    CHECK(call(2, MNT, C1, POOL, 1) == 0 && call(3, MNT, C2, POOL, 1) == 0, "private, each its own");
    CHECK(call(2, MNT, C1, POOL, 0) == 0, "T2 mounts in its own namespace after T3's unshare");
    CHECK(call(3, MNT, C2, POOL, 0) == 0, "T3 too");
    CHECK(call(1, MNT, HOST, MAIN, 0) == 0, "main, on the host, after both made their steps");
    CHECK(r.open[MNT] == 2, "two moves in force: %u", r.open[MNT]);
}

static void test_excursion(void)
{
    reset();
    for (int round = 0; round < 3; round++) {
        move(2, NET, HOST, C1, GUARD_NS_SETNS, OTHER);
        CHECK(call(2, NET, C1, OTHER, 0) == 0, "its socket in the container");
        CHECK(call(3, NET, HOST, OTHER + 1, 0) == 0, "a host socket while it is inside, after its step");
        move(2, NET, C1, HOST, GUARD_NS_SETNS, OTHER);
        CHECK(r.open[NET] == 0, "back home: nothing in force");
        CHECK(call(3, NET, HOST, OTHER + 1, 0) == 0, "a host socket afterwards");
        CHECK(call(2, NET, HOST, OTHER, 0) == 0, "the visitor's own, back home");
    }
    move(2, NET, HOST, C1, GUARD_NS_SETNS, OTHER);
    move(2, NET, C1, HOST, GUARD_NS_SETNS, OTHER);
    CHECK(call(3, NET, HOST, OTHER + 1, 0) == 0, "a visit without a step, ended: nothing pending");
    /* a thread back home is like one that never moved */
    move(4, NET, HOST, C2, GUARD_NS_UNSHARE, OTHER + 2);
    CHECK(call(2, NET, HOST, OTHER, 0) == 4, "the visitor, back home, can be left behind by T4");
}

static void test_a_move_that_never_steps(void)
{
    reset();
    move(2, NET, HOST, C1, GUARD_NS_SETNS, OTHER);   /* then T2 exits */
    CHECK(call(1, NET, HOST, MAIN, 0) == 2, "the socket on main, the job's joiner gone");
    move(2, NET, C1, C2, GUARD_NS_SETNS, OTHER);     /* a further move before any step */
    CHECK(call(1, NET, HOST, MAIN, 0) == 2, "still pending from where the job started");
    move(2, NET, C2, HOST, GUARD_NS_SETNS, OTHER);
    CHECK(call(1, NET, HOST, MAIN, 0) == 0, "back where it started: ended");
}

static void test_peers(void)
{
    reset();
    move(2, MNT, HOST, C1, GUARD_NS_UNSHARE, POOL);
    CHECK(call(2, MNT, C1, POOL, 0) == 0, "the worker's own mount: a step");
    CHECK(call(3, MNT, HOST, POOL, 0) == 2, "another worker of the pool: left behind");
    CHECK(call(1, MNT, HOST, MAIN, 0) == 0, "main is no peer");
    CHECK(call(3, MNT, HOST, 0, 0) == 0, "an unknown origin is nobody's peer");
    reset();
    move(2, NET, HOST, C1, GUARD_NS_SETNS, POOL);
    CHECK(call(2, NET, C1, POOL, 0) == 0, "a pool task's visit, its step");
    CHECK(call(3, NET, HOST, POOL, 0) == 0, "a visit by setns leaves no peer behind after its step");
    CHECK(guard_ns_rule_peers_matter(&r, 3, NET) == 0, "so the origin does not matter");
}

static void test_propagation(void)
{
    CHECK(guard_ns_rule_propagation_only((1u << 14) | (1u << 18)), "MS_REC|MS_PRIVATE");
    CHECK(guard_ns_rule_propagation_only(1u << 19), "MS_SLAVE");
    CHECK(!guard_ns_rule_propagation_only(0xc0ed0000u | (1u << 20)),
          "MS_MGC_VAL takes the upper 16 bits with it, MS_SHARED too, as the kernel does");
    CHECK(!guard_ns_rule_propagation_only(4096), "MS_BIND is a step");
    CHECK(!guard_ns_rule_propagation_only(4096 | (1u << 18)), "MS_BIND|MS_PRIVATE is a step");
    CHECK(!guard_ns_rule_propagation_only(0), "a plain mount is a step");
}

static void test_room(void)
{
    reset();
    for (uint32_t tid = 10; tid < 10 + GUARD_NS_RULE_THREADS; tid++) {
        move(tid, MNT, HOST, C1 + tid, GUARD_NS_UNSHARE, OTHER);
        if (tid != 10)
            call(tid, MNT, C1 + tid, OTHER, 0); /* all but T10 made a step */
    }
    CHECK(r.forgotten == 0 && r.open[MNT] == GUARD_NS_RULE_THREADS, "all kept");
    move(9, MNT, HOST, C2, GUARD_NS_UNSHARE, OTHER);
    CHECK(r.forgotten == 1 && guard_ns_rule_find(&r, 9), "a new thread takes a slot");
    CHECK(guard_ns_rule_find(&r, 10) && !guard_ns_rule_find(&r, 11),
          "the least recent thread without a pending move went, not the pending T10");
    CHECK(r.open[MNT] == GUARD_NS_RULE_THREADS, "its move is no longer counted: %u", r.open[MNT]);
    CHECK(call(1, MNT, HOST, MAIN, 0) == 9, "the latest pending move is named");
    CHECK(!guard_ns_rule_find(&r, 0), "tid 0 is never found");
}

int main(void)
{
    unit_name = "test_ns_rule";
    test_left_behind_while_pending();
    test_call_that_began_before_the_step();
    test_dedicated_threads();
    test_excursion();
    test_a_move_that_never_steps();
    test_peers();
    test_propagation();
    test_room();
    return unit_finish();
}
