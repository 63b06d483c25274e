/*
 * options.c — GUARD_OPTIONS, sanitizer style: key=value:key=value.
 *
 * Parsed once at start-up, before anything else runs.  A typo must never
 * stop the program, but must not pass silently either: every unknown key
 * and every bad value gets one warning line on stderr naming it, and the
 * default stays in force.  option_table is the one list of keys: the parser,
 * help=1 and docs/options.md (checked by the test suite) all follow it.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "guard_internal.h"

struct guard_options guard_opt;
const char *guard_options_text = ""; /* GUARD_OPTIONS as given */
/* What guard_options_defaults set: help=1 shows each key's default beside
 * its value now. */
static struct guard_options defaults;

void guard_options_defaults(void)
{
    memset(&guard_opt, 0, sizeof guard_opt);
    strcpy(guard_opt.log_dir, ".");
    guard_opt.halt_on_error = 0;
    guard_opt.verbosity = 1;
    guard_opt.max_frames = 32;
    guard_opt.pool_poison = 1;
    guard_opt.pool_protect = 1;
    guard_opt.max_protected = 8192;
    guard_opt.pool_protect_young = 1000;
    guard_opt.pool_protect_sample = 256;
    guard_opt.report_stderr = 1;
    guard_opt.log = 1;
    guard_opt.log_always = 0;
    guard_opt.log_chunk_kb = 256;
    guard_opt.follow_exec = 1;
    guard_opt.vdso_min_headroom = 4096 + 256;
    guard_opt.vdso_measure = 1;
    guard_opt.crash_handler = 1;
    guard_opt.crash_wait_ms = 500;
    guard_opt.crash_events = 16;
    guard_opt.fork_fast = 1;
    guard_opt.symbolize = 1;
    guard_opt.symbolize_timeout_ms = 3000;
    strcpy(guard_opt.profile, "test");
    defaults = guard_opt;
}

enum opt_type { OPT_BOOL, OPT_UINT, OPT_INT, OPT_PATH, OPT_PROFILE };
/* OPT_PATH targets are char[512] (log_dir, suppressions, report_path,
 * symbolizer); OPT_PROFILE's is guard_opt.profile (see profile_apply). */

struct opt_desc {
    const char *key;
    enum opt_type type;
    void *target;
    long min, max;
    const char *help; /* one line, for help=1 */
};

