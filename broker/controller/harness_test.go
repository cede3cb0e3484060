package controller_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/loglab/loglab/broker/controller"
	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
)

// testBroker is a broker-shaped node: it embeds a Follower and, in combined
// mode, a voter too.
type testBroker struct {
	id       int32
	fcfg     controller.FollowerConfig
	vcfg     *controller.VoterConfig // combined mode
	follower *controller.Follower
	voter    *controller.Voter
	changes  int
}

func (b *testBroker) Start(h host.Host) {
	if b.vcfg != nil {
		v, err := controller.StartVoter(h, *b.vcfg)
		if err != nil {
			panic(err)
		}
		b.voter = v
	}
	cfg := b.fcfg
	cfg.OnChange = func(*metadata.Image, []controller.FetchedRecord) { b.changes++ }
	f, err := controller.NewFollower(h, cfg)
	if err != nil {
		panic(err)
	}
	b.follower = f
}

type harness struct {
	t        *testing.T
	w        *sim.World
	voters   []string
	brokers  []string
	combined bool
}

type opts struct {
	voters, brokers int
	combined        bool // voters live inside the first `voters` brokers
	snapshotBytes   int64
	record          bool
}

func newHarness(t *testing.T, seed uint64, o opts) *harness {
	t.Helper()
	w := sim.NewWorld(sim.Config{Seed: seed, RecordTrace: o.record})
	restore := sim.InstallCryptoRand(seed)
	t.Cleanup(restore)
	h := &harness{t: t, w: w, combined: o.combined}
	var peers []controller.Peer
	var addrs []string
	for i := 1; i <= o.voters; i++ {
		name := fmt.Sprintf("controller-%d", i)
		if o.combined {
			name = fmt.Sprintf("broker-%d", i)
		}
		addr := name + ":9093"
		peers = append(peers, controller.Peer{ID: uint64(i), Addr: addr})
		addrs = append(addrs, addr)
		h.voters = append(h.voters, name)
	}
	vcfg := func(id int) controller.VoterConfig {
		return controller.VoterConfig{ID: uint64(id), Voters: peers, SnapshotBytes: o.snapshotBytes,
			LeaderImbalanceCheckInterval: 2 * time.Second}
	}
	if !o.combined {
		for i, name := range h.voters {
			cfg := vcfg(i + 1)
			w.AddNode(name, func() host.Node { return &controller.Node{Config: cfg} })
		}
	}
	for i := 1; i <= o.brokers; i++ {
		name := fmt.Sprintf("broker-%d", i)
		id := int32(i)
		var vc *controller.VoterConfig
		if o.combined && i <= o.voters {
			c := vcfg(i)
			vc = &c
		}
		fcfg := controller.FollowerConfig{BrokerID: id, Addr: name + ":9092", Controllers: addrs}
		w.AddNode(name, func() host.Node { return &testBroker{id: id, fcfg: fcfg, vcfg: vc} })
		h.brokers = append(h.brokers, name)
	}
	for _, n := range w.Nodes() {
		w.Start(n)
	}
	return h
}

func (h *harness) voter(name string) *controller.Voter {
	switch n := h.w.Node(name).(type) {
	case *controller.Node:
		return n.Voter()
	case *testBroker:
		return n.voter
	}
	return nil
}

func (h *harness) broker(name string) *testBroker {
	b, _ := h.w.Node(name).(*testBroker)
	return b
}

// leader returns the name of the voter that leads in the highest term.
func (h *harness) leader() string {
	best, term := "", uint64(0)
	for _, n := range h.voters {
		v := h.voter(n)
		if v != nil && v.IsLeader() && v.Term() >= term {
			best, term = n, v.Term()
		}
	}
	return best
}

// eventually runs the world in 10ms steps until cond holds or limit of
// virtual time has passed.
func (h *harness) eventually(limit time.Duration, what string, cond func() bool) {
	h.t.Helper()
	end := h.w.Elapsed() + limit
	for !cond() {
		if h.w.Elapsed() >= end {
			h.t.Fatalf("after %v of virtual time: not %s", limit, what)
		}
		if err := h.w.RunFor(10 * time.Millisecond); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *harness) waitLeader() string {
	h.t.Helper()
	h.eventually(10*time.Second, "a leader", func() bool { return h.leader() != "" })
	return h.leader()
}

// allUnfenced waits until every running broker is registered and unfenced
// in the leader's image.
func (h *harness) waitBrokersUnfenced(names ...string) {
	h.t.Helper()
	h.eventually(15*time.Second, "brokers unfenced", func() bool {
		l := h.leader()
		if l == "" {
			return false
		}
		img := h.voter(l).Image()
		for _, n := range names {
			b := h.broker(n)
			if b == nil || img.Broker(b.id) == nil || img.Broker(b.id).Fenced || b.follower.Fenced() {
				return false
			}
		}
		return true
	})
}

// submit sends rec through broker's follower, retrying unknown outcomes,
// and returns the verdict.
func (h *harness) submit(broker string, rec metadata.Record) metadata.Result {
	h.t.Helper()
	var res *metadata.Result
	var try func()
	try = func() {
		h.broker(broker).follower.Submit(rec, func(r metadata.Result, err error) {
			if err != nil {
				h.w.Schedule(200*time.Millisecond, func() { h.w.Do(broker, func(host.Host) { try() }) })
				return
			}
			res = &r
		})
	}
	h.w.Do(broker, func(host.Host) { try() })
	h.eventually(20*time.Second, "an answer to "+rec.Type.String(), func() bool { return res != nil })
	return *res
}

// converged waits until every running voter and follower holds the same
// image at the leader's applied offset, and returns it.
func (h *harness) converged() *metadata.Image {
	h.t.Helper()
	var img *metadata.Image
	h.eventually(15*time.Second, "converged images", func() bool {
		l := h.leader()
		if l == "" {
			return false
		}
		ref := h.voter(l).Image().Encode()
		for _, n := range h.voters {
			v := h.voter(n)
			if h.w.Up(n) && (v == nil || !bytes.Equal(v.Image().Encode(), ref)) {
				return false
			}
		}
		for _, n := range h.brokers {
			b := h.broker(n)
			if h.w.Up(n) && (b == nil || b.follower == nil || !bytes.Equal(b.follower.Image().Encode(), ref)) {
				return false
			}
		}
		img = h.voter(l).Image().Clone()
		return true
	})
	return img
}

func createTopic(name string, parts int32, rf int16, configs ...metadata.Config) metadata.Record {
	return metadata.Record{Type: metadata.TypeCreateTopic, CreateTopic: &metadata.CreateTopic{
		Name: name, NumPartitions: parts, ReplicationFactor: rf, Configs: configs}}
}
