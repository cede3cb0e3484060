package e2e

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/checkers"
	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/client"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
)

// groupWorld is one broker, an idempotent producer and three group
// members (range or round-robin), all recording one history.
type groupWorld struct {
	t       *testing.T
	w       *sim.World
	hist    *history.Writer
	jsonl   *bytes.Buffer
	prod    *client.Client
	members map[string]*client.Client
	read    map[string][]client.Record // by member
}

func newGroupWorld(t *testing.T, seed uint64, assignor string, autoCommit bool) *groupWorld {
	scfg := sim.Config{Seed: seed}
	if os.Getenv("LOGLAB_TEST_LOG") != "" {
		scfg.Log, scfg.LogLevel = os.Stderr, slog.LevelDebug
	}
	gw := &groupWorld{t: t, w: sim.NewWorld(scfg), jsonl: &bytes.Buffer{}, members: map[string]*client.Client{}, read: map[string][]client.Record{}}
	gw.hist = history.NewWriter(gw.jsonl)
	gw.w.AddNode("broker-1", func() host.Node {
		return broker.New(broker.Config{Listen: "broker-1:9092", NumPartitions: 6, GroupInitialRebalanceDelayMs: 500})
	})
	gw.w.AddNode("producer", func() host.Node {
		return sim.NodeFunc(func(h host.Host) {
			gw.prod = client.New(h, client.Config{Bootstrap: []string{"broker-1:9092"}, AllowAutoTopicCreation: true,
				Linger: 2 * time.Millisecond, Idempotent: true, History: gw.hist})
		})
	})
	for _, name := range []string{"m1", "m2", "m3"} {
		gw.w.AddNode(name, func() host.Node {
			return sim.NodeFunc(func(h host.Host) {
				gw.members[name] = client.New(h, client.Config{ClientID: name, Bootstrap: []string{"broker-1:9092"},
					Group: "g", Topics: []string{"orders"}, Assignor: assignor, OffsetReset: client.ResetEarliest,
					SessionTimeout: 6 * time.Second, RebalanceTimeout: 10 * time.Second, HeartbeatInterval: time.Second,
					AutoCommit: autoCommit, AutoCommitInterval: 200 * time.Millisecond, FetchMaxWait: 100 * time.Millisecond,
					History:   gw.hist,
					OnRecords: func(rs []client.Record) { gw.read[name] = append(gw.read[name], rs...) }})
			})
		})
	}
	for _, n := range gw.w.Nodes() {
		gw.w.Start(n)
	}
	gw.run(100 * time.Millisecond)
	return gw
}

func (gw *groupWorld) run(d time.Duration) {
	gw.t.Helper()
	if err := gw.w.RunFor(d); err != nil {
		gw.t.Fatal(err)
	}
}

func (gw *groupWorld) produce(from, to int) map[string]bool {
	acked := map[string]bool{}
	gw.w.Do("producer", func(host.Host) {
		for i := from; i < to; i++ {
			v := fmt.Sprintf("v%04d", i)
			gw.prod.Produce(client.Record{Topic: "orders", Key: []byte(v), Value: []byte(v)}, func(r client.Record, err error) {
				if err != nil {
					gw.t.Errorf("%s: %v", v, err)
					return
				}
				acked[v] = true
			})
		}
	})
	return acked
}

func (gw *groupWorld) assigned(name string) int {
	n := 0
	for _, ps := range gw.members[name].Assigned() {
		n += len(ps)
	}
	return n
}

// check runs every checker on the history; the group checker must run.
func (gw *groupWorld) check() checkers.Report {
	gw.t.Helper()
	ops, err := history.Parse(bytes.NewReader(gw.jsonl.Bytes()))
	if err != nil {
		gw.t.Fatal(err)
	}
	rep, err := checkers.Check(ops, checkers.Options{Checkers: []string{"queue", "group"}})
	if err != nil {
		gw.t.Fatal(err)
	}
	if rep.Group == nil {
		gw.t.Fatal("the group checker did not run")
	}
	return rep
}

// Three members split six partitions, consume everything, commit; one
// leaves and one crashes; the survivor takes every partition over from
// the committed offsets: every acknowledged record is read, none is
// stored twice (idempotent producer), and the group checker passes.
func TestGroupMembersShareAndTakeOver(t *testing.T) {
	for _, assignor := range []string{client.AssignorRange, client.AssignorRoundRobin} {
		t.Run(assignor, func(t *testing.T) {
			gw := newGroupWorld(t, 3, assignor, true)
			for _, m := range []string{"m1", "m2", "m3"} {
				gw.w.Do(m, func(host.Host) {
					if err := gw.members[m].Subscribe(); err != nil {
						t.Fatal(err)
					}
				})
			}
			acked := gw.produce(0, 300)
			gw.run(5 * time.Second)
			for _, m := range []string{"m1", "m2", "m3"} {
				if got := gw.assigned(m); got != 2 {
					t.Fatalf("%s owns %d partitions, want 2", m, got)
				}
			}
			if len(acked) != 300 {
				t.Fatalf("%d of 300 acknowledged", len(acked))
			}
			gw.w.Do("m1", func(host.Host) { gw.members["m1"].LeaveGroup(func() {}) })
			gw.w.Crash("m2", 0)
			more := gw.produce(300, 400)
			gw.run(15 * time.Second)
			if got := gw.assigned("m3"); got != 6 {
				t.Fatalf("after one left and one crashed, m3 owns %d partitions, want 6", got)
			}
			for v := range more {
				acked[v] = true
			}
			seen := map[string]bool{}
			for _, rs := range gw.read {
				for _, r := range rs {
					seen[string(r.Value)] = true
				}
			}
			for v := range acked {
				if !seen[v] {
					t.Fatalf("acknowledged %s was never consumed by the group", v)
				}
			}
			rep := gw.check()
			if rep.Verdict != verdict.Pass {
				t.Fatalf("checkers: %s", rep.Text())
			}
			if rep.Group.Assignments < 4 || rep.Group.Commits == 0 {
				t.Fatalf("group history too thin: %+v", rep.Group)
			}
		})
	}
}
