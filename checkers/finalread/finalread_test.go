package finalread

import (
	"sort"
	"testing"

	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/history/histgen"
)

const topic = "events"

func check(t *testing.T, b *histgen.Builder) Result {
	t.Helper()
	return Check(b.Pairs(), Options{})
}

func counts(r Result) map[string]int {
	out := map[string]int{}
	for _, k := range r.Counts {
		out[k.Kind] = k.Count
	}
	return out
}

// want asserts the anomaly counts exactly, each anomaly with evidence.
func want(t *testing.T, r Result, kinds map[string]int) {
	t.Helper()
	got := counts(r)
	if len(got) != len(kinds) {
		t.Fatalf("anomalies %v, want %v: %+v", got, kinds, r.Anomalies)
	}
	for k, n := range kinds {
		if got[k] != n {
			t.Fatalf("anomalies %v, want %v: %+v", got, kinds, r.Anomalies)
		}
	}
	for _, a := range r.Anomalies {
		if len(a.Ops) == 0 || a.Explanation == "" {
			t.Errorf("anomaly without evidence: %+v", a)
		}
	}
	wantVerdict := verdict.Pass
	if len(kinds) > 0 {
		wantVerdict = verdict.Fail
	}
	if r.Verdict != wantVerdict {
		t.Errorf("verdict %s with anomalies %v", r.Verdict, got)
	}
}

func recs(from int64, values ...string) []history.Read {
	out := make([]history.Read, len(values))
	for i, v := range values {
		out[i] = histgen.R(from+int64(i), v)
	}
	return out
}

// TestRules shows each rule firing, and not firing, on hand-written
// histories.
func TestRules(t *testing.T) {
	t.Run("clean history with a duplicate from a retry", func(t *testing.T) {
		b := histgen.New()
		b.Send("p1", topic, 0, "a", 0)
		b.Send("p1", topic, 0, "b", 2) // the first attempt landed at 1 too
		b.Poll("c", topic, 0, 0, recs(0, "a", "b", "b")...)
		b.Poll(DefaultFinalReader, topic, 0, 0, recs(0, "a", "b", "b")...)
		r := check(t, b)
		want(t, r, nil)
		if r.Stats.Duplicates != 1 || r.Stats.FinalRecords != 3 {
			t.Fatalf("%+v", r.Stats)
		}
	})
	t.Run("offsets reused after a power loss are one lost write", func(t *testing.T) {
		b := histgen.New()
		b.Send("p1", topic, 0, "a", 0)
		b.Send("p1", topic, 0, "b", 1)
		b.Poll("c", topic, 0, 0, recs(0, "a", "b")...)
		// crash: b lost; c written at offset 1
		b.Send("p1", topic, 0, "c", 1)
		b.Poll(DefaultFinalReader, topic, 0, 0, recs(0, "a", "c")...)
		r := check(t, b)
		want(t, r, map[string]int{LostWrite: 1})
		if r.Stats.AckedLost != 1 || r.Anomalies[0].Value != "b" || r.Anomalies[0].Offset != 1 {
			t.Fatalf("%+v %+v", r.Stats, r.Anomalies)
		}
	})
	t.Run("acknowledged offset contradicted", func(t *testing.T) {
		b := histgen.New()
		b.Send("p1", topic, 1, "a", 0)
		b.Send("p1", topic, 1, "b", 1)
		b.Poll(DefaultFinalReader, topic, 1, 0, recs(0, "b", "a")...)
		want(t, check(t, b), map[string]int{DivergentOffset: 2})
	})
	t.Run("final read disagrees with itself", func(t *testing.T) {
		b := histgen.New()
		b.SendInfo(b.InvokeSend("p1", topic, 0, "a"))
		b.SendInfo(b.InvokeSend("p1", topic, 0, "b"))
		b.Poll(DefaultFinalReader, topic, 0, 0, recs(0, "a")...)
		b.Poll(DefaultFinalReader, topic, 0, 0, recs(0, "b")...)
		r := check(t, b)
		if counts(r)[DivergentOffset] != 1 {
			t.Fatalf("%v %+v", counts(r), r.Anomalies)
		}
	})
	t.Run("a read the log took back", func(t *testing.T) {
		b := histgen.New()
		b.Send("p1", topic, 0, "a", 0)
		b.Poll("c", topic, 0, 0, recs(0, "a", "b")...) // b read before its sync
		// crash erases b; b's retry lands after x
		b.Send("p2", topic, 0, "x", 1)
		b.Send("p1", topic, 0, "b", 2)
		b.Poll(DefaultFinalReader, topic, 0, 0, recs(0, "a", "x", "b")...)
		r := check(t, b)
		want(t, r, map[string]int{UnstableRead: 1})
		if r.Stats.UnstableReads != 1 || r.Anomalies[0].Offset != 1 || r.Anomalies[0].Value != "b" {
			t.Fatalf("%+v %+v", r.Stats, r.Anomalies)
		}
	})
	t.Run("a lost write read before it vanished is one lost write", func(t *testing.T) {
		b := histgen.New()
		b.Send("p1", topic, 0, "a", 0)
		b.Poll("c", topic, 0, 0, recs(0, "a")...)
		b.Send("p1", topic, 0, "b", 0)
		b.Poll(DefaultFinalReader, topic, 0, 0, recs(0, "b")...)
		want(t, check(t, b), map[string]int{LostWrite: 1})
	})
	t.Run("phantoms", func(t *testing.T) {
		b := histgen.New()
		b.SendFail(b.InvokeSend("p1", topic, 0, "a"))
		b.Poll("c", topic, 0, 0, recs(0, "a", "zz")...)
		b.Poll(DefaultFinalReader, topic, 0, 0, recs(0, "a", "zz")...)
		want(t, check(t, b), map[string]int{Phantom: 2})
	})
	t.Run("another final reader", func(t *testing.T) {
		b := histgen.New()
		b.Send("p1", topic, 0, "a", 0)
		b.Poll("last", topic, 0, 0, recs(0, "a")...)
		if r := Check(b.Pairs(), Options{FinalReader: "last"}); r.Verdict != verdict.Pass || r.FinalReader != "last" {
			t.Fatalf("%+v", r)
		}
	})
	t.Run("no final read is unknown", func(t *testing.T) {
		b := histgen.New()
		b.Send("p1", topic, 0, "a", 0)
		b.Poll("c", topic, 0, 0, recs(0, "a")...)
		b.PollFail(b.InvokePoll(DefaultFinalReader, topic, 0, 0))
		if r := check(t, b); r.Verdict != verdict.Unknown || len(r.Anomalies) != 0 {
			t.Fatalf("%+v", r)
		}
	})
}

