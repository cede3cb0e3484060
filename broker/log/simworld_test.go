package log

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/loglab/loglab/broker/batch"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
	"github.com/loglab/loglab/sim/disk"
)

// acked is what the workload was told is durable: offset -> batch bytes.
type ackedLog map[int64][]byte

// crashLoop runs a producer node appending one batch per millisecond with
// flush.messages=1 on the simulator's world, acknowledging batches through
// WhenDurable, crashing the node in every mode and restarting it. Every
// acknowledged batch must survive every crash, byte for byte. It returns
// the world's trace hash.
func crashLoop(t *testing.T, seed uint64) uint64 {
	w := sim.NewWorld(sim.Config{Seed: seed})
	acked := ackedLog{}
	var l *Log
	var openErr error
	tag := 0
	cfg := Config{SegmentBytes: 16 << 10, FlushMessages: 1, IndexIntervalBytes: 1024}
	w.AddNode("b1", func() host.Node {
		return sim.NodeFunc(func(h host.Host) {
			l, openErr = Open(h, "t-0", cfg)
			if openErr != nil {
				return
			}
			lg := l
			var tick func()
			tick = func() {
				tag++
				b := mkBatch(tag, 1+tag%3, 100+h.Rand().IntN(900), h.Now().UnixMilli())
				info, err := lg.Append(b)
				if err == nil {
					stored := bytes.Clone(b)
					lg.WhenDurable(info.LastOffset+1, func(err error) {
						if err == nil {
							acked[info.FirstOffset] = stored
						}
					})
				}
				h.AfterFunc(time.Millisecond, tick)
			}
			tick()
		})
	})
	w.Start("b1")
	modes := []disk.CrashMode{disk.LoseUnsynced, disk.KeepRandomPages, disk.TornLastSector, disk.KeepPageCache}
	r := w.Rand("test")
	for round := 0; round < 12; round++ {
		if err := w.RunFor(time.Duration(5+r.IntN(40)) * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		w.Crash("b1", modes[round%len(modes)])
		w.Restart("b1")
		if err := w.RunUntil(func() bool { return l != nil || openErr != nil }, 100); err != nil {
			t.Fatal(err)
		}
		l = nil
		if err := w.RunFor(0); err != nil {
			t.Fatal(err)
		}
		if openErr != nil {
			t.Fatalf("seed %d round %d: Open: %v", seed, round, openErr)
		}
	}
	// Check on the loop of the final incarnation.
	w.Crash("b1", disk.LoseUnsynced)
	var checkErr error
	w.Restart("b1")
	w.Do("b1", func(h host.Host) {
		cl := l
		if cl == nil {
			checkErr = fmt.Errorf("log not open: %v", openErr)
			return
		}
		for _, off := range slices.Sorted(maps.Keys(acked)) {
			want := acked[off]
			got, err := cl.Read(off, 1)
			if err != nil {
				checkErr = fmt.Errorf("acked offset %d: %w", off, err)
				return
			}
			hdr, _ := batch.ParseHeader(got)
			if !bytes.Equal(got[:hdr.Size()], want) {
				checkErr = fmt.Errorf("acked batch at %d changed", off)
				return
			}
		}
	})
	if err := w.RunFor(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if checkErr != nil {
		t.Fatalf("seed %d: %v", seed, checkErr)
	}
	if len(acked) < 50 {
		t.Fatalf("seed %d: only %d batches acknowledged", seed, len(acked))
	}
	return w.TraceHash()
}

func TestCrashLoopOnSimWorld(t *testing.T) {
	for seed := uint64(1); seed <= 10; seed++ {
		h1 := crashLoop(t, seed)
		if h2 := crashLoop(t, seed); h1 != h2 {
			t.Fatalf("seed %d: trace hash %x then %x: not deterministic", seed, h1, h2)
		}
	}
}
