/*
 * guard_names.h — names the shim and the supervisor must spell alike: the
 * executable's part of a log file's name (guard.<exe>.<pid>.log), and the
 * fatal signals' names in crash findings.  Inline, without stdio or
 * allocation: the shim uses them in signal handlers and forked children.
 */
#ifndef GUARD_NAMES_H
#define GUARD_NAMES_H

#include <signal.h>
#include <stddef.h>
#include <string.h>

#define GUARD_EXE_NAME_MAX 64 /* bytes of the executable's base name kept */

/* The base name of exe, at most GUARD_EXE_NAME_MAX bytes, with the bytes
 * that are awkward in a file name for a shell or a glob ('/', ' ', '*',
 * '?', control characters) made '_'; "unknown" for an empty name.  cap
 * must be at least 8. */
static inline void guard_exe_short_name(const char *exe, char *out, size_t cap)
{
    const char *base = strrchr(exe, '/');
    base = base ? base + 1 : exe;
    size_t n = 0;
    for (; base[n] && n + 1 < cap && n < GUARD_EXE_NAME_MAX; n++) {
        char c = base[n];
        out[n] = (c == '/' || c == ' ' || c == '*' || c == '?' || (unsigned char)c < 32) ? '_' : c;
    }
    out[n] = '\0';
    if (n == 0)
        memcpy(out, "unknown", 8);
}

static inline const char *guard_signal_name(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    case SIGSYS: return "SIGSYS";
    default: return "signal";
    }
}

#endif
