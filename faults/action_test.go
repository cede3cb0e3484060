package faults

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
	"github.com/loglab/loglab/sim/disk"
)

// newWorld starts idle nodes n1..nN.
func newWorld(t *testing.T, seed uint64, n int) *sim.World {
	t.Helper()
	w := sim.NewWorld(sim.Config{Seed: seed, RecordTrace: true})
	for i := 1; i <= n; i++ {
		name := "n" + string(rune('0'+i))
		w.AddNode(name, func() host.Node { return sim.NodeFunc(func(host.Host) {}) })
		w.Start(name)
	}
	if err := w.RunFor(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	return w
}

// run applies text at the world's current time and runs until every step
// has fired.
func run(t *testing.T, w *sim.World, text string) {
	t.Helper()
	s, err := Parse("test", text)
	if err != nil {
		t.Fatal(err)
	}
	if err := Apply(w, s); err != nil {
		t.Fatal(err)
	}
	if err := w.RunFor(s.End() + time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

// writeUnsynced leaves a file with unsynced bytes on n's disk.
func writeUnsynced(t *testing.T, w *sim.World, n, name string) {
	t.Helper()
	f, err := w.Disk(n).OpenFile(name, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
}

// writeDurable leaves a synced file (entry and content) on n's disk.
func writeDurable(t *testing.T, w *sim.World, n, name string, size int) {
	t.Helper()
	d := w.Disk(n)
	f, err := d.OpenFile(name, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, size), 0); err != nil {
		t.Fatal(err)
	}
	var errs []error
	f.Sync(func(err error) { errs = append(errs, err) })
	d.SyncDir("", func(err error) { errs = append(errs, err) })
	if err := w.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	if len(errs) != 2 || errs[0] != nil || errs[1] != nil {
		t.Fatalf("sync: %v", errs)
	}
}

func TestCrashModesReachTheDisk(t *testing.T) {
	for _, tc := range []struct {
		line     string
		survives bool
	}{
		{"at 1s crash n1 mode=power-loss", false},
		{"at 1s crash n1", false},
		{"at 1s crash n1 mode=process-kill", true},
		{"at 1s kill n1", true},
	} {
		t.Run(tc.line, func(t *testing.T) {
			w := newWorld(t, 1, 2)
			writeUnsynced(t, w, "n1", "f")
			run(t, w, tc.line)
			if w.Up("n1") {
				t.Fatal("n1 still up after crash")
			}
			if !w.Up("n2") {
				t.Fatal("n2 went down")
			}
			if got := w.Disk("n1").Stats().Crashes; got != 1 {
				t.Fatalf("disk crashes = %d, want 1", got)
			}
			_, ok := w.Disk("n1").CachedContent("f")
			if ok != tc.survives {
				t.Fatalf("unsynced file present=%v after %q, want %v", ok, tc.line, tc.survives)
			}
			run(t, w, "at 1s restart n1")
			if !w.Up("n1") {
				t.Fatal("n1 down after restart")
			}
		})
	}
}

func TestStopThenRestart(t *testing.T) {
	w := newWorld(t, 1, 1)
	run(t, w, "at 1s stop n1")
	if w.Up("n1") {
		t.Fatal("n1 up after stop")
	}
	run(t, w, "at 1s restart n1")
	if !w.Up("n1") {
		t.Fatal("n1 down after restart")
	}
}

func TestPauseHoldsEvents(t *testing.T) {
	w := newWorld(t, 1, 1)
	run(t, w, "at 1s pause n1")
	if !w.Paused("n1") {
		t.Fatal("n1 not paused")
	}
	ran := 0
	w.Do("n1", func(host.Host) { ran++ })
	if err := w.RunFor(time.Minute); err != nil {
		t.Fatal(err)
	}
	if ran != 0 {
		t.Fatal("a paused node ran an event")
	}
	run(t, w, "at 1s resume n1")
	if w.Paused("n1") || ran != 1 {
		t.Fatalf("after resume: paused=%v ran=%d, want false 1", w.Paused("n1"), ran)
	}
}

func TestPartitionsAndHeal(t *testing.T) {
	for _, tc := range []struct {
		line      string
		blocked   [][2]string
		reachable [][2]string
	}{
		{"at 1s isolate n1", [][2]string{{"n1", "n2"}, {"n3", "n1"}}, [][2]string{{"n2", "n3"}}},
		{"at 1s split n1 | n2,n3", [][2]string{{"n1", "n2"}, {"n3", "n1"}}, [][2]string{{"n2", "n3"}}},
		{"at 1s one-way n1>n2", [][2]string{{"n1", "n2"}}, [][2]string{{"n2", "n1"}, {"n1", "n3"}}},
		{"at 1s bridge n1 | n2 | n3", [][2]string{{"n1", "n3"}, {"n3", "n1"}}, [][2]string{{"n1", "n2"}, {"n2", "n3"}, {"n3", "n2"}}},
	} {
		t.Run(tc.line, func(t *testing.T) {
			w := newWorld(t, 1, 3)
			run(t, w, tc.line)
			net := w.Net()
			for _, p := range tc.blocked {
				if net.Reachable(p[0], p[1]) {
					t.Errorf("%s>%s reachable", p[0], p[1])
				}
			}
			for _, p := range tc.reachable {
				if !net.Reachable(p[0], p[1]) {
					t.Errorf("%s>%s blocked", p[0], p[1])
				}
			}
			if !net.Partitioned() {
				t.Error("not partitioned")
			}
			run(t, w, "at 1s heal")
			if net.Partitioned() || !net.Reachable(tc.blocked[0][0], tc.blocked[0][1]) {
				t.Error("still partitioned after heal")
			}
		})
	}
}

func TestClock(t *testing.T) {
	w := newWorld(t, 1, 2)
	before := w.Host("n1").Now()
	run(t, w, "at 0s clock-jump n1 +5m")
	if got := w.Host("n1").Now().Sub(before); got != 5*time.Minute+time.Millisecond {
		t.Fatalf("n1 clock moved %v, want 5m0.001s", got)
	}
	run(t, w, "at 0s clock-jump n1 -1m")
	if got := w.ClockOffset("n1"); got != 4*time.Minute {
		t.Fatalf("offset after two jumps = %v, want 4m", got)
	}
	run(t, w, "at 0s clock-skew n1 -200ms")
	if got := w.ClockOffset("n1"); got != -200*time.Millisecond {
		t.Fatalf("offset after skew = %v, want -200ms", got)
	}
	if got := w.ClockOffset("n2"); got != 0 {
		t.Fatalf("n2 offset = %v, want 0", got)
	}
}

func TestDiskFaults(t *testing.T) {
	w := newWorld(t, 1, 2)
	run(t, w, "at 1s disk n1 read-error=100ppm sync-error=1000ppm capacity=4096")
	want := disk.Faults{ReadErrorRate: 100, SyncErrorRate: 1000, Capacity: 4096}
	if got := w.Disk("n1").Faults(); got != want {
		t.Fatalf("faults = %v, want %v", got, want)
	}
	if got := w.Disk("n2").Faults(); got != (disk.Faults{}) {
		t.Fatalf("n2 faults = %v, want none", got)
	}
	// ENOSPC really fires.
	f, err := w.Disk("n1").OpenFile("big", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 8192), 0); err == nil {
		t.Fatal("write past capacity succeeded")
	}
	run(t, w, "at 1s disk n1 none")
	if got := w.Disk("n1").Faults(); got != (disk.Faults{}) {
		t.Fatalf("faults after clear = %v", got)
	}
}

func TestBitRot(t *testing.T) {
	for _, line := range []string{"at 0s bit-rot n1", "at 0s bit-rot n1 file=f", "at 0s bit-rot n1 file=f offset=100"} {
		t.Run(line, func(t *testing.T) {
			w := newWorld(t, 1, 1)
			writeDurable(t, w, "n1", "f", 200)
			run(t, w, line)
			if got := w.Disk("n1").Stats().Faults.BitRots; got != 1 {
				t.Fatalf("bit rots = %d, want 1", got)
			}
			data, _ := w.Disk("n1").DurableContent("f")
			ones := 0
			for _, b := range data {
				for ; b != 0; b &= b - 1 {
					ones++
				}
			}
			if ones != 1 {
				t.Fatalf("%d bits set on the media, want 1", ones)
			}
		})
	}
	// Nothing durable: skipped and traced, no panic.
	w := newWorld(t, 1, 1)
	run(t, w, "at 0s bit-rot n1\nat 0s bit-rot n1 file=missing offset=3")
	if got := w.Disk("n1").Stats().Faults.BitRots; got != 0 {
		t.Fatalf("bit rots = %d, want 0", got)
	}
	if n := countTrace(w, "fault.skip"); n != 2 {
		t.Fatalf("%d fault.skip records, want 2", n)
	}
}

func countTrace(w *sim.World, kind string) int {
	n := 0
	for _, l := range w.TraceLines() {
		if strings.Contains(l, " "+kind+" ") {
			n++
		}
	}
	return n
}

func TestLatency(t *testing.T) {
	w := newWorld(t, 1, 3)
	run(t, w, "at 0s latency n1>n2 base=10ms\nat 0s latency *>n3 base=1ms\nat 0s latency *>* base=2ms")
	var links []string
	for _, l := range w.TraceLines() {
		if _, after, ok := strings.Cut(l, " net.link "); ok {
			links = append(links, after)
		}
	}
	want := []string{"n1>n2", "n1>n3", "n2>n3", "default"}
	if !slices.Equal(links, want) {
		t.Fatalf("links set %v, want %v", links, want)
	}
}

// TestLatencyDelaysFrames checks the link model really changed: a frame
// n1 -> n2 takes the new base latency.
func TestLatencyDelaysFrames(t *testing.T) {
	w := newWorld(t, 1, 2)
	run(t, w, "at 0s latency n1>n2 base=40ms")
	var got []time.Duration
	w.Do("n2", func(h host.Host) {
		_, err := h.Net().Listen(":1", host.ListenOptions{}, func(c host.Conn) host.ConnHandler {
			return handler{onFrame: func() { got = append(got, w.Elapsed()) }}
		})
		if err != nil {
			t.Error(err)
		}
	})
	if err := w.RunFor(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var sent time.Duration
	w.Do("n1", func(h host.Host) {
		c := h.Net().Dial("n2:1", host.DialOptions{}, handler{})
		sent = w.Elapsed()
		_ = c.Send([]byte("x"))
	})
	if err := w.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	// SYN n1->n2 (40ms), then the frame goes out behind it (n1->n2 again).
	if len(got) != 1 || got[0]-sent < 40*time.Millisecond {
		t.Fatalf("frame arrived at %v (sent %v), want >= 40ms later", got, sent)
	}
}

type handler struct{ onFrame func() }

func (h handler) OnFrame(host.Conn, []byte) {
	if h.onFrame != nil {
		h.onFrame()
	}
}
func (handler) OnClose(host.Conn, error) {}

func TestResets(t *testing.T) {
	w := newWorld(t, 1, 2)
	w.Do("n2", func(h host.Host) {
		_, _ = h.Net().Listen(":1", host.ListenOptions{}, func(host.Conn) host.ConnHandler { return handler{} })
	})
	if err := w.RunFor(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	dial := func() {
		w.Do("n1", func(h host.Host) { h.Net().Dial("n2:1", host.DialOptions{}, handler{}) })
		if err := w.RunFor(100 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	dial()
	dial()
	if got := len(w.Net().Conns()); got != 2 {
		t.Fatalf("%d conns, want 2", got)
	}
	run(t, w, "at 0s reset-random-conn")
	if got := len(w.Net().Conns()); got != 1 {
		t.Fatalf("%d conns after reset-random-conn, want 1", got)
	}
	dial()
	run(t, w, "at 0s reset-conns n1")
	if got := len(w.Net().Conns()); got != 0 {
		t.Fatalf("%d conns after reset-conns, want 0", got)
	}
	if got := w.Net().Stats().Resets; got != 3 {
		t.Fatalf("resets = %d, want 3", got)
	}
	run(t, w, "at 0s reset-random-conn")
	if n := countTrace(w, "fault.skip"); n != 1 {
		t.Fatalf("%d fault.skip, want 1 (no connection left)", n)
	}
}

func TestApplyRejectsUnknownNodes(t *testing.T) {
	w := newWorld(t, 1, 2)
	err := Apply(w, MustParse("at 1s crash n9"))
	if err == nil || !strings.Contains(err.Error(), `"n9"`) {
		t.Fatalf("err = %v, want one naming n9", err)
	}
	if err := Apply(w, Schedule{Steps: []Step{{At: time.Second, Action: Crash{Node: ""}}}}); err == nil {
		t.Fatal("invalid schedule applied")
	}
}

func TestResolver(t *testing.T) {
	w := newWorld(t, 1, 3)
	leader := "n2"
	r := func(_ Action, name string) []string {
		switch name {
		case "leader":
			return []string{leader}
		case "followers":
			return []string{"n1", "n3"}
		case "ghost":
			return []string{"n9"}
		}
		return []string{name}
	}
	s := MustParse("at 1s crash leader\nat 2s split leader | followers\nat 3s pause ghost")
	if err := ApplyWith(w, s, r); err != nil {
		t.Fatal(err)
	}
	leader = "n3" // resolved when the step fires, not when applied
	if err := w.RunFor(4 * time.Second); err != nil {
		t.Fatal(err)
	}
	if w.Up("n3") || !w.Up("n2") {
		t.Fatalf("n2 up=%v n3 up=%v: want the leader at fire time (n3) crashed", w.Up("n2"), w.Up("n3"))
	}
	if w.Net().Reachable("n3", "n1") {
		t.Fatal("split leader | followers did not cut n3 from n1")
	}
	if n := countTrace(w, "fault.skip"); n != 1 {
		t.Fatalf("%d fault.skip, want 1 (ghost)", n)
	}
}

func TestApplyTracesAndIsDeterministic(t *testing.T) {
	text := `at 1s crash n1 mode=keep-random-pages
at 1s disk n2 read-error=1000ppm
at 2s restart n1
at 2s isolate n3
at 3s heal
at 3s reset-random-conn
at 4s bit-rot n2
at 4s latency n1>n2 base=5ms jitter=pareto:1ms alpha=1
`
	hash := func(text string) (uint64, []string) {
		w := newWorld(t, 7, 3)
		writeDurable(t, w, "n2", "f", 5000)
		run(t, w, text)
		var faults []string
		for _, l := range w.TraceLines() {
			if _, after, ok := strings.Cut(l, "  fault "); ok {
				faults = append(faults, after)
			}
		}
		return w.TraceHash(), faults
	}
	h1, f1 := hash(text)
	h2, _ := hash(text)
	if h1 != h2 {
		t.Fatalf("same schedule and seed: hashes %x != %x", h1, h2)
	}
	if want := strings.Split(strings.TrimSpace(text), "\n"); !slices.Equal(f1, want) {
		t.Fatalf("traced faults:\n%s\nwant:\n%s", strings.Join(f1, "\n"), strings.Join(want, "\n"))
	}
	h3, _ := hash(strings.Replace(text, "n2 read-error", "n1 read-error", 1))
	if h3 == h1 {
		t.Fatal("a different schedule gave the same hash")
	}
}
