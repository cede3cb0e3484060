package broker_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/sim/disk"
	"github.com/loglab/loglab/wire/batch"
)

func idemRecords(pid int64, epoch int16, seq int32, n int, prefix string) []byte {
	rs := make([]batch.Record, n)
	for i := range rs {
		rs[i] = batch.Record{Value: []byte(prefix + string(rune('a'+i)))}
	}
	return batch.Build(nil, rs, batch.BuildOptions{BaseTimestamp: 1, Idempotent: true, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq})
}

// Through Produce: a retried idempotent batch is acknowledged with its
// original offset and stored once; gaps and stale epochs get Kafka's
// errors; the state survives a restart.
func TestProduceIdempotent(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	mustCreate(t, c, "t", 1, nil)
	for _, step := range []struct {
		seq     int32
		epoch   int16
		want    *kerr.Error
		wantOff int64
	}{
		{0, 0, nil, 0},
		{3, 0, nil, 3},
		{0, 0, nil, 0}, // retry: original offset
		{3, 0, nil, 3},
		{9, 0, kerr.OutOfOrderSequenceNumber, -1},
	} {
		p := c.produce("t", 0, idemRecords(42, step.epoch, step.seq, 3, "v"))
		if p.ErrorCode != code(step.want) || (step.want == nil && p.BaseOffset != step.wantOff) {
			t.Fatalf("seq %d: %s base %d, want %v at %d", step.seq, errName(p.ErrorCode), p.BaseOffset, step.want, step.wantOff)
		}
	}
	e.restart()
	c = e.connect()
	if p := c.produce("t", 0, idemRecords(42, 0, 3, 3, "v")); p.ErrorCode != 0 || p.BaseOffset != 3 {
		t.Fatalf("retry after restart: %s base %d, want 3", errName(p.ErrorCode), p.BaseOffset)
	}
	if got := len(values(t, c.fetch("t", 0, 0).RecordBatches)); got != 6 {
		t.Fatalf("%d records stored, want 6 (each batch once)", got)
	}
}

// The producer state moves with leadership: a batch acknowledged by the
// old leader and retried to the new one is recognised as a duplicate.
func TestClusterIdempotenceAcrossFailover(t *testing.T) {
	tc := newTestCluster(t, 11, 3, 0, nil)
	tc.createTopic(1, "t", 1, 3, nil)
	old := tc.leader("t", 0)
	first := idemRecords(5, 0, 0, 4, "x")
	if p, ok := tc.produce(old, -1, "t", 0, first, 5000); !ok || p.ErrorCode != 0 || p.BaseOffset != 0 {
		t.Fatalf("first produce: %+v %v", p, ok)
	}
	tc.w.Crash(bname(old), disk.LoseUnsynced)
	var next int
	tc.eventually(30*time.Second, "a new leader", func() bool {
		next = tc.leader("t", 0)
		if next <= 0 || next == old {
			return false
		}
		st, ok := tc.broker(next).Partition("t", 0)
		return ok && st.IsLeader
	})
	retry := idemRecords(5, 0, 0, 4, "x")
	p, ok := tc.produce(next, -1, "t", 0, retry, 5000)
	if !ok || p.ErrorCode != 0 || p.BaseOffset != 0 {
		t.Fatalf("retry at the new leader: %+v %v, want success at offset 0", p, ok)
	}
	if p, ok := tc.produce(next, -1, "t", 0, idemRecords(5, 0, 4, 1, "y"), 5000); !ok || p.ErrorCode != 0 || p.BaseOffset != 4 {
		t.Fatalf("next batch: %+v %v", p, ok)
	}
	vals, _, code := tc.fetchAll(next, "t", 0)
	if code != 0 || len(vals) != 5 {
		t.Fatalf("stored %d records (%s), want 5", len(vals), errName(code))
	}
}