static const struct opt_desc option_table[] = {
    {"log_dir", OPT_PATH, guard_opt.log_dir, 0, 0, "directory of the log files"},
    {"suppressions", OPT_PATH, guard_opt.suppressions, 0, 0, "file of KIND:PATTERN rules"},
    {"report_path", OPT_PATH, guard_opt.report_path, 0, 0, "immediate reports to this file"},
    {"halt_on_error", OPT_BOOL, &guard_opt.halt_on_error, 0, 1, "abort after the first finding"},
    {"verbosity", OPT_INT, &guard_opt.verbosity, 0, 3, "0 silent, 1 reports, 2 start-up line"},
    {"max_frames", OPT_UINT, &guard_opt.max_frames, 1, GUARD_MAX_FRAMES, "frames kept per stack"},
    {"pool_poison", OPT_BOOL, &guard_opt.pool_poison, 0, 1, "poison returned objects"},
    {"pool_protect", OPT_BOOL, &guard_opt.pool_protect, 0, 1, "PROT_NONE returned objects' pages"},
    {"max_protected", OPT_UINT, &guard_opt.max_protected, 0, 1000000, "objects protected at once"},
    {"pool_protect_young", OPT_UINT, &guard_opt.pool_protect_young, 0, 1 << 30,
     "an object's first N puts are protected"},
    {"pool_protect_sample", OPT_UINT, &guard_opt.pool_protect_sample, 0, 1 << 30,
     "then one put in N (1 every, 0 none)"},
    {"pool_max_objects", OPT_UINT, &guard_opt.pool_max_objects, 0, 1 << 30,
     "objects remembered, beyond those in pools (0: all)"},
    {"report_stderr", OPT_BOOL, &guard_opt.report_stderr, 0, 1, "print findings on stderr"},
    {"log", OPT_BOOL, &guard_opt.log, 0, 1, "write the event log"},
    {"log_always", OPT_BOOL, &guard_opt.log_always, 0, 1, "create the log at start-up"},
    {"log_chunk_kb", OPT_UINT, &guard_opt.log_chunk_kb, 64, 1 << 20, "log growth step (KiB)"},
    {"log_ring_kb", OPT_UINT, &guard_opt.log_ring_kb, 0, 1 << 20,
     "pool events in a ring of this size (0: all)"},
    {"log_max_mb", OPT_UINT, &guard_opt.log_max_mb, 0, 1 << 20, "bound on a log's size (0: 2 GiB)"},
    {"keep_logs", OPT_UINT, &guard_opt.keep_logs, 0, 1000, "older logs of the exe kept (0: all)"},
    {"profile", OPT_PROFILE, guard_opt.profile, 0, 0, "preset: test (default) or field"},
    {"follow_exec", OPT_BOOL, &guard_opt.follow_exec, 0, 1, "keep the shim in exec'd programs"},
    {"vdso_min_headroom", OPT_UINT, &guard_opt.vdso_min_headroom, 0, 1 << 20,
     "stack bytes a time call needs"},
    {"vdso_measure", OPT_BOOL, &guard_opt.vdso_measure, 0, 1, "measure this host's vDSO"},
    {"crash_handler", OPT_BOOL, &guard_opt.crash_handler, 0, 1, "record fatal signals"},
    {"crash_wait_ms", OPT_UINT, &guard_opt.crash_wait_ms, 0, 10000, "wait for threads' stacks"},
    {"crash_events", OPT_UINT, &guard_opt.crash_events, 0, 4096, "events per thread in a crash"},
    {"fork_fast", OPT_BOOL, &guard_opt.fork_fast, 0, 1, "the fork path's page-saving tricks"},
    {"symbolize", OPT_BOOL, &guard_opt.symbolize, 0, 1, "function and file:line in reports"},
    {"symbolizer", OPT_PATH, guard_opt.symbolizer, 0, 0, "guard-analyze that symbolizes them"},
    {"symbolize_timeout_ms", OPT_UINT, &guard_opt.symbolize_timeout_ms, 1, 60000,
     "symbolizer's time per report"},
    {"help", OPT_BOOL, &guard_opt.help, 0, 1, "list every key on stderr"},
};
#define NOPTIONS (sizeof option_table / sizeof option_table[0])


static const void *default_of(const struct opt_desc *d)
{
    return (const char *)&defaults + ((const char *)d->target - (const char *)&guard_opt);
}

/* ---- profiles --------------------------------------------------------
 * A profile is a preset of key=value items, applied through apply_one
 * before any item of GUARD_OPTIONS, so that a key given explicitly wins
 * wherever it stands (profile=field:pool_protect=1 and
 * pool_protect=1:profile=field are the same).  Every preset key is a key
 * of option_table (tests/test_field.py checks them against help=1). */
struct preset_item {
    const char *key, *value;
};
static const struct preset_item field_preset[] = {
    {"pool_poison", "1"},          /* late writes: found at the next get, always */
    {"pool_protect", "1"},         /* page protection, sampled: */
    {"pool_protect_young", "16"},  /*  an object's first 16 puts, */
    {"pool_protect_sample", "8192"}, /* then one put in 8192 */
    {"pool_max_objects", "16384"}, /* the object table bounded */
    {"log_ring_kb", "4096"},       /* pool events in a 4 MiB ring */
    {"log_max_mb", "64"},          /* the rest of the log bounded */
    {"keep_logs", "10"},           /* logs of ten ended runs per executable */
};
#define NFIELD_PRESET (sizeof field_preset / sizeof field_preset[0])

