/*
 * nstimeline.h — the namespace timeline of each process: its namespace
 * changes (unshare, setns, clone), its mount-family calls (mount, umount,
 * pivot_root, chroot) with the mount namespace each ran in, and the starts
 * of the threads involved (a thread begins in its creator's namespaces),
 * over its exec chain, in log order, stacks symbolized.  The reader keeps
 * them per log (logns.c, bounded); here they are tied to the process tree;
 * report_ns.c shows them (text: next to the findings; JSON: each process's
 * `namespaces`).
 */
#ifndef ANALYZER_NSTIMELINE_H
#define ANALYZER_NSTIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logread.h"
#include "symbolize.h"

struct fnd_db;
struct ptree;

struct ns_item {
    const struct lg_log *log;       /* the log (image of the exec chain) it is from */
    const struct lg_ns_entry *e;
    const struct sym_stack *stack;  /* shared: the findings' stack cache */
};

struct ns_timeline {
    struct ns_item *items;          /* the chain's logs in order, each in log order */
    size_t n;
    size_t nevents;                 /* items that are NS_CHANGE/NS_CALL events */
    size_t dropped;                 /* events beyond the bound (LG_NS_TIMELINE_MAX per
                                     * log, and per process), not listed */
    size_t dropped_off_thread;      /* of which mount-family calls judged off-thread */
    size_t threads_dropped;         /* thread starts the reader could not remember */
};

/* Give every process of the tree that has namespace events its timeline
 * (pt_node.ns), with stacks symbolized through db's cache. */
void nstl_build(struct ptree *t, struct fnd_db *db, struct symbolizer *sym);
void nstl_free(struct ns_timeline *tl);

/* "unshare", "mount"... (enum guard_ns_call); NULL unknown. */
const char *nstl_call_name(uint64_t call);
/* The kind names of the change payload's slots 0..7, as JSON names them:
 * "mnt", "net", "uts", "ipc", "pid_for_children", "user", "cgroup",
 * "time_for_children"; and as /proc/.../ns links print them: "mnt", ...,
 * "pid", ..., "time". */
const char *nstl_kind_name(unsigned slot);
const char *nstl_link_name(unsigned slot);
/* The CLONE_NEW* names of flags, in a fixed order, into out (at most max);
 * bits without a name go to *rest.  Returns how many names. */
size_t nstl_flag_names(uint64_t flags, const char **out, size_t max, uint64_t *rest);
/* The change payload of an NS_CHANGE event (false: missing or short). */
bool nstl_change_payload(const struct lg_event *ev, struct guard_ns_change_payload *p);
/* errno as its name ("EPERM"); NULL unknown. */
const char *nstl_errno_name(uint64_t err);

#endif /* ANALYZER_NSTIMELINE_H */
