/*
 * test_options.c — GUARD_OPTIONS (preload/options.c): guard_options_defaults,
 * guard_options_parse and the global guard_opt.
 *
 * The contract (options.c's header, docs/options.md): items key=value
 * separated by ':'; booleans 0/1/true/false/yes/no; numbers decimal or 0x
 * hex within each key's range; every unknown key, bad value and item
 * without '=' gets one warning line on stderr naming it, and the default
 * stays in force; nothing else changes.  Warnings are captured from fd 2.
 *
 * links: options.o fmt.o
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stddef.h>

#include "unit.h"

#include "guard_internal.h"

enum kind { BOOL, UINT, INT, PATH, PROFILE };

/* Every key, as docs/options.md gives it: its field, its range and its
 * default (the expected values are written out here, not read from the
 * code under test). */
static const struct key {
    const char *name;
    enum kind kind;
    size_t off;
    long min, max, def;
    const char *def_path;
} keys[] = {
    {"log_dir", PATH, offsetof(struct guard_options, log_dir), 0, 0, 0, "."},
    {"suppressions", PATH, offsetof(struct guard_options, suppressions), 0, 0, 0, ""},
    {"report_path", PATH, offsetof(struct guard_options, report_path), 0, 0, 0, ""},
    {"halt_on_error", BOOL, offsetof(struct guard_options, halt_on_error), 0, 1, 0, NULL},
    {"verbosity", INT, offsetof(struct guard_options, verbosity), 0, 3, 1, NULL},
    {"max_frames", UINT, offsetof(struct guard_options, max_frames), 1, 256, 32, NULL},
    {"pool_poison", BOOL, offsetof(struct guard_options, pool_poison), 0, 1, 1, NULL},
    {"pool_protect", BOOL, offsetof(struct guard_options, pool_protect), 0, 1, 1, NULL},
    {"max_protected", UINT, offsetof(struct guard_options, max_protected), 0, 1000000, 8192, NULL},
    {"pool_protect_young", UINT, offsetof(struct guard_options, pool_protect_young), 0, 1 << 30, 1000, NULL},
    {"pool_protect_sample", UINT, offsetof(struct guard_options, pool_protect_sample), 0, 1 << 30, 256, NULL},
    {"pool_max_objects", UINT, offsetof(struct guard_options, pool_max_objects), 0, 1 << 30, 0, NULL},
    {"report_stderr", BOOL, offsetof(struct guard_options, report_stderr), 0, 1, 1, NULL},
    {"log", BOOL, offsetof(struct guard_options, log), 0, 1, 1, NULL},
    {"log_always", BOOL, offsetof(struct guard_options, log_always), 0, 1, 0, NULL},
    {"log_chunk_kb", UINT, offsetof(struct guard_options, log_chunk_kb), 64, 1048576, 256, NULL},
    {"log_ring_kb", UINT, offsetof(struct guard_options, log_ring_kb), 0, 1 << 20, 0, NULL},
    {"log_max_mb", UINT, offsetof(struct guard_options, log_max_mb), 0, 1 << 20, 0, NULL},
    {"keep_logs", UINT, offsetof(struct guard_options, keep_logs), 0, 1000, 0, NULL},
    {"profile", PROFILE, offsetof(struct guard_options, profile), 0, 0, 0, "test"},
    {"follow_exec", BOOL, offsetof(struct guard_options, follow_exec), 0, 1, 1, NULL},
    {"vdso_min_headroom", UINT, offsetof(struct guard_options, vdso_min_headroom), 0, 1 << 20, 4352, NULL},
    {"vdso_measure", BOOL, offsetof(struct guard_options, vdso_measure), 0, 1, 1, NULL},
    {"crash_handler", BOOL, offsetof(struct guard_options, crash_handler), 0, 1, 1, NULL},
    {"crash_wait_ms", UINT, offsetof(struct guard_options, crash_wait_ms), 0, 10000, 500, NULL},
    {"crash_events", UINT, offsetof(struct guard_options, crash_events), 0, 4096, 16, NULL},
    {"fork_fast", BOOL, offsetof(struct guard_options, fork_fast), 0, 1, 1, NULL},
    {"symbolize", BOOL, offsetof(struct guard_options, symbolize), 0, 1, 1, NULL},
    {"symbolizer", PATH, offsetof(struct guard_options, symbolizer), 0, 0, 0, ""},
    {"symbolize_timeout_ms", UINT, offsetof(struct guard_options, symbolize_timeout_ms), 1, 60000, 3000, NULL},
    {"help", BOOL, offsetof(struct guard_options, help), 0, 1, 0, NULL},
};
#define NKEYS (sizeof keys / sizeof keys[0])

