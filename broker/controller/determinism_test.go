package controller_test

import (
	"fmt"
	"testing"

	"github.com/loglab/loglab/sim/disk"
)

// runScenario elects a controller, registers brokers, creates a topic,
// power-fails the active controller and waits for the next one. It returns
// the trace hash and the sequence of leaders (raft's election outcome,
// which depends on its crypto/rand jitter).
func runScenario(t *testing.T, seed uint64) (hash uint64, leaders string) {
	// A subtest per run: its cleanup restores crypto/rand.Reader.
	t.Run(fmt.Sprint("seed-", seed), func(t *testing.T) { hash, leaders = scenario(t, seed) })
	return hash, leaders
}

func scenario(t *testing.T, seed uint64) (uint64, string) {
	h := newHarness(t, seed, opts{voters: 3, brokers: 3})
	first := h.waitLeader()
	h.waitBrokersUnfenced(h.brokers...)
	h.submit("broker-1", createTopic("t", 3, 2))
	h.w.Crash(first, disk.TornLastSector)
	h.eventually(1e10, "a second leader", func() bool { l := h.leader(); return l != "" && l != first })
	second := h.leader()
	h.w.Start(first)
	h.converged()
	return h.w.TraceHash(), fmt.Sprintf("%s -> %s(term %d)", first, second, h.voter(second).Term())
}

func TestDeterministicTraceHash(t *testing.T) {
	h1, l1 := runScenario(t, 42)
	h2, l2 := runScenario(t, 42)
	if h1 != h2 || l1 != l2 {
		t.Fatalf("same seed differs: %x %s vs %x %s", h1, l1, h2, l2)
	}
	h3, _ := runScenario(t, 43)
	if h3 == h1 {
		t.Fatalf("seeds 42 and 43 give the same trace hash %x", h1)
	}
	t.Logf("seed 42: %x %s", h1, l1)
}
