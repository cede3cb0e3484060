package realhost

import (
	"os"
	"sync"
	"time"
)

// Loop is what the real Host may do and simulated code may not.
func Loop() {
	var mu sync.Mutex
	ch := make(chan func())
	go func() {
		for f := range ch {
			mu.Lock()
			f()
			mu.Unlock()
		}
	}()
	ch <- func() { _, _ = os.Hostname(); _ = time.Now() }
}