static const struct key *key_named(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].name, name))
            return &keys[i];
    return NULL;
}

static long value_of(const struct key *k)
{
    const char *p = (const char *)&guard_opt + k->off;
    return k->kind == UINT ? (long)*(const unsigned *)p : (long)*(const int *)p;
}

static const char *path_of(const struct key *k)
{
    return (const char *)&guard_opt + k->off;
}

/* The first key whose value is not its default (NULL: all are), except
 * the one named `except`. */
static const char *changed_key(const char *except)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        if (except && !strcmp(k->name, except))
            continue;
        if (k->kind == PATH || k->kind == PROFILE ? strcmp(path_of(k), k->def_path) != 0
                                                  : value_of(k) != k->def)
            return k->name;
    }
    return NULL;
}

/* guard_options_parse from the defaults, its warnings captured. */
static const char *parse(const char *text)
{
    const char *at_edge = edge_str(0, text); /* a read past its NUL faults */
    guard_options_defaults();
    capture_begin();
    if (PROBE_BEGIN()) {
        guard_options_parse(at_edge);
        PROBE_END();
    } else {
        capture_end(NULL);
        CHECK(0, "GUARD_OPTIONS '%.80s': SIGSEGV (read past its end?)", text);
        return "(crashed)";
    }
    return capture_end(NULL);
}

/* Exactly one warning line, naming `name`. */
static int one_warning_naming(const char *w, const char *name)
{
    return count_lines(w) == 1 && count_lines_with(w, "warning") == 1 && count_lines_with(w, name) == 1;
}

static void test_defaults(void)
{
    /* whatever was there before */
    memset(&guard_opt, 0xA5, sizeof guard_opt);
    guard_options_defaults();
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        if (k->kind == PATH || k->kind == PROFILE)
            CHECK(!strcmp(path_of(k), k->def_path), "default of %s is '%.40s', want '%s'", k->name,
                  path_of(k), k->def_path);
        else
            CHECK(value_of(k) == k->def, "default of %s is %ld, want %ld", k->name, value_of(k), k->def);
    }
    /* every field of struct guard_options is a key of this table */
    size_t covered = 0;
    for (size_t i = 0; i < NKEYS; i++)
        covered += keys[i].kind == PATH      ? sizeof guard_opt.log_dir
                   : keys[i].kind == PROFILE ? sizeof guard_opt.profile
                                             : sizeof(int);
    CHECK(covered == sizeof guard_opt, "struct guard_options has fields the test does not know (%zu of %zu bytes)",
          covered, sizeof guard_opt);

    const char *w = parse("");
    CHECK(*w == '\0' && !changed_key(NULL), "an empty GUARD_OPTIONS: warned '%s' or changed %s", w,
          changed_key(NULL));
    guard_options_defaults();
    capture_begin();
    guard_options_parse(NULL);
    w = capture_end(NULL);
    CHECK(*w == '\0' && !changed_key(NULL), "a NULL GUARD_OPTIONS: warned '%s' or changed %s", w,
          changed_key(NULL));
}

/* A good value: set, no warning, nothing else changed. */
static void expect_set(int line, const char *key, const char *value, long want)
{
    char item[2048];
    snprintf(item, sizeof item, "%s=%s", key, value);
    const char *w = parse(item);
    const struct key *k = key_named(key);
    const char *other = changed_key(key);
    if (*w == '\0' && value_of(k) == want && !other)
        unit_passed++;
    else
        unit_failed++, unit_fail_line("FAIL ", __FILE__, line, "'%s': value %ld (want %ld), warned '%s', changed %s",
                                      item, value_of(k), want, w, other ? other : "nothing else");
}

/* A bad value: one warning line naming the key, and no change at all. */
static void expect_rejected(int line, const char *key, const char *value)
{
    char item[2048];
    snprintf(item, sizeof item, "%s=%s", key, value);
    const char *w = parse(item);
    const char *changed = changed_key(NULL);
    char shown[100];
    snprintf(shown, sizeof shown, "%.90s", item);
    if (one_warning_naming(w, key) && !changed)
        unit_passed++;
    else
        unit_failed++, unit_fail_line("FAIL ", __FILE__, line, "'%s': warned '%s' (want one line naming %s), changed %s",
                                      shown, w, key, changed ? changed : "nothing");
}

