/*
 * logevent.c — looking things up in a log that has been read: its stacks
 * by id, its modules by pc and generation, and its events' kinds and
 * payloads.  Nothing here reads the file; logread.c does.
 */
#define _GNU_SOURCE
#include "logread_priv.h"

#include <stdlib.h>
#include <string.h>

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
    if (ev->kind == GUARD_EV_NS_CALL) { /* the path; binary after its NUL */
        const char *nul = memchr(ev->payload, '\0', n);
        if (nul)
            n = (size_t)(nul - ev->payload);
    }
    while (n && ev->payload[n - 1] == '\0')
        n--;
    char *s = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = ev->payload[i] ? ev->payload[i] : ' ';
    s[n] = '\0';
    return s;
}