static const struct opt_desc *key_at(const char *text);
static void apply_one(const char *key, size_t key_len, const char *value);

static void profile_help(const struct opt_desc *d)
{
    /* one line a key, the preset on the profile's */
    char line[512];
    size_t n = guard_fmt(line, sizeof line, "  %s: test or field; default '%s', now '%s': %s; field =",
                         d->key, (const char *)default_of(d), (const char *)d->target, d->help);
    for (size_t i = 0; i < NFIELD_PRESET && n < sizeof line; i++)
        n += guard_fmt(line + n, sizeof line - n, "%s%s=%s", i ? ":" : " ", field_preset[i].key,
                       field_preset[i].value);
    guard_fmt_stderr("%s\n", line);
}

/* The value of the last profile= item of text (NULL: none), into out.
 * An item starts the text or follows ':' (or ',', which apply_item takes
 * for a separator before a known key). */
static const char *profile_find(const char *text, char *out, size_t cap)
{
    const char *found = NULL;
    for (const char *p = text; p && (p = strstr(p, "profile=")) != NULL; p += 8) {
        if (p != text && p[-1] != ':' && p[-1] != ',')
            continue;
        size_t len = strcspn(p + 8, ":,");
        size_t n = len < cap - 1 ? len : cap - 1;
        memcpy(out, p + 8, n);
        out[n] = '\0';
        found = out;
    }
    return found;
}

static void profile_apply(const char *text)
{
    char name[32];
    const char *want = profile_find(text, name, sizeof name);
    if (!want || !strcmp(want, "test"))
        return;
    if (strcmp(want, "field") != 0) {
        guard_fmt_stderr("libguard: warning: GUARD_OPTIONS: bad value '%s' for profile (expected "
                         "test or field); keeping '%s'\n", want, guard_opt.profile);
        return;
    }
    strcpy(guard_opt.profile, "field");
    for (size_t i = 0; i < NFIELD_PRESET; i++)
        apply_one(field_preset[i].key, strlen(field_preset[i].key), field_preset[i].value);
}

/* help=1: every key, its accepted values, its default, its value now and
 * what it does. */
static void print_help(void)
{
    guard_fmt_stderr("libguard: GUARD_OPTIONS keys (key=value:key=value; docs/options.md):\n");
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct opt_desc *d = &option_table[i];
        if (d->type == OPT_PROFILE)
            profile_help(d);
        else if (d->type == OPT_PATH)
            guard_fmt_stderr("  %s: a path; default '%s', now '%s': %s\n", d->key,
                             (const char *)default_of(d), (const char *)d->target, d->help);
        else if (d->type == OPT_BOOL)
            guard_fmt_stderr("  %s: 0 or 1; default %d, now %d: %s\n", d->key,
                             *(const int *)default_of(d), *(const int *)d->target, d->help);
        else
            guard_fmt_stderr("  %s: %ld..%ld; default %d, now %d: %s\n", d->key, d->min, d->max,
                             *(const int *)default_of(d), *(const int *)d->target, d->help);
    }
}

/* The key of option_table that text starts with, followed by '=', or NULL. */
static const struct opt_desc *key_at(const char *text)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        size_t n = strlen(option_table[i].key);
        if (!strncmp(text, option_table[i].key, n) && text[n] == '=')
            return &option_table[i];
    }
    return NULL;
}

/* Decimal, or hex after 0x: a leading zero is not octal. */
static int parse_number(const char *value, long *out)
{
    char *end;
    int hex = value[0] == '0' && (value[1] == 'x' || value[1] == 'X');
    if (*value == '\0' || (hex && value[2] == '\0'))
        return 0;
    errno = 0;
    long v = strtol(hex ? value + 2 : value, &end, hex ? 16 : 10);
    if (*end != '\0' || errno == ERANGE || (hex && (value[2] == '-' || value[2] == '+')))
        return 0;
    *out = v;
    return 1;
}

