"""test_inspect_go.py — `inspect` on Go programs: build info, cgo, the
NSS verdict's Go fix, `--mode` for the wrapper, on which stack the Go
runtime calls the vDSO, and Go binaries stripped with -s -w symbolized
through their line table (.gopclntab).

The programs are testprogs/go/inspect/, built in their variants by
testprogs/go/inspect.mk (Debian's golang-go, installed by `make deps`)."""
import json
import os
import platform
import shutil
import stat
import subprocess

from harness import ASAN_ENV, LogDir, analyzer, findings, prog, source_line, test

GO_SRC = "testprogs/go/inspect/gopure/main.go"


def go_prog(name):
    path = prog(os.path.join("go", "inspect", name))
    assert os.path.exists(path), ("%s is not built: the Go test programs need go "
                                  "(`make deps` installs golang-go, then `make`)" % path)
    return path


def inspect(paths, fmt="json", extra=()):
    r = subprocess.run([analyzer(), "inspect", "--format=" + fmt, *extra, *paths], capture_output=True,
                       text=True, timeout=120, env=dict(os.environ, **ASAN_ENV))
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    return r.returncode, (json.loads(r.stdout) if fmt == "json" else r.stdout), r.stderr


def mode(path):
    """`inspect --mode`: (exit status, the word, stderr)."""
    r = subprocess.run([analyzer(), "inspect", "--mode", path], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, **ASAN_ENV))
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    return r.returncode, r.stdout, r.stderr


def one_binary(path):
    status, report, err = inspect([path])
    assert status in (0, 1), err
    (b,) = report["binaries"]
    return status, b, report["findings"]


@test
def inspect_reads_go_build_info_and_says_how_to_run_each_variant():
    # name: (static, cgo linked, mode, what else the build info must say)
    expect = {
        "go_pure_static": (True, False, "supervise", {"cgo_enabled": False}),
        "go_pure_stripped": (True, False, "supervise", {"cgo_enabled": False, "stripped": True}),
        "go_user_cgo": (False, True, "both", {"cgo_enabled": True, "race": False}),
        "go_user_static_cgo": (True, True, "supervise", {"cgo_enabled": True, "extldflags_static": True}),
        "go_user_netgo": (True, False, "supervise", {"osusergo": True, "netgo": True,
                                                     "tags": "osusergo,netgo"}),
    }
    if os.path.exists(prog("go/inspect/go_user_race")):
        expect["go_user_race"] = (False, True, "both", {"race": True})
    go_version = subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True).stdout.strip()
    for name, (static, cgo, want_mode, more) in expect.items():
        path = go_prog(name)
        status, b, fs = one_binary(path)
        g = b["go"]
        assert g is not None, (name, b)
        if go_version:
            assert g["version"] == go_version, (name, g["version"], go_version)
        assert g["path"].endswith("testprogs/go/inspect/" + ("gopure" if "pure" in name else "gouser")), g
        assert g["static"] is static and b["static"] is static, (name, g)
        assert g["cgo_linked"] is cgo, (name, g)
        for k, v in more.items():
            assert g[k] == v, (name, k, g[k], v)
        assert b["mode"] == want_mode, (name, b["mode"], b["mode_reason"])
        status, word, err = mode(path)
        assert status == 0 and word == want_mode + "\n", (name, status, word, err)
        assert err.strip(), "--mode says why on stderr"
        # Go's line table is there in every variant, stripped or not.
        assert g["line_table"] in ("1.16", "1.18", "1.20") and g["functions"] > 1000, (name, g)
        if cgo:
            assert "os/user._Cfunc_mygetpwuid_r" in g["cgo_calls"], (name, g["cgo_calls"])
        else:
            assert g["cgo_calls"] == [], (name, g["cgo_calls"])
    # The pure-Go builds record their -ldflags; -s -w is what stripped them.
    assert one_binary(go_prog("go_pure_stripped"))[1]["go"]["ldflags"] == "-s -w"
    # Not Go: no "go" object, and the word LD_PRELOAD has always meant.
    for path, want in ((prog("plain_static"), "supervise"), ("/bin/ls", "preload")):
        status, b, _ = one_binary(path)
        assert b["go"] is None and b["mode"] == want, b
        assert mode(path)[:2] == (0, want + "\n")


