package admin_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/bench/embedded"
	"github.com/loglab/loglab/client/admin"
)

// cluster starts three real brokers on loopback and an admin client.
func cluster(t *testing.T) (*embedded.Cluster, *admin.Client) {
	t.Helper()
	ec, err := embedded.Start(embedded.Config{Brokers: 3, Host: "127.0.0.1", DataDir: t.TempDir(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ec.Stop() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := ec.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := admin.Dial(ec.Addr(2), admin.Options{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return ec, c
}

// TestTopicsAndGroups walks the admin surface on a real cluster: create
// (and the typed error of a second create), describe, configs, offsets
// from each partition's leader, a consumer group's description and
// commits, a reset while it is empty, and delete.
func TestTopicsAndGroups(t *testing.T) {
	ec, c := cluster(t)
	ctx := context.Background()
	spec := admin.TopicSpec{Name: "events", Partitions: 3, ReplicationFactor: 3,
		Configs: []admin.Config{{Name: "retention.ms", Value: kmsg.StringPtr("86400000")}}}
	if err := c.CreateTopic(ctx, spec); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateTopic(ctx, spec); !errors.Is(err, kerr.TopicAlreadyExists) {
		t.Fatalf("second create: %v, want TOPIC_ALREADY_EXISTS", err)
	}
	if err := c.CreateTopic(ctx, admin.TopicSpec{Name: "big", Partitions: 1, ReplicationFactor: 5}); !errors.Is(err, kerr.InvalidReplicationFactor) {
		t.Fatalf("RF 5 on 3 brokers: %v, want INVALID_REPLICATION_FACTOR", err)
	}

	// Produce 10 records to each partition with a real client.
	kc, err := kgo.NewClient(kgo.SeedBrokers(ec.Bootstrap()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	for p := range int32(3) {
		for range 10 + p {
			if err := kc.ProduceSync(ctx, &kgo.Record{Topic: "events", Partition: p, Value: []byte("v")}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}

	// Metadata, partitions, configs and offsets.
	m, err := c.Metadata(ctx, nil)
	if err != nil || len(m.Brokers) != 3 {
		t.Fatalf("metadata: %d brokers, %v", len(m.Brokers), err)
	}
	tp, err := m.Topic("events")
	if err != nil || len(tp.Partitions) != 3 || len(tp.Partitions[0].ISR) != 3 {
		t.Fatalf("events: %+v %v", tp, err)
	}
	if _, err := m.Topic("nope"); err == nil {
		t.Fatal("a topic not asked for was found")
	}
	if _, err := c.Partitions(ctx, "nope"); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("partitions of a missing topic: %v", err)
	}
	cfgs, err := c.TopicConfigs(ctx, "events")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cfgs, func(c admin.Config) bool { return c.Name == "retention.ms" })
	if i < 0 || cfgs[i].Value == nil || *cfgs[i].Value != "86400000" || cfgs[i].Source != kmsg.ConfigSourceDynamicTopicConfig {
		t.Fatalf("retention.ms: %+v", cfgs)
	}
	ends, err := c.ListOffsets(ctx, "events", admin.Latest)
	if err != nil {
		t.Fatal(err)
	}
	starts, err := c.ListOffsets(ctx, "events", admin.Earliest)
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(3) {
		if ends[p] != int64(10+p) || starts[p] != 0 {
			t.Fatalf("partition %d: start %d end %d, want 0 and %d (every leader asked)", p, starts[p], ends[p], 10+p)
		}
	}

	// A consumer group commits, leaves; the admin resets it while empty.
	gc, err := kgo.NewClient(kgo.SeedBrokers(ec.Bootstrap()...), kgo.ConsumerGroup("billing"), kgo.ConsumeTopics("events"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	read := 0
	deadline := time.Now().Add(30 * time.Second)
	for read < 33 && time.Now().Before(deadline) {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := gc.PollFetches(pctx)
		cancel()
		read += fs.NumRecords()
	}
	if read != 33 {
		t.Fatalf("the group read %d records, want 33", read)
	}
	d, err := c.DescribeGroup(ctx, "billing")
	if err != nil || d.State != "Stable" || len(d.Members) != 1 || len(d.Members[0].Assignment["events"]) != 3 {
		t.Fatalf("describe while consuming: %+v %v", d, err)
	}
	if err := c.CommitOffsets(ctx, "billing", "events", map[int32]int64{0: 1}); !errors.Is(err, kerr.UnknownMemberID) && !errors.Is(err, kerr.IllegalGeneration) {
		t.Fatalf("admin commit to a group with members: %v, want it refused", err)
	}
	if _, err := c.ResetPlan(ctx, "billing", "events", []int32{0}, admin.ResetTo{Earliest: true}); err == nil || !strings.Contains(err.Error(), "stop them") {
		t.Fatalf("reset plan for a group with members: %v, want it refused", err)
	}
	if err := gc.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	gc.Close() // leaves the group
	got, err := c.CommittedOffsets(ctx, "billing")
	if err != nil || got["events"][2] != 12 {
		t.Fatalf("committed: %v %v", got, err)
	}
	if err := c.CommitOffsets(ctx, "billing", "events", map[int32]int64{0: 3, 2: 5}); err != nil {
		t.Fatal(err)
	}
	got, err = c.CommittedOffsets(ctx, "billing")
	if err != nil || got["events"][0] != 3 || got["events"][1] != 11 || got["events"][2] != 5 {
		t.Fatalf("after reset: %v %v", got, err)
	}
	lags, err := c.Lag(ctx, "billing")
	if err != nil || len(lags) != 3 || lags[0].Lag != 7 || lags[1].Lag != 0 || lags[2].LogEnd != 12 || lags[2].Lag != 7 {
		t.Fatalf("lag: %+v %v", lags, err)
	}
	plan, err := c.ResetPlan(ctx, "billing", "events", []int32{0, 2}, admin.ResetTo{Offset: 11})
	if err != nil || plan[0] != 10 || plan[2] != 11 {
		t.Fatalf("reset plan to 11 (clamped to each end): %v %v", plan, err)
	}
	ds, err := c.DescribeTopics(ctx, []string{"events"})
	if err != nil || len(ds) != 1 || len(ds[0].Overrides) != 1 || ds[0].Overrides[0].String() != "86400000" || ds[0].HighWatermark[1] != 11 {
		t.Fatalf("describe: %+v %v", ds, err)
	}
	groups, err := c.ListGroups(ctx)
	if err != nil || len(groups) != 1 || groups[0].Group != "billing" || groups[0].State != "Empty" {
		t.Fatalf("list groups: %+v %v", groups, err)
	}

	// Delete: one topic goes, a missing one gets its own error.
	res, err := c.DeleteTopics(ctx, "events", "nope")
	if err != nil || len(res) != 2 {
		t.Fatalf("delete: %+v %v", res, err)
	}
	for _, r := range res {
		if (r.Topic == "events") != (r.Err == nil) || (r.Topic == "nope" && !errors.Is(r.Err, kerr.UnknownTopicOrPartition)) {
			t.Fatalf("delete result %+v", r)
		}
	}
}

func TestDialErrors(t *testing.T) {
	if _, err := admin.Dial("no-port", admin.Options{}); err == nil {
		t.Fatal("a bootstrap without a port was accepted")
	}
	// Nothing listens on port 1 of loopback.
	_, err := admin.Dial("127.0.0.1:1", admin.Options{Timeout: 2 * time.Second})
	if !errors.Is(err, admin.ErrUnreachable) {
		t.Fatalf("dial to a closed port: %v, want ErrUnreachable", err)
	}
}

func TestConsumerAssignment(t *testing.T) {
	a := kmsg.NewConsumerMemberAssignment()
	at := kmsg.NewConsumerMemberAssignmentTopic()
	at.Topic, at.Partitions = "t", []int32{0, 2}
	a.Topics = append(a.Topics, at)
	got, err := admin.ConsumerAssignment(a.AppendTo(nil))
	if err != nil || !slices.Equal(got["t"], []int32{0, 2}) {
		t.Fatalf("%v %v", got, err)
	}
	if got, err := admin.ConsumerAssignment(nil); got != nil || err != nil {
		t.Fatalf("empty: %v %v", got, err)
	}
	if _, err := admin.ConsumerAssignment([]byte{0, 0, 0, 0, 0, 9}); !errors.Is(err, admin.ErrNotConsumerProtocol) {
		t.Fatalf("garbage: %v", err)
	}
}
