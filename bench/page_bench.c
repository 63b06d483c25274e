/*
 * page_bench — what the kernel charges for the pages of an mmap'd log.
 *
 * The shim's log is a MAP_SHARED mapping of a file that grows in
 * fallocate'd chunks (preload/log.c), written 64 bytes per event.  The
 * first store into each 4 KiB page faults; that fault (page cache
 * allocation, zeroing, the file system's page_mkwrite) is most of what a
 * log record costs.  This bench writes 64-byte records through such a
 * mapping, without the shim, and reports ns per page and per record:
 *
 *   file        fallocate + mmap(MAP_SHARED), as the shim does
 *   populate    the same plus madvise(MADV_POPULATE_WRITE) on each chunk
 *   anonymous   MAP_PRIVATE|MAP_ANONYMOUS memory, for comparison
 *
 * usage: page_bench [-r REPS] DIR...   (a scratch file is made in each DIR
 * and removed; use the log_dir you intend to use, e.g. also /dev/shm)
 */
#include "bench_common.h"

#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define CHUNK (256u << 10) /* log_chunk_kb default */
#define CHUNKS 256         /* 64 MiB per pass */
#define REC 64

enum mode { M_FILE, M_POPULATE, M_ANON };

/* One pass; returns ns per 4 KiB page, or -1. */
static double one_pass(const char *dir, enum mode mode)
{
    char path[1024];
    int fd = -1;
    if (mode != M_ANON) {
        snprintf(path, sizeof path, "%s/page_bench.%d.tmp", dir, (int)getpid());
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            fprintf(stderr, "page_bench: %s: %s\n", path, strerror(errno));
            return -1;
        }
    }
    char *maps[CHUNKS];
    double result = -1;
    unsigned mapped = 0;
    uint64_t t0 = bench_now_ns();
    for (; mapped < CHUNKS; mapped++) {
        char *m;
        if (mode == M_ANON) {
            m = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        } else {
            off_t off = (off_t)mapped * CHUNK;
            if (fallocate(fd, 0, off, CHUNK) != 0 && ftruncate(fd, off + CHUNK) != 0) {
                fprintf(stderr, "page_bench: cannot grow %s: %s\n", path, strerror(errno));
                goto out;
            }
            m = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
            if (m != MAP_FAILED && mode == M_POPULATE)
                madvise(m, CHUNK, MADV_POPULATE_WRITE);
        }
        if (m == MAP_FAILED) {
            fprintf(stderr, "page_bench: mmap: %s\n", strerror(errno));
            goto out;
        }
        maps[mapped] = m;
        for (size_t i = 0; i < CHUNK; i += REC) {
            memset(m + i, 0x5a, REC);
            BENCH_ESCAPE(m);
        }
    }
    result = (double)(bench_now_ns() - t0) / ((double)CHUNKS * CHUNK / 4096);
out:
    for (unsigned k = 0; k < mapped; k++)
        munmap(maps[k], CHUNK);
    if (fd >= 0) {
        unlink(path);
        close(fd);
    }
    return result;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    int first = bench_parse_opts(argc, argv, &o);
    if (first < 0 || first >= argc) {
        fprintf(stderr, "usage: %s [-r REPS] DIR...\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("page_bench: %u passes of %u MiB written %d bytes at a time; median (best)\n\n", o.reps,
           CHUNKS * (CHUNK >> 10) >> 10, REC);
    printf("  %-30s %-10s %18s %20s\n", "backing", "mode", "ns per 4 KiB page", "ns per 64 B record");
    static const char *names[] = {"file", "populate", "anonymous"};
    int rc = 0;
    for (int a = first; a <= argc; a++) {
        for (enum mode mode = M_FILE; mode <= M_ANON; mode++) {
            if ((a == argc) != (mode == M_ANON))
                continue; /* anonymous memory once, at the end */
            double s[BENCH_MAX_REPS];
            unsigned n = 0;
            for (unsigned r = 0; r < o.reps; r++) {
                double v = one_pass(a < argc ? argv[a] : "", mode);
                if (v < 0)
                    break;
                s[n++] = v;
            }
            if (n < o.reps) {
                rc = 1;
                break;
            }
            qsort(s, n, sizeof s[0], bench_cmp_double);
            double med = s[n / 2];
            printf("  %-30s %-10s %11.0f (%5.0f) %13.1f (%5.1f)\n", a < argc ? argv[a] : "(memory)",
                   names[mode], med, s[0], med / (4096 / REC), s[0] / (4096 / REC));
        }
    }
    return rc;
}
