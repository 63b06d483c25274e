/*
 * inspect_host.c — `guard-analyze inspect --host`: the facts about this
 * machine that decide whether a time call can overrun a small stack
 * (finding kind vdso-low-stack): the kernel, the page size, the
 * stack limits, and how deep below its caller's SP each of the vDSO's time
 * functions, and its getrandom where it has one, writes, measured by
 * disassembly (vdso.c).
 *
 * `--vdso-image=FILE` measures a vDSO dumped from another machine instead
 * of this process's own (the kernel facts stay this host's).
 */
#define _GNU_SOURCE
#include "inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "util.h"
#include "vdso.h"

#define MAX_IMAGE (64u << 20)

struct host_facts {
    struct utsname uts;
    bool have_uts;
    long page_size;
    struct rlimit stack;
    bool have_stack;
    size_t thread_stack; /* glibc's default for new threads, 0 unknown */
    struct vdso_measure m;
    int vdso_rc;
    const char *source;  /* "self" or the image file */
    bool from_file;
};

/* Read a dumped vDSO image and measure it; -1 with m->error set. */
static int measure_file(const char *path, struct vdso_measure *m)
{
    memset(m, 0, sizeof *m);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (uint64_t)st.st_size > MAX_IMAGE) {
        snprintf(m->error, sizeof m->error, "%s",
                 fd < 0 ? strerror(errno) : "not a regular file of a plausible size for a vDSO");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size, got = 0;
    unsigned char *buf = xmalloc(size);
    while (got < size) {
        ssize_t r = pread(fd, buf + got, size - got, (off_t)got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    int rc = vdso_measure_image(buf, got, m);
    m->present = rc == 0;
    m->image_size = got;
    free(buf);
    return rc;
}

static void gather(struct host_facts *h, const struct inspect_options *o)
{
    memset(h, 0, sizeof *h);
    h->have_uts = uname(&h->uts) == 0;
    h->page_size = sysconf(_SC_PAGESIZE);
    h->have_stack = getrlimit(RLIMIT_STACK, &h->stack) == 0;
    pthread_attr_t a;
    if (pthread_getattr_default_np(&a) == 0) {
        size_t sz = 0;
        if (pthread_attr_getstacksize(&a, &sz) == 0)
            h->thread_stack = sz;
        pthread_attr_destroy(&a);
    }
    if (o->vdso_image) {
        h->source = o->vdso_image;
        h->from_file = true;
        h->vdso_rc = measure_file(o->vdso_image, &h->m);
    } else {
        h->source = "self";
        h->vdso_rc = vdso_measure_self(&h->m);
    }
}

/* No vDSO in this process is a fact about the host, not an error; an
 * image that cannot be read is. */
static bool is_error(const struct host_facts *h)
{
    return h->vdso_rc != 0 && (h->m.present || h->from_file);
}

static void print_limit(FILE *out, rlim_t v)
{
    if (v == RLIM_INFINITY)
        fputs("unlimited", out);
    else
        fprintf(out, "%llu", (unsigned long long)v);
}

int inspect_host_text(FILE *out, const struct inspect_options *o)
{
    struct host_facts h;
    gather(&h, o);
    if (h.have_uts)
        fprintf(out, "host: %s %s %s (%s)\n", h.uts.sysname, h.uts.release, h.uts.machine, h.uts.version);
    fprintf(out, "  page size: %ld bytes; RLIMIT_STACK: ", h.page_size);
    if (h.have_stack) {
        print_limit(out, h.stack.rlim_cur);
        fputs(" soft, ", out);
        print_limit(out, h.stack.rlim_max);
        fputs(" hard", out);
    } else
        fputs("unknown", out);
    if (h.thread_stack)
        fprintf(out, "; default thread stack: %zu bytes", h.thread_stack);
    fputc('\n', out);
    const struct vdso_measure *m = &h.m;
    if (h.vdso_rc != 0 && !is_error(&h)) {
        fprintf(out, "  vDSO: none: %s\n", m->error);
        return 0;
    }
    if (h.vdso_rc != 0) {
        fprintf(stderr, ANALYZER_NAME ": cannot measure the vDSO (");
        fput_escaped(stderr, h.source);
        fprintf(stderr, "): %s\n", m->error);
        return -1;
    }
    fputs("  vDSO: ", out);
    if (o->vdso_image) {
        fputs("image ", out);
        fput_escaped(out, o->vdso_image);
    } else
        fprintf(out, "at %#" PRIx64, m->base);
    fprintf(out, ", %zu bytes", m->image_size);
    if (m->map_size)
        fprintf(out, " (mapping %zu)", m->map_size);
    if (m->build_id[0])
        fprintf(out, ", build-id %s", m->build_id);
    fprintf(out, "; disassembled with %s\n", m->disassembler);
    for (size_t i = 0; i < m->nfuncs; i++) {
        const struct vdso_func *f = &m->funcs[i];
        fprintf(out, "    %s", f->name);
        if (f->alias[0] || f->version[0])
            fprintf(out, " (%s%s%s)", f->alias[0] ? f->alias : f->name, f->version[0] ? "@" : "",
                    f->version);
        fprintf(out, " at %#" PRIx64 ", %" PRIu64 " bytes: ", f->addr, f->size);
        if (!f->measured) {
            fprintf(out, "not measured: %s\n", f->note);
            continue;
        }
        fprintf(out, "frame %u, ", f->frame_bytes);
        if (f->has_probe)
            fprintf(out, "STACK PROBE %u bytes below its entry SP, ", f->probe_bytes);
        else
            fputs("no stack probe, ", out);
        fprintf(out, "uses %u bytes below the caller's SP", f->deepest_bytes);
        if (f->deepest_bytes_misaligned != f->deepest_bytes)
            fprintf(out, " (%u if the caller's SP is not 16-byte aligned)", f->deepest_bytes_misaligned);
        if (f->calls)
            fprintf(out, ", %u internal call%s followed", f->calls, f->calls == 1 ? "" : "s");
        fputc('\n', out);
        if (f->note[0])
            fprintf(out, "      note: %s\n", f->note);
    }
    bool getrandom = false;
    for (size_t i = 0; i < m->nfuncs; i++)
        if (strstr(m->funcs[i].name, "getrandom") && m->funcs[i].measured) {
            getrandom = true;
            fprintf(out, "  vDSO getrandom (glibc 2.41, Go 1.24 call it): needs %u bytes below the "
                    "caller's SP (%u at any alignment)\n", m->funcs[i].deepest_bytes,
                    m->funcs[i].deepest_bytes_misaligned);
        } else if (strstr(m->funcs[i].name, "getrandom"))
            getrandom = true;
    if (!getrandom)
        fputs("  vDSO getrandom: none in this vDSO (Linux before 6.11): glibc 2.41 and Go 1.24 "
              "make the getrandom system call instead\n", out);
    fprintf(out, "  stack probe in the vDSO: %s\n",
            m->any_probe ? "YES (vdso-low-stack: a caller needs more than a page of stack)" : "no");
    if (m->max_deepest_bytes)
        fprintf(out, "  a time call needs %u bytes of stack below the caller's SP (%u at any "
                "alignment); Go's runtime once assumed 104 were enough\n",
                m->max_deepest_bytes, m->max_deepest_bytes_misaligned);
    return 0;
}

static json_t *limit_json(rlim_t v)
{
    return v == RLIM_INFINITY ? json_null() : json_integer((json_int_t)v);
}

static json_t *hex_json(uint64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%#" PRIx64, v);
    return json_string(b);
}

static json_t *func_json(const struct vdso_func *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(f->name));
    json_object_set_new(o, "alias", f->alias[0] ? json_string(f->alias) : json_null());
    json_object_set_new(o, "version", f->version[0] ? json_string(f->version) : json_null());
    json_object_set_new(o, "address", hex_json(f->addr));
    json_object_set_new(o, "size", json_integer((json_int_t)f->size));
    json_object_set_new(o, "measured", json_boolean(f->measured));
    json_object_set_new(o, "complete", json_boolean(f->complete));
    json_object_set_new(o, "stack_probe", json_boolean(f->has_probe));
    json_object_set_new(o, "realigns_stack", json_boolean(f->realigns));
    json_object_set_new(o, "internal_calls", json_integer(f->calls));
    json_object_set_new(o, "frame_bytes", json_integer(f->frame_bytes));
    json_object_set_new(o, "probe_bytes", json_integer(f->probe_bytes));
    json_object_set_new(o, "stack_below_caller_sp", json_integer(f->deepest_bytes));
    json_object_set_new(o, "stack_below_caller_sp_misaligned", json_integer(f->deepest_bytes_misaligned));
    char *note = f->note[0] ? utf8_sanitize(f->note) : NULL;
    json_object_set_new(o, "note", note ? json_string(note) : json_null());
    free(note);
    return o;
}

int inspect_host_json(json_t **host, const struct inspect_options *o)
{
    struct host_facts h;
    gather(&h, o);
    json_t *j = json_object();
    json_t *k = json_object();
    if (h.have_uts) {
        json_object_set_new(k, "sysname", json_string(h.uts.sysname));
        json_object_set_new(k, "release", json_string(h.uts.release));
        json_object_set_new(k, "version", json_string(h.uts.version));
        json_object_set_new(k, "machine", json_string(h.uts.machine));
    }
    json_object_set_new(j, "kernel", k);
    json_object_set_new(j, "page_size", json_integer(h.page_size));
    json_t *rl = json_object();
    json_object_set_new(rl, "soft", h.have_stack ? limit_json(h.stack.rlim_cur) : json_null());
    json_object_set_new(rl, "hard", h.have_stack ? limit_json(h.stack.rlim_max) : json_null());
    json_object_set_new(j, "rlimit_stack", rl);
    json_object_set_new(j, "default_thread_stack",
                        h.thread_stack ? json_integer((json_int_t)h.thread_stack) : json_null());

    const struct vdso_measure *m = &h.m;
    json_t *v = json_object();
    char *src = utf8_sanitize(h.source);
    json_object_set_new(v, "source", json_string(src));
    free(src);
    json_object_set_new(v, "present", json_boolean(h.vdso_rc == 0 || m->present));
    json_object_set_new(v, "address", m->base ? hex_json(m->base) : json_null());
    json_object_set_new(v, "image_size", json_integer((json_int_t)m->image_size));
    json_object_set_new(v, "mapping_size", m->map_size ? json_integer((json_int_t)m->map_size) : json_null());
    json_object_set_new(v, "build_id", m->build_id[0] ? json_string(m->build_id) : json_null());
    json_object_set_new(v, "disassembler", json_string(m->disassembler));
    json_object_set_new(v, "stack_probe", json_boolean(m->any_probe));
    json_object_set_new(v, "max_stack_below_caller_sp", json_integer(m->max_deepest_bytes));
    json_object_set_new(v, "max_stack_below_caller_sp_misaligned",
                        json_integer(m->max_deepest_bytes_misaligned));
    json_t *fa = json_array();
    for (size_t i = 0; i < m->nfuncs; i++)
        json_array_append_new(fa, func_json(&m->funcs[i]));
    json_object_set_new(v, "functions", fa);
    char *e = h.vdso_rc ? utf8_sanitize(m->error) : NULL;
    json_object_set_new(v, "error", e ? json_string(e) : json_null());
    free(e);
    json_object_set_new(j, "vdso", v);
    *host = j;
    if (is_error(&h)) {
        fprintf(stderr, ANALYZER_NAME ": cannot measure the vDSO (");
        fput_escaped(stderr, h.source);
        fprintf(stderr, "): %s\n", m->error);
        return -1;
    }
    return 0;
}
