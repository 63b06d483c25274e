// cgo_static_getpwuid: a cgo program linked static (-extldflags -static)
// that looks up a user /etc/passwd does not have with glibc's getpwuid_r,
// from several threads.  The static libc then asks the next NSS module
// (compat, systemd, ...), which it dlopens: a shared libc.so.6 comes with
// it into a process that already has a static one, and a thread that
// existed before the module was loaded crashes in it (SIGSEGV); Go's
// runtime ends the process ("fatal error: unexpected signal", exit status
// 2).  Eight goroutines, each locked to a thread of its own, are all
// running before the main thread's first lookup loads the module, so that
// the crash happens on every run whatever the timing: the story of the
// static binary.
package main

/*
#include <pwd.h>
#include <sys/types.h>

static int lookup_uid(unsigned uid)
{
    struct passwd pw, *res = 0;
    char buf[4096];
    return getpwuid_r((uid_t)uid, &pw, buf, sizeof buf, &res) == 0 && res != 0;
}
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
)

func init() { runtime.LockOSThread() } // main stays on the main thread

func main() {
	uid := 54321 // not in /etc/passwd
	if len(os.Args) > 1 {
		uid, _ = strconv.Atoi(os.Args[1])
	}
	var started, done sync.WaitGroup
	release := make(chan struct{})
	found := make(chan int, 8)
	for i := 0; i < 8; i++ {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			runtime.LockOSThread() // a thread of its own, there before the module
			started.Done()
			<-release
			found <- int(C.lookup_uid(C.uint(uid)))
		}()
	}
	started.Wait()
	n := int(C.lookup_uid(C.uint(uid))) // the main thread loads the NSS module
	close(release)
	done.Wait()
	close(found)
	for f := range found {
		n += f
	}
	fmt.Println("found", n)
}
