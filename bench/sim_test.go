package bench

import (
	"testing"
	"time"
)

func elapsed() func() time.Duration {
	start := time.Now()
	return func() time.Duration { return time.Since(start) }
}

// A simulated benchmark: every record sent in the measured window is
// acknowledged and read, latencies follow the model (a slower link or
// fsync, higher latency; acks=all on RF=3 pays a replication round trip),
// and one seed gives the same run twice.
func TestRunSim(t *testing.T) {
	w := DefaultWorkload()
	w.Name, w.ProducerRate, w.Duration, w.Warmup, w.MessageSize = "sim", 1000, Duration(4*time.Second), Duration(time.Second), 256
	run := func(w Workload, brokers int, m SimModel) Report {
		t.Helper()
		rep, err := RunSim(w, brokers, m, 1, time.Second, elapsed())
		if err != nil {
			t.Fatal(err)
		}
		a := rep.Aggregate
		if a.Errors != 0 || a.PublishLatency.Count < 3500 || a.EndToEndLatency.Count != a.PublishLatency.Count || len(rep.Windows) != 4 {
			t.Fatalf("%s: aggregate %+v, %d windows", rep.Target, a, len(rep.Windows))
		}
		if rep.Sim == nil || rep.Sim.Events == 0 || rep.Sim.SimSeconds < 5 || len(rep.Sim.Anomalies) != 0 {
			t.Fatalf("sim info %+v", rep.Sim)
		}
		return rep
	}
	base := run(w, 1, SimModel{})
	again := run(w, 1, SimModel{})
	if base.Sim.TraceHash != again.Sim.TraceHash || base.Aggregate.PublishLatency != again.Aggregate.PublishLatency {
		t.Fatalf("one seed, two runs: %s %+v vs %s %+v", base.Sim.TraceHash, base.Aggregate.PublishLatency, again.Sim.TraceHash, again.Aggregate.PublishLatency)
	}
	slow := run(w, 1, SimModel{Link: "base=5ms"})
	// A produce is a round trip: at least 2 x 5ms.
	if slow.Aggregate.PublishLatency.P50 < 10 || slow.Aggregate.PublishLatency.P50 < base.Aggregate.PublishLatency.P50+8 {
		t.Fatalf("link 5ms: p50 %.2f ms, default link p50 %.2f ms", slow.Aggregate.PublishLatency.P50, base.Aggregate.PublishLatency.P50)
	}
	ws := w
	ws.Flush = "every-batch"
	synced := run(ws, 1, SimModel{FsyncLatency: "20ms", FsyncJitter: "0"})
	if synced.Aggregate.PublishLatency.P50 < 20 {
		t.Fatalf("flush every batch at fsync 20ms: p50 %.2f ms", synced.Aggregate.PublishLatency.P50)
	}
	wr := w
	wr.Acks, wr.ReplicationFactor = -1, 3
	repl := run(wr, 3, SimModel{Link: "base=2ms"})
	if repl.Aggregate.PublishLatency.P50 < 8 {
		t.Fatalf("RF=3 acks=all over 2ms links: p50 %.2f ms (a client round trip and a follower fetch round trip)", repl.Aggregate.PublishLatency.P50)
	}
	if _, err := RunSim(Workload{}, 1, SimModel{}, 1, 0, elapsed()); err == nil {
		t.Fatal("an invalid workload ran")
	}
	w0 := w
	w0.ProducerRate = 0
	if _, err := RunSim(w0, 1, SimModel{}, 1, 0, elapsed()); err == nil {
		t.Fatal("rate 0 ran")
	}
	if _, err := RunSim(w, 1, SimModel{Link: "base=fast"}, 1, 0, elapsed()); err == nil {
		t.Fatal("a bad link model ran")
	}
}
