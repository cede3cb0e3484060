package group

import (
	"fmt"
	"testing"

	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
	"pgregory.net/rapid"
)

// hb builds histories by hand: every op gets the next index and the
// given time; completions follow their invokes.
type hb struct {
	ops []history.Op
	id  map[string]int64
}

func newHB() *hb { return &hb{id: map[string]int64{}} }

func (b *hb) add(op history.Op) {
	op.Index = int64(len(b.ops))
	b.ops = append(b.ops, op)
}

// do records an invoke at t and its completion (outcome, offset) at t2.
func (b *hb) do(t, t2 int64, inv history.Op, outcome history.Type, offset int64) {
	b.id[inv.Process]++
	inv.ID, inv.Time, inv.Type = b.id[inv.Process], t, history.Invoke
	if inv.F == history.FetchOffset {
		inv.Offset = history.NoOffset
	}
	comp := inv
	comp.Time, comp.Type = t2, outcome
	if outcome == history.Fail {
		comp.Error = "ILLEGAL_GENERATION"
	}
	if inv.F == history.FetchOffset || inv.F == history.Send {
		comp.Offset = offset
		if outcome != history.OK {
			comp.Offset = history.NoOffset
		}
	}
	if inv.F == history.Send {
		inv.Partition = comp.Partition
	}
	b.add(inv)
	b.add(comp)
}

func (b *hb) assign(t int64, proc, member string, gen int32, parts ...int32) {
	b.do(t, t, history.Op{Process: proc, F: history.Assign, Group: "g", Member: member, Generation: gen, Topic: "t",
		Partition: history.NoPartition, Offset: history.NoOffset, Partitions: parts}, history.OK, 0)
}

func (b *hb) commit(t, t2 int64, proc, member string, gen int32, p int32, off int64, outcome history.Type) {
	b.do(t, t2, history.Op{Process: proc, F: history.Commit, Group: "g", Member: member, Generation: gen, Topic: "t",
		Partition: p, Offset: off}, outcome, off)
}

func (b *hb) fetchOffset(t, t2 int64, proc string, p int32, got int64) {
	b.do(t, t2, history.Op{Process: proc, F: history.FetchOffset, Group: "g", Topic: "t", Partition: p}, history.OK, got)
}

func (b *hb) poll(t, t2 int64, proc, member string, gen int32, p int32, pos int64, reads ...int64) {
	b.id[proc]++
	inv := history.Op{ID: b.id[proc], Time: t, Process: proc, Type: history.Invoke, F: history.Poll, Topic: "t", Partition: p,
		Offset: pos, Group: "g", Member: member, Generation: gen}
	if member == "" {
		inv.Group, inv.Generation = "", 0
	}
	comp := inv
	comp.Time, comp.Type = t2, history.OK
	for _, r := range reads {
		comp.Records = append(comp.Records, history.Read{Offset: r, Value: "v"})
	}
	b.add(inv)
	b.add(comp)
}

func (b *hb) send(t int64, p int32, off int64, value string) {
	b.do(t, t+1, history.Op{Process: "producer", F: history.Send, Topic: "t", Partition: p, Value: value, Offset: history.NoOffset}, history.OK, off)
}

func check(t *testing.T, b *hb) Result {
	t.Helper()
	for _, op := range b.ops {
		if err := history.Validate(op); err != nil {
			t.Fatalf("test history: %v: %+v", err, op)
		}
	}
	pairs, err := history.Pair(b.ops)
	if err != nil {
		t.Fatal(err)
	}
	return Check(pairs, Options{})
}

func kinds(r Result) []string {
	var ks []string
	for _, a := range r.Anomalies {
		ks = append(ks, a.Kind)
	}
	return ks
}

func wantOnly(t *testing.T, r Result, kind string) {
	t.Helper()
	if r.Verdict != verdict.Fail || len(r.Anomalies) == 0 {
		t.Fatalf("want %s, got pass", kind)
	}
	for _, a := range r.Anomalies {
		if a.Kind != kind {
			t.Fatalf("want only %s, got %v: %s", kind, kinds(r), a.Explanation)
		}
	}
}

func wantPass(t *testing.T, r Result) {
	t.Helper()
	if r.Verdict != verdict.Pass {
		t.Fatalf("want pass, got %v: %s", kinds(r), r.Anomalies[0].Explanation)
	}
}

