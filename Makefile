# libguard — build, test, demo, install.  See README.md.
#
#   make           build/libguard.so, build/guard-analyze, test programs
#                  (never installs anything: names `make deps` when a
#                  Debian package is missing)
#   make deps      install the Debian build dependencies (apt-get as root,
#                  sudo otherwise)
#   make check     deps, then the whole test suite (also an ASan+UBSan
#                  analyzer)
#   make demo      deps, then a buggy program under the shim and its report
#   make bench     the benchmarks in bench/ (numbers: docs/performance.md)
#   make install   PREFIX=/usr/local DESTDIR=

VERSION := 0.1.0
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
CC      ?= cc

# The shim is x86-64 Linux code (inline system calls, signal-context
# registers, vDSO prologue decoding): stop at once anywhere else.
TARGET := $(shell $(CC) -dumpmachine 2>/dev/null)
ifeq ($(filter x86_64-%linux-gnu x86_64-linux-%,$(TARGET)),)
$(error libguard builds for x86-64 Linux only; $(CC) targets '$(TARGET)')
endif

# `make V=1` shows every command; by default a line per file.
Q = $(if $(V),,@)
say = $(if $(V),,@echo "  $(1) $(2)")

WARN     = -Wall -Wextra -Werror
DEPFLAGS = -MMD -MP
BASEFLAGS = -std=gnu11 -g -O2 $(WARN) $(DEPFLAGS) -Icommon -Iinclude
# initial-exec TLS: the shim's thread-locals must never call into the
# dynamic loader (which may allocate or lock) from a hook or signal handler.
SHIM_CFLAGS = $(BASEFLAGS) -fPIC -fvisibility=hidden -ftls-model=initial-exec \
              -fno-omit-frame-pointer $(shell pkg-config --cflags libunwind 2>/dev/null)
# libunwind is dlopen'ed when first needed (preload/stack.c says why), so
# it is not linked; its headers are still used.
SHIM_LIBS   = -ldl -lpthread
ANA_CFLAGS  = $(BASEFLAGS) $(shell pkg-config --cflags libdw jansson 2>/dev/null) -DGUARD_VERSION='"$(VERSION)"'
ANA_LIBS    = -ldw -lelf -ljansson -lcapstone
ASAN_FLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
PROG_CFLAGS = -std=gnu11 -g -O1 -fno-omit-frame-pointer $(WARN) -Iinclude -pthread