@test
def inspect_text_qualifies_ld_preload_for_go():
    status, text, _ = inspect([go_prog("go_user_cgo")], fmt="text")
    assert "LD_PRELOAD sees only the cgo calls of this program: run supervised" in text, text
    assert "LD_PRELOAD works" not in text, text
    status, text, _ = inspect([go_prog("go_pure_static")], fmt="text")
    assert "LD_PRELOAD cannot reach it" in text and "run it supervised" in text, text
    status, text, _ = inspect(["/bin/ls"], fmt="text")
    assert "LD_PRELOAD works" in text, text


@test
def static_cgo_go_binary_gets_the_go_fix_and_its_netgo_twin_no_finding():
    status, b, fs = one_binary(go_prog("go_user_static_cgo"))
    assert status == 1
    (f,) = [f for f in fs if f["kind"] == "nss-static-binary"]
    assert "getpwuid_r" in f["symbols"], f
    assert "-tags osusergo,netgo" in f["detail"] and "CGO_ENABLED=0" in f["detail"], f["detail"]
    assert "-extldflags=-static" in f["detail"], "names the build setting that made it static"
    for twin in ("go_user_netgo", "go_pure_static", "go_user_cgo"):
        status, b, fs = one_binary(go_prog(twin))
        assert status == 0 and fs == [], (twin, fs)


@test
def mode_is_none_for_privileged_programs_and_2_for_unreadable_files():
    d = LogDir()
    try:
        for src in ("/bin/ls", go_prog("go_pure_static"), go_prog("go_user_cgo")):
            for bit in (stat.S_ISUID, stat.S_ISGID | stat.S_IXGRP):
                copy = os.path.join(d.path, os.path.basename(src) + "_priv")
                shutil.copy(src, copy)
                os.chmod(copy, 0o755 | bit)
                status, word, err = mode(copy)
                assert (status, word) == (0, "none\n"), (src, bit, status, word, err)
                assert "no_new_privs" in err, err
                os.unlink(copy)
        junk = os.path.join(d.path, "junk")
        with open(junk, "wb") as fh:
            fh.write(b"\x7fELF" + b"\x00" * 12)
        for bad in (junk, os.path.join(d.path, "missing"), d.path):
            status, word, err = mode(bad)
            assert status == 2 and word == "" and "cannot inspect" in err, (bad, status, word, err)
        # A script answers for its interpreter.
        script = os.path.join(d.path, "script")
        with open(script, "w") as fh:
            fh.write("#!%s\n" % go_prog("go_pure_static"))
        os.chmod(script, 0o755)
        assert mode(script)[:2] == (0, "supervise\n")
        with open(script, "w") as fh:
            fh.write("#!/bin/sh\ntrue\n")
        assert mode(script)[:2] == (0, "preload\n")
    finally:
        d.cleanup()


