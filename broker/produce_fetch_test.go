package broker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
	"pgregory.net/rapid"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/wire/batch"
)

// TestProduceFetchModel checks Produce and Fetch against a model of the
// log: a list of records per partition. Offsets are assigned contiguously
// from 0, fetches from any offset return exactly the model's records from
// there (starting inside a batch returns the whole batch), the high
// watermark is the model's length, offsets past it are out of range.
func TestProduceFetchModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		e := newEnv(rt, broker.Config{})
		c := e.connect()
		parts := rapid.Int32Range(1, 3).Draw(rt, "partitions")
		mustCreate(rt, c, "m", parts, nil)
		model := make([][]string, parts)
		steps := rapid.IntRange(1, 30).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			p := rapid.Int32Range(0, parts-1).Draw(rt, "p")
			if rapid.Bool().Draw(rt, "produce") {
				n := rapid.IntRange(1, 5).Draw(rt, "n")
				rs := make([]batch.Record, n)
				vals := make([]string, n)
				for j := range rs {
					vals[j] = fmt.Sprintf("p%d-r%d-%d", p, len(model[p])+j, i)
					rs[j] = batch.Record{Value: []byte(vals[j])}
				}
				got := c.produce("m", p, batch.Build(nil, rs, batch.BuildOptions{BaseTimestamp: int64(i)}))
				if got.ErrorCode != 0 || got.BaseOffset != int64(len(model[p])) {
					rt.Fatalf("produce to %d: %s base %d, want base %d", p, errName(got.ErrorCode), got.BaseOffset, len(model[p]))
				}
				model[p] = append(model[p], vals...)
				continue
			}
			off := rapid.Int64Range(0, int64(len(model[p]))+1).Draw(rt, "offset")
			got := c.fetch("m", p, off)
			if got.HighWatermark != int64(len(model[p])) && got.ErrorCode == 0 {
				rt.Fatalf("hw %d, want %d", got.HighWatermark, len(model[p]))
			}
			if off > int64(len(model[p])) {
				if got.ErrorCode != kerr.OffsetOutOfRange.Code {
					rt.Fatalf("fetch past the end: %s", errName(got.ErrorCode))
				}
				continue
			}
			if got.ErrorCode != 0 || got.LogStartOffset != 0 {
				rt.Fatalf("fetch %d: %s lso %d", off, errName(got.ErrorCode), got.LogStartOffset)
			}
			vs := values(rt, got.RecordBatches)
			for o := off; o < int64(len(model[p])); o++ {
				if vs[o] != model[p][o] {
					rt.Fatalf("offset %d: %q, want %q", o, vs[o], model[p][o])
				}
			}
			for o := range vs {
				if o >= int64(len(model[p])) {
					rt.Fatalf("fetched offset %d beyond the log", o)
				}
			}
		}
	})
}

func TestFetchLongPollWokenByAppend(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	mustCreate(t, c, "lp", 1, nil)
	freq := fetchReq("lp", 0, 0, 5000, 1)
	corr := c.send(freq)
	// A request behind the waiting fetch is handled but answered after it.
	mreq := kmsg.NewPtrMetadataRequest()
	mreq.Version = 12
	mcorr := c.send(mreq)
	e.h.Advance(100 * time.Millisecond)
	if len(c.c.Sent) != 0 {
		t.Fatalf("%d answers before any data or timeout", len(c.c.Sent))
	}
	p := c.e.connect() // a producer on another connection
	if got := p.produce("lp", 0, records(3, "x", 1000)); got.ErrorCode != 0 {
		t.Fatal(errName(got.ErrorCode))
	}
	e.h.Run()
	if e.h.PendingTimers() > 1 { // the retention timer only
		t.Fatalf("%d timers left: the fetch's timer was not stopped", e.h.PendingTimers())
	}
	fr := c.recv(freq, corr).(*kmsg.FetchResponse)
	if got := len(values(t, fr.Topics[0].Partitions[0].RecordBatches)); got != 3 {
		t.Fatalf("woken fetch got %d records, want 3", got)
	}
	c.recv(mreq, mcorr) // in order, after the fetch
}

