/*
 * util.h — small helpers shared by the analyzer's parts: checked
 * allocation, growable arrays, the list of notes that ends up in every
 * report, and printing of untrusted strings.
 *
 * Everything a log contains is untrusted field data, so strings taken from
 * a log are never printed raw (escape sequences could rewrite a terminal)
 * and never handed to jansson unchecked (it rejects invalid UTF-8).
 */
#ifndef ANALYZER_UTIL_H
#define ANALYZER_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ANALYZER_NAME "guard-analyze"

/* Allocation failure is not something the analyzer can report around:
 * these print a message and exit(2) (an input too large to analyse). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* n * size with an overflow check (exit(2) on overflow). */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
/* Copy n bytes into a NUL-terminated string; stops at an embedded NUL. */
char *xstrndup_bytes(const void *p, size_t n);
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Make room for one more element in a growable array (p, n, cap). */
#define VEC_GROW(p, n, cap)                                          \
    do {                                                             \
        if ((n) >= (cap)) {                                          \
            (cap) = (cap) ? (cap) * 2 : 8;                           \
            (p) = xreallocarray((p), (cap), sizeof(*(p)));           \
        }                                                            \
    } while (0)

/* A note is a remark about the input that belongs in the report: a torn
 * record skipped, a log without an END record, a build-id mismatch.  An
 * error note is also printed on stderr at once and makes the exit status 2.
 * Shim notes come from NOTE records in the logs. */
enum note_level {
    NOTE_INFO = 0,
    NOTE_ERROR = 1,
    NOTE_SHIM = 2,
};

struct note {
    enum note_level level;
    char *log;   /* the log (or other input) it is about; NULL: none */
    uint32_t pid; /* 0: unknown */
    char *text;
};

struct notes {
    struct note *v;
    size_t n, cap;
    size_t errors; /* number of NOTE_ERROR entries */
};

void notes_add(struct notes *notes, enum note_level level, const char *log, uint32_t pid,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void notes_free(struct notes *notes);
/* "LOG: [error: |shim: ]text": one line of the report (text and JSON). */
char *note_format(const struct note *nt);
const char *note_level_name(enum note_level level);

/* Print s with control characters and invalid UTF-8 escaped as \xNN. */
void fput_escaped(FILE *f, const char *s);
/* A copy of s that is valid UTF-8: invalid bytes become '?', control
 * characters other than tab stay as they are (JSON escapes them). */
char *utf8_sanitize(const char *s);
/* Is s valid UTF-8? */
bool utf8_valid(const char *s);

/* Lower-case hex of a byte string (for build-ids). */
char *hex_string(const unsigned char *p, size_t n);

/* All of p[0..n) zero? */
bool all_zero(const unsigned char *p, size_t n);

/* Sets of thread ids as sorted arrays (a crash may list a million threads:
 * membership must not be a linear search).  tid_sort sorts v in place;
 * tid_find is the index of tid in sorted v, or -1. */
void tid_sort(uint32_t *v, size_t n);
ptrdiff_t tid_find(const uint32_t *v, size_t n, uint32_t tid);

#endif /* ANALYZER_UTIL_H */