@test
def go_runtime_calls_the_vdso_on_the_system_stack_and_the_host_need_is_measured():
    status, b, _ = one_binary(go_prog("go_pure_stripped"))
    v = b["go"]["vdso"]
    byname = {f["function"]: f for f in v["functions"]}
    # Go has switched to g0 before the vDSO call since 1.9 (issue 20427).
    f = byname["runtime.nanotime1"]
    assert f["calls_vdso"] and f["switches_to_system_stack"], f
    assert "rsp" in f["switch"] and f["call"].startswith("call"), f
    assert "system stack" in v["verdict"], v
    host = v["host"]
    assert host["time_bytes"] > 0 and host["goroutine_nosplit_limit"] == 800, host
    # The host measurement covers the vDSO's getrandom where the kernel has
    # one (x86-64 since Linux 6.11), and says so where it has none.
    status, report, err = inspect([], extra=("--host",))
    names = [fn["name"] for fn in report["host"]["vdso"]["functions"]]
    status, text, _ = inspect([], fmt="text", extra=("--host",))
    release = tuple(int(x) for x in platform.release().split("-")[0].split(".")[:2])
    if platform.machine() == "x86_64" and release >= (6, 11):
        assert "__vdso_getrandom" in names, names
        (gr,) = [fn for fn in report["host"]["vdso"]["functions"] if fn["name"] == "__vdso_getrandom"]
        assert gr["measured"] and gr["stack_below_caller_sp"] == host["getrandom_bytes"], (gr, host)
        assert "its getrandom needs %d" % gr["stack_below_caller_sp"] in v["verdict"], v
    if "__vdso_getrandom" not in names:
        assert "getrandom: none in this vDSO" in text, text
        assert host["getrandom_bytes"] is None and "no getrandom" in v["verdict"], v
    # A vDSO without getrandom (this one, its symbol renamed) is said to
    # have none, and its time functions are measured as before.
    image = own_vdso()
    if b"__vdso_getrandom" in image:
        d = LogDir()
        try:
            path = os.path.join(d.path, "vdso.so")
            with open(path, "wb") as fh:
                fh.write(image.replace(b"__vdso_getrandom\0", b"__vdso_getrandoX\0"))
            status, text, err = inspect([], fmt="text", extra=("--host", "--vdso-image=" + path))
            assert status == 0, err
            assert "getrandom: none in this vDSO" in text and "__vdso_clock_gettime" in text, text
            assert "__vdso_getrandom" not in text, text
        finally:
            d.cleanup()


def file_offset(path, vaddr):
    """The file offset of a virtual address, from the PT_LOAD headers."""
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if f and f[0] == "LOAD":
            off, va, filesz = int(f[1], 16), int(f[2], 16), int(f[4], 16)
            if va <= vaddr < va + filesz:
                return vaddr - va + off
    raise AssertionError("%#x is in no PT_LOAD of %s" % (vaddr, path))


@test
def go_runtime_calling_the_vdso_on_the_goroutine_stack_is_told_apart():
    # The same binary with the stack switch taken out (`mov 0x38(%rdx),%rsp`,
    # g0's saved SP, made a 4-byte nop) is what a Go before 1.9 did: the
    # vDSO ran on the goroutine's stack.
    src = go_prog("go_pure_stripped")
    status, b, _ = one_binary(src)
    funcs = [f for f in b["go"]["vdso"]["functions"] if f["switches_to_system_stack"]]
    assert funcs, b["go"]["vdso"]
    data = bytearray(open(src, "rb").read())
    for f in funcs:
        at = file_offset(src, int(f["address"], 16))
        k = data.find(b"\x48\x8b\x62\x38", at, at + 0x100)
        assert k > 0, f
        data[k:k + 4] = b"\x0f\x1f\x40\x00"
    d = LogDir()
    try:
        patched = os.path.join(d.path, "go_no_switch")
        with open(patched, "wb") as fh:
            fh.write(data)
        status, b2, _ = one_binary(patched)
        v = b2["go"]["vdso"]
        assert all(f["calls_vdso"] and not f["switches_to_system_stack"] for f in v["functions"]), v
        assert "goroutine's own stack" in v["verdict"] and "800 bytes" in v["verdict"], v
        status, text, _ = inspect([patched], fmt="text")
        assert "goroutine's own stack" in text, text
    finally:
        d.cleanup()


def own_vdso():
    """This process's vDSO image, from /proc/self/mem."""
    with open("/proc/self/maps") as fh:
        for line in fh:
            if line.rstrip().endswith("[vdso]"):
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                with open("/proc/self/mem", "rb") as mem:
                    mem.seek(lo)
                    return mem.read(hi - lo)
    return b""


def symbolize(binary, *addrs):
    r = subprocess.run([analyzer(), "inspect", "--symbolize", binary, *addrs], capture_output=True,
                       text=True, timeout=60, env=dict(os.environ, **ASAN_ENV))
    assert "AddressSanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    assert r.returncode == 0, r.stderr
    return [line.split(" ") for line in r.stdout.splitlines()]


