package realhost

import (
	"bytes"
	"context"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/loglab/loglab/host"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 10 * time.Second

// goid is the current goroutine's id, to check that callbacks run on the
// loop goroutine.
func goid() uint64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	b = b[:bytes.IndexByte(b, ' ')]
	id, _ := strconv.ParseUint(string(b), 10, 64)
	return id
}

// funcNode runs start on Start; it is not a Stopper.
type funcNode struct{ start func(h host.Host) }

func (n funcNode) Start(h host.Host) {
	if n.start != nil {
		n.start(h)
	}
}

// loopChecker remembers the loop goroutine and fails the test on a call from
// any other.
type loopChecker struct {
	t  testing.TB
	id uint64
}

func (lc *loopChecker) check(what string) {
	if id := goid(); id != lc.id {
		lc.t.Errorf("%s ran on goroutine %d, loop is %d", what, id, lc.id)
	}
}

// start runs a node whose loop goroutine lc records; cleanup stops it.
func start(t testing.TB, name string, dataDir string, s func(h host.Host)) (*Runtime, *loopChecker) {
	t.Helper()
	return startConfig(t, Config{Name: name, DataDir: dataDir, Seed: 1}, s)
}

// startConfig is start with a whole Config.
func startConfig(t testing.TB, cfg Config, s func(h host.Host)) (*Runtime, *loopChecker) {
	t.Helper()
	lc := &loopChecker{t: t}
	started := make(chan struct{})
	r, err := Run(funcNode{start: func(h host.Host) {
		lc.id = goid()
		if s != nil {
			s(h)
		}
		close(started)
	}}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopRuntime(t, r) })
	wait(t, started, "Start")
	return r, lc
}

func stopRuntime(t testing.TB, r *Runtime) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Errorf("stop %s: %v", r.Name(), err)
	}
}

func wait(t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(testTimeout):
		t.Fatalf("timed out waiting for %s", what)
	}
}

// do runs f on r's loop and fails the test if it could not.
func do(t testing.TB, r *Runtime, f func(h host.Host)) {
	t.Helper()
	if err := r.Do(f); err != nil {
		t.Fatalf("Do: %v", err)
	}
}

// recorder is a ConnHandler that records frames and the close, checking
// that it only runs on the loop and that nothing follows OnClose.
type recorder struct {
	lc *loopChecker

	mu       sync.Mutex
	frames   [][]byte
	closed   bool
	closeErr error
	closedCh chan struct{}
	onFrame  func(c host.Conn, f []byte) // optional, on the loop
}

func newRecorder(lc *loopChecker) *recorder {
	return &recorder{lc: lc, closedCh: make(chan struct{})}
}

func (r *recorder) OnFrame(c host.Conn, f []byte) {
	r.lc.check("OnFrame")
	r.mu.Lock()
	if r.closed {
		r.lc.t.Errorf("frame after OnClose")
	}
	r.frames = append(r.frames, f)
	r.mu.Unlock()
	if r.onFrame != nil {
		r.onFrame(c, f)
	}
}

func (r *recorder) OnClose(c host.Conn, err error) {
	r.lc.check("OnClose")
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		r.lc.t.Errorf("OnClose twice (second: %v)", err)
		return
	}
	r.closed, r.closeErr = true, err
	close(r.closedCh)
}

func (r *recorder) frameCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.frames)
}

func (r *recorder) snapshot() ([][]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.frames...), r.closeErr
}

// pollUntil polls cond (bounded) — only for real-socket tests.
func pollUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func chanTimeout() <-chan time.Time { return time.After(testTimeout) }
