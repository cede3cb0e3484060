package netsim

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/loglab/loglab/host"
	"pgregory.net/rapid"
)

// drawLink draws a link model with heavy jitter relative to its base.
func drawLink(t *rapid.T, name string) Link {
	l := Link{Latency: time.Duration(rapid.Int64Range(0, 2_000_000).Draw(t, name+".latency"))}
	l.Jitter.Dist = Dist(rapid.IntRange(0, 3).Draw(t, name+".dist"))
	l.Jitter.Scale = time.Duration(rapid.Int64Range(0, 50_000_000).Draw(t, name+".scale"))
	l.Jitter.Alpha = rapid.IntRange(1, 2).Draw(t, name+".alpha")
	if rapid.Bool().Draw(t, name+".bw") {
		l.BytesPerSecond = rapid.Int64Range(1_000, 1_000_000_000).Draw(t, name+".bps")
	}
	return l
}

// TestFIFOProperty: whatever the delays, bandwidth and partitions (shorter
// than the stall timeout), each direction delivers exactly what was sent, in
// order, and nothing is lost.
func TestFIFOProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := Config{DefaultLink: drawLink(rt, "ab"), StallTimeout: time.Hour}
		f := newFakeEnv(rt, rapid.Uint64().Draw(rt, "seed"), cfg)
		f.noTrace = true
		f.net.SetLink("b", "a", drawLink(rt, "ba"))
		s := f.listen("b", ":9092", host.ListenOptions{})
		d := f.dial("a", "b:9092", host.DialOptions{Timeout: time.Hour})
		var accepted *rec
		ends := func() [2]*rec { return [2]*rec{d, accepted} }
		sent := [2]uint32{}
		steps := rapid.IntRange(1, 300).Draw(rt, "steps")
		partitioned := false
		for i := 0; i < steps; i++ {
			f.runUntil(f.now + rapid.Int64Range(0, 5_000_000).Draw(rt, "gap"))
			if accepted == nil && len(s.conns) > 0 {
				accepted = s.conns[0]
			}
			switch op := rapid.IntRange(0, 9).Draw(rt, "op"); {
			case op == 0:
				if partitioned {
					f.net.Heal()
				} else if rapid.Bool().Draw(rt, "oneway") {
					f.net.OneWay("a", "b")
				} else {
					f.net.Isolate("b")
				}
				partitioned = !partitioned
			default:
				side := rapid.IntRange(0, 1).Draw(rt, "side")
				e := ends()[side]
				if e == nil {
					continue // not accepted yet
				}
				size := rapid.IntRange(4, 2000).Draw(rt, "size")
				buf := make([]byte, size)
				binary.BigEndian.PutUint32(buf, sent[side])
				sent[side]++
				if err := e.conn.Send(buf); err != nil {
					rt.Fatalf("Send: %v", err)
				}
			}
		}
		f.net.Heal()
		f.run() // held frames retransmit; flapping may have queued a lot on a slow link
		if accepted == nil {
			accepted = s.conns[0]
		}
		for side, e := range ends() {
			recv := ends()[1-side]
			if len(recv.frames) != int(sent[side]) {
				rt.Fatalf("side %d sent %d, %d delivered", side, sent[side], len(recv.frames))
			}
			for i, fr := range recv.frames {
				if got := binary.BigEndian.Uint32(fr); got != uint32(i) {
					rt.Fatalf("side %d: frame %d carries seq %d", side, i, got)
				}
				if i > 0 && recv.times[i] < recv.times[i-1] {
					rt.Fatalf("delivery times go back")
				}
			}
			if e.closes != 0 {
				rt.Fatalf("side %d closed: %v", side, e.err)
			}
		}
		if st := f.net.Stats(); st.FramesDropped != 0 {
			rt.Fatalf("dropped %d", st.FramesDropped)
		}
	})
}
