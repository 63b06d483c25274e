// gocgonss calls glibc's non-reentrant getpwuid through cgo from two
// goroutines locked to two OS threads: the shim, preloaded into this
// dynamic cgo program, reports nss-nonreentrant-threads, and the report's
// stacks reach into the Go runtime's cgo call path, which a binary built
// with -ldflags=-s -w names only through its Go line table.
package main

/*
#include <pwd.h>
#include <sys/types.h>

static const char *lookup_name(unsigned uid)
{
	struct passwd *pw = getpwuid((uid_t)uid); // BUG: static buffer shared by threads
	return pw ? pw->pw_name : "?";
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"sync"
)

func lookup(uid uint) string {
	return C.GoString(C.lookup_name(C.uint(uid)))
}

func main() {
	var wg sync.WaitGroup
	names := make([]string, 2)
	start := make(chan struct{})
	for i := range names {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			runtime.LockOSThread() // two goroutines, two threads
			<-start
			names[i] = lookup(0)
		}(i)
	}
	close(start)
	wg.Wait()
	fmt.Println(names[0], names[1])
}
