// cgo_child_nowait: child_nowait built with cgo, so dynamically linked:
// the shim loads (it sees the C calls) while the Go runtime's clone and
// wait4 are system calls of its own, seen only by the supervisor
// (run-with-guard.sh runs it with both).  It starts children with
// exec.Cmd.Start and never waits for them (unreaped-child).
package main

/*
static int twice(int x) { return 2 * x; }
*/
import "C"

import (
	"fmt"
	"os"
	"os/exec"
	"time"
)

func main() {
	for i := 0; i < 2; i++ {
		if err := exec.Command("/bin/true").Start(); err != nil {
			fmt.Fprintln(os.Stderr, "start:", err)
			os.Exit(2)
		}
	}
	time.Sleep(300 * time.Millisecond)
	fmt.Println("done", C.twice(21))
}