static void test_bools(void)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        if (k->kind != BOOL || !strcmp(k->name, "help"))
            continue;
        expect_set(__LINE__, k->name, "1", 1);
        expect_set(__LINE__, k->name, "0", 0);
        expect_set(__LINE__, k->name, "true", 1);
        expect_set(__LINE__, k->name, "yes", 1);
        expect_set(__LINE__, k->name, "false", 0);
        expect_set(__LINE__, k->name, "no", 0);
        expect_rejected(__LINE__, k->name, "2");
        expect_rejected(__LINE__, k->name, "-1");
        expect_rejected(__LINE__, k->name, "");
        expect_rejected(__LINE__, k->name, "maybe");
        expect_rejected(__LINE__, k->name, "yess");
        expect_rejected(__LINE__, k->name, "1x");
    }
}

static void test_numbers(void)
{
    char v[64];
    for (size_t i = 0; i < NKEYS; i++) {
        const struct key *k = &keys[i];
        if (k->kind != UINT && k->kind != INT)
            continue;
        snprintf(v, sizeof v, "%ld", k->min);
        expect_set(__LINE__, k->name, v, k->min);
        snprintf(v, sizeof v, "%ld", k->max);
        expect_set(__LINE__, k->name, v, k->max);
        snprintf(v, sizeof v, "%ld", (k->min + k->max) / 2);
        expect_set(__LINE__, k->name, v, (k->min + k->max) / 2);
        snprintf(v, sizeof v, "0x%lx", k->max);
        expect_set(__LINE__, k->name, v, k->max);
        snprintf(v, sizeof v, "0X%lX", k->min);
        expect_set(__LINE__, k->name, v, k->min);
        snprintf(v, sizeof v, "%ld", k->min - 1);
        expect_rejected(__LINE__, k->name, v);
        snprintf(v, sizeof v, "%ld", k->max + 1);
        expect_rejected(__LINE__, k->name, v);
        snprintf(v, sizeof v, "0x%lx", k->max + 1);
        expect_rejected(__LINE__, k->name, v);
        expect_rejected(__LINE__, k->name, "");
        expect_rejected(__LINE__, k->name, "abc");
        expect_rejected(__LINE__, k->name, "12abc");
        expect_rejected(__LINE__, k->name, "1.5");
        expect_rejected(__LINE__, k->name, "0x");
        expect_rejected(__LINE__, k->name, "true"); /* words are for booleans */
        /* values that wrap when stored in 32 bits must not slip in */
        expect_rejected(__LINE__, k->name, "4294967296");         /* 2^32: 0 as unsigned */
        snprintf(v, sizeof v, "%ld", 4294967296L + k->min + 1);   /* 2^32 + a value in range */
        expect_rejected(__LINE__, k->name, v);
        expect_rejected(__LINE__, k->name, "-4294967295");        /* 1 as unsigned */
        expect_rejected(__LINE__, k->name, "99999999999999999999999999");  /* past LONG_MAX */
        expect_rejected(__LINE__, k->name, "-99999999999999999999999999"); /* past LONG_MIN */
    }

    /* numbers are decimal or 0x hex (docs/options.md): a leading zero is
     * not octal */
    const char *w = parse("max_frames=010");
    unsigned got010 = guard_opt.max_frames;
    const char *w010 = *w ? "a warning" : "no warning";
    w = parse("max_frames=09");
    unsigned got09 = guard_opt.max_frames;
    CHECK(got010 == 10 && got09 == 9 && *w == '\0',
          "numbers with a leading zero are read as octal (strtol base 0), not decimal as docs/options.md says: "
          "'max_frames=010' sets %u (%s), 'max_frames=09' is %s (max_frames %u)",
          got010, w010, *w ? "rejected with a warning" : "accepted", got09);
}

