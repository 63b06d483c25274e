# testprogs/go/inspect.mk — the Go programs `inspect`'s Go checks are tested
# on (tests/test_inspect_go.py), each built in the variants the tests need.
# Included by the Makefile after `all`, which it extends.
#
# Built with Debian's golang-go (`make deps` installs it) offline: the
# programs use the standard library only, GOPROXY=off forbids the network,
# and the build cache and GOPATH live under $(BUILD)/go so that a clean
# clone builds without touching $HOME.  Without go the programs are
# skipped with a message naming `make deps`; the tests that need them say
# the same.

GO ?= go
GO_HAVE := $(shell command -v $(GO) 2>/dev/null)
GO_INSPECT_DIR := testprogs/go/inspect
GO_INSPECT_OUT := $(BUILD)/testprogs/go/inspect
GO_INSPECT_ENV = GOCACHE=$(abspath $(BUILD))/go/cache GOPATH=$(abspath $(BUILD))/go/path \
    GOFLAGS='-mod=mod -buildvcs=false' GOPROXY=off GOTOOLCHAIN=local GOWORK=off GO111MODULE=on GOTELEMETRY=off
GO_INSPECT_PROGS = go_pure_static go_pure_stripped go_user_cgo go_user_static_cgo go_user_netgo \
    go_cgo_nss_stripped
# -race needs the race runtime for this machine in the toolchain.
GO_RACE_SYSO := $(if $(GO_HAVE),$(wildcard $(shell $(GO_INSPECT_ENV) $(GO) env GOROOT 2>/dev/null)/src/runtime/race/race_linux_amd64.syso))
GO_INSPECT_PROGS += $(if $(GO_RACE_SYSO),go_user_race)
GO_INSPECT_BINS = $(addprefix $(GO_INSPECT_OUT)/,$(GO_INSPECT_PROGS))
GO_INSPECT_SRC = $(GO_INSPECT_DIR)/go.mod $(wildcard $(GO_INSPECT_DIR)/*/*.go) testprogs/go/inspect.mk

.PHONY: go-inspect-progs
all: go-inspect-progs $(GO_INSPECT_OUT)/crash_single_nocfi

# A stand-in for Go code in raw stacks (no go needed): crash_single.c built
# with frame pointers and without call frame information, like Go's code
# in a binary linked with -w; its raw crash stack is unwound along the
# frame-pointer chain.
$(GO_INSPECT_OUT)/crash_single_nocfi: testprogs/crash_single.c testprogs/go/inspect.mk | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) -std=gnu11 -g0 -O1 -fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	    -fno-unwind-tables -o $@.tmp $<
	$(Q)objcopy --remove-section=.eh_frame --remove-section=.eh_frame_hdr $@.tmp $@ && rm -f $@.tmp
ifeq ($(GO_HAVE),)
go-inspect-progs:
	@echo "libguard: '$(GO)' not found: the Go test programs ($(GO_INSPECT_DIR)) are skipped; 'make deps' installs golang-go" >&2
else
go-inspect-progs: $(GO_INSPECT_BINS)

comma := ,
# $(1): output name, $(2): package dir, $(3): CGO_ENABLED, $(4): go build flags,
# $(5): what to do when the build fails (stop the build, or say it is skipped)
go_inspect_fail = (cat $$(abspath $$@).buildlog; false)
define go_inspect_rule
$(GO_INSPECT_OUT)/$(1): $(GO_INSPECT_SRC) | $(BUILD)/.deps-ok
	@mkdir -p $$(dir $$@)
	$$(call say,GO,$$@)
	$(Q)cd $(GO_INSPECT_DIR) && $(GO_INSPECT_ENV) CGO_ENABLED=$(3) $(GO) build $(4) \
	    -o $$(abspath $$@) ./$(2) 2>$$(abspath $$@).buildlog || $(if $(5),$(5),$(go_inspect_fail))
endef
$(eval $(call go_inspect_rule,go_pure_static,gopure,0,))
$(eval $(call go_inspect_rule,go_pure_stripped,gopure,0,-ldflags='-s -w'))
$(eval $(call go_inspect_rule,go_user_cgo,gouser,1,))
# ld warns that static getpwuid_r needs the shared NSS libraries at run
# time: the hazard this variant exists to show (kept in the .buildlog).
$(eval $(call go_inspect_rule,go_user_static_cgo,gouser,1,-ldflags='-linkmode=external -extldflags=-static'))
$(eval $(call go_inspect_rule,go_user_netgo,gouser,1,-tags osusergo$(comma)netgo))
$(eval $(call go_inspect_rule,go_cgo_nss_stripped,gocgonss,1,-ldflags='-s -w'))
# The race detector's runtime may not work with this machine's C toolchain:
# then the -race variant is skipped, saying so, and its test with it.
$(eval $(call go_inspect_rule,go_user_race,gouser,1,-race,echo "libguard: go build -race fails here ($$(abspath $$@).buildlog): go_user_race skipped" >&2))
endif
