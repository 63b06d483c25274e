// child_wait: the correct twin of child_nowait: every child started with
// exec.Cmd.Start is waited for with Wait.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"time"
)

func main() {
	var cmds []*exec.Cmd
	for i := 0; i < 3; i++ {
		cmd := exec.Command("/bin/true")
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "start:", err)
			os.Exit(2)
		}
		cmds = append(cmds, cmd)
	}
	time.Sleep(300 * time.Millisecond)
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			fmt.Fprintln(os.Stderr, "wait:", err)
			os.Exit(2)
		}
	}
	fmt.Println("done")
}
