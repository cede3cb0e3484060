package fakehost

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/loglab/loglab/host"
)

// Host is the fake host.Host.
type Host struct {
	name    string
	epoch   time.Time
	mono    time.Duration
	seq     uint64
	timers  []*timer
	posts   []func()
	rand    *rand.Rand
	Network *Network
	Disk_   *Disk
	logger  *slog.Logger
}

// New returns a Host with an empty disk. Logs go to w (nil discards).
func New(name string, d *Disk, w io.Writer) *Host {
	if d == nil {
		d = NewDisk()
	}
	if w == nil {
		w = io.Discard
	}
	h := &Host{
		name:   name,
		epoch:  time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		rand:   rand.New(rand.NewPCG(1, 2)),
		Disk_:  d,
		logger: slog.New(slog.NewTextHandler(w, nil)).With("node", name),
	}
	h.Network = &Network{h: h, listeners: map[string]*Listener{}}
	d.h = h
	return h
}

func (h *Host) Name() string                 { return h.name }
func (h *Host) Now() time.Time               { return h.epoch.Add(h.mono) }
func (h *Host) Monotonic() time.Duration     { return h.mono }
func (h *Host) Rand() *rand.Rand             { return h.rand }
func (h *Host) Net() host.Network            { return h.Network }
func (h *Host) Disk() host.Disk              { return h.Disk_ }
func (h *Host) Logger() *slog.Logger         { return h.logger }
func (h *Host) Post(f func())                { h.posts = append(h.posts, f) }
func (h *Host) SetLogger(l *slog.Logger)     { h.logger = l }
func (h *Host) PendingTimers() int           { return len(h.timers) }
func (h *Host) AdvanceClock(d time.Duration) { h.mono += d }

type timer struct {
	h    *Host
	at   time.Duration
	seq  uint64
	f    func()
	done bool
}

func (t *timer) Stop() bool {
	if t.done {
		return false
	}
	t.done = true
	for i, x := range t.h.timers {
		if x == t {
			t.h.timers = append(t.h.timers[:i], t.h.timers[i+1:]...)
			break
		}
	}
	return true
}

func (h *Host) AfterFunc(d time.Duration, f func()) host.Timer {
	if d < 0 {
		d = 0
	}
	h.seq++
	t := &timer{h: h, at: h.mono + d, seq: h.seq, f: f}
	h.timers = append(h.timers, t)
	sort.SliceStable(h.timers, func(i, j int) bool {
		a, b := h.timers[i], h.timers[j]
		return a.at < b.at || a.at == b.at && a.seq < b.seq
	})
	return t
}

// Run runs posted functions and due timers until nothing is runnable
// without advancing the clock.
func (h *Host) Run() {
	for {
		if len(h.posts) > 0 {
			f := h.posts[0]
			h.posts = h.posts[1:]
			f()
			continue
		}
		if len(h.timers) > 0 && h.timers[0].at <= h.mono {
			t := h.timers[0]
			h.timers = h.timers[1:]
			t.done = true
			t.f()
			continue
		}
		return
	}
}

// Advance moves the clock forward by d, firing timers in order, then Runs.
func (h *Host) Advance(d time.Duration) {
	end := h.mono + d
	for {
		h.Run()
		if len(h.timers) == 0 || h.timers[0].at > end {
			break
		}
		h.mono = h.timers[0].at
	}
	h.mono = end
	h.Run()
}