# Sources may sit in subfolders (a folder is a room: analyzer/read, ...);
# each folder is on the include path of its own component.
SHIM_SRC = $(sort $(shell find preload -name '*.c'))
ANA_SRC  = $(sort $(shell find analyzer -name '*.c')) common/go_pcln.c
SHIM_INC = $(addprefix -I,$(sort $(shell find preload -type d)))
ANA_INC  = $(addprefix -I,$(sort $(shell find analyzer -type d)))
SHIM_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(SHIM_SRC))
ANA_OBJ  = $(patsubst %.c,$(BUILD)/%.o,$(ANA_SRC))
PROG_SRC = $(wildcard testprogs/*.c)
BENCH_SRC = $(wildcard bench/*.c)
PROGS    = $(patsubst testprogs/%.c,$(BUILD)/testprogs/%,$(filter-out testprogs/lib%.c,$(PROG_SRC)))
TESTLIBS = $(patsubst testprogs/%.c,$(BUILD)/testprogs/%.so,$(filter testprogs/lib%.c,$(PROG_SRC)))
BENCHES  = $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRC))

.PHONY: all deps check demo bench install clean analyzer-asan unit
all: $(BUILD)/libguard.so $(BUILD)/guard-analyze $(PROGS) $(TESTLIBS)

# `make deps` installs the Debian packages the build and the tests need;
# a plain build only checks for them (the stamp keeps that off every
# build) and names `make deps` when one is missing.
deps:
	@sh scripts/install-deps.sh
$(BUILD)/.deps-ok: scripts/install-deps.sh
	@mkdir -p $(BUILD)
	@sh scripts/install-deps.sh --check
	@touch $@

$(BUILD)/preload/%.o: preload/%.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(SHIM_CFLAGS) $(SHIM_INC) -c $< -o $@

# The export list is made from the one list of hooked functions
# (preload/hook_list.h): only the API and the hooks leave libguard.so.
$(BUILD)/exports.map: preload/hook_list.h scripts/exports-map.sh
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)
	$(Q)sh scripts/exports-map.sh $< > $@

# libgcc's unwinder is linked in from libgcc_eh.a (preload/fork/walk.c says
# why), its symbols local; -z noseparate-code puts the headers, code and
# read-only data in one mapping instead of three (each mapping of ours is
# one more that every fork copies).  Full RELRO: the library is preloaded
# into every process of its user and keeps the hardening they expect.
LIBGCC_EH := $(shell $(CC) -print-file-name=libgcc_eh.a)
$(BUILD)/libguard.so: $(SHIM_OBJ) $(BUILD)/exports.map
	$(call say,LD,$@)
	$(Q)$(CC) -shared -Wl,-z,defs -Wl,-z,noseparate-code -Wl,-z,relro -Wl,-z,now \
	    -Wl,--version-script=$(BUILD)/exports.map -o $@ $(SHIM_OBJ) $(SHIM_LIBS) $(LIBGCC_EH)

$(BUILD)/analyzer/%.o: analyzer/%.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(ANA_CFLAGS) $(ANA_INC) -c $< -o $@

# common/*.c: code the analyzer and the supervisor share (Go's line table)
$(BUILD)/common/%.o: common/%.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(ANA_CFLAGS) -c $< -o $@

$(BUILD)/guard-analyze: $(ANA_OBJ)
	$(call say,LD,$@)
	$(Q)$(CC) -o $@ $^ $(ANA_LIBS)

# The analyzer reads untrusted logs from the field: the test suite runs a
# sanitizer build of it over every log it produces.
ANA_ASAN_OBJ = $(patsubst %.c,$(BUILD)/asan/%.o,$(ANA_SRC))
analyzer-asan: $(BUILD)/guard-analyze-asan
$(BUILD)/asan/analyzer/%.o: analyzer/%.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(ANA_CFLAGS) $(ANA_INC) -O1 $(ASAN_FLAGS) -c $< -o $@
$(BUILD)/asan/common/%.o: common/%.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(ANA_CFLAGS) -O1 $(ASAN_FLAGS) -c $< -o $@
$(BUILD)/guard-analyze-asan: $(ANA_ASAN_OBJ)
	$(call say,LD,$@)
	$(Q)$(CC) $(ASAN_FLAGS) -o $@ $^ $(ANA_LIBS)

$(BUILD)/testprogs/%: testprogs/%.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(PROG_CFLAGS) $(DEPFLAGS) -o $@ $< -ldl

# Static test programs (inspect's checks): the name says so.
$(BUILD)/testprogs/nss_static: testprogs/nss_static.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	@# ld warns that static getpwuid_r needs the shared NSS libraries at run
	@# time: that is the very hazard this program exists to show.
	$(call say,CC,$@)
	$(Q)$(CC) $(PROG_CFLAGS) $(DEPFLAGS) -static -o $@ $< 2>$@.ldwarn || (cat $@.ldwarn; false)

$(BUILD)/testprogs/plain_static: testprogs/plain_static.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(PROG_CFLAGS) $(DEPFLAGS) -static -o $@ $<

$(BUILD)/testprogs/%.so: testprogs/%.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(PROG_CFLAGS) $(DEPFLAGS) -fPIC -shared -o $@ $<

$(BUILD)/bench/%: bench/%.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARN) $(DEPFLAGS) -Iinclude -Icommon -pthread -o $@ $< -ldl

# the supervised mode's floor: guard-supervise's own filter, nothing else
$(BUILD)/bench/supervise_floor: bench/supervise_floor.c $(BUILD)/supervisor/filter.o | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) -std=gnu11 -O2 -g $(WARN) $(DEPFLAGS) -o $@ $< $(BUILD)/supervisor/filter.o

# Unit tests of the shim's own parts (formatter, glob matcher, option
# parser): each links the shim objects it names with the test's stubs.
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNITS    = $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
$(BUILD)/tests/unit/%: tests/unit/%.c $(SHIM_OBJ) | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(BASEFLAGS) $(SHIM_INC) -Itests/unit -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	    -o $@ $< $(filter $(addprefix $(BUILD)/preload/,$(shell sed -n 's/^ *\* *links: *//p' $<)),$(SHIM_OBJ)) $(SHIM_LIBS)
unit: $(UNITS)
	@set -e; for u in $(UNITS); do $$u; done

# The suite runs twice: with the fork subsystem's fast path (the default)
# and with its plain path (fork_fast=0); both must pass.
check: deps
	@$(MAKE) --no-print-directory all analyzer-asan $(UNITS)
	@sh scripts/install-test-tools.sh $(BUILD)
	@$(MAKE) --no-print-directory unit
	@python3 tests/run_tests.py --build $(BUILD)
	@python3 tests/run_tests.py --build $(BUILD) --shim-options fork_fast=0

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh $(BUILD)

# The floor of spawn_bench: an LD_PRELOAD library that does nothing.
$(BUILD)/bench/libempty_preload.so: bench/preload/empty_preload.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) -std=gnu11 -O2 $(WARN) -fPIC -shared -o $@ $<

