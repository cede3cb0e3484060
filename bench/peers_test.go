package bench

import (
	"context"
	"errors"
	"os"
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

// The same paced workload against each peer: every scheduled record is
// acknowledged once and read back, and the latencies are recorded.
func TestRunAgainstPeers(t *testing.T) {
	for _, name := range PeerNames {
		t.Run(name, func(t *testing.T) {
			needPeer(t, name)
			p, err := StartPeer(name, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := p.Stop(); err != nil {
					t.Error(err)
				}
			}()
			w := DefaultWorkload()
			w.Name, w.ProducerRate, w.Duration, w.Warmup, w.MessageSize = "peer", 2000, Duration(2*time.Second), 0, 256
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
