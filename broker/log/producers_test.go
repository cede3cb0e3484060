package log

import (
	"errors"
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/loglab/loglab/broker/bugzoo"
	"github.com/loglab/loglab/wire/batch"
)

func idemBatch(pid int64, epoch int16, seq int32, n int) []byte {
	rs := make([]batch.Record, n)
	for i := range rs {
		rs[i] = batch.Record{Value: []byte(fmt.Sprintf("p%d e%d s%d", pid, epoch, int(seq)+i))}
	}
	return batch.Build(nil, rs, batch.BuildOptions{BaseTimestamp: 1, Idempotent: true, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq})
}

// Each rule of the producer-state check, on one log.
func TestProducerSequenceRules(t *testing.T) {
	w := newTestWorld(t, 1)
	d := simDriver{w}
	l := mustOpen(t, d, dir, smallCfg)
	app := func(pid int64, epoch int16, seq int32, n int) (AppendInfo, error) {
		return l.AppendAsLeader(idemBatch(pid, epoch, seq, n), 0)
	}
	mustAppend := func(pid int64, epoch int16, seq int32, n int, wantFirst int64, wantDup bool) {
		t.Helper()
		info, err := app(pid, epoch, seq, n)
		if err != nil || info.FirstOffset != wantFirst || info.Duplicate != wantDup {
			t.Fatalf("pid %d epoch %d seq %d: %+v %v, want first offset %d duplicate %v", pid, epoch, seq, info, err, wantFirst, wantDup)
		}
	}
	mustFail := func(pid int64, epoch int16, seq int32, want error) {
		t.Helper()
		leo := l.LogEndOffset()
		if _, err := app(pid, epoch, seq, 1); !errors.Is(err, want) {
			t.Fatalf("pid %d epoch %d seq %d: %v, want %v", pid, epoch, seq, err, want)
		}
		if l.LogEndOffset() != leo {
			t.Fatal("a refused batch was written")
		}
	}
	mustAppend(7, 0, 0, 3, 0, false) // seq 0-2 at 0-2
	mustAppend(7, 0, 3, 2, 3, false) // seq 3-4 at 3-4
	mustAppend(7, 0, 0, 3, 0, true)  // retry of the first: original offsets
	mustAppend(7, 0, 3, 2, 3, true)
	mustFail(7, 0, 6, ErrOutOfOrderSequence) // gap
	mustFail(7, 0, 4, ErrOutOfOrderSequence) // overlap that is not a retry
	mustFail(9, 0, 5, ErrUnknownProducerID)  // a producer the log never saw
	mustAppend(9, 0, 0, 1, 5, false)
	mustFail(7, 1, 3, ErrOutOfOrderSequence) // new epoch must start at 0
	mustAppend(7, 1, 0, 1, 6, false)
	mustFail(7, 0, 5, ErrInvalidProducerEpoch) // zombie
	// Only the last five batches are remembered.
	for i := range 6 {
		mustAppend(9, 0, int32(1+i), 1, 7+int64(i), false)
	}
	mustFail(9, 0, 1, ErrOutOfOrderSequence) // sixth-newest: no longer a known duplicate
	mustAppend(9, 0, 2, 1, 8, true)          // fifth-newest still is
	mustAppend(11, 0, 0, 1, 13, false)
	// A truncation forgets what was cut; the state is rebuilt from the log.
	if err := l.TruncateTo(13); err != nil {
		t.Fatal(err)
	}
	mustFail(11, 0, 1, ErrUnknownProducerID)
	mustAppend(9, 0, 6, 1, 12, true)
	closeLog(t, d, l)
	// Reopened, the state is rebuilt from the headers.
	l = mustOpen(t, d, dir, smallCfg)
	mustAppend(7, 1, 0, 1, 6, true)
	mustAppend(9, 0, 7, 1, 13, false)
	if n, err := l.ProducerCount(); n != 2 || err != nil {
		t.Fatalf("producers: %d %v", n, err)
	}
	closeLog(t, d, l)
}

// The bug zoo's skip-sequence-check stores a retried batch twice.
func TestProducerSkipSequenceCheckBug(t *testing.T) {
	w := newTestWorld(t, 1)
	d := simDriver{w}
	cfg := smallCfg
	cfg.Bugs = bugzoo.Set(0).With(bugzoo.SkipSequenceCheck)
	l := mustOpen(t, d, dir, cfg)
	for range 2 {
		if _, err := l.AppendAsLeader(idemBatch(1, 0, 0, 2), 0); err != nil {
			t.Fatal(err)
		}
	}
	if l.LogEndOffset() != 4 {
		t.Fatalf("log end offset %d, want the retry stored again (4)", l.LogEndOffset())
	}
	closeLog(t, d, l)
}

