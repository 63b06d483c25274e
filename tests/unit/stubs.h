/*
 * stubs.h — what the shim objects a unit test links need from the shim
 * files it does not link.  Each stub is the plainest answer to its
 * question and never the behaviour under test.  Include it in one test
 * source only per program (it defines functions), and only in tests that
 * do not link the object that defines the real one (the comment of each
 * says which).
 */
#ifndef UNIT_STUBS_H
#define UNIT_STUBS_H

#include <stddef.h>
#include <stdint.h>

/* stack.c's guard_stack_frames (needed by suppress.o): the frames of a
 * stack id.  The test says which frames stack id 1 has (none unless it
 * sets stub_stack_pcs); every other id has none. */
static const uint64_t *stub_stack_pcs;
static unsigned stub_stack_npcs;

unsigned guard_stack_frames(uint32_t id, const uint64_t **pcs);
unsigned guard_stack_frames(uint32_t id, const uint64_t **pcs)
{
    if (id == 1 && stub_stack_pcs) {
        *pcs = stub_stack_pcs;
        return stub_stack_npcs;
    }
    *pcs = NULL;
    return 0;
}

#endif /* UNIT_STUBS_H */
