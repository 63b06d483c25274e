/*
 * test_fmt.c — the shim's async-signal-safe formatter (preload/fmt.c):
 * guard_fmt, guard_fmt_va, guard_fmt_write_all, guard_fmt_stderr.
 *
 * Every conversion it supports is compared with snprintf where the two
 * agree; every case is then formatted again at every capacity from 0 to
 * past its length, into a buffer of exactly that size (ASan sees a byte
 * written past it) and into a larger one with a canary after the
 * capacity.  The format string itself sits in a buffer of exactly its size,
 * so reading past its NUL (a trailing '%') is seen too.
 *
 * links: fmt.o
 */
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "unit.h"

#include "guard_internal.h"

#define CANARY 0x5A
#define SLACK 32

/* guard_fmt_va through a function without the format attribute: the
 * tests give it formats the compiler would (rightly) reject. */
static size_t fmt_noattr(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = guard_fmt_va(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

static void show(char *out, size_t outcap, const char *s, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < outcap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f)
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, outcap - o, "\\x%02x", c);
    }
    out[o] = '\0';
}

/*
 * One case: fmt with its arguments must give exactly expect (expect_len
 * bytes; it may hold a NUL from %c).  Checks: the whole output and its
 * length, then every capacity 0..expect_len+3: the return value is what
 * fits (cap-1 at most), the bytes are the output's prefix, a NUL follows,
 * nothing at or past cap is written.
 */
static void check_case(int line, const char *expect, size_t expect_len, const char *fmt, ...)
{
    char *f = edge_str(1, fmt); /* a read past its NUL faults */
    va_list ap, aq;
    va_start(ap, fmt);

    /* whole output */
    char big[1024 + SLACK];
    memset(big, CANARY, sizeof big);
    size_t n = 0;
    va_copy(aq, ap);
    if (PROBE_BEGIN()) {
        n = guard_fmt_va(big, 1024, f, aq);
        PROBE_END();
    } else {
        n = (size_t)-1;
        big[0] = '\0';
    }
    va_end(aq);
    if (n == (size_t)-1) {
        unit_failed++, unit_fail_line("FAIL ", __FILE__, line, "format \"%s\": SIGSEGV (read past its end?)", fmt);
        va_end(ap);
        return;
    }
    char shown[256], want[256];
    show(shown, sizeof shown, big, n < 1024 ? n : 1023);
    show(want, sizeof want, expect, expect_len);
    if (n == expect_len && !memcmp(big, expect, expect_len) && big[n] == '\0')
        unit_passed++;
    else
        unit_failed++, unit_fail_line("FAIL ", __FILE__, line, "format \"%s\": got \"%s\" (%zu), want \"%s\" (%zu)",
                                      fmt, shown, n, want, expect_len);

    /* every capacity */
    const char *bad = NULL;
    size_t bad_cap = 0, bad_ret = 0;
    for (size_t cap = 0; cap <= expect_len + 3 && !bad; cap++) {
        /* exactly cap bytes before an inaccessible page: a write past
         * them faults (fmt.o is not built with ASan) */
        char *exact = edge_buf(0, cap);
        memset(exact, CANARY, cap);
        size_t r = 0;
        va_copy(aq, ap);
        if (PROBE_BEGIN()) {
            r = guard_fmt_va(exact, cap, f, aq);
            PROBE_END();
        } else {
            bad = "SIGSEGV: wrote past the capacity or read past the format";
        }
        va_end(aq);
        size_t fits = cap ? (expect_len < cap - 1 ? expect_len : cap - 1) : 0;
        if (bad)
            ;
        else if (r != fits)
            bad = "return value is not the length written", bad_ret = r;
        else if (cap > 0 && (memcmp(exact, expect, r) || exact[r] != '\0'))
            bad = "not the NUL-terminated prefix of the output";
        if (bad) {
            bad_cap = cap;
            break;
        }

        /* cap bytes of a larger buffer: nothing past cap changes */
        memset(big, CANARY, cap + SLACK);
        va_copy(aq, ap);
        r = guard_fmt_va(big, cap, f, aq);
        va_end(aq);
        for (size_t i = cap; i < cap + SLACK && !bad; i++)
            if ((unsigned char)big[i] != CANARY)
                bad = "wrote past the capacity";
        if (!bad && r != fits)
            bad = "return value differs between two calls", bad_ret = r;
        bad_cap = cap;
    }
    if (!bad)
        unit_passed++;
    else
        unit_failed++, unit_fail_line("FAIL ", __FILE__, line, "format \"%s\" at capacity %zu: %s (returned %zu)",
                                      fmt, bad_cap, bad, bad_ret);
    va_end(ap);
}

