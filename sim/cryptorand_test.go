package sim_test

import (
	cryptorand "crypto/rand"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/loglab/loglab/broker/controller"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
)

// raft draws its election jitter exactly like this (raft.go, lockedRand).
func raftStyleDraws() []int64 {
	var out []int64
	for i := 0; i < 8; i++ {
		v, _ := cryptorand.Int(cryptorand.Reader, big.NewInt(10))
		out = append(out, v.Int64())
	}
	return out
}

func TestInstallCryptoRandSeedsReaderAndRestores(t *testing.T) {
	orig := cryptorand.Reader
	restore := sim.InstallCryptoRand(7)
	a := raftStyleDraws()
	restore()
	if cryptorand.Reader != orig {
		t.Fatal("reader not restored")
	}
	restore = sim.InstallCryptoRand(7)
	b := raftStyleDraws()
	restore()
	restore = sim.InstallCryptoRand(8)
	c := raftStyleDraws()
	restore()
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("same seed, different draws: %v %v", a, b)
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Fatalf("seeds 7 and 8 draw alike: %v", a)
	}
}

// electionRun boots a 3-voter controller quorum and returns who won the
// first election, in which term, and the trace hash at that point.
func electionRun(t *testing.T, seed uint64) string {
	restore := sim.InstallCryptoRand(seed)
	defer restore()
	w := sim.NewWorld(sim.Config{Seed: seed})
	var peers []controller.Peer
	for i := 1; i <= 3; i++ {
		peers = append(peers, controller.Peer{ID: uint64(i), Addr: fmt.Sprintf("controller-%d:9093", i)})
	}
	for i := 1; i <= 3; i++ {
		cfg := controller.VoterConfig{ID: uint64(i), Voters: peers}
		w.AddNode(fmt.Sprintf("controller-%d", i), func() host.Node { return &controller.Node{Config: cfg} })
	}
	for _, n := range w.Nodes() {
		w.Start(n)
	}
	leader := func() string {
		for _, n := range w.Nodes() {
			if v := w.Node(n).(*controller.Node).Voter(); v != nil && v.IsLeader() {
				return fmt.Sprintf("%s term %d", n, v.Term())
			}
		}
		return ""
	}
	for leader() == "" {
		if w.Elapsed() > 30*time.Second {
			t.Fatal("no leader")
		}
		w.RunFor(10 * time.Millisecond)
	}
	return fmt.Sprintf("%s at %v hash %x", leader(), w.Elapsed(), w.TraceHash())
}

func TestRaftElectionIsDeterministic(t *testing.T) {
	a, b := electionRun(t, 11), electionRun(t, 11)
	if a != b {
		t.Fatalf("same seed: %s vs %s", a, b)
	}
	if c := electionRun(t, 12); c == a {
		t.Fatalf("seeds 11 and 12 give the same run: %s", a)
	}
	t.Log(a)
}
