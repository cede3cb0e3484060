package bench

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// groupWatch tracks each member's current assignment, as franz-go's
// group consumers report it, to time a group's way to stable.
type groupWatch struct {
	mu      sync.Mutex
	owned   map[int]map[int32]bool // member → partitions
	changed chan struct{}
}

func newGroupWatch() *groupWatch {
	return &groupWatch{owned: map[int]map[int32]bool{}, changed: make(chan struct{}, 1)}
}

func (w *groupWatch) set(member int, topic string, add, remove map[string][]int32) {
	w.mu.Lock()
	if w.owned[member] == nil {
		w.owned[member] = map[int32]bool{}
	}
	for _, p := range remove[topic] {
		delete(w.owned[member], p)
	}
	for _, p := range add[topic] {
		w.owned[member][p] = true
	}
	w.mu.Unlock()
	select {
	case w.changed <- struct{}{}:
	default:
	}
}

func (w *groupWatch) drop(member int) {
	w.mu.Lock()
	delete(w.owned, member)
	w.mu.Unlock()
}

// stable: exactly the members in live own every partition once, and
// each owns something.
func (w *groupWatch) stable(live []int, partitions int32) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := map[int32]bool{}
	for _, m := range live {
		if len(w.owned[m]) == 0 {
			return false
		}
		for p := range w.owned[m] {
			if seen[p] {
				return false
			}
			seen[p] = true
		}
	}
	return int32(len(seen)) == partitions
}

func (w *groupWatch) waitStable(ctx context.Context, live []int, partitions int32) error {
	for !w.stable(live, partitions) {
		select {
		case <-w.changed:
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("group not stable: %w", ctx.Err())
		}
	}
	return nil
}

// startMember starts franz-go group consumer i (eager range assignor,
// Kafka's classic rebalance) on topic.
func startMember(seeds []string, group, topic string, i int, w *groupWatch) (*kgo.Client, error) {
	return kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.Balancers(kgo.RangeBalancer()), kgo.SessionTimeout(10*time.Second), kgo.HeartbeatInterval(500*time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { w.set(i, topic, m, nil) }),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { w.set(i, topic, nil, m) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { w.set(i, topic, nil, m) }))
}

// BenchmarkGroupRebalance: a 10-member group over a 100-partition topic
// (RF=3) on an embedded 3-broker cluster on loopback. "join" is the time
// from starting the members until every partition is owned by exactly
// one of them — it includes group.initial.rebalance.delay.ms (3 s, Kafka's
// default), which a group formed from nothing always waits; "leave" is the
// time from one member leaving (LeaveGroup on close) until the other
// nine own every partition again.
//
//	go test ./bench -run '^$' -bench BenchmarkGroupRebalance -benchtime 3x
func BenchmarkGroupRebalance(b *testing.B) {
	const members, partitions = 10, 100
	c := startCluster(b, partitions)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var join, leave time.Duration
	for n := range b.N {
		group := fmt.Sprintf("rebalance-%d", n)
		w := newGroupWatch()
		var cls []*kgo.Client
		var live []int
		start := time.Now()
		for i := range members {
			cl, err := startMember(c.Bootstrap(), group, "bench", i, w)
			if err != nil {
				b.Fatal(err)
			}
			cls = append(cls, cl)
			live = append(live, i)
			go func() { // franz-go joins only while polled
				for ctx.Err() == nil && !cl.PollFetches(ctx).IsClientClosed() {
				}
			}()
		}
		if err := w.waitStable(ctx, live, partitions); err != nil {
			b.Fatal(err)
		}
		join += time.Since(start)
		start = time.Now()
		cls[0].Close()
		w.drop(0)
		if err := w.waitStable(ctx, live[1:], partitions); err != nil {
			b.Fatal(err)
		}
		leave += time.Since(start)
		for _, cl := range cls[1:] {
			cl.Close()
		}
	}
	b.ReportMetric(float64(join.Milliseconds())/float64(b.N), "ms/join")
	b.ReportMetric(float64(leave.Milliseconds())/float64(b.N), "ms/leave")
}

// BenchmarkGroupConsume: three franz-go members of one group read 1 KiB
// records from a 6-partition RF=3 topic on an embedded 3-broker cluster,
// from the earliest offset, committing as they go (autocommit). The b.N
// records are produced first (not timed); ns/op covers the group from its
// first join (which waits group.initial.rebalance.delay.ms) to the last
// record, "MB/s-read" only from the first record read to the last.
//
//	go test ./bench -run '^$' -bench BenchmarkGroupConsume -benchtime 100000x
func BenchmarkGroupConsume(b *testing.B) {
	const members = 3
	c := startCluster(b, 6)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	p, err := NewProducer(ProduceConfig{Seeds: c.Bootstrap(), Topic: "bench", Acks: -1})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Produce(ctx, b.N); err != nil {
		b.Fatal(err)
	}
	p.Close()
	b.ResetTimer()
	var mu sync.Mutex
	var first, last time.Time
	read := 0
	done := make(chan struct{})
	var cls []*kgo.Client
	for range members {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...), kgo.ConsumerGroup("consume"), kgo.ConsumeTopics("bench"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.Balancers(kgo.RangeBalancer()))
		if err != nil {
			b.Fatal(err)
		}
		cls = append(cls, cl)
		go func() {
			for {
				fs := cl.PollFetches(ctx)
				if fs.IsClientClosed() || ctx.Err() != nil {
					return
				}
				mu.Lock()
				if fs.NumRecords() > 0 && first.IsZero() {
					first = time.Now()
				}
				read += fs.NumRecords()
				if read >= b.N && last.IsZero() {
					last = time.Now()
					select {
					case <-done:
					default:
						close(done)
					}
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-done:
	case <-ctx.Done():
		b.Fatalf("read %d of %d records", read, b.N)
	}
	b.StopTimer()
	for _, cl := range cls {
		cl.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	b.ReportMetric(float64(b.N)*1024/1e6/last.Sub(first).Seconds(), "MB/s-read")
}