static void test_paths(void)
{
    const char *w;
    const struct key *log_dir = key_named("log_dir"), *supp = key_named("suppressions");

    w = parse("log_dir=/tmp/guard-logs");
    CHECK(*w == '\0' && !strcmp(path_of(log_dir), "/tmp/guard-logs") && !changed_key("log_dir"),
          "log_dir=/tmp/guard-logs: '%s', warned '%s'", path_of(log_dir), w);
    w = parse("suppressions=/etc/guard.supp");
    CHECK(*w == '\0' && !strcmp(path_of(supp), "/etc/guard.supp") && !changed_key("suppressions"),
          "suppressions=/etc/guard.supp: '%s', warned '%s'", path_of(supp), w);
    w = parse("log_dir=/tmp/a=b");
    CHECK(*w == '\0' && !strcmp(path_of(log_dir), "/tmp/a=b"), "a path with '=': '%s'", path_of(log_dir));
    w = parse("log_dir=.:log_dir=/x");
    CHECK(*w == '\0' && !strcmp(path_of(log_dir), "/x"), "the later item wins: '%s'", path_of(log_dir));

    expect_rejected(__LINE__, "log_dir", "");
    expect_rejected(__LINE__, "suppressions", "");

    /* the longest that fits (511 bytes and a NUL), and one more */
    char v[2048];
    memset(v, 'd', 511);
    v[511] = '\0';
    {
        char item[2100];
        snprintf(item, sizeof item, "log_dir=%s", v);
        w = parse(item);
        CHECK(*w == '\0' && strlen(path_of(log_dir)) == 511 && !changed_key("log_dir"),
              "a 511-byte log_dir: %zu bytes kept, warned '%.80s', changed %s", strlen(path_of(log_dir)), w,
              changed_key("log_dir"));
        snprintf(item, sizeof item, "suppressions=%s", v);
        w = parse(item);
        CHECK(*w == '\0' && strlen(path_of(supp)) == 511 && !changed_key("suppressions"),
              "a 511-byte suppressions: %zu bytes kept, warned '%.80s', changed %s", strlen(path_of(supp)), w,
              changed_key("suppressions"));
    }
    memset(v, 'e', 512);
    v[512] = '\0';
    expect_rejected(__LINE__, "log_dir", v);
    expect_rejected(__LINE__, "suppressions", v);
    /* the longest item the parser takes whole (1023 bytes) */
    memset(v, 'f', 1023 - strlen("log_dir="));
    v[1023 - strlen("log_dir=")] = '\0';
    expect_rejected(__LINE__, "log_dir", v);

    /* an item too long for the parser's buffer: still ignored with one
     * warning, which should name the key like every other */
    memset(v, 'g', 1500);
    v[1500] = '\0';
    char item[2100];
    snprintf(item, sizeof item, "log_dir=%s", v);
    w = parse(item);
    CHECK(count_lines(w) == 1 && count_lines_with(w, "warning") == 1 && !changed_key(NULL),
          "a 1508-byte item: warned '%s', changed %s", w, changed_key(NULL));
    /* at the edge: an item of exactly 1024 bytes is too long as well,
     * whatever it says (here a number the parser would take: strtol skips
     * the blanks) */
    char edge_item[1100];
    strcpy(edge_item, "max_frames=");
    memset(edge_item + 11, ' ', 1024 - 11 - 2);
    strcpy(edge_item + 1024 - 2, "64");
    CHECK(strlen(edge_item) == 1024, "test setup: %zu", strlen(edge_item));
    w = parse(edge_item);
    CHECK(count_lines(w) == 1 && count_lines_with(w, "warning") == 1 && !changed_key(NULL),
          "a 1024-byte item 'max_frames=<1011 blanks>64': warned '%s', changed %s (max_frames %u)", w,
          changed_key(NULL), guard_opt.max_frames);
    w = parse(item); /* the 1508-byte one again, for the check below */
    CHECK(count_lines_with(w, "log_dir") == 1,
          "an item of 1024 bytes or more ('log_dir=' and 1500 x 'g') is refused with 'item too long, ignored', "
          "which does not name the key (log_dir)");
}