static void apply_one(const char *key, size_t key_len, const char *value)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        const struct opt_desc *d = &option_table[i];
        if (strlen(d->key) != key_len || memcmp(d->key, key, key_len) != 0)
            continue;
        if (d->type == OPT_PROFILE)
            return; /* applied before the other items: profile_apply */
        if (d->type == OPT_PATH) {
            if (*value == '\0' || strlen(value) >= sizeof guard_opt.log_dir) {
                guard_fmt_stderr("libguard: warning: GUARD_OPTIONS: bad value for %s "
                             "(empty or too long); keeping '%s'\n", d->key, (char *)d->target);
                return;
            }
            strcpy(d->target, value);
            return;
        }
        long v;
        if (d->type == OPT_BOOL) {
            if (!strcmp(value, "true") || !strcmp(value, "yes"))
                value = "1";
            else if (!strcmp(value, "false") || !strcmp(value, "no"))
                value = "0";
        }
        if (!parse_number(value, &v) || v < d->min || v > d->max) {
            if (d->type == OPT_BOOL)
                guard_fmt_stderr("libguard: warning: GUARD_OPTIONS: bad value '%s' for %s "
                                 "(expected 0 or 1, true or false, yes or no); keeping the "
                                 "default\n", value, d->key);
            else
                guard_fmt_stderr("libguard: warning: GUARD_OPTIONS: bad value '%s' for %s "
                                 "(expected %ld..%ld); keeping the default\n",
                                 value, d->key, d->min, d->max);
            return;
        }
        if (d->type == OPT_UINT)
            *(unsigned *)d->target = (unsigned)v;
        else
            *(int *)d->target = (int)v;
        return;
    }
    char name[64];
    size_t n = key_len < sizeof name - 1 ? key_len : sizeof name - 1;
    memcpy(name, key, n);
    name[n] = '\0';
    guard_fmt_stderr("libguard: warning: GUARD_OPTIONS: unknown key '%s' (ignored; "
                 "see docs/options.md)\n", name);
}

/* key=value, where a ',' followed by a known key and '=' is taken for
 * the separator it was meant to be (ASan's options accept it), with a
 * warning that names the separator this one reads. */
static void apply_item(char *item)
{
    char *eq = strchr(item, '=');
    if (!eq) {
        guard_fmt_stderr("libguard: warning: GUARD_OPTIONS: '%s' is not key=value (ignored)\n",
                         item);
        return;
    }
    for (char *comma = strchr(eq + 1, ','); comma; comma = strchr(comma + 1, ',')) {
        if (!key_at(comma + 1))
            continue;
        *comma = '\0';
        guard_fmt_stderr("libguard: warning: GUARD_OPTIONS: ',' before '%s=' read as a separator; "
                         "the separator is ':' (key=value:key=value)\n", key_at(comma + 1)->key);
        apply_one(item, (size_t)(eq - item), eq + 1);
        apply_item(comma + 1);
        return;
    }
    apply_one(item, (size_t)(eq - item), eq + 1);
}

void guard_options_parse(const char *text)
{
    char item[1024];
    profile_apply(text);
    const char *p = text;
    while (p && *p) {
        const char *sep = strchr(p, ':');
        size_t len = sep ? (size_t)(sep - p) : strlen(p);
        if (len > 0) {
            if (len >= sizeof item) {
                const char *eq = memchr(p, '=', len);
                size_t klen = eq ? (size_t)(eq - p) : len;
                char key[64];
                memcpy(key, p, klen < sizeof key - 1 ? klen : sizeof key - 1);
                key[klen < sizeof key - 1 ? klen : sizeof key - 1] = '\0';
                guard_fmt_stderr("libguard: warning: GUARD_OPTIONS: the value of %s is too long "
                                 "(%zu bytes), ignored\n", key, len);
            } else {
                memcpy(item, p, len);
                item[len] = '\0';
                apply_item(item);
            }
        }
        p = sep ? sep + 1 : NULL;
    }
    if (guard_opt.help)
        print_help();
}
