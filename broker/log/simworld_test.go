package log

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
	"github.com/loglab/loglab/sim/disk"
	"github.com/loglab/loglab/wire/batch"
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

// epochCrashLoop runs a node that replicates like a partition changing
// leaders: it appends as leader in its current epoch, becomes leader of a
// newer epoch (AssignEpoch), truncates like a follower and appends a
// follower's batches, applies retention, and is crashed in every mode and
// restarted. At every open and at the end the leader-epoch cache must
// agree with the recovered batches (checkEpochsAgree). It returns the
// trace hash.
func epochCrashLoop(t *testing.T, seed uint64) uint64 {
	w := sim.NewWorld(sim.Config{Seed: seed})
	var l *Log
	var openErr, agreeErr error
	tag, opens := 0, 0
	cfg := Config{SegmentBytes: 2 << 10, FlushMessages: int64(seed % 2), FlushMs: 3, IndexIntervalBytes: 512, RetentionBytes: 24 << 10, CheckpointIntervalMs: 1}
	w.AddNode("b1", func() host.Node {
		return sim.NodeFunc(func(h host.Host) {
			l, openErr = Open(h, "t-0", cfg)
			if openErr != nil {
				return
			}
			opens++
			if err := checkEpochsAgree(l); err != nil && agreeErr == nil {
				agreeErr = fmt.Errorf("open %d: %w", opens, err)
			}
			lg := l
			epoch, _ := lg.LatestEpoch()
			epoch++
			_ = lg.AssignEpoch(epoch, lg.LogEndOffset())
			var tick func()
			tick = func() {
				r := h.Rand()
				tag++
				switch op := r.IntN(20); {
				case op < 13:
					_, _ = lg.AppendAsLeader(mkBatch(tag, 1+tag%3, 100+r.IntN(400), h.Now().UnixMilli()), epoch)
				case op < 15:
					epoch += int32(1 + r.IntN(2))
					_ = lg.AssignEpoch(epoch, lg.LogEndOffset())
				case op < 17:
					// Follower of a new leader: truncate a little, then
					// take its batches of a newer epoch.
					if !lg.truncPending && lg.Err() == nil {
						cut := max(lg.LogStartOffset(), lg.LogEndOffset()-int64(r.IntN(6)))
						_ = lg.TruncateTo(cut)
						epoch += int32(1 + r.IntN(2))
						next := lg.LogEndOffset()
						var b []byte
						for range 1 + r.IntN(3) {
							tag++
							b = append(b, epochBatch(tag, 2, epoch, next)...)
							next += 2
						}
						_, _ = lg.AppendAsFollower(b)
					}
				case op < 18:
					_, _ = lg.ApplyRetention()
				default:
					if agreeErr == nil && !lg.truncPending && lg.Err() == nil {
						if err := checkEpochsAgree(lg); err != nil {
							agreeErr = fmt.Errorf("running (open %d): %w", opens, err)
						}
					}
				}
				h.AfterFunc(time.Millisecond, tick)
			}
			tick()
		})
	})
	w.Start("b1")
	// Slow syncs stretch the windows between a write and its durability
	// (the leader-epoch file's against the recovery-point checkpoint's).
	w.Disk("b1").SetFaults(disk.Faults{SlowSyncRate: disk.Million / 4, SlowSyncFactor: 20})
	modes := []disk.CrashMode{disk.LoseUnsynced, disk.KeepRandomPages, disk.TornLastSector, disk.KeepPageCache}
	r := w.Rand("test")
	for round := 0; round < 16; round++ {
		if err := w.RunFor(time.Duration(5+r.IntN(60)) * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		w.Crash("b1", modes[(round+int(seed))%len(modes)])
		l = nil
		w.Restart("b1")
		if err := w.RunUntil(func() bool { return l != nil || openErr != nil }, 100); err != nil {
			t.Fatal(err)
		}
		if openErr != nil {
			t.Fatalf("seed %d round %d: Open: %v", seed, round, openErr)
		}
		if agreeErr != nil {
			t.Fatalf("seed %d round %d: %v", seed, round, agreeErr)
		}
	}
	var entries []EpochEntry
	w.Do("b1", func(h host.Host) {
		if agreeErr == nil {
			agreeErr = checkEpochsAgree(l)
		}
		entries = l.EpochEntries()
	})
	if err := w.RunFor(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if agreeErr != nil {
		t.Fatalf("seed %d: %v", seed, agreeErr)
	}
	if len(entries) < 2 {
		t.Fatalf("seed %d: only %v epochs at the end: the workload did not exercise the cache", seed, entries)
	}
	return w.TraceHash()
}

func TestEpochCrashLoopOnSimWorld(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		h1 := epochCrashLoop(t, seed)
		if h2 := epochCrashLoop(t, seed); h1 != h2 {
			t.Fatalf("seed %d: trace hash %x then %x: not deterministic", seed, h1, h2)
		}
	}
}
