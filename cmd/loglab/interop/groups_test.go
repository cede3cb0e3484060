package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupConsume is one client's group consumer: join group on topic, read
// exactly n records (from the committed offsets, or the earliest when
// there are none), commit them, leave. It returns what it read.
type groupConsume func(t *testing.T, ctx context.Context, addr, group, topic string, n int) []rec

// testGroupResume is what every client's group test shows: a first
// member reads everything exactly once and commits; the committed
// offsets are the partitions' end offsets; a second member of the same
// group, after more records were produced, reads exactly the new ones —
// nothing again, nothing skipped.
func testGroupResume(t *testing.T, b *brokerProc, client string, consume groupConsume) {
	const parts, n1, n2 = 3, 30, 15
	topic, group := client+"-groups", client+"-group"
	createTopic(t, b.Addr, topic, parts)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	first := produceSpread(t, ctx, b.Addr, topic, "first", parts, n1)
	got := consume(t, ctx, b.Addr, group, topic, n1)
	checkExactly(t, "first member", first, got)
	checkCommitted(t, ctx, b.Addr, group, topic, first)

	second := produceSpread(t, ctx, b.Addr, topic, "second", parts, n2)
	got = consume(t, ctx, b.Addr, group, topic, n2)
	checkExactly(t, "second member", second, got)
	checkCommitted(t, ctx, b.Addr, group, topic, append(first, second...))
}

// produceSpread writes n records round-robin over the partitions with
// franz-go and returns them with their offsets.
func produceSpread(t *testing.T, ctx context.Context, addr, topic, prefix string, parts, n int) []rec {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression())) // kafkajs reads only none and gzip
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var rs []*kgo.Record
	for i := range n {
		rs = append(rs, &kgo.Record{Topic: topic, Partition: int32(i % parts), Value: []byte(fmt.Sprintf("%s-%d", prefix, i))})
	}
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce %s: %v", prefix, err)
	}
	var out []rec
	for _, r := range rs {
		out = append(out, rec{Partition: r.Partition, Offset: r.Offset, Value: string(r.Value)})
	}
	return out
}

// checkExactly: got holds want's records, each once, at their offsets.
func checkExactly(t *testing.T, who string, want, got []rec) {
	t.Helper()
	key := func(r rec) string { return fmt.Sprintf("p%d@%d=%s", r.Partition, r.Offset, r.Value) }
	var w, g []string
	for _, r := range want {
		w = append(w, key(r))
	}
	for _, r := range got {
		g = append(g, key(r))
	}
	slices.Sort(w)
	slices.Sort(g)
	if !slices.Equal(w, g) {
		t.Fatalf("%s read %d records, want exactly the %d produced:\n got %v\nwant %v", who, len(g), len(w), g, w)
	}
}

