package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/loglab/loglab/bench/embedded"
)

// startCluster starts an embedded 3-broker cluster on loopback and a topic
// with replication factor 3 and min.insync.replicas=2, fully in sync.
func startCluster(tb testing.TB, partitions int32) *embedded.Cluster {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := embedded.Start(embedded.Config{Brokers: 3, DataDir: tb.TempDir(), Logger: quietLogger(tb.Output())})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := c.Stop(); err != nil {
			tb.Error(err)
		}
	})
	if err := c.WaitReady(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := CreateReplicatedTopic(ctx, c.Bootstrap(), "bench", partitions, 3, map[string]string{"min.insync.replicas": "2"}); err != nil {
		tb.Fatal(err)
	}
	if err := WaitInSync(ctx, c.Bootstrap(), "bench", 3); err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestReplicatedProduce is the replicated bench's workload, small: every
// record is acknowledged by the ISR of a 3-broker cluster.
func TestReplicatedProduce(t *testing.T) {
	c := startCluster(t, 3)
	p, err := NewProducer(ProduceConfig{Seeds: c.Bootstrap(), Topic: "bench", Acks: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Warm(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := p.Produce(ctx, 2000)
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 2000 || res.Latency.TotalCount() != 2000 {
		t.Fatalf("%d records, %d latencies", res.Records, res.Latency.TotalCount())
	}
}

// BenchmarkProduceReplicated: 3 brokers on loopback in this process, RF=3,
// min.insync.replicas=2, acks=all, 1 KiB records, flush never (Kafka's
// default: durability from replication). "max" produces as fast as the
// window allows; "paced" runs open-loop at 25 MB/s (half the 50 MB/s
// target) for latencies free of the client's own queue.
//
//	go test ./bench -run '^$' -bench 'BenchmarkProduceReplicated' -benchtime 100000x -count 3
func BenchmarkProduceReplicated(b *testing.B) {
	for _, parts := range []int32{1, 3} {
		for _, mode := range []string{"max", "paced"} {
			b.Run(fmt.Sprintf("partitions=%d/%s", parts, mode), func(b *testing.B) {
				c := startCluster(b, parts)
				cfg := ProduceConfig{Seeds: c.Bootstrap(), Topic: "bench", Acks: -1}
				if mode == "paced" {
					cfg.Rate, cfg.Linger = 25000, -1
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				measureProduce(b, ctx, cfg)
			})
		}
	}
}
