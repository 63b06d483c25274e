// ns_unshare_migrate: namespace-off-thread in Go with the race lost.  One
// goroutine, not locked to its OS thread, unshares its mount namespace,
// then blocks in a system call (a read of a pipe that a child process
// writes to 100 ms after the goroutine asked).  Meanwhile another goroutine keeps the only P
// (GOMAXPROCS=1) busy on another thread, so when the read returns the
// goroutine finds no P, is queued, and runs its Mount on that other
// thread: in the mount namespace the program started in.  Run it only in
// a private mount namespace.
//
// With the argument "locked" it is the correct twin: the goroutine calls
// runtime.LockOSThread first, so it waits for its own thread and mounts
// in its own namespace.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	runtime.GOMAXPROCS(1)
	dir, err := os.MkdirTemp("", "ns_unshare_migrate")
	if err != nil {
		panic(err)
	}
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	os.Mkdir(src, 0o700)
	os.Mkdir(dst, 0o700)
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil { // blocking ends
		panic(err)
	}
	w := os.NewFile(uintptr(p[1]), "w")
	// the child answers 100 ms after the goroutine has moved and asked
	cmd := exec.Command("/bin/sh", "-c", "read go; sleep 0.1; echo x >&3")
	cmd.ExtraFiles = []*os.File{w}
	ask, err := cmd.StdinPipe()
	if err != nil {
		panic(err)
	}
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	w.Close()
	var stop int32
	done := make(chan bool)
	locked := len(os.Args) > 1 && os.Args[1] == "locked"
	go func() {
		if locked {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		}
		if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
			fmt.Fprintln(os.Stderr, "unshare:", err)
			os.Exit(2)
		}
		ask.Write([]byte("go\n"))
		var b [8]byte
		syscall.Read(p[0], b[:]) // a blocking system call: the P goes to the spinner
		if err := syscall.Mount(src, dst, "", syscall.MS_BIND, ""); err != nil {
			fmt.Fprintln(os.Stderr, "mount:", err)
			os.Exit(2)
		}
		atomic.StoreInt32(&stop, 1)
		done <- true
	}()
	go func() { // keeps the P busy while the read waits
		deadline := time.Now().Add(2 * time.Second)
		for atomic.LoadInt32(&stop) == 0 && time.Now().Before(deadline) {
		}
	}()
	<-done
	cmd.Wait()
	fmt.Println("done")
}
