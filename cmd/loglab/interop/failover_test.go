package interop

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglab/loglab/bench/embedded"
	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/host"
)

// TestKgoLeaderKilledAcksAllLosesNothing: franz-go produces with acks=all
// to a 3-broker cluster (replication factor 3, min.insync.replicas=2) on
// real sockets; the partition's leader is killed mid-stream (no clean
// shutdown) and restarted later. Every record the client saw acknowledged
// must be readable afterwards, in the order acknowledged. Retries without
// idempotence may add duplicates; they are counted, not failed. With
// franz-go's default idempotent producer (InitProducerId, sequence
// numbers, 5 requests in flight) there must be none: the new leader knows
// the producer's last batches and acknowledges a retry without storing it
// again.
func TestKgoLeaderKilledAcksAllLosesNothing(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		leaderKill(t, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(1))
	})
	t.Run("idempotent", func(t *testing.T) {
		if dups := leaderKill(t); dups != 0 {
			t.Fatalf("the idempotent producer stored %d duplicates", dups)
		}
	})
}

func leaderKill(t *testing.T, opts ...kgo.Opt) (dups int) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c, err := embedded.Start(embedded.Config{Brokers: 3, DataDir: t.TempDir(), MinInsyncReplicas: 2,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	}()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	const topic = "failover"
	createTopic(t, c.Addr(1), topic, 1)

	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(c.Bootstrap()...), kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(60 * time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	var (
		mu    sync.Mutex
		acked = map[string]int64{}
		fails []error
		wg    sync.WaitGroup
	)
	produce := func(from, to int) {
		for i := from; i < to; i++ {
			v := fmt.Sprint("v", i)
			wg.Add(1)
			cl.Produce(ctx, &kgo.Record{Value: []byte(v)}, func(r *kgo.Record, err error) {
				defer wg.Done()
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					fails = append(fails, err)
					return
				}
				acked[v] = r.Offset
			})
			time.Sleep(200 * time.Microsecond)
		}
	}
	leader := func() int {
		for id := 1; id <= 3; id++ {
			var l int32 = -1
			if err := c.Do(id, func(b *broker.Broker, _ host.Host) {
				if ps, ok := b.Partition(topic, 0); ok {
					l = ps.Leader
				}
			}); err == nil && l > 0 {
				return int(l)
			}
		}
		t.Fatal("no broker knows the partition's leader")
		return 0
	}

	produce(0, 2000)
	old := leader()
	if err := c.Kill(old); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed the leader, broker %d", old)
	produce(2000, 4000)
	if err := c.Restart(old); err != nil {
		t.Fatal(err)
	}
	produce(4000, 5000)
	wg.Wait()
	if len(fails) > 0 {
		t.Fatalf("%d records failed, first: %v", len(fails), fails[0])
	}

	// Read everything back through a fresh client.
	rd, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	// value -> every offset it was read at: a retry without idempotence
	// may have stored a record twice (the first attempt's answer was lost
	// with the leader); the acknowledged copy must be among them.
	seen := map[string][]int64{}
	last := int64(-1) // the highest acknowledged offset: read up to it
	for _, off := range acked {
		last = max(last, off)
	}
	for next := int64(0); next <= last; {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d distinct of %d acknowledged records before the deadline", len(seen), len(acked))
		}
		fs.EachRecord(func(r *kgo.Record) {
			if len(seen[string(r.Value)]) > 0 {
				dups++
			}
			seen[string(r.Value)] = append(seen[string(r.Value)], r.Offset)
			next = max(next, r.Offset+1)
		})
	}
	for v, off := range acked {
		if !slices.Contains(seen[v], off) {
			t.Errorf("acknowledged %s at offset %d, read at %v", v, off, seen[v])
		}
	}
	t.Logf("%d acknowledged records all read back at their offsets after a leader kill; %d duplicates from retries", len(acked), dups)
	return dups
}
