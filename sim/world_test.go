package sim

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim/disk"
)

func TestTimersRunInTimeThenScheduleOrder(t *testing.T) {
	w := NewWorld(Config{Seed: 1})
	var got []string
	w.AddNode("a", func() host.Node {
		return NodeFunc(func(h host.Host) {
			h.AfterFunc(3*time.Millisecond, func() { got = append(got, "t3") })
			h.AfterFunc(time.Millisecond, func() { got = append(got, "t1a") })
			h.AfterFunc(time.Millisecond, func() { got = append(got, "t1b") })
			stopped := h.AfterFunc(2*time.Millisecond, func() { got = append(got, "stopped") })
			if !stopped.Stop() || stopped.Stop() {
				t.Error("Stop must report true once")
			}
			h.Post(func() { got = append(got, "post1") })
			h.Post(func() { got = append(got, "post2") })
		})
	})
	w.Start("a")
	if err := w.RunUntilIdle(100); err != nil {
		t.Fatal(err)
	}
	want := "[post1 post2 t1a t1b t3]"
	if fmt.Sprint(got) != want {
		t.Fatalf("order %v, want %s", got, want)
	}
	if w.Elapsed() != 3*time.Millisecond {
		t.Fatalf("clock at %v", w.Elapsed())
	}
}

func TestCrashDropsPendingCallbacksAndRestartIsFresh(t *testing.T) {
	w := NewWorld(Config{Seed: 1})
	starts, fired := 0, 0
	w.AddNode("a", func() host.Node {
		return NodeFunc(func(h host.Host) {
			starts++
			h.AfterFunc(time.Second, func() { fired++ })
		})
	})
	w.Start("a")
	w.RunFor(500 * time.Millisecond)
	old := w.Host("a")
	w.Crash("a", disk.LoseUnsynced)
	if w.Up("a") || w.Host("a") != nil {
		t.Fatal("crashed node still up")
	}
	// The dead incarnation's host must not be able to schedule anything.
	old.Post(func() { t.Error("dead incarnation ran a callback") })
	w.RunFor(2 * time.Second)
	if fired != 0 {
		t.Fatalf("timer of a crashed node fired %d times", fired)
	}
	w.Restart("a")
	w.RunFor(2 * time.Second)
	if starts != 2 || fired != 1 {
		t.Fatalf("starts=%d fired=%d, want 2 and 1", starts, fired)
	}
}

func TestPauseHoldsEventsUntilResume(t *testing.T) {
	w := NewWorld(Config{Seed: 1})
	var firedAt []time.Duration
	w.AddNode("a", func() host.Node {
		return NodeFunc(func(h host.Host) {
			for i := 1; i <= 3; i++ {
				h.AfterFunc(time.Duration(i)*time.Second, func() { firedAt = append(firedAt, h.Monotonic()) })
			}
		})
	})
	w.Start("a")
	w.RunFor(1500 * time.Millisecond)
	w.Pause("a")
	w.RunFor(5 * time.Second) // timers at 2s and 3s come due while paused
	if len(firedAt) != 1 {
		t.Fatalf("paused node ran callbacks: %v", firedAt)
	}
	w.Resume("a")
	w.RunFor(time.Millisecond)
	want := fmt.Sprint([]time.Duration{time.Second, 6500 * time.Millisecond, 6500 * time.Millisecond})
	if fmt.Sprint(firedAt) != want {
		t.Fatalf("fired at %v, want %v", firedAt, want)
	}
}

func TestClockOffsetMovesNowNotTimers(t *testing.T) {
	w := NewWorld(Config{Seed: 1})
	w.AddNode("a", func() host.Node { return NodeFunc(func(host.Host) {}) })
	w.Start("a")
	w.RunFor(time.Second)
	h := w.Host("a")
	before := h.Now()
	w.SetClockOffset("a", -time.Hour)
	if got := h.Now().Sub(before); got != -time.Hour {
		t.Fatalf("jump moved Now by %v", got)
	}
	fired := false
	h.AfterFunc(time.Second, func() { fired = true })
	w.RunFor(time.Second)
	if !fired || h.Monotonic() != 2*time.Second {
		t.Fatalf("timer fired=%v monotonic=%v", fired, h.Monotonic())
	}
	if !before.Equal(DefaultEpoch.Add(time.Second)) {
		t.Fatalf("Now = %v, want epoch+1s", before)
	}
}

// chatter is a node whose timers depend on its random stream, so its trace
// depends on the seed.
func chatter(h host.Host) {
	var tick func()
	tick = func() {
		h.AfterFunc(time.Duration(1+h.Rand().IntN(1000))*time.Microsecond, tick)
	}
	for i := 0; i < 4; i++ {
		tick()
	}
}

func runChatter(seed uint64, d time.Duration) (uint64, uint64) {
	w := NewWorld(Config{Seed: seed})
	for _, n := range []string{"a", "b", "c"} {
		w.AddNode(n, func() host.Node { return NodeFunc(chatter) })
		w.Start(n)
	}
	w.RunFor(d)
	return w.TraceHash(), w.Events()
}

func TestSameSeedSameHash(t *testing.T) {
	h1, e1 := runChatter(7, 50*time.Millisecond)
	h2, e2 := runChatter(7, 50*time.Millisecond)
	if h1 != h2 || e1 != e2 {
		t.Fatalf("seed 7 twice: %x/%d vs %x/%d", h1, e1, h2, e2)
	}
	h3, _ := runChatter(8, 50*time.Millisecond)
	if h3 == h1 {
		t.Fatal("seeds 7 and 8 gave the same hash")
	}
}

func TestRunUntilLimits(t *testing.T) {
	w := NewWorld(Config{Seed: 1})
	w.AddNode("a", func() host.Node { return NodeFunc(chatter) })
	w.Start("a")
	err := w.RunUntil(func() bool { return false }, 1000)
	if !errors.Is(err, ErrEventLimit) {
		t.Fatalf("RunUntil without progress: %v", err)
	}
	if w.Events() != 1000 {
		t.Fatalf("ran %d events", w.Events())
	}
	w2 := NewWorld(Config{Seed: 1})
	if err := w2.RunUntil(func() bool { return false }, 0); err == nil {
		t.Fatal("idle world with unmet condition must report it")
	}
}

func TestStreamsAreIndependent(t *testing.T) {
	a := Stream(1, "x").Uint64()
	if Stream(1, "x").Uint64() != a {
		t.Fatal("same seed and name must give the same stream")
	}
	if Stream(1, "y").Uint64() == a || Stream(2, "x").Uint64() == a {
		t.Fatal("streams for other names or seeds must differ")
	}
}

// BenchmarkTimerHeavy measures the simulator core: events per second for a
// load of self-rearming timers with no work (issue target: >= 1M/s).
func BenchmarkTimerHeavy(b *testing.B) {
	w := NewWorld(Config{Seed: 1})
	for i := 0; i < 16; i++ {
		w.AddNode(fmt.Sprintf("n%d", i), func() host.Node { return NodeFunc(chatter) })
		w.Start(fmt.Sprintf("n%d", i))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.Step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
