/*
 * nstimeline.c — each process's namespace timeline from its logs' kept
 * namespace entries (see nstimeline.h), and the names reports use for it.
 */
#define _GNU_SOURCE
#include "nstimeline.h"

#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "proctree.h"

const char *nstl_call_name(uint64_t call)
{
    static const char *const names[] = {
        NULL, "unshare", "setns", "clone", "mount", "umount", "pivot_root", "chroot",
        "exec", "spawn", "socket", "sethostname", "open",
    };
    return call < sizeof names / sizeof *names ? names[call] : NULL;
}

const char *nstl_kind_name(unsigned slot)
{
    static const char *const names[8] = {"mnt", "net", "uts", "ipc", "pid_for_children",
                                         "user", "cgroup", "time_for_children"};
    return slot < 8 ? names[slot] : NULL;
}

const char *nstl_link_name(unsigned slot)
{
    static const char *const names[8] = {"mnt", "net", "uts", "ipc", "pid", "user", "cgroup",
                                         "time"};
    return slot < 8 ? names[slot] : NULL;
}

size_t nstl_flag_names(uint64_t flags, const char **out, size_t max, uint64_t *rest)
{
    static const struct {
        uint64_t flag;
        const char *name;
    } known[] = {
        {0x00020000, "CLONE_NEWNS"},   {0x40000000, "CLONE_NEWNET"},
        {0x04000000, "CLONE_NEWUTS"},  {0x08000000, "CLONE_NEWIPC"},
        {0x20000000, "CLONE_NEWPID"},  {0x10000000, "CLONE_NEWUSER"},
        {0x02000000, "CLONE_NEWCGROUP"}, {0x00000080, "CLONE_NEWTIME"},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if ((flags & known[i].flag) && n < max) {
            out[n++] = known[i].name;
            flags &= ~known[i].flag;
        }
    *rest = flags;
    return n;
}

bool nstl_change_payload(const struct lg_event *ev, struct guard_ns_change_payload *p)
{
    if (!ev->payload || ev->payload_len < sizeof *p)
        return false;
    memcpy(p, ev->payload, sizeof *p);
    return true;
}

const char *nstl_errno_name(uint64_t err)
{
    if (!err || err > 4095)
        return NULL;
    return strerrorname_np((int)err);
}

void nstl_build(struct ptree *t, struct fnd_db *db, struct symbolizer *sym)
{
    for (size_t i = 0; i < t->n; i++) {
        struct pt_node *node = t->nodes[i];
        size_t total = 0, dropped = 0;
        for (size_t k = 0; k < node->nlogs; k++) {
            total += node->logs[k]->nns;
            dropped += node->logs[k]->ns_dropped;
        }
        if (!total && !dropped)
            continue;
        struct ns_timeline *tl = xcalloc(1, sizeof *tl);
        tl->items = xcalloc(total ? total : 1, sizeof *tl->items);
        for (size_t k = 0; k < node->nlogs; k++) {
            const struct lg_log *log = node->logs[k];
            for (size_t j = 0; j < log->nns; j++) {
                const struct lg_ns_entry *e = &log->ns[j];
                /* the bound holds per process too (an exec chain of many images) */
                if (tl->nevents >= LG_NS_TIMELINE_MAX) {
                    if (e->ev.kind != GUARD_EV_THREAD_START) {
                        tl->dropped++;
                        tl->dropped_off_thread += e->mark == LG_NS_MARK_OFF_THREAD;
                    }
                    continue;
                }
                tl->items[tl->n++] = (struct ns_item){log, e, fnd_stack(db, log, e->ev.stack_id, sym)};
                tl->nevents += e->ev.kind != GUARD_EV_THREAD_START;
            }
            tl->dropped += log->ns_dropped;
            tl->dropped_off_thread += log->ns_dropped_off_thread;
            tl->threads_dropped += log->ns_threads_dropped;
        }
        node->ns = tl;
    }
}

void nstl_free(struct ns_timeline *tl)
{
    if (!tl)
        return;
    free(tl->items);
    free(tl);
}
