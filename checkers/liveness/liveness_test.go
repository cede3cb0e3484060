package liveness

import (
	"testing"
	"time"

	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history/histgen"
)

var R = histgen.R

const (
	s  = int64(time.Second)
	ms = int64(time.Millisecond) // a Builder poll completes 1 ms after its invoke
)

// healed: sends fail until the heal at 10 s, then a send succeeds at
// 10 s + sendAt and a non-empty poll at 10 s + pollAt; the history ends at
// 10 s + end.
func healed(sendAt, pollAt, end int64) *histgen.Builder {
	b := histgen.New()
	b.At(0).Send("p", "t", 0, "a", 0)
	b.At(5 * s)
	b.SendFail(b.InvokeSend("p", "t", 0, "b"))
	b.At(9 * s)
	r := b.InvokeSend("p", "t", 0, "c") // stuck across the heal
	b.At(10*s + sendAt)
	b.SendOK(r, 0, 1)
	b.At(10*s + pollAt)
	b.Poll("c", "t", 0, 0, R(0, "a"), R(1, "c"))
	b.At(10*s + end)
	b.Send("p", "t", 0, "d", 2)
	return b
}

func TestBoundMet(t *testing.T) {
	res := Check(healed(2*s, 3*s, 20*s).Pairs(), Options{HealTimes: []int64{3 * s, 10 * s}, Bound: 5 * time.Second})
	if res.Verdict != verdict.Pass || res.Heal != 10*s || res.Overall != (Recovery{2 * s, 3*s + ms}) || len(res.Anomalies) != 0 {
		t.Fatalf("%+v", res)
	}
	if p := res.Partitions[0]; !p.SendsTried || !p.PollsTried || p.Send != 2*s {
		t.Fatalf("%+v", p)
	}
}

func TestBoundMissed(t *testing.T) {
	res := Check(healed(2*s, 8*s, 20*s).Pairs(), Options{HealTimes: []int64{10 * s}, Bound: 5 * time.Second})
	if res.Verdict != verdict.Fail || len(res.Anomalies) != 1 || res.Anomalies[0].Kind != Kind || len(res.Anomalies[0].Ops) != 1 {
		t.Fatalf("%+v", res)
	}
	if res.Overall.Poll != 8*s+ms {
		t.Fatalf("%+v", res.Overall)
	}
}

func TestNeverRecovered(t *testing.T) {
	b := histgen.New()
	b.At(0).Send("p", "t", 0, "a", 0)
	for i := int64(0); i < 10; i++ {
		b.At(10*s + i*2*s)
		b.SendFail(b.InvokeSend("p", "t", 0, "x"+string(rune('0'+i))))
	}
	res := Check(b.Pairs(), Options{HealTimes: []int64{10 * s}, Bound: 5 * time.Second})
	if res.Verdict != verdict.Fail || res.Overall.Send != -1 || len(res.Anomalies) != 1 {
		t.Fatalf("%+v", res)
	}
	// The same failures, but the history stops before the bound: unknown.
	res = Check(b.Pairs(), Options{HealTimes: []int64{10 * s}, Bound: time.Minute})
	if res.Verdict != verdict.Unknown || len(res.Anomalies) != 0 {
		t.Fatalf("%+v", res)
	}
}

func TestNothingAskedIsUnknown(t *testing.T) {
	b := histgen.New()
	b.At(0).Send("p", "t", 0, "a", 0)
	if res := Check(b.Pairs(), Options{HealTimes: []int64{10 * s}}); res.Verdict != verdict.Unknown {
		t.Fatalf("%+v", res)
	}
}