func TestFetchLongPollTimesOut(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	mustCreate(t, c, "lp", 1, nil)
	freq := fetchReq("lp", 0, 0, 500, 1)
	corr := c.send(freq)
	e.h.Advance(499 * time.Millisecond)
	if len(c.c.Sent) != 0 {
		t.Fatal("answered before MaxWait")
	}
	e.h.Advance(time.Millisecond)
	fr := c.recv(freq, corr).(*kmsg.FetchResponse)
	if fr.Topics[0].Partitions[0].RecordBatches == nil {
		t.Fatal("null record set: librdkafka rejects it, send an empty one")
	}
	if p := fr.Topics[0].Partitions[0]; p.ErrorCode != 0 || len(p.RecordBatches) != 0 || p.HighWatermark != 0 {
		t.Fatalf("timeout answer: %s, %d bytes, hw %d", errName(p.ErrorCode), len(p.RecordBatches), p.HighWatermark)
	}
}

func TestFetchWaitCancelledOnClose(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	mustCreate(t, c, "lp", 1, nil)
	c.send(fetchReq("lp", 0, 0, 5000, 1))
	e.h.Run()
	c.c.Hangup()
	e.h.Run()
	if e.h.PendingTimers() != 1 {
		t.Fatalf("%d timers pending after the client left, want only retention", e.h.PendingTimers())
	}
	p := e.connect()
	if got := p.produce("lp", 0, records(1, "x", 1)); got.ErrorCode != 0 {
		t.Fatal(errName(got.ErrorCode))
	}
}

func TestFetchMaxBytesReturnsFirstBatch(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	mustCreate(t, c, "big", 2, nil)
	for i := 0; i < 3; i++ {
		c.produce("big", 0, records(10, "abcdefghij", 1))
		c.produce("big", 1, records(10, "abcdefghij", 1))
	}
	req := fetchReq("big", 0, 0, 0, 0)
	req.MaxBytes = 10 // smaller than one batch
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.PartitionMaxBytes = 1, 1<<20
	req.Topics[0].Partitions = append(req.Topics[0].Partitions, rp)
	resp := c.do(req).(*kmsg.FetchResponse)
	p0, p1 := resp.Topics[0].Partitions[0], resp.Topics[0].Partitions[1]
	if n := len(values(t, p0.RecordBatches)); n != 10 {
		t.Fatalf("first partition: %d records, want exactly the first batch (10)", n)
	}
	if len(p1.RecordBatches) != 0 || p1.HighWatermark != 30 {
		t.Fatalf("second partition: %d bytes (want 0, MaxBytes used up), hw %d", len(p1.RecordBatches), p1.HighWatermark)
	}
}

func TestProduceAcksZeroAndErrors(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	mustCreate(t, c, "a0", 1, map[string]string{"max.message.bytes": "200"})

	c.send(produceReq(9, 0, "a0", 0, records(2, "x", 1)))
	e.h.Run()
	if len(c.c.Sent) != 0 || c.c.Closed() {
		t.Fatalf("acks=0: %d answers, closed %v", len(c.c.Sent), c.c.Closed())
	}
	if got := c.fetch("a0", 0, 0); got.HighWatermark != 2 {
		t.Fatalf("acks=0 record not stored: hw %d", got.HighWatermark)
	}

	good := records(2, "y", 1)
	corrupt := append([]byte(nil), good...)
	corrupt[len(corrupt)-1] ^= 0xff
	old := append([]byte(nil), good...)
	old[16] = 1
	for _, tc := range []struct {
		name  string
		topic string
		part  int32
		recs  []byte
		want  *kerr.Error
	}{
		{"crc", "a0", 0, corrupt, kerr.CorruptMessage},
		{"truncated", "a0", 0, good[:len(good)-3], kerr.CorruptMessage},
		{"garbage", "a0", 0, []byte{1, 2, 3}, kerr.CorruptMessage},
		{"two batches", "a0", 0, append(append([]byte(nil), good...), good...), kerr.InvalidRecord},
		{"magic 1", "a0", 0, old, kerr.UnsupportedForMessageFormat},
		{"too large", "a0", 0, records(20, "0123456789", 1), kerr.MessageTooLarge},
		{"unknown topic", "nope", 0, good, kerr.UnknownTopicOrPartition},
		{"bad name", "a/b", 0, good, kerr.InvalidTopicException},
		{"bad partition", "a0", 7, good, kerr.UnknownTopicOrPartition},
	} {
		got := c.do(produceReq(9, 1, tc.topic, tc.part, tc.recs)).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
		if got.ErrorCode != tc.want.Code {
			t.Errorf("%s: %s, want %s", tc.name, errName(got.ErrorCode), tc.want.Message)
		}
	}
	if got := c.fetch("a0", 0, 0); got.HighWatermark != 2 {
		t.Fatalf("rejected batches changed the log: hw %d", got.HighWatermark)
	}
	// acks=0 with an error closes the connection.
	c.send(produceReq(9, 0, "a0", 0, corrupt))
	e.h.Run()
	if !c.c.Closed() {
		t.Fatal("acks=0 failure did not close the connection")
	}
}

