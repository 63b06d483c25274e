# libguard — build, test, demo, install.  See README.md.
#
#   make           build/libguard.so, build/guard-analyze, test programs
#   make check     the whole test suite (also an ASan+UBSan analyzer)
#   make demo      run a buggy program under the shim and show the report
#   make bench     the benchmarks in bench/ (numbers: docs/performance.md)
#   make install   PREFIX=/usr/local DESTDIR=

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

WARN     = -Wall -Wextra -Werror
BASEFLAGS = -std=gnu11 -g -O2 $(WARN) -Icommon -Iinclude
# initial-exec TLS: the shim's thread-locals must never call into the
# dynamic loader (which may allocate or lock) from a hook or signal handler.
SHIM_CFLAGS = $(BASEFLAGS) -fPIC -fvisibility=hidden -ftls-model=initial-exec \
              -fno-omit-frame-pointer $(shell pkg-config --cflags libunwind 2>/dev/null)
# libunwind is dlopen'ed when first needed (preload/stack.c says why), so
# it is not linked; its headers are still used.
SHIM_LIBS   = -ldl -lpthread
ANA_CFLAGS  = $(BASEFLAGS) $(shell pkg-config --cflags libdw jansson 2>/dev/null)
ANA_LIBS    = -ldw -lelf -ljansson -lcapstone
ASAN_FLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
PROG_CFLAGS = -std=gnu11 -g -O1 -fno-omit-frame-pointer $(WARN) -Iinclude -pthread

SHIM_SRC = $(wildcard preload/*.c)
ANA_SRC  = $(wildcard analyzer/*.c)
PROG_SRC = $(wildcard testprogs/*.c)
BENCH_SRC = $(wildcard bench/*.c)
PROGS    = $(patsubst testprogs/%.c,$(BUILD)/testprogs/%,$(filter-out testprogs/lib%.c,$(PROG_SRC)))
TESTLIBS = $(patsubst testprogs/%.c,$(BUILD)/testprogs/%.so,$(filter testprogs/lib%.c,$(PROG_SRC)))
BENCHES  = $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))
HEADERS  = $(wildcard common/*.h include/*.h)

.PHONY: all deps check demo bench install clean analyzer-asan
all: $(BUILD)/.deps-ok $(BUILD)/libguard.so $(BUILD)/guard-analyze $(PROGS) $(TESTLIBS)

# Install the Debian build dependencies when any is missing (root: apt-get,
# otherwise sudo).  The stamp keeps this from running on every build.
deps $(BUILD)/.deps-ok: scripts/install-deps.sh
	@mkdir -p $(BUILD)
	@sh scripts/install-deps.sh
	@touch $(BUILD)/.deps-ok

$(BUILD)/preload/%.o: preload/%.c $(HEADERS) $(wildcard preload/*.h) | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -c $< -o $@

# libgcc's unwinder is linked in from libgcc_eh.a (walk.c says why), its
# symbols local; -z noseparate-code puts the headers, code and read-only
# data in one mapping instead of three.  Each mapping of ours is one more
# that every fork of the program copies (docs/performance.md).  -z norelro
# likewise: a RELRO page is a mapping of its own (with a page written by
# the relocations), and the writable segment becomes one mapping at the
# first fork (preload/segments.c), which a read-only part would split.
# RELRO would guard little here: the shim keeps the real functions it
# calls (dlsym's answers) in writable memory anyway (docs/design.md).
LIBGCC_EH := $(shell $(CC) -print-file-name=libgcc_eh.a)
$(BUILD)/libguard.so: $(patsubst preload/%.c,$(BUILD)/preload/%.o,$(SHIM_SRC))
	$(CC) -shared -Wl,-z,defs -Wl,-z,noseparate-code -Wl,-z,norelro -Wl,--version-script=preload/exports.map \
	    -o $@ $^ $(SHIM_LIBS) $(LIBGCC_EH)

$(BUILD)/analyzer/%.o: analyzer/%.c $(HEADERS) $(wildcard analyzer/*.h) | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ANA_CFLAGS) -c $< -o $@

$(BUILD)/guard-analyze: $(patsubst analyzer/%.c,$(BUILD)/analyzer/%.o,$(ANA_SRC))
	$(CC) -o $@ $^ $(ANA_LIBS)

# The analyzer reads untrusted logs from the field: the test suite runs a
# sanitizer build of it over every log it produces.
analyzer-asan: $(BUILD)/guard-analyze-asan
$(BUILD)/guard-analyze-asan: $(ANA_SRC) $(HEADERS) $(wildcard analyzer/*.h) | $(BUILD)/.deps-ok
	$(CC) $(ANA_CFLAGS) -O1 $(ASAN_FLAGS) -o $@ $(ANA_SRC) $(ANA_LIBS)

$(BUILD)/testprogs/%: testprogs/%.c include/guard.h $(wildcard testprogs/*.h) | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -o $@ $< -ldl

# Static test programs (inspect's checks): the name says so.
$(BUILD)/testprogs/nss_static: testprogs/nss_static.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	@# ld warns that static getpwuid_r needs the shared NSS libraries at run
	@# time: that is the very hazard this program exists to show.
	$(CC) $(PROG_CFLAGS) -static -o $@ $< 2>$@.ldwarn || (cat $@.ldwarn; false)

$(BUILD)/testprogs/plain_static: testprogs/plain_static.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -static -o $@ $<

$(BUILD)/testprogs/%.so: testprogs/%.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(PROG_CFLAGS) -fPIC -shared -o $@ $<

$(BUILD)/bench/%: bench/%.c include/guard.h | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g $(WARN) -Iinclude -Icommon -pthread -o $@ $< -ldl

check: all $(BUILD)/guard-analyze-asan
	@sh scripts/install-test-tools.sh $(BUILD)
	@python3 tests/run_tests.py --build $(BUILD)

demo: all
	@sh scripts/demo.sh $(BUILD)

# The floor of spawn_bench: an LD_PRELOAD library that does nothing.
$(BUILD)/bench/libempty_preload.so: bench/preload/empty_preload.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 $(WARN) -fPIC -shared -o $@ $<

bench: $(BUILD)/libguard.so $(BENCHES) $(BUILD)/bench/libempty_preload.so
	@sh bench/run.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin \
	           $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 0755 $(BUILD)/libguard.so $(DESTDIR)$(PREFIX)/lib/libguard.so
	install -m 0755 $(BUILD)/guard-analyze $(DESTDIR)$(PREFIX)/bin/guard-analyze
	sed -e 's|@LIBGUARD@|$(PREFIX)/lib/libguard.so|' -e 's|@ANALYZER@|$(PREFIX)/bin/guard-analyze|' \
	    run-with-guard.sh > $(DESTDIR)$(PREFIX)/bin/run-with-guard
	chmod 0755 $(DESTDIR)$(PREFIX)/bin/run-with-guard
	install -m 0644 include/guard.h $(DESTDIR)$(PREFIX)/include/guard.h
	sed -e 's|@PREFIX@|$(PREFIX)|' libguard.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libguard.pc

clean:
	rm -rf $(BUILD)