@test
def go_binary_stripped_with_s_w_is_symbolized_through_its_line_table():
    stripped = go_prog("go_pure_stripped")
    sections = subprocess.run(["readelf", "-SW", stripped], capture_output=True, text=True).stdout
    assert ".gopclntab" in sections and ".symtab" not in sections and ".debug_info" not in sections, \
        "the binary keeps only Go's line table"
    # The program says where its marked call is, from Go's own runtime.
    out = subprocess.run([stripped, "where"], capture_output=True, text=True, timeout=30).stdout.split()
    pc, func, file, line = out[0], out[1], out[2], int(out[3])
    want_line = source_line(GO_SRC, "GUARD-MARK")
    assert func == "main.markedFunction" and file.endswith(GO_SRC) and line == want_line, out
    ((addr, got_func, where),) = symbolize(stripped, pc)
    assert int(addr, 16) == int(pc, 16)
    assert got_func == "main.markedFunction", (got_func, where)
    got_file, got_line = where.rsplit(":", 1)
    assert got_file.endswith(GO_SRC) and int(got_line) == want_line, where
    # The first byte of the function names it too; an address outside any
    # Go function stays unknown.
    (first, outside) = symbolize(stripped, "0x401000", "0x10")
    assert first[1] != "??" and first[2].endswith(".go:%s" % first[2].rsplit(":", 1)[1]), first
    assert outside[1:] == ["??", "??:0"], outside
    # The unstripped build of the same source agrees (DWARF and .symtab).
    pc2 = subprocess.run([go_prog("go_pure_static"), "where"], capture_output=True, text=True,
                         timeout=30).stdout.split()[0]
    ((_, f2, w2),) = symbolize(go_prog("go_pure_static"), pc2)
    assert f2 == "main.markedFunction" and w2.endswith("%s:%d" % (GO_SRC, want_line)), (f2, w2)


@test
def corrupt_go_line_tables_and_build_info_are_survived():
    # The binary is untrusted input: a Go line table or build info with
    # nonsense counts, offsets and lengths yields "unknown", never a read
    # out of bounds (the ASan analyzer would say so) or a crash.
    import random
    src = go_prog("go_pure_stripped")
    data = open(src, "rb").read()
    sections = subprocess.run(["readelf", "-SW", src], capture_output=True, text=True).stdout
    spans = {}
    for line in sections.splitlines():
        f = line.replace("[ ", "[").split()
        if len(f) > 5 and f[1] in (".gopclntab", ".go.buildinfo"):
            spans[f[1]] = (int(f[4], 16), int(f[5], 16))
    assert set(spans) == {".gopclntab", ".go.buildinfo"}, sections
    pc = subprocess.run([src, "where"], capture_output=True, text=True, timeout=30).stdout.split()[0]
    rng = random.Random(22)
    d = LogDir()
    try:
        import struct
        pcln, _ = spans[".gopclntab"]
        nfunc, ftab = struct.unpack_from("<Q", data, pcln + 8)[0], struct.unpack_from("<Q", data, pcln + 64)[0]
        assert 1000 < nfunc < 100000 and ftab < spans[".gopclntab"][1], (nfunc, ftab)
        named = 0
        for i in range(30):
            mutated = bytearray(data)
            # The table's magic is kept (else it is merely rejected): its
            # counts and offsets, the function table, the _func records
            # and the build info's varint lengths are what get bent.
            kind = i % 5
            if kind == 0:
                lo, hi = spans[".go.buildinfo"][0], spans[".go.buildinfo"][0] + 64
            elif kind == 1:
                lo, hi = pcln + 8, pcln + 72
            elif kind in (2, 3):
                lo, hi = pcln + ftab, pcln + ftab + 8 * nfunc
            else:
                lo, hi = pcln + 72, pcln + spans[".gopclntab"][1]
            for _ in range(rng.randint(1, 40)):
                mutated[rng.randrange(lo, hi)] = rng.choice((0x00, 0xff, 0x7f, 0x80, rng.randrange(256)))
            path = os.path.join(d.path, "mutant%d" % i)
            with open(path, "wb") as fh:
                fh.write(mutated)
            status, report, err = inspect([path])
            assert status in (0, 1), (i, err)
            r = subprocess.run([analyzer(), "inspect", "--symbolize", path, pc, "0x401000"],
                               capture_output=True, text=True, timeout=60, env=dict(os.environ, **ASAN_ENV))
            assert r.returncode == 0 and "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, \
                (i, r.stderr[-2000:])
            named += r.stdout.count("main.markedFunction")
        assert named, "some mutants still name the function: the table was read, not just rejected"
    finally:
        d.cleanup()


