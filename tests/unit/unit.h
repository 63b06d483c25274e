/*
 * unit.h — the little harness the unit tests of the shim's parts share
 * (tests/unit/test_*.c; the Makefile's UNIT_SRC rule builds and runs them).
 *
 *   CHECK(cond, fmt, ...)  one check: a failure prints one line naming it
 *   KNOWN(cond, fmt, ...)  a check of a known bug of the code under test:
 *                          it asserts the correct behaviour, but a failure
 *                          prints "KNOWN: ..." and is not counted as failed
 *   unit_finish()          prints "unit <name>: N passed, M failed" and
 *                          returns the exit status (0: none failed)
 *
 * The shim writes its warnings with a raw write system call on fd 2, so a
 * test captures them by pointing fd 2 at a memory file around the call:
 * capture_begin() ... capture_end().
 */
#ifndef UNIT_H
#define UNIT_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static unsigned unit_passed, unit_failed, unit_known;
static const char *unit_name = "?";

static void unit_fail_line(const char *tag, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
__attribute__((unused)) static void unit_fail_line(const char *tag, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    fprintf(stderr, "%s%s:%d: ", tag, file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    fflush(stderr);
    va_end(ap);
}

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (cond) {                                                                         \
            unit_passed++;                                                                  \
        } else {                                                                            \
            unit_failed++;                                                                  \
            unit_fail_line("FAIL ", __FILE__, __LINE__, __VA_ARGS__);                       \
        }                                                                                   \
    } while (0)

#define KNOWN(cond, ...)                                                                    \
    do {                                                                                    \
        if (cond) {                                                                         \
            unit_passed++;                                                                  \
        } else {                                                                            \
            unit_known++;                                                                   \
            unit_fail_line("KNOWN: ", __FILE__, __LINE__, __VA_ARGS__);                     \
        }                                                                                   \
    } while (0)

__attribute__((unused)) static int unit_finish(void)
{
    fflush(stdout);
    fprintf(stderr, "unit %s: %u passed, %u failed", unit_name, unit_passed, unit_failed);
    if (unit_known)
        fprintf(stderr, " (%u known bugs, not counted)", unit_known);
    fputc('\n', stderr);
    return unit_failed ? 1 : 0;
}

/* ---- memory at the edge of an inaccessible page --------------------------
 * The shim's objects are not built with ASan, so a byte they write or read
 * past a buffer goes unseen; a buffer that ends where a PROT_NONE page
 * begins makes it a SIGSEGV, which PROBE turns into a failed check.
 *
 *   char *b = edge_buf(slot, n);    n bytes, the last one before the guard
 *   if (PROBE_BEGIN()) { call(b); PROBE_END(); } else { ...it faulted... }
 */
#define EDGE_SLOTS 4
#define EDGE_BYTES (1024 * 1024)

__attribute__((unused)) static char *edge_buf(unsigned slot, size_t n)
{
    static char *base[EDGE_SLOTS];
    long page = sysconf(_SC_PAGESIZE);
    if (slot >= EDGE_SLOTS || n > EDGE_BYTES) {
        fprintf(stderr, "unit: edge_buf(%u, %zu): out of range\n", slot, n);
        exit(2);
    }
    if (!base[slot]) {
        base[slot] = mmap(NULL, EDGE_BYTES + (size_t)page, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base[slot] == MAP_FAILED || mprotect(base[slot] + EDGE_BYTES, (size_t)page, PROT_NONE)) {
            perror("unit: edge_buf");
            exit(2);
        }
    }
    return base[slot] + EDGE_BYTES - n;
}

/* s copied to the edge: its NUL is the last readable byte. */
__attribute__((unused)) static char *edge_str(unsigned slot, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = edge_buf(slot, n);
    memcpy(d, s, n);
    return d;
}

static sigjmp_buf unit_probe_jmp;
static volatile sig_atomic_t unit_in_probe;

__attribute__((unused)) static void unit_probe_segv(int sig)
{
    if (unit_in_probe) {
        unit_in_probe = 0;
        siglongjmp(unit_probe_jmp, 1);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

__attribute__((unused)) static void unit_probe_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = unit_probe_segv;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}

#define PROBE_BEGIN() (unit_probe_install(), unit_in_probe = 1, sigsetjmp(unit_probe_jmp, 1) == 0)
#define PROBE_END() (unit_in_probe = 0)

/* ---- capturing fd 2 ---------------------------------------------------- */

static int capture_saved_fd = -1, capture_file_fd = -1;

__attribute__((unused)) static void capture_begin(void)
{
    fflush(stdout);
    fflush(stderr);
    capture_file_fd = memfd_create("unit-capture", MFD_CLOEXEC);
    if (capture_file_fd < 0) {
        perror("unit: memfd_create");
        exit(2);
    }
    capture_saved_fd = dup(2);
    if (capture_saved_fd < 0 || dup2(capture_file_fd, 2) < 0) {
        perror("unit: dup2");
        exit(2);
    }
}

/* Restore fd 2; returns what was written to it, NUL-terminated (the
 * buffer is static: valid until the next capture_end). */
__attribute__((unused)) static const char *capture_end(size_t *len_out)
{
    static char *text;
    static size_t text_cap;
    fflush(stderr);
    dup2(capture_saved_fd, 2);
    close(capture_saved_fd);
    off_t size = lseek(capture_file_fd, 0, SEEK_END);
    if (size < 0)
        size = 0;
    if ((size_t)size + 1 > text_cap) {
        free(text);
        text_cap = (size_t)size + 1;
        text = malloc(text_cap);
        if (!text) {
            perror("unit: malloc");
            exit(2);
        }
    }
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t n = pread(capture_file_fd, text + got, (size_t)size - got, (off_t)got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    text[got] = '\0';
    close(capture_file_fd);
    capture_saved_fd = capture_file_fd = -1;
    if (len_out)
        *len_out = got;
    return text;
}

/* How many lines of text contain needle. */
__attribute__((unused)) static unsigned count_lines_with(const char *text, const char *needle)
{
    unsigned n = 0;
    const char *line = text;
    while (*line) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        for (size_t i = 0; i + strlen(needle) <= len; i++)
            if (!memcmp(line + i, needle, strlen(needle))) {
                n++;
                break;
            }
        line += len + (end ? 1 : 0);
    }
    return n;
}

__attribute__((unused)) static unsigned count_lines(const char *text)
{
    unsigned n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

#endif /* UNIT_H */
