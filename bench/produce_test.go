package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// quietLogger keeps the broker's warnings and drops the rest.
func quietLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startTarget starts the named target and registers its Stop.
func startTarget(tb testing.TB, name string) *Target {
	tb.Helper()
	var t *Target
	var err error
	switch name {
	case "loglab":
		t, err = StartLoglab(tb.TempDir(), quietLogger(tb.Output()))
	case "kfake":
		t, err = StartKfake()
	default:
		tb.Fatalf("unknown target %q", name)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := t.Stop(); err != nil {
			tb.Errorf("stop %s: %v", name, err)
		}
	})
	return t
}

var targets = []string{"loglab", "kfake"}

// TestProduceBothTargets runs the benchmark's workload briefly against
// each target and checks that every record landed, in order, intact, and
// that the loglab topic really has the "never" flush policy.
func TestProduceBothTargets(t *testing.T) {
	for _, name := range targets {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			tg := startTarget(t, name)
			if err := CreateTopic(ctx, tg.Addr, "bench", 1, nil); err != nil {
				t.Fatal(err)
			}
			if name == "loglab" {
				checkFlushNever(t, ctx, tg.Addr, "bench")
			}
			p, err := NewProducer(ProduceConfig{Addr: tg.Addr, Topic: "bench", BatchMaxBytes: 16 << 10})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if err := p.Warm(ctx); err != nil {
				t.Fatal(err)
			}
			const n = 3000
			res, err := p.Produce(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			if res.Records != n || res.Bytes != n*1024 || res.Latency.TotalCount() != n {
				t.Fatalf("result counts %d records, %d bytes, %d latencies; want %d, %d, %d",
					res.Records, res.Bytes, res.Latency.TotalCount(), n, n*1024, n)
			}
			if res.Percentile(50) <= 0 || res.Percentile(99) < res.Percentile(50) {
				t.Fatalf("latency p50 %v p99 %v", res.Percentile(50), res.Percentile(99))
			}
			// Warm-up record plus n: all must read back with the values sent.
			consumeCheck(t, ctx, tg.Addr, "bench", p.values, n+1)
		})
	}
}

// consumeCheck reads want records from offset 0 and checks offsets are
// dense and each value is the one the producer sent at that position
// (offset 0 is the warm-up record, values[0]; then values[i%len]).
func consumeCheck(t *testing.T, ctx context.Context, addr, topic string, values [][]byte, want int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := 0
	for got < want {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", got, want, err)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset != int64(got) {
				t.Fatalf("record %d has offset %d", got, r.Offset)
			}
			exp := values[0]
			if got > 0 {
				exp = values[(got-1)%len(values)]
			}
			if string(r.Value) != string(exp) {
				t.Fatalf("offset %d: value differs from the one produced", r.Offset)
			}
			got++
		})
	}
}

// checkFlushNever asks the broker for the topic's flush configs: the
// benchmark is only issue #3's workload if neither forces an fsync.
func checkFlushNever(t *testing.T, ctx context.Context, addr, topic string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrDescribeConfigsRequest()
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	req.Resources = append(req.Resources, r)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, res := range resp.Resources {
		for _, c := range res.Configs {
			if c.Value != nil {
				seen[c.Name] = *c.Value
			}
		}
	}
	const never = "9223372036854775807" // Long.MAX_VALUE, Kafka's default
	for _, name := range []string{"flush.messages", "flush.ms"} {
		if seen[name] != never {
			t.Fatalf("%s = %q, want %s (never)", name, seen[name], never)
		}
	}
}

// BenchmarkProduce is issue #3: one broker on loopback, 1 KiB records,
// acks=1, flush never, produced asynchronously by kgo; loglab and kfake in
// the same run with the same client settings. One op is one record, so
// MB/s is value bytes per second; p50/p99 are per-record latencies from
// Produce to the promise.
//
//	go test ./bench -run '^$' -bench 'BenchmarkProduce$' -benchmem -count 3
func BenchmarkProduce(b *testing.B) {
	for _, batch := range []int32{1 << 20, 16 << 10} {
		for _, name := range targets {
			b.Run(fmt.Sprintf("batch=%dKiB/target=%s", batch>>10, name), func(b *testing.B) {
				runProduceBench(b, name, ProduceConfig{BatchMaxBytes: batch})
			})
		}
	}
}

// BenchmarkProducePaced is the same workload paced open-loop at a rate
// both targets sustain, so the latencies are the brokers' own rather than
// the client's queue (at full speed latency ≈ window / throughput). Linger
// is off so a lone record is sent at once instead of waiting 1 ms.
//
//	go test ./bench -run '^$' -bench 'BenchmarkProducePaced$' -count 3
func BenchmarkProducePaced(b *testing.B) {
	const rate = 20000 // records/s, about 20 MB/s
	for _, name := range targets {
		b.Run(fmt.Sprintf("rate=%d/target=%s", rate, name), func(b *testing.B) {
			runProduceBench(b, name, ProduceConfig{Rate: rate, Linger: -1})
		})
	}
}

func runProduceBench(b *testing.B, name string, cfg ProduceConfig) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tg := startTarget(b, name)
	if err := CreateTopic(ctx, tg.Addr, "bench", 1, nil); err != nil {
		b.Fatal(err)
	}
	cfg.Addr, cfg.Topic = tg.Addr, "bench"
	measureProduce(b, ctx, cfg)
}

// measureProduce warms a producer up, times b.N records and reports MB/s
// and the p50, p99 and p99.9 latencies.
func measureProduce(b *testing.B, ctx context.Context, cfg ProduceConfig) {
	p, err := NewProducer(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	if err := p.Warm(ctx); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(p.cfg.ValueBytes))
	b.ResetTimer()
	res, err := p.Produce(ctx, b.N)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(res.Percentile(50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(res.Percentile(99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(res.Percentile(99.9).Microseconds()), "p99.9-µs")
}
