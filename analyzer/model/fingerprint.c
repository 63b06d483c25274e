/*
 * fingerprint.c — stable finding identities (see fingerprint.h).
 */
#define _GNU_SOURCE
#include "fingerprint.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *fp_base_name(const char *path)
{
    if (!path)
        return "";
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool fp_frame_is_project(const struct sym_frame *fr)
{
    const char *m = fr->module;
    if (!m || !m[0] || m[0] == '[')
        return false; /* [vdso], [unknown] */
    static const char *const dirs[] = {
        "/lib/", "/lib32/", "/lib64/", "/libx32/", "/usr/lib/", "/usr/lib32/", "/usr/lib64/",
        "/usr/libx32/", "/usr/libexec/", "/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/",
    };
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
        if (starts_with(m, dirs[i]))
            return false;
    static const char *const libs[] = {
        "libguard.so", "libc.so", "libc-", "ld-linux", "ld64.so", "ld.so", "libpthread",
        "libdl.so", "libdl-", "libm.so", "libm-", "librt.so", "librt-", "libstdc++",
        "libgcc_s", "libunwind",
    };
    const char *b = fp_base_name(m);
    for (size_t i = 0; i < sizeof libs / sizeof *libs; i++)
        if (starts_with(b, libs[i]))
            return false;
    return true;
}

const struct sym_frame *fp_location_frame(const struct sym_stack *s)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->frames[i].file && fp_frame_is_project(&s->frames[i]))
            return &s->frames[i];
    for (size_t i = 0; i < s->n; i++)
        if (s->frames[i].file)
            return &s->frames[i];
    for (size_t i = 0; i < s->n; i++)
        if (s->frames[i].function)
            return &s->frames[i];
    return NULL;
}

const struct fnd_stack *fp_primary_stack(const struct fnd *f)
{
    for (size_t i = 0; i < f->nstacks; i++)
        if (f->stacks[i].sym->n)
            return &f->stacks[i];
    return NULL;
}

/* FNV-1a, 64 bits, over a canonical byte string; two of them with
 * different offset bases give 128 bits. */
struct fp_hash {
    uint64_t a, b;
};

static void fp_bytes(struct fp_hash *h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h->a = (h->a ^ s[i]) * 0x100000001b3ull;
        h->b = (h->b ^ s[i]) * 0x100000001b3ull;
    }
}

static void fp_str(struct fp_hash *h, const char *s)
{
    fp_bytes(h, s ? s : "", s ? strlen(s) + 1 : 1); /* the NUL separates fields */
}

static void fp_frame(struct fp_hash *h, const struct sym_frame *fr)
{
    if (fr->function) {
        fp_str(h, "f");
        fp_str(h, fr->function);
        fp_str(h, fr->file ? fp_base_name(fr->file) : "");
    } else if (fr->have_module) {
        char off[24];
        snprintf(off, sizeof off, "0x%" PRIx64, fr->module_offset);
        fp_str(h, "m");
        fp_str(h, fp_base_name(fr->module));
        fp_str(h, off);
    } else {
        fp_str(h, "?"); /* an address in no known module: nothing stable to say */
    }
}

void fp_compute(struct fnd *f)
{
    struct fp_hash h = {0xcbf29ce484222325ull, 0x84222325cbf29ce4ull};
    fp_str(&h, "libguard/v1");
    fp_str(&h, f->kind_name);
    for (size_t i = 0; i < f->nstacks; i++) {
        const struct sym_stack *s = f->stacks[i].sym;
        fp_str(&h, f->stacks[i].role);
        size_t first = 0;
        while (first < s->n && !fp_frame_is_project(&s->frames[first]))
            first++;
        if (first == s->n)
            first = 0; /* nothing of the project's: the top frames as they are */
        for (size_t k = first; k < s->n && k < first + FND_KEY_FRAMES; k++)
            fp_frame(&h, &s->frames[k]);
        fp_str(&h, "|");
    }
    snprintf(f->fingerprint, sizeof f->fingerprint, "%016" PRIx64 "%016" PRIx64, h.a, h.b);
}
