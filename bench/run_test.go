package bench

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/loglab/loglab/history"
)

// A small run against a real broker: every record scheduled is
// acknowledged and consumed, windows add up to the aggregate, and the
// latency histograms hold every record.
func TestRunPacedAgainstLoglab(t *testing.T) {
	tg, err := StartLoglab(t.TempDir(), quietLogger(t.Output()))
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Stop()
	w := DefaultWorkload()
	w.Name, w.ProducerRate, w.Duration, w.Warmup, w.MessageSize = "paced", 2000, Duration(2*time.Second), Duration(200*time.Millisecond), 256
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := Run(ctx, w, RunOptions{Seeds: []string{tg.Addr}, Target: "loglab", Window: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Aggregate
	if a.Errors != 0 || a.PublishLatency.Count != 4000 || math.Abs(a.PublishRate-2000) > 100 || len(rep.Windows) != 2 {
		t.Fatalf("aggregate %+v, %d windows", a, len(rep.Windows))
	}
	if a.EndToEndLatency.Count < 3900 || a.Backlog > 100 {
		t.Fatalf("consumers: %d end-to-end samples, backlog %d", a.EndToEndLatency.Count, a.Backlog)
	}
	if a.PublishLatency.P50 <= 0 || a.PublishLatency.P99 < a.PublishLatency.P50 || a.PublishLatency.Max < a.PublishLatency.P9999 {
		t.Fatalf("percentiles out of order: %+v", a.PublishLatency)
	}
}

// Rate 0 searches: a closed-loop trial, then sustained open-loop trials.
func TestRunSearchesMaxRate(t *testing.T) {
	tg, err := StartKfake()
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Stop()
	w := DefaultWorkload()
	w.Name, w.Duration, w.Warmup, w.ConsumerPerSubscription = "search", Duration(time.Second), 0, 0
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var settled []string
	settle := func(deleted []string) error { settled = append(settled, deleted...); return nil }
	rep, err := Run(ctx, w, RunOptions{Seeds: []string{tg.Addr}, Target: "kfake", Trial: 300 * time.Millisecond, RateOfMax: 0.5, Settle: settle})
	if err != nil {
		t.Fatal(err)
	}
	// Each trial ran on a topic of its own, deleted and settled after it.
	if len(settled) != len(rep.Search) || len(slices.Compact(slices.Sorted(slices.Values(settled)))) != len(settled) {
		t.Fatalf("%d trials, settled after deleting %v", len(rep.Search), settled)
	}
	if rep.Held == nil {
		t.Fatal("no verdict on whether the measured run held its rate")
	}
	found := false
	for _, s := range rep.Search[1:] {
		found = found || s.Sustained && s.TargetRate == rep.MaxSustainableRate
		if s.Sustained && s.TargetRate > rep.MaxSustainableRate {
			t.Fatalf("a trial at %.0f held, above the maximum %.0f", s.TargetRate, rep.MaxSustainableRate)
		}
	}
	if len(rep.Search) < 4 || rep.Search[0].TargetRate != 0 || !found || rep.MaxSustainableRate <= 0 {
		t.Fatalf("search %+v (max %.0f)", rep.Search, rep.MaxSustainableRate)
	}
	if math.Abs(rep.Rate-rep.MaxSustainableRate/2) > 1 {
		t.Fatalf("measured at %.0f, want half of %.0f", rep.Rate, rep.MaxSustainableRate)
	}
}

func TestRunUnreachable(t *testing.T) {
	w := DefaultWorkload()
	_, err := Run(context.Background(), w, RunOptions{Seeds: []string{"127.0.0.1:1"}})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("%v, want ErrUnreachable", err)
	}
}

// A broker killed and restarted during a run on the embedded cluster:
// the report holds the fault's window and its cost, and no record is
// lost to it (acks=all, RF=3: the producers' retries get through).
func TestRunWithBrokerKill(t *testing.T) {
	c := startCluster(t, 3)
	w := DefaultWorkload()
	w.Name, w.ProducerRate, w.Duration, w.Warmup, w.MessageSize = "kill", 2000, Duration(6*time.Second), 0, 256
	w.Acks, w.ReplicationFactor, w.ConsumerPerSubscription = -1, 3, 1
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	hist := history.NewMemory()
	rep, err := Run(ctx, w, RunOptions{Seeds: c.Bootstrap(), Target: "loglab", Window: time.Second, History: hist,
		Faults: []Fault{{Name: "kill broker 2", At: time.Second, UndoAfter: 2 * time.Second,
			Do: func() error { return c.Kill(2) }, Undo: func() error { return c.Restart(2) }}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Faults) != 1 {
		t.Fatalf("faults %+v", rep.Faults)
	}
	f := rep.Faults[0]
	if f.Error != "" || f.StartS < 0.9 || f.StartS > 1.5 || f.EndS < f.StartS+1.9 || f.BaselineRate < 1500 {
		t.Fatalf("fault window %+v", f)
	}
	if a := rep.Aggregate; a.Errors != 0 || a.PublishLatency.Count != 12000 {
		t.Fatalf("every scheduled record acknowledged once: %d errors, %d latencies", a.Errors, a.PublishLatency.Count)
	}
	// The history: every send acknowledged, read back after the run, and
	// the queue checker finds nothing.
	ck := rep.Check
	if ck == nil || ck.Verdict != "pass" || !ck.FinalReadsComplete || ck.SendsOK != 12000 || ck.RecordsRead < 12000 || len(ck.Anomalies) != 0 {
		t.Fatalf("check %+v", ck)
	}
}

// The test a search trial and a measured run at the maximum (Report.Held)
// share: each of its conditions alone fails a rate.
func TestSustained(t *testing.T) {
	w := DefaultWorkload()
	w.ConsumerPerSubscription = 1
	ok := func(rate, achieved float64, lag, p99 time.Duration, backlog int64) bool {
		return sustained(w, rate, achieved, lag, p99, backlog)
	}
	ms := time.Millisecond
	if !ok(1000, 990, 5*ms, 20*ms, 10) {
		t.Fatal("a rate met on every count was not sustained")
	}
	for name, held := range map[string]bool{
		"closed loop":            ok(0, 990, 5*ms, 20*ms, 10),
		"96 % acknowledged":      ok(1000, 960, 5*ms, 20*ms, 10),
		"a producer 100 ms late": ok(1000, 990, 100*ms, 20*ms, 10),
		"p99 200 ms":             ok(1000, 990, 5*ms, 200*ms, 10),
		"backlog of 0.25 s":      ok(1000, 990, 5*ms, 20*ms, 250),
	} {
		if held {
			t.Errorf("%s: sustained", name)
		}
	}
	w.ConsumerPerSubscription = 0
	if !ok(1000, 990, 5*ms, 20*ms, 1_000_000) {
		t.Error("without consumers the backlog counted")
	}
}
