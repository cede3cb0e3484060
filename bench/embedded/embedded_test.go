package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/host"
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// waitISR polls Metadata until topic's partitions all show want replicas
// and want in-sync replicas, and the cluster want brokers.
func waitISR(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, want int) {
	t.Helper()
	var last string
	for {
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err == nil {
			full := len(resp.Brokers) == want && len(resp.Topics) == 1 && resp.Topics[0].ErrorCode == 0 && len(resp.Topics[0].Partitions) > 0
			for _, p := range resp.Topics[0].Partitions {
				full = full && len(p.Replicas) == want && len(p.ISR) == want
			}
			if full {
				return
			}
			last = fmt.Sprintf("%d brokers, %+v", len(resp.Brokers), resp.Topics)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("topic %s never had %d replicas in sync: %s", topic, want, last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// createTopic creates topic with partitions and replication factor rf.
func createTopic(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, partitions int32, rf int16) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, rf
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 30000
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
}

func produce(ctx context.Context, t *testing.T, cl *kgo.Client, topic string, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprint("v", i))}).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
}

func consume(ctx context.Context, t *testing.T, seeds []string, topic string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	seen := map[string]bool{}
	for len(seen) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d distinct records", len(seen), n)
		}
		fs.EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
	}
	for i := 0; i < n; i++ {
		if !seen[fmt.Sprint("v", i)] {
			t.Fatalf("record v%d missing", i)
		}
	}
}

// startReady starts three brokers (a 2 s replica lag time) that are
// ready, stopped cleanly when the test ends; ctx bounds the test (90 s).
func startReady(t *testing.T) (*Cluster, context.Context) {
	t.Helper()
	c, err := Start(Config{Brokers: 3, DataDir: t.TempDir(), Logger: quietLogger(),
		Broker: broker.Config{ReplicaLagTimeMaxMs: 2000, ReplicaFetchBackoffMs: 100}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return c, ctx
}

// TestClusterKillRestart: three brokers on loopback; an RF=3 topic gets a
// full ISR, takes acks=all writes through a kill of a follower, and the
// restarted broker catches up into the ISR again; everything is read back.
func TestClusterKillRestart(t *testing.T) {
	c, ctx := startReady(t)
	if got := c.Bootstrap(); len(got) != 3 || c.ControllerAddr(3) == "" || c.Addr(4) != "" {
		t.Fatalf("bootstrap %v, controller 3 %q", got, c.ControllerAddr(3))
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	createTopic(ctx, t, cl, "t3", 2, 3)
	waitISR(ctx, t, cl, "t3", 3)
	produce(ctx, t, cl, "t3", 0, 20)

	// The leader of partition 0, as broker 1 sees it.
	var leader int32 = -1
	if err := c.Do(1, func(b *broker.Broker, _ host.Host) {
		if st, ok := b.Partition("t3", 0); ok {
			leader = st.Leader
		}
	}); err != nil {
		t.Fatal(err)
	}
	if leader < 1 || leader > 3 {
		t.Fatalf("partition 0 leader %d", leader)
	}
	victim := int(leader%3) + 1 // a follower
	if err := c.Kill(victim); err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(victim); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("second kill: %v", err)
	}
	if err := c.Do(victim, func(*broker.Broker, host.Host) {}); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Do on a killed broker: %v", err)
	}
	produce(ctx, t, cl, "t3", 20, 20) // min.insync.replicas 1: the ISR shrinks
	if err := c.Restart(victim); err != nil {
		t.Fatal(err)
	}
	if err := c.Restart(victim); !errors.Is(err, ErrRunning) {
		t.Fatalf("second restart: %v", err)
	}
	waitISR(ctx, t, cl, "t3", 3)
	consume(ctx, t, c.Bootstrap(), "t3", 40)
}

// TestClusterPauseResume: pausing the leader of an RF=3 partition past
// the controller's session timeout gets it fenced and another replica
// elected; acks=all writes go on through the new leader; once resumed,
// the old leader rejoins the ISR and everything is read back once.
func TestClusterPauseResume(t *testing.T) {
	c, ctx := startReady(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.Bootstrap()...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProduceRequestTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	createTopic(ctx, t, cl, "p3", 1, 3)
	waitISR(ctx, t, cl, "p3", 3)
	produce(ctx, t, cl, "p3", 0, 10)
	leader := func(from int) int32 {
		var l int32 = -1
		if err := c.Do(from, func(b *broker.Broker, _ host.Host) {
			if st, ok := b.Partition("p3", 0); ok {
				l = st.Leader
			}
		}); err != nil {
			t.Fatal(err)
		}
		return l
	}
	old := int(leader(1))
	if old < 1 || old > 3 {
		t.Fatalf("leader %d", old)
	}
	if err := c.Pause(old); err != nil {
		t.Fatal(err)
	}
	if err := c.Pause(old); !errors.Is(err, ErrPaused) {
		t.Fatalf("second pause: %v", err)
	}
	other := old%3 + 1
	for deadline := time.Now().Add(30 * time.Second); int(leader(other)) == old; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("broker %d still leads after 30s paused", old)
		}
	}
	produce(ctx, t, cl, "p3", 10, 10)
	if err := c.Resume(old); err != nil {
		t.Fatal(err)
	}
	if err := c.Resume(old); !errors.Is(err, ErrNotPaused) {
		t.Fatalf("second resume: %v", err)
	}
	waitISR(ctx, t, cl, "p3", 3)
	consume(ctx, t, c.Bootstrap(), "p3", 20)
}

// TestValidateFillsDefaults: Validate (which Start calls) fills in what
// the fields document.
func TestValidateFillsDefaults(t *testing.T) {
	cfg := Config{Brokers: 5, DataDir: "d"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Host != "127.0.0.1" || cfg.ControllerPortOffset != 100 || cfg.DefaultReplicationFactor != 3 || cfg.StopTimeout != 30*time.Second {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestStartBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Brokers: 0, DataDir: t.TempDir()},
		{Brokers: 2},
		{Brokers: 2, DataDir: t.TempDir(), DefaultReplicationFactor: 3},
		{Brokers: 3, DataDir: t.TempDir(), BasePort: 20000, ControllerPortOffset: 1},
		{Brokers: 101, DataDir: t.TempDir()},
		{Brokers: 3, DataDir: t.TempDir(), MinInsyncReplicas: 4},
		{Brokers: 3, DataDir: t.TempDir(), BasePort: 65534},
		{Brokers: 3, DataDir: t.TempDir(), BasePort: 20000, ControllerPortOffset: -20000},
	} {
		if c, err := Start(cfg); !errors.Is(err, ErrConfig) {
			if c != nil {
				c.Stop()
			}
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}
