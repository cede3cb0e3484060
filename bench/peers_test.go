package bench

import (
	"context"
	"errors"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// needPeer skips without the peer's server, except in CI (CI=true), which
// installs it.
func needPeer(t *testing.T, name string) {
	if err := PeerInstalled(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%v; CI installs it", err)
		}
		t.Skip(err)
	}
}

// startTestPeer starts the named peer's server for the test, stopped when
// it ends.
func startTestPeer(t *testing.T, name string) Peer {
	t.Helper()
	needPeer(t, name)
	p, err := StartPeer(name, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// peerWorkload is the default workload with small records, no warm-up,
// at rate (0: search) for d.
func peerWorkload(rate int, d time.Duration) Workload {
	w := DefaultWorkload()
	w.Name, w.ProducerRate, w.Duration, w.Warmup, w.MessageSize = "peer", rate, Duration(d), 0, 256
	return w
}

// The same paced workload against each peer: every scheduled record is
// acknowledged once and read back, and the latencies are recorded.
func TestRunAgainstPeers(t *testing.T) {
	for _, name := range PeerNames {
		t.Run(name, func(t *testing.T) {
			p := startTestPeer(t, name)
			w := peerWorkload(2000, 2*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			rep, err := Run(ctx, w, RunOptions{Target: p.Name(), Window: time.Second, Peer: p})
			if err != nil {
				t.Fatal(err)
			}
			a := rep.Aggregate
			if a.Errors != 0 || a.PublishLatency.Count != 4000 || a.PublishLatency.P50 <= 0 {
				t.Fatalf("aggregate %+v", a)
			}
			if a.EndToEndLatency.Count < 3900 || a.EndToEndLatency.P50 <= 0 {
				t.Fatalf("consumer read %d of 4000", a.EndToEndLatency.Count)
			}
		})
	}
}

// A peer that is not installed is one clear error naming the package.
func TestPeerNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, name := range PeerNames {
		if err := PeerInstalled(name); !errors.Is(err, ErrPeerNotInstalled) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := StartPeer(name, t.TempDir()); !errors.Is(err, ErrPeerNotInstalled) {
			t.Errorf("start %s: %v", name, err)
		}
	}
	if err := PeerInstalled("kafka"); err == nil || errors.Is(err, ErrPeerNotInstalled) {
		t.Errorf("unknown peer: %v", err)
	}
}

// peerTopics lists what the peer's server holds: NATS streams or Redis
// keys.
func peerTopics(t *testing.T, p Peer) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var names []string
	switch p := p.(type) {
	case *natsPeer:
		l := p.js.StreamNames(ctx)
		for n := range l.Name() {
			names = append(names, n)
		}
		if err := l.Err(); err != nil {
			t.Fatal(err)
		}
	case *redisPeer:
		var err error
		if names, err = p.cl.Keys(ctx, "*").Result(); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("peer %T", p)
	}
	sort.Strings(names)
	return names
}

// A search against a peer deletes each trial's topic after the trial, as
// it does on a Kafka-compatible target: the peer holds only the measured
// run's partitions afterwards. (A search that kept them filled Redis's
// memory with every trial's records until the kernel killed it.)
func TestPeerSearchDeletesTrialTopics(t *testing.T) {
	for _, name := range PeerNames {
		t.Run(name, func(t *testing.T) {
			p := startTestPeer(t, name)
			w := peerWorkload(0, time.Second)
			w.ConsumerPerSubscription = 0
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			rep, err := Run(ctx, w, RunOptions{Target: p.Name(), Window: time.Second, Trial: 300 * time.Millisecond, Peer: p})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Search) < 2 {
				t.Fatalf("search ran %d trials, want several", len(rep.Search))
			}
			names := peerTopics(t, p)
			if len(names) != w.PartitionsPerTopic {
				t.Fatalf("after a search of %d trials the peer holds %v, want only the measured run's %d partitions", len(rep.Search), names, w.PartitionsPerTopic)
			}
			for _, n := range names {
				if strings.Contains(n, "search") {
					t.Errorf("a trial's partition %s was not deleted", n)
				}
			}
		})
	}
}

// A peer's server that dies during a run ends the run at once with
// ErrPeerExited, and no report: its errors are not a measurement.
func TestPeerExitEndsRun(t *testing.T) {
	for _, name := range PeerNames {
		t.Run(name, func(t *testing.T) {
			p := startTestPeer(t, name)
			w := peerWorkload(2000, time.Minute)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			var srv *server
			switch p := p.(type) {
			case *natsPeer:
				srv = p.server
			case *redisPeer:
				srv = p.server
			}
			time.AfterFunc(time.Second, func() { srv.cmd.Process.Kill() })
			start := time.Now()
			rep, err := Run(ctx, w, RunOptions{Target: p.Name(), Window: time.Second, Peer: p})
			if !errors.Is(err, ErrPeerExited) {
				t.Fatalf("run against a killed %s: report %+v, error %v; want ErrPeerExited", name, rep.Aggregate, err)
			}
			if el := time.Since(start); el > 30*time.Second {
				t.Errorf("the run went on %v after the server died", el)
			}
			t.Log(err)
		})
	}
}