# The floor of a sampled pool check (pool_threads, docs/performance.md).
$(BUILD)/bench/libpool_sample_floor.so: bench/preload/pool_sample_floor.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) -std=gnu11 -O2 $(WARN) -fPIC -shared -o $@ $<

# The floor of poisoning every put (pool_threads, docs/performance.md).
$(BUILD)/bench/libpool_poison_floor.so: bench/preload/pool_poison_floor.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) -std=gnu11 -O2 $(WARN) -fPIC -shared -o $@ $<

bench: $(BUILD)/libguard.so $(BENCHES) $(BUILD)/bench/libempty_preload.so \
       $(BUILD)/bench/libpool_sample_floor.so $(BUILD)/bench/libpool_poison_floor.so
	@sh bench/run.sh $(BUILD)

# pool_threads beside the sanitizers: the same program built by clang with
# ASan and with TSan.  Where clang cannot build one, the rule says so and
# the runner leaves that row out (it is a comparison, not a product part).
POOL_THREADS_SAN = $(BUILD)/bench/pool_threads-asan $(BUILD)/bench/pool_threads-tsan
$(BUILD)/bench/pool_threads-asan: bench/pool_threads.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)clang -std=gnu11 -O2 -g -fsanitize=address -Iinclude -Icommon -pthread -o $@ $< -ldl \
	    || echo "pool_threads-asan: clang -fsanitize=address failed; the ASan row is skipped"
$(BUILD)/bench/pool_threads-tsan: bench/pool_threads.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)clang -std=gnu11 -O2 -g -fsanitize=thread -Iinclude -Icommon -pthread -o $@ $< -ldl \
	    || echo "pool_threads-tsan: clang -fsanitize=thread failed; the TSan row is skipped"
bench: $(POOL_THREADS_SAN)

MAN1 = $(wildcard docs/man/*.1)
MAN7 = $(wildcard docs/man/*.7)
DOCS = README.md $(wildcard docs/*.md)
install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin \
	           $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig \
	           $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man7 \
	           $(DESTDIR)$(PREFIX)/share/doc/libguard
	install -m 0755 $(BUILD)/libguard.so $(DESTDIR)$(PREFIX)/lib/libguard.so
	install -m 0755 $(BUILD)/guard-analyze $(DESTDIR)$(PREFIX)/bin/guard-analyze
	sed -e 's|@LIBGUARD@|$(PREFIX)/lib/libguard.so|' -e 's|@ANALYZER@|$(PREFIX)/bin/guard-analyze|' \
	    -e 's|@VERSION@|$(VERSION)|' \
	    run-with-guard.sh > $(DESTDIR)$(PREFIX)/bin/run-with-guard
	chmod 0755 $(DESTDIR)$(PREFIX)/bin/run-with-guard
	install -m 0644 include/guard.h $(DESTDIR)$(PREFIX)/include/guard.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' libguard.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/libguard.pc
	$(if $(MAN1),install -m 0644 $(MAN1) $(DESTDIR)$(PREFIX)/share/man/man1/)
	$(if $(MAN7),install -m 0644 $(MAN7) $(DESTDIR)$(PREFIX)/share/man/man7/)
	install -m 0644 $(DOCS) $(DESTDIR)$(PREFIX)/share/doc/libguard/

clean:
	rm -rf $(BUILD)

# The Go test programs of `inspect` (after `all`, which it extends).
include testprogs/go/inspect.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# ---- guard-supervise: the supervised mode (docs/supervised.md) -----------
# A C program of its own (supervisor/), with the log format and the
# namespace rule of common/; libdw reads Go binaries' DWARF.  Its Go test
# programs are built by testprogs/go/supervise.mk.
SUP_SRC = $(sort $(wildcard supervisor/*.c))
SUP_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(SUP_SRC)) $(BUILD)/common/go_pcln.o
all: $(BUILD)/guard-supervise
$(BUILD)/supervisor/%.o: supervisor/%.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(BASEFLAGS) $(shell pkg-config --cflags libdw 2>/dev/null) -Isupervisor -c $< -o $@
$(BUILD)/guard-supervise: $(SUP_OBJ)
	$(call say,LD,$@)
	$(Q)$(CC) -o $@ $^ -ldw -lelf
# the crash recorder's test programs: static, so only the supervisor sees them
all: $(BUILD)/testprogs/supervise_crash_static $(BUILD)/testprogs/supervise_fork_signals
$(BUILD)/testprogs/supervise_crash_static $(BUILD)/testprogs/supervise_fork_signals: $(BUILD)/testprogs/%: testprogs/%.c | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(PROG_CFLAGS) $(DEPFLAGS) -static -o $@ $<
install: install-supervise
install-supervise: $(BUILD)/guard-supervise
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/guard-supervise $(DESTDIR)$(PREFIX)/bin/guard-supervise
.PHONY: install-supervise
include testprogs/go/supervise.mk
