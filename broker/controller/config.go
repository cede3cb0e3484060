package controller

import (
	"errors"
	"fmt"
	"github.com/loglab/loglab/broker/bugzoo"
	"slices"
	"time"
)

// Peer is one controller voter: its raft ID (Kafka's node.id for a
// controller) and the address of its controller listener.
type Peer struct {
	ID   uint64
	Addr string
}

// VoterConfig configures one voter of the controller quorum.
type VoterConfig struct {
	// ID is this voter's raft ID; it must appear in Voters.
	ID uint64
	// Voters is the whole quorum, identical on every voter. The first start
	// on an empty disk bootstraps the log with this membership.
	Voters []Peer
	// Dir is the raft log's directory on the Host's disk ("controller").
	Dir string
	// TickInterval is one raft tick (100ms). ElectionTicks (10) and
	// HeartbeatTicks (1) are in ticks; raft randomises the election timeout
	// in [ElectionTicks, 2*ElectionTicks).
	TickInterval   time.Duration
	ElectionTicks  int
	HeartbeatTicks int
	// SessionTimeout: the active controller fences a broker that has not
	// heartbeated for this long on the controller's own clock (Kafka's
	// broker.session.timeout.ms; 3s here).
	SessionTimeout time.Duration
	// LeaderImbalanceCheckInterval: how often the active controller moves
	// leadership back to preferred replicas (5s; negative disables).
	LeaderImbalanceCheckInterval time.Duration
	// ProposalTimeout bounds how long a request waits for its record to
	// commit (5s); then it is answered REQUEST_TIMED_OUT.
	ProposalTimeout time.Duration
	// SnapshotBytes: once the raft log file exceeds it, the voter snapshots
	// the metadata image and rewrites the log (1 MiB).
	SnapshotBytes int64
	// RedialBackoff between attempts to reach an unreachable peer (200ms).
	RedialBackoff time.Duration
	// Bugs: the bug zoo's switches (test-only; package bugzoo). Only
	// "unclean-election" matters here; it is set on the voter's Image
	// (metadata.Image.UncleanElectionBug) and must be the same on every
	// voter and on every broker's FollowerConfig.
	Bugs bugzoo.Set
}

// ErrConfig classifies an invalid VoterConfig or FollowerConfig.
var ErrConfig = errors.New("controller: invalid config")

func (c *VoterConfig) withDefaults() (VoterConfig, error) {
	cfg := *c
	cfg.Voters = slices.Clone(c.Voters)
	slices.SortFunc(cfg.Voters, func(a, b Peer) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	found := false
	for i, p := range cfg.Voters {
		if p.ID == 0 || p.Addr == "" || (i > 0 && cfg.Voters[i-1].ID == p.ID) {
			return cfg, fmt.Errorf("%w: voter %+v", ErrConfig, p)
		}
		found = found || p.ID == cfg.ID
	}
	if !found {
		return cfg, fmt.Errorf("%w: id %d not among the voters", ErrConfig, cfg.ID)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if cfg.Dir == "" {
		cfg.Dir = "controller"
	}
	def(&cfg.TickInterval, 100*time.Millisecond)
	def(&cfg.SessionTimeout, 3*time.Second)
	def(&cfg.LeaderImbalanceCheckInterval, 5*time.Second)
	def(&cfg.ProposalTimeout, 5*time.Second)
	def(&cfg.RedialBackoff, 200*time.Millisecond)
	if cfg.ElectionTicks == 0 {
		cfg.ElectionTicks = 10
	}
	if cfg.HeartbeatTicks == 0 {
		cfg.HeartbeatTicks = 1
	}
	if cfg.SnapshotBytes == 0 {
		cfg.SnapshotBytes = 1 << 20
	}
	return cfg, nil
}

func (c *VoterConfig) addrOf(id uint64) string {
	for _, p := range c.Voters {
		if p.ID == id {
			return p.Addr
		}
	}
	return ""
}
