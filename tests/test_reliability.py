"""test_reliability.py — the host is never harmed: a hooked call given what
the kernel rejects returns exactly what it returns natively, and the
program does not crash.  Each program runs natively and under the shim and
the two outputs are compared byte for byte.  Probes that name mount points
or host names run in a private mount and UTS namespace when they can."""
import os
import subprocess

from harness import LogDir, prog, run, test


def _private_ns_prefix():
    """`unshare -m -u` when root and unshare work, else nothing: the
    probes then run with pointers the kernel rejects before any change."""
    r = subprocess.run(["unshare", "-m", "-u", "true"], capture_output=True)
    return ["unshare", "-m", "-u"] if os.geteuid() == 0 and r.returncode == 0 else []


@test
def calls_given_pointers_the_kernel_rejects_return_what_they_return_natively():
    # open/readlink with a bad path, mount/umount/chroot/pivot_root with a
    # bad target, readv/writev/preadv/pwritev with a bad iovec array,
    # sendmsg/recvmsg with a bad msghdr or iovec, the exec family with a
    # bad path, argv, argv element, envp or envp element, and a posix_spawn
    # that fails (its pid untouched): -1 and the same errno, no crash.
    argv = _private_ns_prefix() + [prog("bad_pointers")]
    native = run(argv, preload=False)
    d = LogDir()
    shimmed = run(argv, log_dir=d.path)
    d.cleanup()
    assert native.returncode == 0, native.stderr
    assert "EFAULT" in native.stdout and "pid=untouched" in native.stdout, native.stdout
    assert shimmed.returncode == 0, "under the shim: status %d\n%s" % (shimmed.returncode,
                                                                       shimmed.stderr[-3000:])
    assert shimmed.stdout == native.stdout, "native:\n%s\nshim:\n%s" % (native.stdout,
                                                                       shimmed.stdout)
