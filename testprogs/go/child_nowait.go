// child_nowait: a Go program that starts children with exec.Cmd.Start and
// never calls Wait: each child exits and stays a zombie while the program
// goes on, until the program itself exits (unreaped-child).
package main

import (
	"fmt"
	"os"
	"os/exec"
	"time"
)

func main() {
	for i := 0; i < 3; i++ {
		cmd := exec.Command("/bin/true")
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "start:", err)
			os.Exit(2)
		}
	}
	time.Sleep(300 * time.Millisecond) // the children are zombies by now
	fmt.Println("done")
}