@test
def go_line_table_reader_agrees_with_go_addr2line():
    # Go's own addr2line (debug/gosym, on the unstripped twin) is the
    # oracle: on a spread of addresses through the text the stripped
    # binary's names and lines must be the same.
    import random
    stripped, full = go_prog("go_pure_stripped"), go_prog("go_pure_static")
    text = [l.split() for l in subprocess.run(["readelf", "-SW", full], capture_output=True,
                                                  text=True).stdout.splitlines() if " .text " in l]
    (f,) = [l[l.index(".text") + 2:] for l in text]
    lo, size = int(f[0], 16), int(f[2], 16)
    rng = random.Random(19)
    addrs = [hex(rng.randrange(lo, lo + size)) for _ in range(3000)]
    env = dict(os.environ, GOCACHE=os.path.join(os.path.dirname(prog("x")), "..", "go", "cache"),
               GOFLAGS="", GOPROXY="off")
    go = subprocess.run(["go", "tool", "addr2line", full], input="\n".join(addrs) + "\n",
                        capture_output=True, text=True, env=env, timeout=120)
    assert go.returncode == 0, go.stderr
    want = go.stdout.splitlines()
    got = subprocess.run([analyzer(), "inspect", "--symbolize", stripped, *addrs], capture_output=True,
                         text=True, env=dict(os.environ, **ASAN_ENV), timeout=300)
    assert got.returncode == 0, got.stderr
    got = got.stdout.splitlines()
    assert len(want) == 2 * len(addrs) and len(got) == len(addrs), (len(want), len(got))
    lines = 0
    for i, a in enumerate(addrs):
        fn, where = want[2 * i], want[2 * i + 1]
        _, gfn, gwhere = got[i].split(" ")
        if fn == "?":
            assert gfn == "??", (a, got[i])
            continue
        assert gfn == fn, (a, got[i], fn, where)
        if where.endswith(":-1") or where.startswith(":"):
            assert gwhere == "??:0", (a, got[i], where)
        else:
            assert gwhere == where, (a, got[i], where)
            lines += 1
    assert lines > 2500 and lines < 3000, lines


@test
def raw_stack_through_code_without_cfi_is_unwound_along_frame_pointers():
    # crash_single built with frame pointers and no call frame information
    # (as Go's code is with -ldflags=-w): the crash recorder writes the stack
    # raw, and the analyzer must walk the frame-pointer chain through it.
    from harness import run, analyze
    d = LogDir()
    try:
        r = run([go_prog("crash_single_nocfi")], log_dir=d.path)
        assert r.returncode == -11, r.returncode
        status, report, err = analyze(d.path)
    finally:
        d.cleanup()
    (f,) = findings(report, "crash")
    names = [fr.get("function") for fr in f["stacks"]["crash"]]
    want = ["parse_header", "load_config", "start_service", "main"]
    assert all(n in names for n in want), names
    assert [names.index(n) for n in want] == sorted(names.index(n) for n in want), names


@test
def stacks_of_a_stripped_cgo_program_name_go_frames_in_the_report():
    # A dynamic cgo program built with -ldflags=-s -w, under the shim: its
    # nss-nonreentrant-threads report walks from the C call into the Go
    # runtime's cgo path, which only the Go line table can name.
    from harness import run, analyze
    d = LogDir()
    try:
        r = run([go_prog("go_cgo_nss_stripped")], log_dir=d.path)
        assert r.returncode == 0, r.stderr
        status, report, err = analyze(d.path)
    finally:
        d.cleanup()
    (f,) = findings(report, "nss-nonreentrant-threads")
    for role in ("call", "other_call"):
        frames = f["stacks"][role]
        go = [fr for fr in frames if fr.get("function") == "runtime.asmcgocall"]
        assert go, (role, frames)
        assert go[0]["file"].endswith("runtime/asm_amd64.s") and go[0]["line"] > 0, go[0]
