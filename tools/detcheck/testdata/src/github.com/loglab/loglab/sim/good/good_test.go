package good

import (
	"sync"
	"testing"
	"time"
)

// Tests are not simulated code: goroutines, timers and locks are fine here.
func TestParallel(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		mu.Lock()
		defer mu.Unlock()
		time.Sleep(time.Millisecond)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	_ = time.Now()
}
