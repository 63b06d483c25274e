// gopure is a Go program without cgo: built with CGO_ENABLED=0 it is a
// static executable that LD_PRELOAD cannot reach, and built with
// -ldflags=-s -w it keeps no symbol table and no DWARF, only .gopclntab.
// With the argument "where" it prints the program counter inside
// markedFunction and where Go's own runtime places it (function, file,
// line): the test compares the analyzer's symbolizer with that.
package main

import (
	"fmt"
	"os"
	"runtime"
	"time"
)

//go:noinline
func markedFunction(n int) (uintptr, int) {
	pc, _, _, _ := runtime.Caller(0) // GUARD-MARK: the pc the test symbolizes
	return pc, n * 2
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "where" {
		pc, _ := markedFunction(len(os.Args))
		// Caller's pc is a return address: the call is one byte before it.
		f := runtime.FuncForPC(pc - 1)
		file, line := f.FileLine(pc - 1)
		fmt.Printf("%#x %s %s %d\n", pc-1, f.Name(), file, line)
		return
	}
	fmt.Println(time.Now().Year() > 2000)
}
