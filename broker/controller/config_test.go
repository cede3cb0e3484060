package controller

import (
	"errors"
	"testing"
	"time"

	"github.com/loglab/loglab/broker/metadata"
	"github.com/twmb/franz-go/pkg/kerr"
)

// An invalid quorum configuration is refused before anything starts
// (ErrConfig), and a dedicated controller Node that cannot start reports
// why.
func TestConfigErrors(t *testing.T) {
	n := newSimNode("n")
	h := n.h
	ok := []Peer{{ID: 1, Addr: "n:9093"}, {ID: 2, Addr: "m:9093"}}
	for _, c := range []struct {
		name string
		cfg  VoterConfig
	}{
		{"id not among the voters", VoterConfig{ID: 3, Voters: ok}},
		{"no voters", VoterConfig{ID: 1}},
		{"voter id 0", VoterConfig{ID: 1, Voters: []Peer{{ID: 1, Addr: "n:9093"}, {ID: 0, Addr: "x:1"}}}},
		{"voter without address", VoterConfig{ID: 1, Voters: []Peer{{ID: 1, Addr: "n:9093"}, {ID: 2}}}},
		{"duplicate voter id", VoterConfig{ID: 1, Voters: []Peer{{ID: 1, Addr: "n:9093"}, {ID: 1, Addr: "m:9093"}}}},
	} {
		if _, err := StartVoter(h, c.cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: StartVoter: %v, want ErrConfig", c.name, err)
		}
		node := &Node{Config: c.cfg}
		node.Start(h)
		if node.Voter() != nil || !errors.Is(node.Err(), ErrConfig) {
			t.Errorf("%s: Node: voter %v, err %v", c.name, node.Voter(), node.Err())
		}
	}
	if _, err := NewFollower(h, FollowerConfig{BrokerID: 1}); !errors.Is(err, ErrConfig) {
		t.Errorf("NewFollower without controllers: %v", err)
	}
	// Voters may be listed in any order; unset durations take defaults.
	v, err := StartVoter(h, VoterConfig{ID: 1, Voters: []Peer{ok[1], ok[0]}})
	if err != nil {
		t.Fatal(err)
	}
	if v.ID() != 1 || v.Addr() != "n:9093" || v.cfg.Voters[0].ID != 1 {
		t.Fatalf("voter %d at %s, voters %v", v.ID(), v.Addr(), v.cfg.Voters)
	}
	if c := v.cfg; c.Dir != "controller" || c.TickInterval != 100*time.Millisecond || c.ElectionTicks != 10 ||
		c.HeartbeatTicks != 1 || c.SessionTimeout != 3*time.Second || c.SnapshotBytes != 1<<20 {
		t.Fatalf("defaults: %+v", c)
	}
	// Until its log is recovered the voter cannot propose; then, not
	// leading (its peer does not exist), it answers NOT_CONTROLLER.
	propose := func() error {
		var res error
		rec := metadata.Record{Type: metadata.TypeDeleteTopic, DeleteTopic: &metadata.DeleteTopic{Name: "t"}}
		v.Propose(rec, func(_ metadata.Result, err error) { res = err })
		return res
	}
	if err := propose(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Propose before recovery: %v", err)
	}
	n.w.RunFor(time.Second)
	if err := propose(); !errors.Is(err, ErrNotController) || !errors.Is(err, kerr.NotController) {
		t.Fatalf("Propose on a voter that does not lead: %v", err)
	}
	// A second voter on the same address cannot listen.
	if _, err := StartVoter(h, VoterConfig{ID: 1, Voters: ok, Dir: "other"}); err == nil {
		t.Fatal("two voters listen on one address")
	}
	v.Stop()
	v.Stop() // idempotent
	if err := propose(); !errors.Is(err, ErrStopped) {
		t.Fatalf("Propose on a stopped voter: %v", err)
	}
	if v.Leader() != 0 {
		t.Fatalf("a stopped voter knows leader %d", v.Leader())
	}
}
