package netsim

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loglab/loglab/host"
)

// scenario runs three nodes exchanging frames over jittery links through a
// split, a crash and a reset, all drawn from the seed, and returns the trace.
func scenario(t *testing.T, seed uint64, payload byte) []string {
	cfg := Config{
		DefaultLink: Link{Latency: time.Millisecond, Jitter: Jitter{Dist: DistPareto, Scale: 300 * time.Microsecond}},
		Loopback:    Link{Latency: 10 * time.Microsecond, Jitter: Jitter{Dist: DistExponential, Scale: 5 * time.Microsecond}},
	}
	f := newFakeEnv(t, seed, cfg)
	f.net.SetLink("a", "c", Link{Latency: 2 * time.Millisecond, Jitter: Jitter{Dist: DistUniform, Scale: time.Millisecond}, BytesPerSecond: 10_000_000})
	nodes := []string{"a", "b", "c"}
	var ends []*rec
	for _, n := range nodes {
		f.listen(n, ":9092", host.ListenOptions{})
	}
	for _, x := range nodes {
		for _, y := range nodes {
			ends = append(ends, f.dial(x, y+":9092", host.DialOptions{}))
		}
	}
	w := f.Rand("workload")
	for step := 0; step < 400; step++ {
		f.runUntil(f.now + w.Int64N(int64(2*time.Millisecond)))
		switch step {
		case 100:
			f.net.Split([]string{"a"}, []string{"b", "c"})
		case 200:
			f.net.Heal()
		case 250:
			f.crash("c")
		case 260:
			ends = append(ends, f.dial("a", "c:9092", host.DialOptions{}))
		case 300:
			f.net.ResetRandomConnection(w)
		}
		e := ends[w.IntN(len(ends))]
		buf := make([]byte, 1+w.IntN(500))
		buf[0] = payload
		for i := 1; i < len(buf); i++ {
			buf[i] = byte(w.Uint32())
		}
		e.conn.Send(buf)
	}
	f.run()
	return f.trace
}

func deliveryTimes(trace []string) []string {
	var out []string
	for _, l := range trace {
		if strings.Contains(l, " net.frame ") {
			out = append(out, strings.SplitN(l, " ", 2)[0])
		}
	}
	return out
}

func TestEqualSeedsEqualTraces(t *testing.T) {
	one, two := scenario(t, 42, 0), scenario(t, 42, 0)
	if !slices.Equal(one, two) {
		for i := range min(len(one), len(two)) {
			if one[i] != two[i] {
				t.Fatalf("traces diverge at record %d:\n%s\n%s", i, one[i], two[i])
			}
		}
		t.Fatalf("trace lengths %d, %d", len(one), len(two))
	}
	kinds := map[string]int{}
	for _, l := range one {
		kinds[strings.Split(l, " ")[2]]++
	}
	for _, k := range []string{"net.frame", "net.accept", "net.split", "net.heal", "net.down", "net.rst", "net.reset", "net.close", "net.refused"} {
		if kinds[k] == 0 {
			t.Errorf("scenario never traced %s (kinds %v)", k, kinds)
		}
	}
}

func TestSeedsChangeDeliveryTimes(t *testing.T) {
	a, b := deliveryTimes(scenario(t, 1, 0)), deliveryTimes(scenario(t, 2, 0))
	if len(a) == 0 || slices.Equal(a, b) {
		t.Fatalf("seeds 1 and 2 gave the same %d delivery times", len(a))
	}
}

func TestTraceCoversFrameBytes(t *testing.T) {
	a, b := scenario(t, 7, 0), scenario(t, 7, 1)
	if slices.Equal(a, b) {
		t.Fatal("changing a byte of every frame left the trace unchanged")
	}
	if !slices.Equal(deliveryTimes(a), deliveryTimes(b)) {
		t.Fatal("the payload changed delivery times")
	}
}

// TestLinkStreamsIndependent: traffic on one link does not shift the delays
// drawn on another.
func TestLinkStreamsIndependent(t *testing.T) {
	times := func(extra bool) []int64 {
		cfg := Config{DefaultLink: Link{Latency: time.Millisecond, Jitter: Jitter{Dist: DistUniform, Scale: time.Millisecond}}}
		f := newFakeEnv(t, 9, cfg)
		d, a, _ := connect(t, f, "a", "b")
		if extra {
			x, _, _ := connect(t, f, "c", "d")
			for i := 0; i < 10; i++ {
				x.conn.Send(frame(i))
			}
		} else {
			f.runUntil(f.now + 10*ms)
		}
		for i := 0; i < 10; i++ {
			d.conn.Send(frame(i))
			f.runUntil(f.now + 100_000)
		}
		f.run()
		base := a.times[0]
		out := make([]int64, len(a.times))
		for i, at := range a.times {
			out[i] = at - base
		}
		return out
	}
	if x, y := times(false), times(true); !slices.Equal(x, y) {
		t.Fatalf("a>b delays changed with c>d traffic:\n%v\n%v", x, y)
	}
}

func BenchmarkDeliver(b *testing.B) {
	for _, tc := range []struct {
		name  string
		trace bool
	}{{"trace", true}, {"notrace", false}} {
		b.Run(tc.name, func(b *testing.B) {
			cfg := Config{DefaultLink: Link{Latency: time.Millisecond, Jitter: Jitter{Dist: DistExponential, Scale: 200 * time.Microsecond}}}
			f := newFakeEnv(b, 1, cfg)
			f.noTrace = !tc.trace
			s := f.listen("b", ":9092", host.ListenOptions{})
			d := f.dial("a", "b:9092", host.DialOptions{})
			f.runUntil(10 * ms)
			a := s.conns[0]
			a.onFrame = func(host.Conn, []byte) { a.frames = a.frames[:0]; a.times = a.times[:0] }
			payload := make([]byte, 100)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d.conn.Send(payload)
				if i%64 == 63 {
					f.runUntil(f.now + ms)
					if tc.trace {
						f.trace = f.trace[:0]
					}
				}
			}
			f.run()
			b.StopTimer()
			if got := f.net.Stats().FramesDelivered; got != int64(b.N) {
				b.Fatalf("delivered %d of %d", got, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}