// A correct run: two members, a rebalance, resume from the commit.
func healthy() *hb {
	b := newHB()
	for i := range 6 {
		b.send(int64(i), 0, int64(i), "v")
	}
	b.assign(10, "c1", "m1", 1, 0, 1)
	b.poll(11, 12, "c1", "m1", 1, 0, 0, 0, 1, 2)
	b.commit(13, 14, "c1", "m1", 1, 0, 3, history.OK)
	b.assign(20, "c1", "m1", 2, 1)
	b.assign(20, "c2", "m2", 2, 0)
	b.fetchOffset(21, 22, "c2", 0, 3)
	b.poll(23, 24, "c2", "m2", 2, 0, 3, 3, 4, 5)
	b.commit(25, 26, "c2", "m2", 2, 0, 6, history.OK)
	b.commit(27, 28, "c1", "m1", 1, 0, 4, history.Fail) // a zombie refused
	b.fetchOffset(30, 31, "c3", 0, 6)
	return b
}

func TestHealthyHistoryPasses(t *testing.T) {
	r := check(t, healthy())
	wantPass(t, r)
	if r.Groups != 1 || r.Assignments != 3 || r.Commits != 3 {
		t.Fatalf("%+v", r)
	}
}

func TestDoubleOwnership(t *testing.T) {
	b := healthy()
	b.assign(40, "c3", "m3", 2, 0) // generation 2 already gave partition 0 to m2
	wantOnly(t, check(t, b), KindDoubleOwnership)
	// Near miss: the same partition in a new generation is a rebalance.
	b = healthy()
	b.assign(40, "c3", "m3", 3, 0)
	wantPass(t, check(t, b))
}

func TestSkippedAfterRebalance(t *testing.T) {
	b := healthy()
	b.assign(40, "c3", "m3", 3, 0)
	b.poll(41, 42, "c3", "m3", 3, 0, 7) // committed is 6: 6 is skipped
	wantOnly(t, check(t, b), KindSkipped)
	b = healthy()
	b.assign(40, "c3", "m3", 3, 0)
	b.poll(41, 42, "c3", "m3", 3, 0, 5) // re-reading is at-least-once
	wantPass(t, check(t, b))
	// A commit whose outcome is unknown may have happened: resuming
	// from it is allowed.
	b = healthy()
	b.commit(35, 36, "c2", "m2", 2, 0, 8, history.Info)
	b.assign(40, "c3", "m3", 3, 0)
	b.poll(41, 42, "c3", "m3", 3, 0, 8)
	wantPass(t, check(t, b))
}

func TestSkippedWithoutCommit(t *testing.T) {
	b := newHB()
	b.send(0, 1, 0, "a")
	b.poll(1, 2, "reader", "", 0, 1, 0, 0)
	b.assign(10, "c1", "m1", 1, 1)
	b.poll(11, 12, "c1", "m1", 1, 1, 1) // no commit: must start at the earliest (0)
	wantOnly(t, check(t, b), KindSkipped)
}

func TestSkippedRecordBelowCommit(t *testing.T) {
	b := healthy()
	b.send(40, 0, 6, "late")
	b.commit(41, 42, "c2", "m2", 2, 0, 7, history.OK) // commits past 6, never read
	wantOnly(t, check(t, b), KindSkipped)
}

func TestOffsetWentBack(t *testing.T) {
	b := healthy()
	b.fetchOffset(40, 41, "c4", 0, 3) // 6 was committed at 26
	wantOnly(t, check(t, b), KindOffsetWentBack)
	// Near miss: a fetch that overlaps the commit may see either.
	b = healthy()
	b.fetchOffset(25, 27, "c4", 0, 3)
	wantPass(t, check(t, b))
}

func TestStaleCommitAccepted(t *testing.T) {
	b := healthy()
	b.commit(40, 41, "c1", "m1", 1, 0, 5, history.OK) // generation 1 after generation 2 was assigned
	r := check(t, b)
	found := false
	for _, a := range r.Anomalies {
		found = found || a.Kind == KindStaleCommitAccepted
	}
	if !found {
		t.Fatalf("want %s, got %v", KindStaleCommitAccepted, kinds(r))
	}
	// Near miss: the same commit refused, or invoked before generation 2
	// existed.
	b = healthy()
	b.commit(40, 41, "c1", "m1", 1, 0, 5, history.Fail)
	wantPass(t, check(t, b))
	b = healthy()
	b.commit(15, 41, "c1", "m1", 1, 1, 1, history.OK)
	wantPass(t, check(t, b))
}

