/*
 * proctree_priv.h — shared by the files that build the process tree
 * (proctree.c: logs into processes and links; proctree_end.c: how each
 * process ended).  Not used outside model/.
 */
#ifndef ANALYZER_PROCTREE_PRIV_H
#define ANALYZER_PROCTREE_PRIV_H

#include "proctree.h"

/* The node's final image (exe, argv, what it exec'd) and how it ended
 * (end, exit status), once it is linked to its spawn. */
void pt_finish_node(struct pt_node *n);
/* The notes about logs that end without an END record: killed (the
 * parent's wait status, a crash), killed? (nothing says), or an exec into
 * a program the shim cannot reach.  Once the tree is ordered. */
void pt_end_notes(const struct ptree *t, struct notes *notes);

#endif /* ANALYZER_PROCTREE_PRIV_H */
