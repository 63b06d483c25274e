/*
 * proctree.h — the process tree of a run, from the logs of its processes.
 *
 * A node is one process: a pid over its life, which may span several logs
 * (a fork child writes one under its parent's name, then every exec'd
 * image one more under its own name, same pid: the exec chain).  A node is
 * linked to the SPAWN event its parent logged (by the child's pid, or for
 * system()/popen(), whose SPAWN has pid 0, by the command line), and that
 * spawn to the REAP event that collected the child.  A child whose log is
 * missing (static binary, shim dropped from the environment, clone) is a
 * node too, made from its parent's SPAWN record alone.
 */
#ifndef ANALYZER_PROCTREE_H
#define ANALYZER_PROCTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logread.h"
#include "symbolize.h"
#include "util.h"

struct fnd_db;
struct pt_node;
struct ns_timeline;

/* A SPAWN event of a parent, with what happened to that child after. */
struct pt_spawn {
    struct lg_log *log;             /* the parent's log holding the event */
    const struct lg_event *ev;
    struct pt_node *owner;          /* the parent */
    uint32_t pid;                   /* 0: unknown (system, popen) */
    unsigned kind;                  /* enum guard_spawn_kind */
    unsigned flags;                 /* GUARD_SPAWN_* */
    uint64_t threads;               /* the parent's threads at the spawn */
    char *program;                  /* NULL: none recorded (fork, clone) */
    char **argv;
    size_t argc;
    const struct sym_stack *stack;  /* shared (the findings' stack cache) */
    const struct lg_event *reap;    /* the REAP event; NULL: none seen */
    bool reap_implicit;             /* system(): reaped inside libc (no REAP event) */
    const struct lg_event *kill;    /* the last kill() sent to it; NULL: none */
    const struct lg_event *child_exec; /* what the forked child exec'd, told the parent
                                          (CHILD_EXEC); NULL: not told */
    const struct sym_stack *exec_stack; /* where the child called exec (CHILD_EXEC) */
    struct pt_node *child;          /* NULL only for failed spawns */
};

enum pt_end {
    PT_END_EXIT,          /* END record */
    PT_END_EXEC,          /* the last log ends at an exec and no log follows */
    PT_END_KILLED,        /* no END; the parent's wait status says a signal, or it crashed */
    PT_END_KILLED_MAYBE,  /* no END, nothing else known: killed? */
    PT_END_UNKNOWN,       /* no log at all */
    PT_END_LOG_CUT,       /* no END, and the shim marked the log: it could not grow (file
                           * system full, file gone): its end is not in it */
    PT_END_EXIT_UNSEEN,   /* no END, but the parent's wait status says it exited: it left
                             through a path the shim does not see (a raw exit_group) */
};

struct pt_node {
    size_t id;                      /* index in ptree.nodes: tree order */
    uint32_t pid, ppid;             /* as its parent knows them; pid 0: unknown (popen,
                                       system); ppid 0: unknown (no log) */
    uint32_t ns_pid;                /* its pid in its own pid namespace (its logs' pid),
                                       when that is not pid; else 0 */
    unsigned run;
    struct lg_log **logs;           /* the exec chain, oldest first; none: no log */
    size_t nlogs;
    uint64_t start_ns, end_ns;      /* CLOCK_MONOTONIC: first log's start, last time seen */
    struct pt_spawn *spawn;         /* its start in the parent; NULL: not known */
    struct pt_node *parent;         /* NULL: a root */
    struct pt_node **children;      /* in order of start */
    size_t nchildren, children_cap;
    struct pt_spawn **spawns;       /* its own SPAWN events, in log order (failed ones too) */
    size_t nspawns, spawns_cap;
    /* the final image */
    const char *exe;                /* path; NULL: unknown */
    char *const *argv;
    size_t argc;
    char *exec_path;                /* PT_END_EXEC, exec_told: what it exec'd (the payload) */
    char **exec_argv;
    size_t exec_argc;
    enum pt_end end;
    bool have_exit;
    int exit_status;                /* have_exit: END's status, else the parent's wait status */
    bool exit_from_reap;            /* the status comes from the parent's wait status */
    bool crashed;                   /* its last log has a crash finding */
    bool exec_told;                 /* no log: a forked child whose exec its parent logged */
    bool exec_unconfirmed;          /* exec_told, but the child was gone before the exec was
                                     * seen to work (GUARD_EXEC_UNCONFIRMED) */
    struct ns_timeline *ns;         /* its namespace timeline (nstimeline.h); NULL: none */
};