// Histories generated by a simple correct model of a group — generations
// of members dividing the partitions, each owner resuming from the
// committed offset, reading some records, committing its position, and
// zombies whose late commits are refused — always pass.
func TestModelHistoriesPass(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		b := newHB()
		parts := rapid.IntRange(1, 4).Draw(rt, "partitions")
		logLen := make([]int64, parts)
		now := int64(0)
		tick := func() int64 { now += 10; return now }
		for p := range parts {
			n := rapid.IntRange(0, 8).Draw(rt, "records")
			for i := range n {
				b.send(tick(), int32(p), int64(i), fmt.Sprintf("p%d-%d", p, i))
			}
			logLen[p] = int64(n)
		}
		committed := make([]int64, parts)
		gens := rapid.IntRange(1, 5).Draw(rt, "generations")
		var zombies []struct {
			proc, member string
			gen          int32
		}
		for g := int32(1); g <= int32(gens); g++ {
			members := rapid.IntRange(1, 3).Draw(rt, "members")
			t0 := tick()
			for p := range parts {
				owner := p % members
				proc, member := fmt.Sprintf("c%d-g%d", owner, g), fmt.Sprintf("m%d-g%d", owner, g)
				b.assign(t0, proc, member, g, int32(p))
				b.fetchOffset(tick(), tick(), proc, int32(p), committed[p])
				pos := committed[p]
				end := pos + int64(rapid.IntRange(0, int(logLen[p]-pos)).Draw(rt, "read"))
				var reads []int64
				for o := pos; o < end; o++ {
					reads = append(reads, o)
				}
				b.poll(tick(), tick(), proc, member, g, int32(p), pos, reads...)
				if end > pos {
					b.commit(tick(), tick(), proc, member, g, int32(p), end, history.OK)
					committed[p] = end
				}
				zombies = append(zombies, struct {
					proc, member string
					gen          int32
				}{proc, member, g})
			}
			// A zombie of an earlier generation commits late: refused.
			if g > 1 && rapid.Bool().Draw(rt, "zombie") {
				z := zombies[rapid.IntRange(0, len(zombies)-1).Draw(rt, "which")]
				if z.gen < g {
					b.commit(tick(), tick(), z.proc, z.member, z.gen, 0, 0, history.Fail)
				}
			}
		}
		// A final reader drains everything.
		for p := range parts {
			var reads []int64
			for o := int64(0); o < logLen[p]; o++ {
				reads = append(reads, o)
			}
			b.poll(tick(), tick(), "final", "", 0, int32(p), 0, reads...)
		}
		for _, op := range b.ops {
			if err := history.Validate(op); err != nil {
				rt.Fatalf("generated history: %v: %+v", err, op)
			}
		}
		pairs, err := history.Pair(b.ops)
		if err != nil {
			rt.Fatal(err)
		}
		if r := Check(pairs, Options{}); r.Verdict != verdict.Pass {
			rt.Fatalf("a correct history failed: %v: %s", kinds(r), r.Anomalies[0].Explanation)
		}
	})
}

// BenchmarkCheck: a group history of 100,000 operations (10 members, 10
// partitions, 50 generations, commits and polls).
//
//	go test ./checkers/group -run '^$' -bench BenchmarkCheck
func BenchmarkCheck(b *testing.B) {
	hb := newHB()
	now := int64(0)
	tick := func() int64 { now += 10; return now }
	committed := make([]int64, 10)
	for g := int32(1); len(hb.ops) < 200_000; g++ {
		t0 := tick()
		for p := range 10 {
			proc, member := fmt.Sprintf("c%d", (p+int(g))%10), fmt.Sprintf("m%d-%d", (p+int(g))%10, g)
			hb.assign(t0, proc, member, g, int32(p))
			for range 20 {
				pos := committed[p]
				hb.poll(tick(), tick(), proc, member, g, int32(p), pos, pos, pos+1)
				hb.commit(tick(), tick(), proc, member, g, int32(p), pos+2, history.OK)
				committed[p] = pos + 2
			}
		}
	}
	pairs, err := history.Pair(hb.ops)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if r := Check(pairs, Options{}); r.Verdict != verdict.Pass {
			b.Fatalf("%v", kinds(r))
		}
	}
	b.ReportMetric(float64(len(pairs)), "ops")
}