static void test_items(void)
{
    const char *w;

    /* unknown keys: one warning naming each, nothing changed */
    expect_rejected(__LINE__, "no_such_key", "1");
    expect_rejected(__LINE__, "halt_on_eror", "1"); /* the example of docs/options.md */
    expect_rejected(__LINE__, "log_di", "x");       /* a prefix of a key */
    expect_rejected(__LINE__, "log_dirx", "x");     /* a key and more */
    expect_rejected(__LINE__, "LOG_DIR", "x");      /* keys are lower case */
    w = parse("=5");
    CHECK(count_lines(w) == 1 && count_lines_with(w, "warning") && !changed_key(NULL),
          "'=5' (no key): warned '%s', changed %s", w, changed_key(NULL));
    char longkey[400];
    memset(longkey, 'k', 300);
    strcpy(longkey + 300, "=1");
    w = parse(longkey);
    CHECK(count_lines(w) == 1 && count_lines_with(w, "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk") && !changed_key(NULL),
          "a 300-byte unknown key: warned '%.100s', changed %s", w, changed_key(NULL));

    /* an item without '=' */
    w = parse("halt_on_error");
    CHECK(one_warning_naming(w, "halt_on_error") && !changed_key(NULL),
          "'halt_on_error' without '=': warned '%s', changed %s", w, changed_key(NULL));
    w = parse("verbosity=2:garbage:max_frames=64");
    CHECK(one_warning_naming(w, "garbage") && guard_opt.verbosity == 2 && guard_opt.max_frames == 64,
          "an item without '=' among good ones: warned '%s', verbosity %d, max_frames %u", w,
          guard_opt.verbosity, guard_opt.max_frames);

    /* empty items and a trailing ':' */
    static const char *const empties[] = {":", "::", ":::::", "halt_on_error=1::verbosity=2:",
                                          ":halt_on_error=1:verbosity=2", "halt_on_error=1:::verbosity=2::"};
    for (unsigned i = 0; i < sizeof empties / sizeof empties[0]; i++) {
        w = parse(empties[i]);
        int set = strchr(empties[i], '=') != NULL;
        int halt = guard_opt.halt_on_error, verb = guard_opt.verbosity;
        guard_opt.halt_on_error = 0; /* back to the defaults: is anything else changed? */
        guard_opt.verbosity = 1;
        CHECK(*w == '\0' && (!set || (halt == 1 && verb == 2)) && !changed_key(NULL),
              "'%s': warned '%s', halt_on_error %d, verbosity %d, changed %s", empties[i], w, halt, verb,
              changed_key(NULL));
    }

    /* several items: each applied; a bad one among them warned about and
     * skipped, the others kept */
    w = parse("log_dir=/l:halt_on_error=yes:verbosity=0x3:max_frames=0x100:crash_wait_ms=0:follow_exec=false");
    CHECK(*w == '\0' && !strcmp(guard_opt.log_dir, "/l") && guard_opt.halt_on_error == 1 &&
              guard_opt.verbosity == 3 && guard_opt.max_frames == 256 && guard_opt.crash_wait_ms == 0 &&
              guard_opt.follow_exec == 0,
          "six items: warned '%s'", w);
    w = parse("verbosity=2:max_frames=zero:crash_events=7");
    CHECK(one_warning_naming(w, "max_frames") && guard_opt.verbosity == 2 && guard_opt.crash_events == 7 &&
              guard_opt.max_frames == 32,
          "a bad value among good ones: warned '%s'", w);
    w = parse("verbosity=2:verbosity=3");
    CHECK(*w == '\0' && guard_opt.verbosity == 3, "the later item wins: verbosity %d", guard_opt.verbosity);

    /* a very long GUARD_OPTIONS of many items */
    size_t n = 20000;
    char *many = malloc(n * 24 + 1), *m = many;
    for (size_t i = 0; i < n; i++)
        m += sprintf(m, "crash_events=%zu:", i % 4000);
    w = parse(many);
    CHECK(*w == '\0' && guard_opt.crash_events == (n - 1) % 4000, "20000 items: crash_events %u, warned '%.80s'",
          guard_opt.crash_events, w);
    free(many);
}

static void test_commas_and_booleans(void)
{
    /* a ',' before a known key was meant as the separator: read so, and said once per comma */
    const char *w = parse("log_dir=/tmp/x,verbosity=2,halt_on_error=1");
    CHECK(!strcmp(guard_opt.log_dir, "/tmp/x") && guard_opt.verbosity == 2 && guard_opt.halt_on_error == 1,
          "commas: log_dir '%s' verbosity %d halt %d", guard_opt.log_dir, guard_opt.verbosity,
          guard_opt.halt_on_error);
    CHECK(count_lines_with(w, "separator is ':'") == 2, "commas: two warnings wanted: '%.300s'", w);
    guard_options_defaults();
    /* a ',' in a path, not before a key, is the path's */
    w = parse("log_dir=/tmp/a,b");
    CHECK(!strcmp(guard_opt.log_dir, "/tmp/a,b") && *w == '\0', "a path with a comma: '%s' '%.80s'",
          guard_opt.log_dir, w);
    guard_options_defaults();
    /* a bad boolean names what is accepted */
    w = parse("pool_protect=on");
    CHECK(one_warning_naming(w, "pool_protect") && strstr(w, "0 or 1, true or false, yes or no"),
          "bad boolean: '%.200s'", w);
    CHECK(guard_opt.pool_protect == 1, "bad boolean changed the value");
    guard_options_defaults();
}

