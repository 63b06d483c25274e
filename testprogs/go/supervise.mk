# Go test programs of the supervised mode (tests/test_supervise.py), built
# with Debian's golang-go, offline: the build cache and GOPATH live in
# $(BUILD)/go, modules are off (each program is one file using the standard
# library only).  CGO_ENABLED=0 makes them static, as most Go programs are.
GO ?= go
GO_SUP_ENV = GO111MODULE=off GOFLAGS= GOPROXY=off GOTOOLCHAIN=local \
             GOCACHE=$(abspath $(BUILD))/go/cache GOPATH=$(abspath $(BUILD))/go/path
GO_SUP_PROGS = ns_unshare_mount ns_unshare_mount_locked ns_unshare_migrate child_nowait child_wait \
               spawn_many
GO_SUP_STATIC_CGO = cgo_static_getpwuid cgo_static_recover
GO_SUP_BIN = $(addprefix $(BUILD)/testprogs/go/,$(GO_SUP_PROGS) $(GO_SUP_STATIC_CGO)) \
             $(BUILD)/testprogs/go/ns_unshare_mount_stripped $(BUILD)/testprogs/go/cgo_child_nowait
all: $(GO_SUP_BIN)
# cgo linked static: the crash recorder's programs (glibc's linker warning
# about getpwuid_r in a static program is the point, and is kept quiet)
$(addprefix $(BUILD)/testprogs/go/,$(GO_SUP_STATIC_CGO)): $(BUILD)/testprogs/go/%: testprogs/go/%.go | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,GO,$@)
	$(Q)$(GO_SUP_ENV) CGO_ENABLED=1 $(GO) build -ldflags='-extldflags=-static' -o $@ $< 2>$@.warnings \
	    && rm -f $@.warnings \
	    || { cat $@.warnings >&2; exit 1; }
$(BUILD)/testprogs/go/%: testprogs/go/%.go | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,GO,$@)
	$(Q)$(GO_SUP_ENV) CGO_ENABLED=0 $(GO) build -o $@ $<
# the same program without symbols or DWARF (-s -w): the goroutine layout
# comes from the Go version then
$(BUILD)/testprogs/go/ns_unshare_mount_stripped: testprogs/go/ns_unshare_mount.go | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,GO,$@)
	$(Q)$(GO_SUP_ENV) CGO_ENABLED=0 $(GO) build -ldflags='-s -w' -o $@ $<
# with cgo, dynamically linked: the shim and the supervisor both see it
$(BUILD)/testprogs/go/cgo_child_nowait: testprogs/go/cgo_child_nowait.go | $(BUILD)/.deps-ok
	@mkdir -p $(dir $@)
	$(call say,GO,$@)
	$(Q)$(GO_SUP_ENV) CGO_ENABLED=1 $(GO) build -o $@ $<
