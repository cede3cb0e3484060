package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/client"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
)

// simRebalance runs a 10-member group over a 100-partition topic on one
// simulated broker (Kafka's default group.initial.rebalance.delay.ms of
// 3 s, loglab's client with heartbeat.interval.ms 500 ms) and returns the
// virtual time from the members' Subscribe until every partition has one
// owner, and from one member's LeaveGroup until the other nine own them
// all again.
func simRebalance(tb testing.TB, seed uint64) (join, leave time.Duration) {
	const members, partitions = 10, 100
	w := sim.NewWorld(sim.Config{Seed: seed})
	w.AddNode("broker-1", func() host.Node {
		return broker.New(broker.Config{Listen: "broker-1:9092", NumPartitions: partitions})
	})
	cls := make([]*client.Client, members)
	for i := range members {
		name := fmt.Sprintf("member-%d", i)
		w.AddNode(name, func() host.Node {
			return sim.NodeFunc(func(h host.Host) {
				cls[i] = client.New(h, client.Config{Bootstrap: []string{"broker-1:9092"}, AllowAutoTopicCreation: true,
					Group: "g", Topics: []string{"t"}, HeartbeatInterval: 500 * time.Millisecond, SessionTimeout: 10 * time.Second})
			})
		})
	}
	for _, n := range w.Nodes() {
		w.Start(n)
	}
	if err := w.RunFor(50 * time.Millisecond); err != nil {
		tb.Fatal(err)
	}
	stable := func(live []int) bool {
		owners := map[string]int{}
		for _, i := range live {
			n := 0
			for tp, ps := range cls[i].Assigned() {
				for _, p := range ps {
					owners[fmt.Sprint(tp, p)]++
					n++
				}
			}
			if n == 0 {
				return false
			}
		}
		if len(owners) != partitions {
			return false
		}
		for _, c := range owners {
			if c != 1 {
				return false
			}
		}
		return true
	}
	all := make([]int, members)
	for i := range all {
		all[i] = i
		w.Do(fmt.Sprintf("member-%d", i), func(host.Host) { cls[i].Subscribe() })
	}
	start := w.Elapsed()
	if err := w.RunUntil(func() bool { return stable(all) || w.Elapsed()-start > time.Minute }, 0); err != nil {
		tb.Fatal(err)
	}
	if !stable(all) {
		tb.Fatal("no stable generation within a minute")
	}
	join = w.Elapsed() - start
	start = w.Elapsed()
	w.Do("member-0", func(host.Host) { cls[0].LeaveGroup(func() {}) })
	if err := w.RunUntil(func() bool { return stable(all[1:]) || w.Elapsed()-start > time.Minute }, 0); err != nil {
		tb.Fatal(err)
	}
	if !stable(all[1:]) {
		tb.Fatal("no stable generation within a minute after a member left")
	}
	return join, w.Elapsed() - start
}

func TestSimRebalanceSettles(t *testing.T) {
	join, leave := simRebalance(t, 1)
	if join < 3*time.Second {
		t.Fatalf("the first generation formed after %v, before group.initial.rebalance.delay.ms (3s)", join)
	}
	t.Logf("simulated: join %v, leave %v", join, leave)
}

// BenchmarkGroupRebalanceSim: the simulated counterpart of
// bench.BenchmarkGroupRebalance. Reports virtual time to stable (a model:
// no CPU cost, the simulator's default link latency) and the wall time of
// simulating it.
//
//	go test ./client/e2e -run '^$' -bench BenchmarkGroupRebalanceSim -benchtime 5x
func BenchmarkGroupRebalanceSim(b *testing.B) {
	var join, leave time.Duration
	for n := range b.N {
		j, l := simRebalance(b, uint64(n+1))
		join, leave = join+j, leave+l
	}
	b.ReportMetric(float64(join.Milliseconds())/float64(b.N), "sim-ms/join")
	b.ReportMetric(float64(leave.Milliseconds())/float64(b.N), "sim-ms/leave")
}
