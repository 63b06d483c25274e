// gouser looks up a user by id on several goroutines and reads the clock:
// the program inspect's Go checks are built from in every variant
// (testprogs/go/inspect.mk).  With cgo, os/user calls glibc's getpwuid_r
// (NSS); with -tags osusergo it reads /etc/passwd in Go; linked
// -extldflags -static it is the static cgo binary whose lookups crash
// on a second thread (nss-static-binary).  It only prints what it found,
// so that every variant runs the same code.
package main

import (
	"fmt"
	"os"
	"os/user"
	"sync"
	"time"
)

func main() {
	uid := fmt.Sprint(os.Getuid())
	if len(os.Args) > 1 {
		uid = os.Args[1]
	}
	var wg sync.WaitGroup
	names := make([]string, 4)
	for i := range names {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if u, err := user.LookupId(uid); err == nil {
				names[i] = u.Username
			} else {
				names[i] = "?"
			}
		}(i)
	}
	wg.Wait()
	fmt.Println(names[0], time.Now().Year() > 2000)
}