struct pt_logmap;

struct ptree {
    struct pt_node **nodes;         /* tree order (depth first, by start) */
    size_t n, cap;
    struct pt_node **roots;
    size_t nroots, roots_cap;
    size_t nlogged;                 /* nodes with at least one log */
    struct pt_logmap *bylog;
};

/* Build the tree of logs; symbolize spawn stacks with db's stack cache.
 * Notes say how a log without an END record ended, when that is worth
 * saying (proctree_end.c).  The logs' findings are left as they are: a
 * process that could not finish (killed) has nothing derived against it. */
void pt_build(struct ptree *t, struct lg_log *const *logs, size_t nlogs, struct fnd_db *db,
              struct symbolizer *sym, struct notes *notes);
void pt_free(struct ptree *t);

const struct pt_node *pt_node_of_log(const struct ptree *t, const struct lg_log *log);
/* The child with this pid of the process that wrote log (the one started
 * last before time_ns when a pid was reused), or NULL. */
const struct pt_node *pt_child_of(const struct ptree *t, const struct lg_log *log, uint32_t pid,
                                  uint64_t time_ns);
/* The child a finding of the child kinds names: by its pid (other_tid),
 * or, when the pid is unknown (popen, system), the spawn of that process
 * made at the finding's spawn stack and not reaped by the finding's time.
 * NULL: not known. */
const struct pt_node *pt_finding_child(const struct ptree *t, const struct lg_log *log,
                                       const struct lg_finding *rec);
/* The command a popen or system child runs (its `sh -c` string), or NULL
 * for other spawns. */
const char *pt_spawn_command(const struct pt_spawn *s);

/* A REAP event's wait status in *status; false when the shim could not
 * see it (GUARD_REAP_STATUS_UNKNOWN: the kernel reaped the child, the
 * status was lost). */
bool pt_reap_status(const struct lg_event *reap, int *status);
/* Did the REAP's call ask for that pid (not for any child)? */
bool pt_reap_asked_for_pid(const struct lg_event *reap);

const char *pt_spawn_kind_name(unsigned kind);   /* "fork", ...; NULL unknown */
const char *pt_reap_call_name(unsigned call);    /* "waitpid", ...; NULL unknown */
/* "exit" (PT_END_EXIT_UNSEEN too), "exec", "killed", "killed?", "log cut", "unknown" */
const char *pt_end_name(enum pt_end end);

/* The program's base name (of exe, else argv[0], else the spawn's
 * program), "?" when nothing is known. */
const char *pt_node_name(const struct pt_node *n);
/* "name arg1 arg2..." cut to about max bytes (fresh copy). */
char *pt_node_cmdline(const struct pt_node *n, size_t max);
/* Append the node's arguments to what memstream f (buf, len) holds, close
 * it and return the text, cut to max bytes ("..." at the end) but never
 * before byte `keep`. */
char *pt_finish_with_args(const struct pt_node *n, FILE *f, char **buf, size_t *len, size_t keep,
                          size_t max);
/* A wait status as people say it: "exited 3", "killed by signal 9
 * (SIGKILL), core dumped", "stopped"... (buf of cap bytes). */
const char *pt_wait_status_text(int status, char *buf, size_t cap);

#endif /* ANALYZER_PROCTREE_H */
