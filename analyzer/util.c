/*
 * util.c — checked allocation, notes, and safe printing of untrusted text.
 */
#define _GNU_SOURCE
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void out_of_memory(void)
{
    /* Nothing useful can be reported without memory; exit with the input
     * error status so CI does not mistake this for "no findings". */
    fputs(ANALYZER_NAME ": out of memory\n", stderr);
    exit(2);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        out_of_memory();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        out_of_memory();
    return q;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        out_of_memory();
    return xrealloc(p, n * size);
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s);
    char *p = xmalloc(n + 1);
    memcpy(p, s, n + 1);
    return p;
}

char *xstrndup_bytes(const void *p, size_t n)
{
    const char *s = p;
    const char *nul = memchr(s, '\0', n);
    if (nul)
        n = (size_t)(nul - s);
    char *r = xmalloc(n + 1);
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

char *xvasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0 || !s)
        out_of_memory();
    return s;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}

const char *note_level_name(enum note_level level)
{
    switch (level) {
    case NOTE_ERROR:
        return "error";
    case NOTE_SHIM:
        return "shim";
    case NOTE_INFO:
    default:
        return "note";
    }
}

void notes_add(struct notes *notes, enum note_level level, const char *log, uint32_t pid,
               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = xvasprintf(fmt, ap);
    va_end(ap);

    VEC_GROW(notes->v, notes->n, notes->cap);
    struct note *nt = &notes->v[notes->n++];
    nt->level = level;
    nt->log = log ? xstrdup(log) : NULL;
    nt->pid = pid;
    nt->text = text;

    if (level == NOTE_ERROR) {
        /* Errors are also on stderr at once: the contract names the
         * corrupt log and its offset there, whatever the report format. */
        notes->errors++;
        if (log) {
            fput_escaped(stderr, log);
            fputs(": ", stderr);
        } else {
            fputs(ANALYZER_NAME ": ", stderr);
        }
        fput_escaped(stderr, text);
        fputc('\n', stderr);
    }
}

void notes_free(struct notes *notes)
{
    for (size_t i = 0; i < notes->n; i++) {
        free(notes->v[i].log);
        free(notes->v[i].text);
    }
    free(notes->v);
    notes->v = NULL;
    notes->n = notes->cap = notes->errors = 0;
}

char *note_format(const struct note *nt)
{
    return xasprintf("%s%s%s%s%s", nt->log ? nt->log : "", nt->log ? ": " : "",
                     nt->level != NOTE_INFO ? note_level_name(nt->level) : "",
                     nt->level != NOTE_INFO ? ": " : "", nt->text);
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one.
 * Rejects overlong forms, surrogates and code points above U+10FFFF, like
 * jansson does. */
static size_t utf8_seq_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0; /* also stops at the terminating NUL */
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
        return 0;
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return 0;
    return len;
}

bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq_len(p);
        if (!n)
            return false;
        p += n;
    }
    return true;
}

char *utf8_sanitize(const char *s)
{
    size_t n = strlen(s);
    char *r = xmalloc(n + 1);
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    while (*p) {
        size_t k = utf8_seq_len(p);
        if (!k) {
            r[o++] = '?';
            p++;
            continue;
        }
        memcpy(r + o, p, k);
        o += k;
        p += k;
    }
    r[o] = '\0';
    return r;
}

void fput_escaped(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t k = utf8_seq_len(p);
        if (k == 1 && (*p < 0x20 || *p == 0x7F) && *p != '\t') {
            fprintf(f, "\\x%02x", *p);
            p++;
        } else if (k == 0) {
            fprintf(f, "\\x%02x", *p);
            p++;
        } else {
            fwrite(p, 1, k, f);
            p += k;
        }
    }
}

char *hex_string(const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *r = xmalloc(n * 2 + 1);
    for (size_t i = 0; i < n; i++) {
        r[2 * i] = digits[p[i] >> 4];
        r[2 * i + 1] = digits[p[i] & 15];
    }
    r[n * 2] = '\0';
    return r;
}

bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static int cmp_tid(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

void tid_sort(uint32_t *v, size_t n)
{
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_tid);
}

ptrdiff_t tid_find(const uint32_t *v, size_t n, uint32_t tid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < tid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo] == tid ? (ptrdiff_t)lo : -1;
}
