package group

import (
	"testing"

	"github.com/loglab/loglab/checkers/history"
	"github.com/loglab/loglab/checkers/verdict"
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
