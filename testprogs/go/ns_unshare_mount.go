// ns_unshare_mount: the story of namespace-off-thread in Go.  Worker
// goroutines each move into a mount namespace of their own with
// syscall.Unshare(CLONE_NEWNS) and then bind-mount a directory there, but
// without runtime.LockOSThread: Go may run the Mount on another OS thread
// (one still in the old namespace), and the unshared thread goes back to
// the scheduler for any goroutine to use.  Whether a goroutine moves
// between the two calls is a race; the bug is there on every run.
//
// Run it only in a private mount namespace (the tests use
// `unshare -m --propagation private`): a mount left behind lands in the
// namespace the program started in.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
)

func work(dir string, i int, wg *sync.WaitGroup) {
	defer wg.Done()
	src := filepath.Join(dir, fmt.Sprintf("src%d", i))
	dst := filepath.Join(dir, fmt.Sprintf("dst%d", i))
	if err := os.Mkdir(src, 0o700); err != nil {
		panic(err)
	}
	if err := os.Mkdir(dst, 0o700); err != nil {
		panic(err)
	}
	if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
		fmt.Fprintln(os.Stderr, "unshare:", err)
		os.Exit(2)
	}
	runtime.Gosched() // a scheduling point: the goroutine may resume on any thread
	if err := syscall.Mount(src, dst, "", syscall.MS_BIND, ""); err != nil {
		fmt.Fprintln(os.Stderr, "mount:", err)
		os.Exit(2)
	}
}

func main() {
	dir, err := os.MkdirTemp("", "ns_unshare_mount")
	if err != nil {
		panic(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go work(dir, i, &wg)
	}
	wg.Wait()
	fmt.Println("done")
}