// Against a model: a producer sends batches, retries any of the last few
// (duplicates), sends out of order, bumps its epoch; the log accepts
// exactly what the model accepts, answers duplicates with the original
// offsets, and a follower appending the leader's batches (and a reopened
// log) reaches the same verdicts.
func TestProducerStateModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		w := newTestWorld(t, 1)
		d := simDriver{w}
		leader := mustOpen(t, d, "leader", smallCfg)
		type sent struct {
			epoch      int16
			seq        int32
			n          int
			first      int64
			appendedAt int // index in the model's list of accepted batches
		}
		type prod struct {
			epoch    int16
			nextSeq  int32
			accepted []sent
		}
		ps := map[int64]*prod{1: {}, 2: {}}
		steps := rapid.IntRange(1, 60).Draw(rt, "steps")
		for range steps {
			pid := int64(rapid.IntRange(1, 2).Draw(rt, "pid"))
			p := ps[pid]
			switch rapid.IntRange(0, 4).Draw(rt, "op") {
			case 0, 1: // next batch
				n := rapid.IntRange(1, 3).Draw(rt, "n")
				info, err := leader.AppendAsLeader(idemBatch(pid, p.epoch, p.nextSeq, n), 0)
				if err != nil || info.Duplicate {
					rt.Fatalf("next batch refused: %+v %v", info, err)
				}
				p.accepted = append(p.accepted, sent{p.epoch, p.nextSeq, n, info.FirstOffset, 0})
				p.nextSeq += int32(n)
			case 2: // retry one of the last five of this epoch
				var cands []sent
				for _, s := range p.accepted {
					if s.epoch == p.epoch {
						cands = append(cands, s)
					}
				}
				if len(cands) > maxProducerBatches {
					cands = cands[len(cands)-maxProducerBatches:]
				}
				if len(cands) == 0 {
					continue
				}
				s := cands[rapid.IntRange(0, len(cands)-1).Draw(rt, "which")]
				info, err := leader.AppendAsLeader(idemBatch(pid, s.epoch, s.seq, s.n), 0)
				if err != nil || !info.Duplicate || info.FirstOffset != s.first {
					rt.Fatalf("retry of %+v: %+v %v", s, info, err)
				}
			case 3: // a gap
				gap := rapid.IntRange(1, 5).Draw(rt, "gap")
				if _, err := leader.AppendAsLeader(idemBatch(pid, p.epoch, p.nextSeq+int32(gap), 1), 0); err == nil {
					rt.Fatal("a sequence gap was accepted")
				}
			case 4: // epoch bump
				p.epoch++
				p.nextSeq = 0
			}
		}
		// A follower replaying the leader's log, and the leader reopened,
		// know the same producers: the next batch is accepted and every
		// recent batch is a duplicate.
		follower := mustOpen(t, d, "follower", smallCfg)
		for _, b := range readAllBatches(rt, leader) {
			if _, err := follower.AppendAsFollower(b); err != nil {
				rt.Fatal(err)
			}
		}
		closeLog(t, d, leader)
		reopened := mustOpen(t, d, "leader", smallCfg)
		for _, l := range []*Log{follower, reopened} {
			for _, pid := range []int64{1, 2} {
				p := ps[pid]
				for _, s := range p.accepted {
					if s.epoch != p.epoch {
						continue
					}
					recent := 0
					for _, x := range p.accepted {
						if x.epoch == p.epoch && x.first > s.first {
							recent++
						}
					}
					if recent >= maxProducerBatches {
						continue
					}
					info, err := l.AppendAsLeader(idemBatch(pid, s.epoch, s.seq, s.n), 0)
					if err != nil || !info.Duplicate || info.FirstOffset != s.first {
						rt.Fatalf("after replay, retry of %+v: %+v %v", s, info, err)
					}
				}
				if p.nextSeq > 0 || len(p.accepted) > 0 {
					if info, err := l.AppendAsLeader(idemBatch(pid, p.epoch, p.nextSeq, 1), 0); err != nil || info.Duplicate {
						rt.Fatalf("after replay, next batch of %d: %+v %v", pid, info, err)
					}
				}
			}
		}
		closeLog(t, d, follower)
		closeLog(t, d, reopened)
	})
}
