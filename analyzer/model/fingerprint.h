/*
 * fingerprint.h — a finding's stable identity, and which frames are the
 * project's own code.
 *
 * The fingerprint (32 hex digits) is a hash of the kind and, for every
 * stack role of the finding, of its key frames (fp_key_frames): function
 * name and source file base name for a symbolized frame, module base name
 * and offset in the module otherwise; for the child kinds, also of what
 * the child ran (fp_child_command).  The key frames skip every runtime
 * frame (libc, the loader, libguard, the C++ and unwinding runtimes, a
 * Python interpreter's loop: fp_frame_is_runtime), so that abort()'s or
 * fork()'s internals do not stand for the bug, nor change with a libc
 * update; then they are the frames of the first module left (the program
 * or library at fault) and the first frame of the module that called into
 * it (the site), at most FND_KEY_FRAMES.  A spawn stack of a child kind
 * keeps only the module at fault: the same library function spawning the
 * same command is one bug whichever binary reached it.  Line numbers,
 * addresses, pids, tids and directories are never part of it: a line
 * shift, a rebuild in another directory, ASLR or another run do not change
 * it.  FP_SARIF_KEY names this recipe (it is hashed in, and SARIF's
 * partialFingerprints key): a change to the recipe must change it.
 */
#ifndef ANALYZER_FINGERPRINT_H
#define ANALYZER_FINGERPRINT_H

#include <stdbool.h>

#include "findings.h"

#define FP_SARIF_KEY "libguard/v2"
/* The previous recipe: a baseline made with it loads, and matches nothing. */
#define FP_SARIF_KEY_V1 "libguard/v1"

/* Is the frame in the project's own code?  Not: the vDSO, unknown
 * modules, libc/libpthread/libdl/libm/librt, the dynamic loader,
 * libguard, the C++ and unwinding runtimes, anything under /lib, /usr/lib,
 * /usr/libexec, /bin, /usr/bin, /sbin, /usr/sbin. */
bool fp_frame_is_project(const struct sym_frame *fr);

/* The frame a finding is "at": the innermost frame of the stack that is
 * the project's and has a source file; else the innermost frame with a
 * source file; else the innermost symbolized frame; NULL when none. */
const struct sym_frame *fp_location_frame(const struct sym_stack *s);

/* The stack a finding is reported at: the access, call, crash... stack
 * (the first that has frames, by role order), or NULL. */
const struct fnd_stack *fp_primary_stack(const struct fnd *f);

/* A runtime frame (see above): never a key frame. */
bool fp_frame_is_runtime(const struct sym_frame *fr);

/* The indexes in s of its key frames (see above), innermost first; their
 * number.  module_only: not the caller's frame.  A stack of nothing but
 * runtime frames: its top frames as they are. */
size_t fp_key_frames(const struct sym_stack *s, bool module_only, size_t idx[FND_KEY_FRAMES]);

/* Does this stack of f keep only the module at fault (a child kind's
 * spawn stack)? */
bool fp_stack_module_only(const struct fnd *f, const struct fnd_stack *s);

/* unreaped-child, put-while-child-running: what the child ran, as the
 * base name of its program ("true"; for a shell or an interpreter also
 * its command's or script's first word: "sh make"), "?" when unknown;
 * NULL for the other kinds.  Fresh copy. */
char *fp_child_command(const struct fnd_db *db, const struct fnd *f);

/* Compute f->fingerprint. */
void fp_compute(const struct fnd_db *db, struct fnd *f);

const char *fp_base_name(const char *path);

#endif /* ANALYZER_FINGERPRINT_H */
