// ns_unshare_mount_locked: the correct twin of ns_unshare_mount.  Each
// worker goroutine locks itself to its OS thread before
// syscall.Unshare(CLONE_NEWNS), so its Mount runs on the thread that
// moved, and never unlocks: Go ends the thread with the goroutine instead
// of handing a thread in another namespace to other goroutines.
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
	runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
	if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
		fmt.Fprintln(os.Stderr, "unshare:", err)
		os.Exit(2)
	}
	runtime.Gosched()
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