/* The same output as snprintf: compare, then check_case on its text. */
#define CMP(fmt, ...)                                                                       \
    do {                                                                                    \
        char ref_[1024];                                                                    \
        int m_ = snprintf(ref_, sizeof ref_, fmt, ##__VA_ARGS__);                           \
        char out_[1024];                                                                    \
        size_t n_ = guard_fmt(out_, sizeof out_, fmt, ##__VA_ARGS__);                       \
        if (m_ >= 0 && (size_t)m_ == n_ && !memcmp(ref_, out_, n_ + 1))                     \
            unit_passed++;                                                                  \
        else                                                                                \
            unit_failed++, unit_fail_line("FAIL ", __FILE__, __LINE__,                      \
                                          "format \"%s\": guard_fmt \"%s\" (%zu), snprintf " \
                                          "\"%s\" (%d)", fmt, out_, n_, ref_, m_);          \
        check_case(__LINE__, ref_, (size_t)m_, fmt, ##__VA_ARGS__);                         \
    } while (0)

/* A fixed expected text (where snprintf differs or is undefined). */
#define EXPECT(expect, fmt, ...) check_case(__LINE__, expect, sizeof(expect) - 1, fmt, ##__VA_ARGS__)

static void test_conversions(void)
{
    int local;
    EXPECT("", ""); /* (a zero-length format: the compiler rejects it for snprintf) */
    CMP("plain text, no conversions");
    CMP("%%");
    CMP("100%% sure, %%%% twice");
    CMP("%s", "hello");
    CMP("%s", "");
    CMP("[%s|%s|%s]", "a", "", "bcd");
    CMP("%d", 0);
    CMP("%d", 1);
    CMP("%d", -1);
    CMP("%d", 42);
    CMP("%d", -42);
    CMP("%d", 1000000000);
    CMP("%d", INT_MAX);
    CMP("%d", INT_MIN);
    CMP("%d", INT_MIN + 1);
    CMP("%ld", 0L);
    CMP("%ld", -1L);
    CMP("%ld", 1234567890123L);
    CMP("%ld", -1234567890123L);
    CMP("%ld", LONG_MAX);
    CMP("%ld", LONG_MIN);
    CMP("%ld", LONG_MIN + 1);
    CMP("%ld", (long)INT_MIN - 1);
    CMP("%u", 0u);
    CMP("%u", 1u);
    CMP("%u", 4000000000u);
    CMP("%u", UINT_MAX);
    CMP("%lu", 0UL);
    CMP("%lu", 10000000000000000000UL);
    CMP("%lu", ULONG_MAX);
    CMP("%zu", (size_t)0);
    CMP("%zu", (size_t)1 << 40);
    CMP("%zu", SIZE_MAX);
    CMP("%x", 0u);
    CMP("%x", 0x10u);
    CMP("%x", 0xdeadbeefu);
    CMP("%x", UINT_MAX);
    CMP("%lx", 0UL);
    CMP("%lx", 0x123456789abcdefUL);
    CMP("%lx", ULONG_MAX);
    CMP("%zx", SIZE_MAX);
    CMP("%p", (void *)0x1234);
    CMP("%p", (void *)0x7fffdeadbeefUL);
    CMP("%p", (void *)UINTPTR_MAX);
    CMP("%p", (void *)&local);
    CMP("%c", 'A');
    CMP("%c", '%');
    CMP("%c", 0);
    CMP("%c%c%c", 'x', 'y', 'z');
    CMP("%lld %llu %llx", LLONG_MIN, ULLONG_MAX, 0xabcULL);
    CMP("pid %d tid %u at %p: %s (%zu bytes, flags %lx, off %ld)%c", 1234, 5678u, (void *)0xbeef,
        "double-put", (size_t)4096, 0x11UL, -16L, '!');
    CMP("%s%d%s", "<", -7, ">");
    char longs[600];
    memset(longs, 'L', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    CMP("%s/%s", longs, "tail");

    /* where the shim's output is its own */
    EXPECT("(null)", "%s", (const char *)NULL);
    EXPECT("a(null)b", "a%sb", (const char *)NULL);
    EXPECT("0x0", "%p", (void *)NULL); /* glibc says "(nil)" */
}

/* Digits of many values of every integer conversion against snprintf. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_many_values(void)
{
    static const char *const names[] = {"%d", "%u", "%x", "%ld", "%lu", "%lx", "%zu", "%p"};
    for (unsigned k = 0; k < sizeof names / sizeof names[0]; k++) {
        unsigned bad = 0;
        char first[200] = "";
        for (unsigned i = 0; i < 20000; i++) {
            uint64_t v = rng();
            /* all magnitudes: shift by a random amount, sometimes a boundary */
            v >>= rng() % 64;
            if (i < 8)
                v = (uint64_t[]){0, 1, 9, 10, 99, 100, UINT64_MAX, (uint64_t)1 << 63}[i];
            char a[64], b[64];
            switch (k) {
            case 0: snprintf(a, sizeof a, "%d", (int)v); guard_fmt(b, sizeof b, "%d", (int)v); break;
            case 1: snprintf(a, sizeof a, "%u", (unsigned)v); guard_fmt(b, sizeof b, "%u", (unsigned)v); break;
            case 2: snprintf(a, sizeof a, "%x", (unsigned)v); guard_fmt(b, sizeof b, "%x", (unsigned)v); break;
            case 3: snprintf(a, sizeof a, "%ld", (long)v); guard_fmt(b, sizeof b, "%ld", (long)v); break;
            case 4: snprintf(a, sizeof a, "%lu", (unsigned long)v); guard_fmt(b, sizeof b, "%lu", (unsigned long)v); break;
            case 5: snprintf(a, sizeof a, "%lx", (unsigned long)v); guard_fmt(b, sizeof b, "%lx", (unsigned long)v); break;
            case 6: snprintf(a, sizeof a, "%zu", (size_t)v); guard_fmt(b, sizeof b, "%zu", (size_t)v); break;
            default:
                if (!v)
                    v = 1; /* NULL differs on purpose (see above) */
                snprintf(a, sizeof a, "%p", (void *)(uintptr_t)v);
                guard_fmt(b, sizeof b, "%p", (void *)(uintptr_t)v);
            }
            if (strcmp(a, b) && bad++ == 0)
                snprintf(first, sizeof first, "value 0x%llx: snprintf \"%s\", guard_fmt \"%s\"",
                         (unsigned long long)v, a, b);
        }
        CHECK(bad == 0, "%s over 20000 values: %u differ from snprintf, first %s", names[k], bad, first);
    }
}

static size_t fmt_probe_null_cap0(void)
{
    if (PROBE_BEGIN()) {
        size_t n = guard_fmt(NULL, 0, "%s %d", "x", 5);
        PROBE_END();
        return n;
    }
    return (size_t)-2;
}

static void test_odd_formats(void)
{
    char buf[64];
    size_t n;

    /* an unknown conversion is printed as it stands and takes no argument */
    EXPECT("%q", "%q");
    EXPECT("<%q>x", "<%q>%s", "x");
    EXPECT("%5dx", "%5d%s", "x");    /* width: not supported */
    EXPECT("%-sx", "%-s%s", "x");    /* flags: not supported */
    EXPECT("%hdx", "%hd%s", "x");    /* h: not supported */
    EXPECT("%ix", "%i%s", "x");      /* %i: not supported */
    n = fmt_noattr(buf, sizeof buf, "%lq%s", "x");
    CHECK(n >= 3 && buf[0] == '%' && !strcmp(buf + n - 2, "qx"),
          "\"%%lq%%s\": got \"%s\"", buf);
    n = fmt_noattr(buf, sizeof buf, "%zq%s", "x");
    CHECK(n >= 3 && buf[0] == '%' && !strcmp(buf + n - 2, "qx"),
          "\"%%zq%%s\": got \"%s\"", buf);

    /* a trailing lone '%' (or a length with no conversion): nothing read
     * past the end of the format, no argument taken, the text before it
     * kept.  check_case puts the format in a buffer of its exact size. */
    static const char *const trailing[] = {"abc%", "%", "abc%l", "abc%ll", "abc%z", "abc%lz"};
    for (unsigned i = 0; i < sizeof trailing / sizeof trailing[0]; i++) {
        char *f = edge_str(1, trailing[i]);
        memset(buf, CANARY, sizeof buf);
        n = (size_t)-1;
        if (PROBE_BEGIN()) {
            n = fmt_noattr(buf, sizeof buf, f);
            PROBE_END();
        } else {
            buf[0] = '\0';
            CHECK(0, "format \"%s\": read past its end (SIGSEGV)", f);
            continue;
        }
        size_t prefix = (size_t)(strchr(f, '%') - f);
        CHECK(n <= strlen(f) && n >= prefix && !memcmp(buf, f, prefix) && buf[n] == '\0' &&
                  (n == prefix || buf[prefix] == '%'),
              "format \"%s\": got \"%s\" (%zu)", f, buf, n);
    }
    check_case(__LINE__, "abc", 3, "abc%"); /* at every capacity too */

    /* capacity 0 with no buffer at all (like snprintf(NULL, 0, ...)) */
    CHECK(fmt_probe_null_cap0() == 0, "capacity 0 with a NULL buffer (-2: SIGSEGV, it wrote)");

    /* guard_fmt and guard_fmt_va agree on arguments after a NUL from %c */
    n = guard_fmt(buf, sizeof buf, "%c%s", 0, "after");
    CHECK(n == 6 && buf[0] == '\0' && !strcmp(buf + 1, "after"), "%%c of 0 then %%s: length %zu", n);
}

/* ---- guard_fmt_stderr --------------------------------------------------- */

static void test_stderr(void)
{
    size_t len;
    const char *got;

    capture_begin();
    errno = 4242;
    guard_fmt_stderr("libguard: %s %d %zu\n", "x", -3, (size_t)7);
    int e = errno;
    got = capture_end(&len);
    CHECK(!strcmp(got, "libguard: x -3 7\n"), "guard_fmt_stderr wrote \"%s\"", got);
    CHECK(e == 4242, "guard_fmt_stderr changed errno to %d", e);

    /* a line longer than its 1024-byte buffer: cut, never overrun */
    char long_arg[3000];
    memset(long_arg, 'w', sizeof long_arg - 1);
    long_arg[sizeof long_arg - 1] = '\0';
    capture_begin();
    guard_fmt_stderr("%s\n", long_arg);
    got = capture_end(&len);
    CHECK(len == 1023 && strspn(got, "w") == 1023, "a long line: %zu bytes written", len);

    capture_begin();
    guard_fmt_stderr("%s", "");
    got = capture_end(&len);
    CHECK(len == 0, "an empty line wrote %zu bytes", len);
}

/* ---- guard_fmt_write_all ------------------------------------------------ */

static volatile sig_atomic_t ticks;
static void on_tick(int sig)
{
    (void)sig;
    ticks++;
}

static unsigned char pattern_byte(size_t i)
{
    return (unsigned char)(i * 131 + (i >> 9));
}

static void test_write_all(void)
{
    /* to a file: everything, in order */
    enum { N = 300000 };
    char *data = malloc(N);
    for (size_t i = 0; i < N; i++)
        data[i] = (char)pattern_byte(i);
    int mfd = memfd_create("unit-write", MFD_CLOEXEC);
    errno = 777;
    guard_fmt_write_all(mfd, data, N);
    CHECK(errno == 777, "write_all to a file changed errno to %d", errno);
    char *back = malloc(N);
    ssize_t got = pread(mfd, back, N, 0);
    CHECK(got == N && !memcmp(back, data, N), "write_all to a file: %zd bytes back", got);
    CHECK(lseek(mfd, 0, SEEK_END) == N, "write_all wrote more than asked");
    guard_fmt_write_all(mfd, data, 0);
    CHECK(lseek(mfd, 0, SEEK_END) == N, "write_all of 0 bytes wrote something");
    close(mfd);

    /* errors end it, errno untouched */
    errno = 778;
    guard_fmt_write_all(-1, "x", 1);
    CHECK(errno == 778, "write_all to fd -1 changed errno to %d", errno);
    int p[2];
    if (pipe(p) == 0) {
        struct sigaction ign = {.sa_handler = SIG_IGN}, old;
        sigaction(SIGPIPE, &ign, &old);
        close(p[0]);
        errno = 779;
        guard_fmt_write_all(p[1], data, N); /* EPIPE: must return */
        CHECK(errno == 779, "write_all to a broken pipe changed errno to %d", errno);
        close(p[1]);
        sigaction(SIGPIPE, &old, NULL);
    }

    /* through EINTR and short writes: a small pipe whose reader starts
     * late, and a timer signal without SA_RESTART every 2 ms while the
     * writer blocks.  The reader checks every byte. */
    enum { M = 4 << 20 };
    char *big = malloc(M);
    for (size_t i = 0; i < M; i++)
        big[i] = (char)pattern_byte(i);
    if (pipe(p) != 0) {
        CHECK(0, "pipe: %s", strerror(errno));
        return;
    }
    fcntl(p[1], F_SETPIPE_SZ, 4096);
    pid_t child = fork();
    if (child == 0) {
        close(p[1]);
        usleep(100 * 1000);
        static char rb[65536];
        size_t total = 0;
        int ok = 1;
        for (;;) {
            ssize_t r = read(p[0], rb, sizeof rb);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            for (ssize_t i = 0; i < r; i++)
                if ((unsigned char)rb[i] != pattern_byte(total + (size_t)i))
                    ok = 0;
            total += (size_t)r;
            if (total % (256 * 1024) < (size_t)r)
                usleep(2000); /* let the writer block again */
        }
        _exit(ok && total == M ? 0 : total == M ? 2 : 3);
    }
    close(p[0]);
    struct sigaction sa = {.sa_handler = on_tick}, old_sa; /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, &old_sa);
    struct itimerval it = {{0, 2000}, {0, 2000}}, off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
    errno = 780;
    guard_fmt_write_all(p[1], big, M);
    int e = errno;
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old_sa, NULL);
    close(p[1]);
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "write_all through EINTR: reader says %s (status 0x%x, %d signals)",
          WIFEXITED(status) && WEXITSTATUS(status) == 2 ? "bytes differ"
          : WIFEXITED(status) && WEXITSTATUS(status) == 3 ? "not all bytes came" : "?",
          status, (int)ticks);
    CHECK(ticks > 0, "the writer was never interrupted: the EINTR path went untested");
    CHECK(e == 780, "write_all through EINTR changed errno to %d", e);
    free(big);
    free(data);
    free(back);
}

int main(void)
{
    unit_name = "test_fmt";
    alarm(60); /* a hang is a failure */
    test_conversions();
    test_many_values();
    test_odd_formats();
    test_stderr();
    test_write_all();
    alarm(0);
    return unit_finish();
}
