// cgo_static_recover: the correct twin of cgo_static_getpwuid, linked the
// same way: its goroutines look up root, whom the static libc's own files
// module finds in /etc/passwd (no module is loaded), and each one also
// dereferences a nil pointer in Go code and recovers from the panic.  The
// program runs to its end: no crash to record, whatever signals its
// threads took on the way.
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
	"sync"
)

type node struct{ next *node }

//go:noinline
func deref(n *node) *node { return n.next }

func recovered() (ok bool) {
	defer func() { ok = recover() != nil }()
	deref(nil) // SIGSEGV in Go code: a Go panic
	return false
}

func main() {
	var wg sync.WaitGroup
	var mu sync.Mutex
	found, recovers := 0, 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				f := C.lookup_uid(0) != 0
				r := j%10 == 0 && recovered()
				mu.Lock()
				if f {
					found++
				}
				if r {
					recovers++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Println("found", found, "recovered", recovers)
}
