/*
 * proctree_end.c — how each process of the tree ended, and which of those
 * endings the report notes.
 *
 * A log's END record says the process exited.  A log without one is not
 * by itself a kill: the evidence is the parent's REAP of the process.  A
 * normal exit status there means it left through a path the shim does not
 * see (a Go program's raw exit_group): it exited, which is no news and no
 * note.  A signal means it was killed: a note, since its log stops short.
 * Only without either (no parent log, no reap, a reap whose status was
 * lost) is it "killed?".
 *
 * A log that ends at an exec with no log after it is what a quiet program
 * leaves: the shim creates a log at a process's first record, and most
 * programs record nothing.  It is noted only when the exec'd file shows
 * that the shim could not have run in it (static, setuid...: see
 * inspect_preload_gap), as the file is when the logs are analyzed.
 */
#define _GNU_SOURCE
#include "proctree_priv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <uthash.h>

#include "inspect.h"

bool pt_reap_status(const struct lg_event *reap, int *status)
{
    if (!reap || (reap->args[3] & GUARD_REAP_STATUS_UNKNOWN))
        return false;
    *status = (int)reap->args[1];
    return true;
}

bool pt_reap_asked_for_pid(const struct lg_event *reap)
{
    return reap && (reap->args[3] & 1u);
}

/* A forked child that exec'd without a log of its own: its parent was told
 * what it exec'd (CHILD_EXEC). */
static void finish_told_exec(struct pt_node *n, const struct pt_spawn *s)
{
    char *path;
    lg_split_payload(s->child_exec, &path, &n->exec_argv, &n->exec_argc);
    n->exec_path = path;
    n->exec_told = true;
    n->exec_unconfirmed = (s->child_exec->args[3] & GUARD_EXEC_UNCONFIRMED) != 0;
    if (n->exec_path && n->exec_path[0])
        n->exe = n->exec_path;
    if (n->exec_argc) {
        n->argv = n->exec_argv;
        n->argc = n->exec_argc;
    }
}

/* The last log ends at an exec and no log follows: the final image is the
 * exec'd program. */
static void finish_exec(struct pt_node *n, const struct lg_log *last)
{
    for (size_t i = last->npevents; i-- > 0;)
        if (last->pevents[i].kind == GUARD_EV_EXEC) {
            char *path;
            lg_split_payload(&last->pevents[i], &path, &n->exec_argv, &n->exec_argc);
            n->exec_path = path;
            break;
        }
    if (n->exec_path && n->exec_path[0])
        n->exe = n->exec_path;
    if (n->exec_argc) {
        n->argv = n->exec_argv;
        n->argc = n->exec_argc;
    }
}

void pt_finish_node(struct pt_node *n)
{
    const struct pt_spawn *s = n->spawn;
    int wst = 0;
    bool known = s && pt_reap_status(s->reap, &wst);
    if (!n->nlogs) {
        n->exe = s && s->program ? s->program : NULL;
        if (s && s->kind == GUARD_SPAWN_POPEN)
            n->exe = "/bin/sh"; /* popen's program is the command sh -c runs */
        if (!n->exe && n->parent && n->parent->nlogs)
            n->exe = n->parent->logs[n->parent->nlogs - 1]->exe; /* a fork: the same image */
        n->argv = s ? s->argv : NULL;
        n->argc = s ? s->argc : 0;
        n->end = PT_END_UNKNOWN;
        if (s && s->child_exec)
            finish_told_exec(n, s);
    } else {
        struct lg_log *last = n->logs[n->nlogs - 1];
        n->exe = last->exe;
        n->argv = last->argv;
        n->argc = last->argc;
        for (size_t i = 0; i < last->nfindings; i++)
            n->crashed |= last->findings[i].kind == GUARD_FK_CRASH;
        if (last->ended) {
            n->end = PT_END_EXIT;
            if (last->exit_status != INT32_MIN) {
                n->have_exit = true;
                n->exit_status = last->exit_status;
            }
        } else if (last->exec_ended) {
            n->end = PT_END_EXEC;
            finish_exec(n, last);
        } else if ((known && WIFSIGNALED(wst)) || n->crashed) {
            n->end = PT_END_KILLED;
        } else if (last->hdr.flags & GUARD_FILE_NO_SPACE) {
            n->end = PT_END_LOG_CUT;
        } else if (known && WIFEXITED(wst)) {
            n->end = PT_END_EXIT_UNSEEN;
        } else {
            n->end = PT_END_KILLED_MAYBE;
        }
    }
    /* returned from main unseen, or no log: the parent's wait status */
    if (!n->have_exit && known && WIFEXITED(wst) && n->end != PT_END_KILLED) {
        n->have_exit = true;
        n->exit_status = WEXITSTATUS(wst);
        n->exit_from_reap = true;
    }
}

/* ---- notes ------------------------------------------------------------ */

/* inspect_preload_gap's answer per exec'd path: a run execs the same few
 * programs thousands of times. */
struct gap_entry {
    char *path;
    const char *gap;
    UT_hash_handle hh;
};

static const char *exec_gap(struct gap_entry **cache, const char *path)
{
    /* a relative path is relative to a directory the log does not give */
    if (!path || path[0] != '/')
        return NULL;
    struct gap_entry *e = NULL;
    HASH_FIND_STR(*cache, path, e);
    if (!e) {
        e = xcalloc(1, sizeof *e);
        e->path = xstrdup(path);
        e->gap = inspect_preload_gap(path);
        HASH_ADD_KEYPTR(hh, *cache, e->path, strlen(e->path), e);
    }
    return e->gap;
}

void pt_end_notes(const struct ptree *t, struct notes *notes)
{
    struct gap_entry *cache = NULL;
    for (size_t i = 0; i < t->n; i++) {
        const struct pt_node *n = t->nodes[i];
        if (!n->nlogs)
            continue;
        const struct lg_log *last = n->logs[n->nlogs - 1];
        uint32_t pid = last->hdr.pid;
        int wst = 0;
        bool known = n->spawn && pt_reap_status(n->spawn->reap, &wst);
        char st[96];
        const char *gap;
        switch (n->end) {
        case PT_END_KILLED:
            if (known && WIFSIGNALED(wst))
                notes_add(notes, NOTE_INFO, last->path, pid, "log ends without an END record: %s",
                          pt_wait_status_text(wst, st, sizeof st));
            else
                notes_add(notes, NOTE_INFO, last->path, pid,
                          "log ends without an END record: the process crashed (its crash "
                          "report is in the log)");
            break;
        case PT_END_KILLED_MAYBE:
            notes_add(notes, NOTE_INFO, last->path, pid,
                      "log ends without an END record (process killed?)");
            break;
        case PT_END_LOG_CUT:
            notes_add(notes, NOTE_INFO, last->path, pid,
                      "log cut short: it could not grow (its file system was full, or the file "
                      "was removed); what the process did after that is not in it, and nothing "
                      "is derived from its absence");
            break;
        case PT_END_EXEC:
            if ((gap = exec_gap(&cache, n->exec_path)) != NULL)
                notes_add(notes, NOTE_INFO, last->path, pid,
                          "log ends at an exec of %s without an END record, and no log of the "
                          "exec'd program follows: it is %s", n->exec_path, gap);
            break;
        default:
            break;
        }
    }
    struct gap_entry *e, *tmp;
    HASH_ITER(hh, cache, e, tmp) {
        HASH_DEL(cache, e);
        free(e->path);
        free(e);
    }
}