// TestGeneratedCorrectHistoriesPass: a correct history (histgen.Generate)
// followed by a final read of every position it observed has nothing to
// report.
func TestGeneratedCorrectHistoriesPass(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		ops := histgen.Generate(histgen.Config{Seed: seed, Ops: 400, Partitions: 3, Producers: 3, InFlight: 3,
			Consumers: 2, InfoPercent: 10, FailPercent: 5, PollPercent: 40, MaxRecords: 8})
		pairs, err := history.Pair(ops)
		if err != nil {
			t.Fatal(err)
		}
		logs := map[int32]map[int64]string{}
		note := func(p int32, o int64, v string) {
			if logs[p] == nil {
				logs[p] = map[int64]string{}
			}
			logs[p][o] = v
		}
		for _, o := range pairs {
			switch {
			case o.Invoke.F == history.Send && o.Outcome() == history.OK:
				note(o.Partition(), o.Offset(), o.Invoke.Value)
			case o.Invoke.F == history.Poll && o.Outcome() == history.OK:
				for _, r := range o.Completion.Records {
					note(o.Partition(), r.Offset, r.Value)
				}
			}
		}
		b := histgen.New().At(ops[len(ops)-1].Time + 1)
		for p := int32(0); p < 3; p++ {
			var offs []int64
			for o := range logs[p] { //detcheck:ordered sorted below
				offs = append(offs, o)
			}
			sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
			var rs []history.Read
			for _, o := range offs {
				rs = append(rs, histgen.R(o, logs[p][o]))
			}
			b.Poll(DefaultFinalReader, "t", p, 0, rs...)
		}
		tail := b.Ops()
		for i := range tail {
			tail[i].Index = int64(len(ops) + i)
		}
		all, err := history.Pair(append(ops, tail...))
		if err != nil {
			t.Fatal(err)
		}
		r := Check(all, Options{})
		if r.Verdict != verdict.Pass {
			t.Fatalf("seed %d: %s %v %+v", seed, r.Verdict, r.Counts, r.Anomalies[:min(3, len(r.Anomalies))])
		}
		if r.Stats.SendsOK == 0 || r.Stats.FinalRecords == 0 {
			t.Fatalf("seed %d exercised nothing: %+v", seed, r.Stats)
		}
	}
}