// checkCommitted asks the group's coordinator (OffsetFetch through
// franz-go) for the committed offsets: each partition's must be one past
// its last record.
func checkCommitted(t *testing.T, ctx context.Context, addr, group, topic string, rs []rec) {
	t.Helper()
	want := map[int32]int64{}
	for _, r := range rs {
		want[r.Partition] = max(want[r.Partition], r.Offset+1)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	for p := range want {
		rt.Partitions = append(rt.Partitions, p)
	}
	req.Topics = append(req.Topics, rt)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := req.RequestWith(ctx, cl)
		ok := err == nil && resp.ErrorCode == 0 && len(resp.Topics) == 1
		if ok {
			for _, p := range resp.Topics[0].Partitions {
				if p.ErrorCode != 0 || p.Offset != want[p.Partition] {
					ok = false
				}
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("committed offsets of %s: %+v (err %v), want %v", group, resp, err, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestGroupKgo(t *testing.T) {
	forEachTarget(t, func(t *testing.T, b *brokerProc) { testGroupResume(t, b, "kgo", consumeKgo) })
}

func consumeKgo(t *testing.T, ctx context.Context, addr, group, topic string, n int) []rec {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close() // leaves the group
	var got []rec
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("kgo group read %d of %d: %v", len(got), n, ctx.Err())
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("kgo group fetch %s/%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			got = append(got, rec{Partition: r.Partition, Offset: r.Offset, Value: string(r.Value)})
		})
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("kgo commit: %v", err)
	}
	return got
}

func TestGroupSarama(t *testing.T) {
	forEachTarget(t, func(t *testing.T, b *brokerProc) { testGroupResume(t, b, "sarama", consumeSarama) })
}

type saramaHandler struct {
	mu   sync.Mutex
	got  []rec
	n    int
	done chan struct{}
	once sync.Once
}

func (h *saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h *saramaHandler) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for m := range c.Messages() {
		h.mu.Lock()
		h.got = append(h.got, rec{Partition: m.Partition, Offset: m.Offset, Value: string(m.Value)})
		full := len(h.got) >= h.n
		h.mu.Unlock()
		s.MarkMessage(m, "")
		if full {
			s.Commit()
			h.once.Do(func() { close(h.done) })
		}
	}
	return nil
}

func consumeSarama(t *testing.T, ctx context.Context, addr, group, topic string, n int) []rec {
	t.Helper()
	cfg := saramaConfig("none")
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{sarama.NewBalanceStrategyRange()}
	cg, err := sarama.NewConsumerGroup([]string{addr}, group, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &saramaHandler{n: n, done: make(chan struct{})}
	cctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		for cctx.Err() == nil {
			if err := cg.Consume(cctx, []string{topic}, h); err != nil && !errors.Is(err, sarama.ErrClosedConsumerGroup) {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	select {
	case <-h.done:
	case err := <-errc:
		t.Fatalf("sarama group consume: %v", err)
	case <-ctx.Done():
		t.Fatalf("sarama group read %d of %d: %v", len(h.got), n, ctx.Err())
	}
	cancel()
	<-errc
	if err := cg.Close(); err != nil {
		t.Fatalf("sarama close: %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got
}

func TestGroupKafkaGo(t *testing.T) {
	forEachTarget(t, func(t *testing.T, b *brokerProc) { testGroupResume(t, b, "kafkago", consumeKafkaGo) })
}

func consumeKafkaGo(t *testing.T, ctx context.Context, addr, group, topic string, n int) []rec {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{addr}, GroupID: group, Topic: topic,
		StartOffset: kafka.FirstOffset, MaxWait: 200 * time.Millisecond, HeartbeatInterval: time.Second,
		SessionTimeout: 10 * time.Second})
	var got []rec
	var msgs []kafka.Message
	for len(got) < n {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			r.Close()
			t.Fatalf("kafka-go group read %d of %d: %v", len(got), n, err)
		}
		msgs = append(msgs, m)
		got = append(got, rec{Partition: int32(m.Partition), Offset: m.Offset, Value: string(m.Value)})
	}
	if err := r.CommitMessages(ctx, msgs...); err != nil {
		r.Close()
		t.Fatalf("kafka-go commit: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("kafka-go close: %v", err)
	}
	return got
}

func TestGroupKcat(t *testing.T) {
	kcat := kcatPath(t)
	forEachTarget(t, func(t *testing.T, b *brokerProc) {
		testGroupResume(t, b, "kcat", func(t *testing.T, ctx context.Context, addr, group, topic string, n int) []rec {
			t.Helper()
			// -c n: exit after n messages; librdkafka commits the
			// consumed offsets when the consumer closes.
			out, errOut, code := runCmd(t, 60*time.Second, "", "", kcat, "-b", addr, "-G", group, "-c", strconv.Itoa(n),
				"-f", "%p|%o|%s\n", "-X", "auto.offset.reset=earliest", "-m", "10", topic)
			if code != 0 {
				t.Fatalf("kcat -G: exit %d\n%s%s", code, out, errOut)
			}
			var got []rec
			for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				f := strings.SplitN(line, "|", 3)
				if len(f) != 3 {
					t.Fatalf("kcat -G: bad line %q\n%s", line, errOut)
				}
				p, _ := strconv.Atoi(f[0])
				off, _ := strconv.ParseInt(f[1], 10, 64)
				got = append(got, rec{Partition: int32(p), Offset: off, Value: f[2]})
			}
			return got
		})
	})
}

func TestGroupKafkajs(t *testing.T) {
	node, dir := kafkajs(t)
	forEachTarget(t, func(t *testing.T, b *brokerProc) {
		testGroupResume(t, b, "kafkajs", func(t *testing.T, ctx context.Context, addr, group, topic string, n int) []rec {
			t.Helper()
			out, errOut, code := runCmd(t, 90*time.Second, dir, "", node, "group.mjs", addr, topic, group, strconv.Itoa(n))
			if code != 0 {
				t.Fatalf("node group.mjs: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			var res struct {
				Read []struct {
					Partition int32
					Offset    string
					Value     string
				}
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil {
				t.Fatalf("kafkajs output: %v\n%s", err, out)
			}
			var got []rec
			for _, r := range res.Read {
				off, _ := strconv.ParseInt(r.Offset, 10, 64)
				got = append(got, rec{Partition: r.Partition, Offset: off, Value: r.Value})
			}
			return got
		})
	})
}

// TestGroupLoglabCLI: loglab's own client through the CLI, `loglab consume
// --group`, as the group consumer; then `loglab group describe` shows the
// committed offsets with no lag, `group reset-offsets --to-earliest` is
// refused for nothing and makes a third member read everything again.
func TestGroupLoglabCLI(t *testing.T) {
	forEachTarget(t, func(t *testing.T, b *brokerProc) {
		consume := func(t *testing.T, _ context.Context, addr, group, topic string, n int) []rec {
			t.Helper()
			out, errOut, code := runLoglab(t, "", "consume", "--bootstrap", addr, "--topic", topic, "--group", group,
				"--from-beginning", "--count", strconv.Itoa(n), "--format", "%p|%o|%v\\n")
			if code != 0 {
				t.Fatalf("loglab consume --group: exit %d\n%s%s", code, out, errOut)
			}
			var got []rec
			for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				f := strings.SplitN(line, "|", 3)
				if len(f) != 3 {
					t.Fatalf("loglab consume --group: bad line %q", line)
				}
				p, _ := strconv.Atoi(f[0])
				off, _ := strconv.ParseInt(f[1], 10, 64)
				got = append(got, rec{Partition: int32(p), Offset: off, Value: f[2]})
			}
			return got
		}
		testGroupResume(t, b, "loglab", consume)
		out, errOut, code := runLoglab(t, "", "group", "describe", "--bootstrap", b.Addr, "--group", "loglab-group")
		if code != 0 || !strings.Contains(out, "state Empty") || !strings.Contains(out, "LAG") {
			t.Fatalf("group describe: exit %d\n%s%s", code, out, errOut)
		}
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(line); len(f) == 5 && f[0] == "loglab-groups" && f[4] != "0" {
				t.Fatalf("lag after the members committed everything: %q", line)
			}
		}
		out, errOut, code = runLoglab(t, "", "group", "list", "--bootstrap", b.Addr)
		if code != 0 || !strings.Contains(out, "loglab-group") {
			t.Fatalf("group list: exit %d\n%s%s", code, out, errOut)
		}
		out, errOut, code = runLoglab(t, "", "group", "reset-offsets", "--bootstrap", b.Addr, "--group", "loglab-group",
			"--topic", "loglab-groups", "--to-earliest")
		if code != 0 || !strings.Contains(out, "committed 3 offsets") {
			t.Fatalf("group reset-offsets: exit %d\n%s%s", code, out, errOut)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if got := consume(t, ctx, b.Addr, "loglab-group", "loglab-groups", 45); len(got) != 45 {
			t.Fatalf("after the reset a member read %d records, want all 45 again", len(got))
		}
	})
}
