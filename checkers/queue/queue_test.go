package queue

import (
	"testing"

	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/history/histgen"
	"pgregory.net/rapid"
)

var R = histgen.R

func correct() *histgen.Builder {
	b := histgen.New()
	a := b.InvokeSend("p1", "t", 0, "a")
	c := b.InvokeSend("p2", "t", 0, "c")
	b.SendOK(c, 0, 0)
	b.SendOK(a, 0, 1)
	b.SendFail(b.InvokeSend("p1", "t", 0, "f"))
	b.SendInfo(b.InvokeSend("p1", "t", 0, "i"))
	b.Poll("c1", "t", 0, 0, R(0, "c"))
	b.Poll("c1", "t", 0, 1, R(1, "a"), R(2, "i"))
	b.Poll("c1", "t", 0, 3)
	b.Poll("c1", "t", 0, 0, R(0, "c")) // a seek back is not an anomaly
	b.Send("p1", "t", 1, "x", 0)
	b.Poll("c2", "t", 1, 0, R(0, "x"))
	return b
}

func TestCorrectHistoryIsClean(t *testing.T) {
	res := Check(correct().Pairs(), Options{FinalReadsComplete: true})
	if res.Verdict != verdict.Pass || len(res.Anomalies) != 0 || len(res.Counts) != 0 {
		t.Fatalf("%+v", res)
	}
	want := Stats{SendsOK: 3, SendsFail: 1, SendsInfo: 1, PollsOK: 5, RecordsRead: 5, UniqueValuesSent: 5, UniqueValuesRead: 4}
	if res.Stats != want {
		t.Fatalf("stats %+v, want %+v", res.Stats, want)
	}
}