func TestProduceLogAppendTime(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	mustCreate(t, c, "lat", 1, map[string]string{"message.timestamp.type": "LogAppendTime"})
	e.h.AdvanceClock(5 * time.Second)
	got := c.produce("lat", 0, records(2, "x", 1))
	now := e.h.Now().UnixMilli()
	if got.ErrorCode != 0 || got.LogAppendTime != now {
		t.Fatalf("LogAppendTime %d, want %d (%s)", got.LogAppendTime, now, errName(got.ErrorCode))
	}
	f := c.fetch("lat", 0, 0)
	h, err := batch.Validate(f.RecordBatches)
	if err != nil || !h.LogAppendTime() || h.MaxTimestamp != now {
		t.Fatalf("stored batch: %+v %v", h, err)
	}
	// CreateTime topics answer -1.
	mustCreate(t, c, "ct", 1, nil)
	if got := c.produce("ct", 0, records(1, "x", 1)); got.LogAppendTime != -1 {
		t.Fatalf("CreateTime answered LogAppendTime %d", got.LogAppendTime)
	}
}

// With flush.messages=1 an acks=all produce is answered only after the
// log reports the batch durable.
func TestProduceWaitsForDurabilityWhenFlushingEveryBatch(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	mustCreate(t, c, "sync", 1, map[string]string{"flush.messages": "1"})
	before := e.disk.Syncs
	corr := c.send(produceReq(9, -1, "sync", 0, records(1, "x", 1)))
	// fakehost completes syncs on the next Run; nothing before it.
	if len(c.c.Sent) != 0 {
		t.Fatal("answered before any sync")
	}
	got := c.recv(produceReq(9, -1, "sync", 0, nil), corr).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	if got.ErrorCode != 0 || e.disk.Syncs == before {
		t.Fatalf("%s, syncs %d → %d", errName(got.ErrorCode), before, e.disk.Syncs)
	}
}

func TestProduceFetchByTopicID(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	created := c.createTopic("ids", 1, nil)
	id := created.TopicID
	preq := produceReq(13, -1, "", 0, records(2, "x", 1))
	preq.Topics[0].TopicID = id
	pr := c.do(preq).(*kmsg.ProduceResponse)
	if pr.Topics[0].TopicID != id || pr.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("produce v13: %s", errName(pr.Topics[0].Partitions[0].ErrorCode))
	}
	freq := fetchReq("", 0, 0, 0, 0)
	freq.Version = 18
	freq.Topics[0].TopicID = id
	fr := c.do(freq).(*kmsg.FetchResponse)
	if fr.Topics[0].TopicID != id || len(values(t, fr.Topics[0].Partitions[0].RecordBatches)) != 2 {
		t.Fatalf("fetch v18 by id: %s", errName(fr.Topics[0].Partitions[0].ErrorCode))
	}
	freq.Topics[0].TopicID = [16]byte{1}
	fr = c.do(freq).(*kmsg.FetchResponse)
	if fr.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicID.Code {
		t.Fatalf("unknown id: %s", errName(fr.Topics[0].Partitions[0].ErrorCode))
	}
}
