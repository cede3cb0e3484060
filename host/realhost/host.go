package realhost

import (
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/loglab/loglab/host"
)

// nodeHost is the host.Host handed to node code. Its methods, like all node
// code, run on the loop.
type nodeHost struct{ r *Runtime }

var _ host.Host = (*nodeHost)(nil)

func (h *nodeHost) Name() string             { return h.r.name }
func (h *nodeHost) Now() time.Time           { return time.Now() }
func (h *nodeHost) Monotonic() time.Duration { return time.Since(h.r.start) }
func (h *nodeHost) Rand() *rand.Rand         { return h.r.rand }
func (h *nodeHost) Net() host.Network        { return h.r.net }
func (h *nodeHost) Disk() host.Disk          { return h.r.disk }
func (h *nodeHost) Logger() *slog.Logger     { return h.r.logger }
func (h *nodeHost) Post(f func())            { h.r.post(f) }

// AfterFunc arms a wall-clock timer whose expiry posts to the loop. The
// timer's state lives on the loop, so Stop also wins against an expiry that
// is already queued but has not run.
func (h *nodeHost) AfterFunc(d time.Duration, f func()) host.Timer {
	t := &timer{r: h.r, f: f}
	h.r.timers[t] = struct{}{}
	if d <= 0 {
		h.r.post(t.fire)
		return t
	}
	t.t = time.AfterFunc(d, func() { h.r.post(t.fire) })
	return t
}

type timer struct {
	r    *Runtime
	f    func()
	t    *time.Timer // nil for d <= 0
	done bool        // fired or stopped; loop-owned
}

func (t *timer) fire() {
	if t.done {
		return
	}
	t.done = true
	delete(t.r.timers, t)
	t.f()
}

func (t *timer) Stop() bool {
	if t.done {
		return false
	}
	t.done = true
	delete(t.r.timers, t)
	if t.t != nil {
		t.t.Stop()
	}
	return true
}
