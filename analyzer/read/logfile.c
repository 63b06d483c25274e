/*
 * logfile.c — a log file into memory for the reader (logread.c): mapped
 * when it can be, else read with pread() keeping memory to the data (holes
 * are not read); and the SIGBUS guard for a file truncated under the
 * mapping while it is being read.
 */
#define _GNU_SOURCE
#include "logread_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- SIGBUS on a file truncated under the mapping ------------------- */

static __thread sigjmp_buf *bus_jmp;
static __thread const unsigned char *bus_lo, *bus_hi;
static __thread uintptr_t bus_addr;

static void on_sigbus(int sig, siginfo_t *info, void *uc)
{
    (void)uc;
    const unsigned char *a = info->si_addr;
    if (bus_jmp && a >= bus_lo && a < bus_hi) {
        bus_addr = (uintptr_t)a;
        siglongjmp(*bus_jmp, 1);
    }
    /* not ours: die of it */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_sigbus(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, NULL);
}

/* ---- opening the file -------------------------------------------------- */

/* The offset just past the last non-zero byte of p[0..n), or 0. */
static size_t last_nonzero_end(const unsigned char *p, size_t n)
{
    while (n && p[n - 1] == 0)
        n--;
    return n;
}

/* Make buf hold at least n bytes. */
static void reserve(unsigned char **buf, size_t *cap, uint64_t n)
{
    if (n <= *cap)
        return;
    if (n > SIZE_MAX / 2) {
        fputs(ANALYZER_NAME ": out of memory\n", stderr);
        exit(2);
    }
    size_t c = *cap ? *cap : 65536;
    while (c < n)
        c *= 2;
    *buf = xrealloc(*buf, c);
    *cap = c;
}

/*
 * Read the file with pread(), for a file that cannot be mapped.  Memory
 * follows the data, never the file's apparent size: holes (SEEK_DATA) are
 * not read, and zeros more than a record's length past the last non-zero
 * byte are not kept (no record reaches them: they are the unwritten end of
 * the log, which the reader would skip anyway).  Zeros between data are
 * kept: offsets must stay the file's.
 */
static bool read_fd(int fd, uint64_t size, struct mapped *m, int *err)
{
    enum { STEP = 1 << 20 };
    unsigned char *tmp = xmalloc(STEP), *buf = NULL;
    size_t cap = 0, len = 0;     /* buf holds the file's bytes [0, len) */
    uint64_t pos = 0, nz_end = 0; /* where we are; just past the last non-zero byte */
    bool holes = true;
    for (;;) {
        uint64_t region_end = UINT64_MAX;
        if (holes) {
            off_t d = lseek(fd, (off_t)pos, SEEK_DATA);
            if (d < 0 && errno == ENXIO)
                break; /* only holes from pos on */
            if (d < 0) {
                holes = false;
            } else {
                pos = (uint64_t)d;
                off_t h = lseek(fd, d, SEEK_HOLE);
                if (h > d)
                    region_end = (uint64_t)h;
            }
        }
        bool eof = false;
        while (pos < region_end) {
            size_t want = region_end - pos < STEP ? (size_t)(region_end - pos) : STEP;
            ssize_t n = pread(fd, tmp, want, (off_t)pos);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                *err = errno;
                free(tmp);
                free(buf);
                return false;
            }
            if (n == 0) {
                eof = true;
                break;
            }
            size_t k = last_nonzero_end(tmp, (size_t)n);
            if (k) {
                reserve(&buf, &cap, pos + (uint64_t)n);
                memset(buf + len, 0, (size_t)(pos - len));
                memcpy(buf + pos, tmp, (size_t)n);
                len = (size_t)(pos + (uint64_t)n);
                nz_end = pos + k;
            } else {
                uint64_t keep = pos + (uint64_t)n;
                if (keep > nz_end + GUARD_REC_MAX_SIZE)
                    keep = nz_end + GUARD_REC_MAX_SIZE;
                if (keep > len) {
                    reserve(&buf, &cap, keep);
                    memset(buf + len, 0, (size_t)(keep - len));
                    len = (size_t)keep;
                }
            }
            pos += (uint64_t)n;
        }
        if (eof || !holes || region_end == UINT64_MAX)
            break;
    }
    free(tmp);
    /* a hole at the end: its zeros within a record's reach of the data */
    uint64_t end = pos > size ? pos : size;
    if (end > nz_end + GUARD_REC_MAX_SIZE)
        end = nz_end + GUARD_REC_MAX_SIZE;
    if (end > len) {
        reserve(&buf, &cap, end);
        memset(buf + len, 0, (size_t)(end - len));
        len = (size_t)end;
    }
    m->buf = buf ? buf : xmalloc(1);
    m->len = len;
    m->mapped = false;
    return true;
}

bool lg_file_open(const char *path, struct mapped *m, int *err, const char **what)
{
    memset(m, 0, sizeof *m);
    m->fd = -1;
    *what = NULL;
    /* O_NONBLOCK: a FIFO named like a log must not hang the analyzer. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        *err = errno;
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        *err = errno;
        close(fd);
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        *err = 0;
        *what = S_ISFIFO(st.st_mode) ? "not a regular file (a FIFO)"
              : S_ISDIR(st.st_mode)  ? "not a regular file (a directory)"
                                     : "not a regular file";
        close(fd);
        return false;
    }
    bool ok = true;
    /* Mapping costs address space, not memory: the walk touches the pages
     * with data only (holes are skipped, pages behind are dropped). */
    if (st.st_size > 0 && (uint64_t)st.st_size < SIZE_MAX / 2) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p != MAP_FAILED) {
            madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
            m->buf = p;
            m->len = (size_t)st.st_size;
            m->mapped = true;
        } else {
            ok = read_fd(fd, (uint64_t)st.st_size, m, err);
        }
    } else {
        ok = read_fd(fd, st.st_size > 0 ? (uint64_t)st.st_size : 0, m, err);
    }
    if (!ok)
        close(fd);
    else
        m->fd = fd;
    return ok;
}

void lg_file_close(struct mapped *m)
{
    if (m->mapped)
        munmap(m->buf, m->len);
    else
        free(m->buf);
    m->buf = NULL;
    if (m->fd >= 0)
        close(m->fd);
    m->fd = -1;
}

void lg_file_sigbus_arm(sigjmp_buf *jb, const unsigned char *buf, size_t len)
{
    install_sigbus();
    bus_lo = buf;
    bus_hi = buf + len;
    bus_jmp = jb;
}

size_t lg_file_sigbus_disarm(void)
{
    bus_jmp = NULL;
    return bus_lo && bus_addr >= (uintptr_t)bus_lo ? (size_t)(bus_addr - (uintptr_t)bus_lo) : 0;
}
