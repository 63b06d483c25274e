// cgo_static_getpwuid: a cgo program linked static (-extldflags -static)
// whose goroutines look up a user that /etc/passwd does not have with
// glibc's getpwuid_r.  The static libc then asks the next NSS module
// (systemd, compat, ...), which it dlopens: a shared libc.so.6 comes with
// it into a process that already has a static one, and the module crashes
// in it on the first lookup from a thread (SIGSEGV); Go's runtime ends the
// process ("fatal error: unexpected signal", exit status 2).  The
// crash of the story of the static binary, on every run.
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
	"strconv"
	"sync"
)

func main() {
	uid := 54321 // not in /etc/passwd
	if len(os.Args) > 1 {
		uid, _ = strconv.Atoi(os.Args[1])
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	found := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if C.lookup_uid(C.uint(uid)) != 0 {
					mu.Lock()
					found++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	fmt.Println("found", found)
}
