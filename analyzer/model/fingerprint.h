/*
 * fingerprint.h — a finding's stable identity, and which frames are the
 * project's own code.
 *
 * The fingerprint (32 hex digits) is a hash of the kind and, for every
 * stack role of the finding, of its top FND_KEY_FRAMES frames: function
 * name and source file base name for a symbolized frame, module base name
 * and offset in the module otherwise.  Leading frames outside the
 * project's code (libc, ld.so, libguard, system paths) are skipped first
 * when the stack has frames of the project's own, so that abort()'s or
 * memcpy()'s internals do not stand for the bug, nor change with a libc
 * update.  Line numbers, addresses, pids, tids and directories are never
 * part of it: a line shift, a rebuild in another directory, ASLR or
 * another run do not change it.  "libguard/v1" in SARIF names this recipe;
 * a change to it must change that name.
 */
#ifndef ANALYZER_FINGERPRINT_H
#define ANALYZER_FINGERPRINT_H

#include <stdbool.h>

#include "findings.h"

#define FP_SARIF_KEY "libguard/v1"

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

/* Compute f->fingerprint. */
void fp_compute(struct fnd *f);

const char *fp_base_name(const char *path);

#endif /* ANALYZER_FINGERPRINT_H */
