// spawn_many: a Go program that runs N children one after the other
// (exec.Command(...).Run), for the supervised mode's overhead (bench and
// docs/performance.md).  N is the first argument (default 200).
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

func main() {
	n := 200
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil {
			n = v
		}
	}
	for i := 0; i < n; i++ {
		if err := exec.Command("/bin/true").Run(); err != nil {
			fmt.Fprintln(os.Stderr, "run:", err)
			os.Exit(2)
		}
	}
}