static void test_help(void)
{
    const char *w = parse("help=1:max_frames=77:log_dir=/h");
    CHECK(guard_opt.help == 1, "help=1 not set");
    CHECK(count_lines_with(w, "GUARD_OPTIONS") >= 1, "help=1: no header line: %.200s", w);
    CHECK(count_lines(w) == NKEYS + 1, "help=1: %u lines, want %zu (a header and a line a key)", count_lines(w),
          NKEYS + 1);
    for (size_t i = 0; i < NKEYS; i++) {
        char start[64];
        snprintf(start, sizeof start, "\n  %s: ", keys[i].name);
        CHECK(strstr(w, start) != NULL, "help=1 does not list %s", keys[i].name);
        char want[128];
        if (keys[i].kind == BOOL)
            snprintf(want, sizeof want, "\n  %s: 0 or 1; default %ld, now ", keys[i].name, keys[i].def);
        else if (keys[i].kind == PATH)
            snprintf(want, sizeof want, "\n  %s: a path; default '%s', now ", keys[i].name, keys[i].def_path);
        else if (keys[i].kind == PROFILE)
            snprintf(want, sizeof want, "\n  %s: test or field; default '%s', now ", keys[i].name,
                     keys[i].def_path);
        else
            snprintf(want, sizeof want, "\n  %s: %ld..%ld; default %ld, now ", keys[i].name, keys[i].min,
                     keys[i].max, keys[i].def);
        CHECK(strstr(w, want) != NULL, "help=1: %s not shown as '%s'", keys[i].name, want + 3);
    }
    CHECK(strstr(w, "\n  max_frames: 1..256; default 32, now 77: ") != NULL, "help=1: max_frames now 77");
    CHECK(strstr(w, "\n  log_dir: a path; default '.', now '/h': ") != NULL, "help=1: log_dir's value");
    CHECK(count_lines_with(w, "warning") == 0, "help=1 warned: %.200s", w);

    w = parse("help=yes");
    CHECK(count_lines(w) == NKEYS + 1, "help=yes: %u lines", count_lines(w));
    w = parse("help=0");
    CHECK(*w == '\0', "help=0 printed '%.80s'", w);
    w = parse("help=2");
    CHECK(one_warning_naming(w, "help") && guard_opt.help == 0, "help=2: '%.200s'", w);
    guard_options_defaults();
}

/* profile=field: a preset that explicit keys override wherever they
 * stand; preset keys this build lacks are skipped without a warning. */
static void test_profile(void)
{
    const char *orders[] = {"profile=field:log_ring_kb=5:pool_protect=0",
                            "log_ring_kb=5:pool_protect=0:profile=field",
                            "log_ring_kb=5,profile=field:pool_protect=0"};
    for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++) {
        const char *w = parse(orders[i]);
        CHECK(!strcmp(guard_opt.profile, "field") && guard_opt.log_ring_kb == 5 &&
                  guard_opt.pool_protect == 0 && guard_opt.keep_logs == 10 &&
                  guard_opt.log_max_mb == 64 && guard_opt.pool_poison == 1,
              "'%s': profile %s ring %u protect %d keep %u max %u", orders[i], guard_opt.profile,
              guard_opt.log_ring_kb, guard_opt.pool_protect, guard_opt.keep_logs, guard_opt.log_max_mb);
        CHECK(count_lines_with(w, "unknown key") == 0 && (i == 2 || *w == '\0'),
              "'%s' warned '%.200s'", orders[i], w);
    }
    const char *w = parse("profile=test");
    CHECK(*w == '\0' && !changed_key(NULL), "profile=test: warned '%s' or changed %s", w,
          changed_key(NULL));
    w = parse("profile=fieldx");
    CHECK(one_warning_naming(w, "profile") && !changed_key(NULL), "profile=fieldx: '%.200s'", w);
    guard_options_defaults();
}

int main(void)
{
    unit_name = "test_options";
    alarm(60); /* a hang is a failure */
    test_defaults();
    test_bools();
    test_numbers();
    test_paths();
    test_items();
    test_commas_and_booleans();
    test_help();
    test_profile();
    alarm(0);
    return unit_finish();
}
