package bad

import (
	_ "crypto/rand"       // want `detcheck: crypto-rand: import of "crypto/rand" reads OS entropy \(draw from Host.Rand\(\)\)`
	_ "hash/maphash"      // want `detcheck: maphash: import of "hash/maphash" is seeded per process`
	_ "io/ioutil"         // want `detcheck: os: import of "io/ioutil"`
	_ "net"               // want `detcheck: os: import of "net" opens real sockets \(go through Host.Net/Host.Disk, or move the code to an exempt package\)`
	_ "net/http"          // want `detcheck: os: import of "net/http" opens real sockets`
	_ "net/http/httptest" // want `detcheck: os: import of "net/http/httptest" opens real sockets`
	_ "os"                // want `detcheck: os: import of "os" reaches the operating system`
	_ "os/exec"           // want `detcheck: os: import of "os/exec" starts processes`
	_ "os/signal"         // want `detcheck: os: import of "os/signal" receives OS signals`
	"path/filepath"
	"runtime"
	_ "sync"        // want `detcheck: sync: import of "sync" locks or pools shared state`
	_ "sync/atomic" // want `detcheck: sync: import of "sync/atomic" shares state between threads`
	_ "syscall"     // want `detcheck: os: import of "syscall" calls the OS directly`
	_ "weak"        // want `detcheck: runtime: import of "weak" depends on when the garbage collector runs`
)

func osAndRuntime(x *int) {
	_ = filepath.Walk(".", nil)  // want `detcheck: os: filepath.Walk reads the real file system \(use Host.Disk\)`
	_, _ = filepath.Abs(".")     // want `detcheck: os: filepath.Abs reads the working directory`
	_ = filepath.Join("a", "b")  // pure path arithmetic is fine
	runtime.Gosched()            // want `detcheck: runtime: runtime.Gosched yields to the Go scheduler`
	runtime.SetFinalizer(x, nil) // want `detcheck: runtime: runtime.SetFinalizer runs when the garbage collector decides`
	_ = runtime.NumCPU()         // want `detcheck: runtime: runtime.NumCPU depends on the machine`
}