// one expects exactly one anomaly of kind and returns it.
func one(t *testing.T, b *histgen.Builder, opts Options, kind string) verdict.Anomaly {
	t.Helper()
	res := Check(b.Pairs(), opts)
	if res.Verdict != verdict.Fail || len(res.Anomalies) == 0 {
		t.Fatalf("no anomaly: %+v", res)
	}
	var found []verdict.Anomaly
	for _, a := range res.Anomalies {
		if a.Kind == kind {
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d %s anomalies in %+v", len(found), kind, res.Anomalies)
	}
	if found[0].Explanation == "" {
		t.Error("no explanation")
	}
	return found[0]
}

// invokes lists the evidence's invoke indexes.
func invokes(a verdict.Anomaly) []int64 {
	var out []int64
	for _, o := range a.Ops {
		out = append(out, o.Invoke)
	}
	return out
}

func eq(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLostWrite(t *testing.T) {
	b := histgen.New()
	b.Send("p", "t", 0, "a", 0)                             // records 0, 1
	b.Send("p", "t", 0, "b", 1)                             // 2, 3: acknowledged, then lost
	b.Poll("c", "t", 0, 0, R(0, "a"), R(1, "x"), R(2, "y")) // 4, 5: read past it
	a := one(t, b, Options{}, LostWrite)
	if a.Offset != 1 || a.Value != "b" || !eq(invokes(a), []int64{2, 4}) {
		t.Fatalf("%+v", a)
	}
	// A read before the ack proves nothing; never read is then unseen...
	b = histgen.New()
	b.Poll("c", "t", 0, 0)
	b.Send("p", "t", 0, "a", 0)
	res := Check(b.Pairs(), Options{})
	if res.Verdict != verdict.Pass || res.Stats.Unseen != 1 {
		t.Fatalf("%+v", res)
	}
	// ... unless the final reads were complete.
	a = one(t, b, Options{FinalReadsComplete: true}, LostWrite)
	if a.Value != "a" || !eq(invokes(a), []int64{2}) {
		t.Fatalf("%+v", a)
	}
}

func TestDuplicate(t *testing.T) {
	b := histgen.New()
	b.Send("p", "t", 0, "a", 0)                  // 0, 1
	b.Poll("c", "t", 0, 0, R(0, "a"), R(1, "a")) // 2, 3: a retry appended it again
	b.Poll("d", "t", 0, 0, R(0, "a"), R(1, "a")) // 4, 5: same evidence, not a new anomaly
	a := one(t, b, Options{}, Duplicate)
	if a.Value != "a" || a.Offset != 0 || !eq(invokes(a), []int64{0, 2}) {
		t.Fatalf("%+v", a)
	}
}

func TestDivergentOffset(t *testing.T) {
	b := histgen.New()
	b.Send("p", "t", 0, "a", 0)                  // 0, 1
	b.Poll("c", "t", 0, 0, R(0, "b"))            // 2, 3: a new leader wrote b there
	b.Poll("d", "t", 0, 0, R(0, "a"), R(1, "c")) // 4, 5
	a := one(t, b, Options{}, DivergentOffset)
	if a.Offset != 0 || !eq(invokes(a), []int64{0, 2}) {
		t.Fatalf("%+v", a)
	}
	// Two acks at one offset diverge too.
	b = histgen.New()
	b.Send("p", "t", 0, "a", 3)
	b.Send("q", "t", 0, "b", 3)
	if a := one(t, b, Options{}, DivergentOffset); a.Offset != 3 || len(a.Ops) != 2 {
		t.Fatalf("%+v", a)
	}
}

func TestGap(t *testing.T) {
	b := histgen.New()
	for i, v := range []string{"a", "b", "c", "d"} {
		b.Send("p", "t", 0, v, int64(i)) // records 0..7
	}
	b.Poll("c", "t", 0, 0, R(0, "a"))            // 8, 9
	b.Poll("c", "t", 0, 1, R(3, "d"))            // 10, 11: skips b and c
	b.Poll("d", "t", 0, 0, R(0, "a"), R(2, "c")) // 12, 13: skips b inside one poll
	b.Poll("e", "t", 0, 5, R(7, "z"))            // 14, 15: 5 and 6 never seen anywhere: not a gap
	res := Check(b.Pairs(), Options{})
	var gaps []verdict.Anomaly
	for _, a := range res.Anomalies {
		if a.Kind == Gap {
			gaps = append(gaps, a)
		}
	}
	if len(gaps) != 2 {
		t.Fatalf("%+v", res.Anomalies)
	}
	// Sorted by offset: d's skip of 1 (from 1), c's skip of 1..2 (from 1), by first op.
	if g := gaps[0]; g.Offset != 1 || !eq(invokes(g), []int64{2, 8, 10}) {
		t.Fatalf("c's gap: %+v", g)
	}
	if g := gaps[1]; g.Offset != 1 || !eq(invokes(g), []int64{2, 12}) {
		t.Fatalf("d's gap: %+v", g)
	}
}

func TestReorder(t *testing.T) {
	b := histgen.New()
	b.Send("p", "t", 0, "a", 5)         // 0, 1
	b.Send("p", "t", 0, "b", 3)         // 2, 3: invoked after a was acknowledged
	x := b.InvokeSend("q", "t", 0, "x") // concurrent sends may land in any order
	y := b.InvokeSend("q", "t", 0, "y")
	b.SendOK(y, 0, 6)
	b.SendOK(x, 0, 4)
	b.Send("p", "t", 1, "c", 0) // another partition: its own order
	a := one(t, b, Options{}, Reorder)
	if a.Value != "b" || a.Offset != 3 || !eq(invokes(a), []int64{0, 2}) {
		t.Fatalf("%+v", a)
	}
}

func TestNonMonotonic(t *testing.T) {
	b := histgen.New()
	b.Send("p", "t", 0, "a", 0)
	b.Send("p", "t", 0, "b", 1)
	b.Poll("c", "t", 0, 0, R(0, "a"), R(1, "b")) // 4, 5
	b.Poll("c", "t", 0, 2, R(1, "b"))            // 6, 7: back to 1 without a seek
	a := one(t, b, Options{}, NonMonotonic)
	if a.Offset != 1 || !eq(invokes(a), []int64{4, 6}) {
		t.Fatalf("%+v", a)
	}
}

func TestCountsAreSorted(t *testing.T) {
	b := histgen.New()
	b.Send("p", "t", 0, "a", 0)
	b.Send("q", "t", 0, "b", 0)
	b.Send("p", "t", 0, "a2", 7)
	b.Send("p", "t", 0, "c", 2)
	res := Check(b.Pairs(), Options{})
	want := []verdict.KindCount{{Kind: DivergentOffset, Count: 1}, {Kind: Reorder, Count: 1}}
	if len(res.Counts) != 2 || res.Counts[0] != want[0] || res.Counts[1] != want[1] {
		t.Fatalf("%+v", res.Counts)
	}
}

func genConfig(t *rapid.T) histgen.Config {
	return histgen.Config{
		Seed:        rapid.Uint64().Draw(t, "seed"),
		Ops:         rapid.IntRange(1, 300).Draw(t, "ops"),
		Partitions:  rapid.Int32Range(1, 3).Draw(t, "partitions"),
		Producers:   rapid.IntRange(1, 4).Draw(t, "producers"),
		InFlight:    rapid.IntRange(1, 4).Draw(t, "inflight"),
		Consumers:   rapid.IntRange(1, 3).Draw(t, "consumers"),
		InfoPercent: rapid.IntRange(0, 30).Draw(t, "info"),
		FailPercent: rapid.IntRange(0, 20).Draw(t, "fail"),
		PollPercent: rapid.IntRange(10, 60).Draw(t, "polls"),
		MaxRecords:  rapid.IntRange(1, 5).Draw(t, "maxrecords"),
	}
}

// Histories recorded from a correct log are clean; changing one read value
// of an acknowledged record is a divergent offset.
func TestGeneratedHistories(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ops := histgen.Generate(genConfig(t))
		pairs, err := history.Pair(ops)
		if err != nil {
			t.Fatal(err)
		}
		if res := Check(pairs, Options{}); res.Verdict != verdict.Pass {
			t.Fatalf("%+v", res.Anomalies)
		}
		acked := map[[2]int64]bool{}
		for _, op := range ops {
			if op.F == history.Send && op.Type == history.OK {
				acked[[2]int64{int64(op.Partition), op.Offset}] = true
			}
		}
		type at struct{ op, rec int }
		var cands []at
		for i, op := range ops {
			for j, r := range op.Records {
				if acked[[2]int64{int64(op.Partition), r.Offset}] {
					cands = append(cands, at{i, j})
				}
			}
		}
		if len(cands) == 0 {
			return
		}
		c := cands[rapid.IntRange(0, len(cands)-1).Draw(t, "mutate")]
		ops[c.op].Records = append([]history.Read(nil), ops[c.op].Records...)
		ops[c.op].Records[c.rec].Value = "mutated"
		pairs, _ = history.Pair(ops)
		res := Check(pairs, Options{})
		if len(res.Counts) == 0 || res.Counts[0].Kind != DivergentOffset {
			t.Fatalf("mutation not detected: %+v", res.Counts)
		}
	})
}

// Regression (found by TestGeneratedHistories): a consumer that seeks past
// acknowledged records it never read did not lose them; only a poll whose
// range covers the offset proves a loss.
func TestSeekPastIsNotLoss(t *testing.T) {
	b := histgen.New()
	b.Send("p", "t", 0, "a", 0)
	b.Send("p", "t", 0, "b", 1)
	b.Poll("c", "t", 0, 1, R(1, "b")) // seeked to 1: a is unseen, not lost
	res := Check(b.Pairs(), Options{})
	if res.Verdict != verdict.Pass || res.Stats.Unseen != 1 {
		t.Fatalf("%+v", res)
	}
}
