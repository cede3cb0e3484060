package broker

// Fetch (key 1).
//
// v4 is the floor (Kafka 4.0's, KIP-896): older versions expect the old
// message formats, which the broker does not store. v13+ names topics by
// id (UNKNOWN_TOPIC_ID).
//
// A fetch reads each partition from its FetchOffset up to
// PartitionMaxBytes and the response's MaxBytes, always returning the
// first batch of the first partition with data even if it is larger
// (KIP-74). Offsets outside [LogStartOffset, HighWatermark] answer
// OFFSET_OUT_OF_RANGE; each partition reports HighWatermark,
// LastStableOffset (= HighWatermark: no transactions yet) and
// LogStartOffset. CurrentLeaderEpoch (v9+) is checked: older is
// FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH.
//
// Long polling: with fewer than MinBytes available and no partition in
// error, the request waits up to MaxWaitMillis on a host timer and is
// woken by appends (and deletions) on its partitions; each wake re-reads.
// Answers still go out in request order on the connection.
//
// Simplifications: no incremental fetch sessions (KIP-227). Every fetch is
// a full fetch answered with session id 0, which tells clients the broker
// keeps no session; a request naming a session gets
// FETCH_SESSION_ID_NOT_FOUND, after which clients fall back to full
// fetches. Rack-aware reads (fetch from follower) are not offered.
//
// Cluster mode: only the leader serves (else NOT_LEADER_OR_FOLLOWER). A
// follower's fetch (ReplicaID, or ReplicaState.ID from v15, >= 0) must
// come from one of the partition's replicas (else NOT_LEADER_OR_FOLLOWER)
// and reads up to the log end offset instead of the high watermark; its
// fetch offset is that follower's log end offset for the leader (high
// watermark, ISR; replica_leader.go).

import (
	"errors"
	"math"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	plog "github.com/loglab/loglab/broker/log"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire/batch"
)

// Served versions 4-18.
func init() { register(keyFetch, 4, 18, (*Broker).handleFetch) }

func (b *Broker) handleFetch(r *request) {
	req := r.kreq.(*kmsg.FetchRequest)
	if req.SessionID != 0 {
		resp := kmsg.NewPtrFetchResponse()
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		r.respond(resp)
		return
	}
	if id := fetchReplicaID(req); id >= 0 {
		b.noteReplicaFetch(req, id)
	}
	resp, n, hasErr := b.readFetch(req)
	if n >= int(req.MinBytes) || req.MaxWaitMillis <= 0 || hasErr || b.stopping {
		r.respond(resp)
		return
	}
	w := &fetchWait{b: b, r: r, req: req}
	for _, rt := range req.Topics {
		t, _ := b.lookupTopic(req.Version >= 13, rt.Topic, rt.TopicID)
		if t == nil {
			continue
		}
		for _, rp := range rt.Partitions {
			if p := t.partition(rp.Partition); p != nil {
				p.waiters = append(p.waiters, w)
				w.parts = append(w.parts, p)
			}
		}
	}
	r.cn.waits = append(r.cn.waits, w)
	w.timer = b.h.AfterFunc(time.Duration(req.MaxWaitMillis)*time.Millisecond, w.expire)
}

// fetchWait is a long-polling fetch.
type fetchWait struct {
	b     *Broker
	r     *request
	req   *kmsg.FetchRequest
	parts []*partition
	timer host.Timer
	done  bool
}

// poke re-reads after an append; the fetch completes once MinBytes are
// available or a partition reports an error.
func (w *fetchWait) poke() {
	if w.done {
		return
	}
	resp, n, hasErr := w.b.readFetch(w.req)
	if n >= int(w.req.MinBytes) || hasErr {
		w.finish(resp)
	}
}

func (w *fetchWait) expire() {
	if w.done {
		return
	}
	resp, _, _ := w.b.readFetch(w.req)
	w.finish(resp)
}

func (w *fetchWait) finish(resp *kmsg.FetchResponse) {
	w.cancel()
	w.r.respond(resp)
}

// cancel forgets the wait without answering (its connection closed).
func (w *fetchWait) cancel() {
	if w.done {
		return
	}
	w.done = true
	if w.timer != nil {
		w.timer.Stop()
	}
	for _, p := range w.parts {
		p.removeWaiter(w)
	}
	ws := w.r.cn.waits
	for i, x := range ws {
		if x == w {
			w.r.cn.waits = append(ws[:i], ws[i+1:]...)
			break
		}
	}
}

// maxKeptFetchArena bounds the fetch arena kept between fetches: one
// fetch of up to fetch.max.bytes (50 MiB) may use more, once.
const maxKeptFetchArena = 8 << 20

// readFetch reads what the fetch asks for as of now. It returns the
// response, the record bytes in it, and whether any partition has an
// error (which makes Kafka answer at once rather than wait).
//
// The record bytes in the response live in b.fetchArena, which the next
// readFetch reuses: the response must be answered (respond copies them
// into the frame) or dropped before the broker reads again.
func (b *Broker) readFetch(req *kmsg.FetchRequest) (*kmsg.FetchResponse, int, bool) {
	if cap(b.fetchArena) > maxKeptFetchArena {
		b.fetchArena = nil
	}
	b.fetchArena = b.fetchArena[:0]
	resp := kmsg.NewPtrFetchResponse()
	remaining := math.MaxInt32
	if req.Version >= 3 {
		remaining = int(req.MaxBytes)
	}
	total, hasErr := 0, false
	replicaID := fetchReplicaID(req)
	for _, rt := range req.Topics {
		ot := kmsg.NewFetchResponseTopic()
		ot.Topic, ot.TopicID = rt.Topic, rt.TopicID
		t, terr := b.lookupTopic(req.Version >= 13, rt.Topic, rt.TopicID)
		for _, rp := range rt.Partitions {
			op := kmsg.NewFetchResponseTopicPartition()
			op.Partition = rp.Partition
			op.HighWatermark, op.LastStableOffset, op.LogStartOffset = -1, -1, -1
			e := terr
			var p *partition
			if e == nil {
				if p = t.partition(rp.Partition); p == nil {
					e = kerr.UnknownTopicOrPartition
				}
			}
			if e == nil {
				var n int
				n, e = b.readPartition(p, replicaID, rp, &op, total == 0, min(remaining, int(rp.PartitionMaxBytes)))
				total += n
				remaining -= n
			}
			if e != nil {
				op.ErrorCode = e.Code
				hasErr = true
			}
			if op.RecordBatches == nil {
				// Empty, not null: librdkafka rejects a null record set
				// ("invalid MessageSetSize -1"), and Kafka never sends one.
				op.RecordBatches = []byte{}
			}
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp, total, hasErr
}

func (b *Broker) readPartition(p *partition, replicaID int32, rp kmsg.FetchRequestTopicPartition, op *kmsg.FetchResponseTopicPartition, minOne bool, limit int) (int, *kerr.Error) {
	if p.offline != nil {
		return 0, kerr.KafkaStorageError
	}
	if p.replicated {
		if e := checkLeader(p); e != nil {
			return 0, e
		}
		if replicaID >= 0 && !slices.Contains(p.replicas, replicaID) {
			return 0, kerr.NotLeaderForPartition
		}
	}
	if e := checkLeaderEpoch(p, rp.CurrentLeaderEpoch); e != nil {
		return 0, e
	}
	hw, lso := b.bugFetchPastHighWatermark(p, p.highWatermark()), p.log.LogStartOffset()
	op.HighWatermark, op.LastStableOffset, op.LogStartOffset = hw, hw, lso
	// Followers read up to the log end offset, consumers up to the high
	// watermark. Only an offset outside the log is out of range, as in
	// Kafka: a consumer's offset between the high watermark and the log
	// end gets no records (and waits), never OFFSET_OUT_OF_RANGE. After
	// a failover the new leader's high watermark may still be below the
	// old one's for a moment, and a consumer that read up to the old one
	// would otherwise be told to reset (franz-go, librdkafka: to
	// auto.offset.reset, so re-reading from the start). Found by loglab
	// bench --check (a non-monotonic read after a leader kill).
	leo := p.log.LogEndOffset()
	upper := hw
	if replicaID >= 0 && p.replicated {
		upper = leo
	}
	if rp.FetchOffset < lso || rp.FetchOffset > leo {
		return 0, kerr.OffsetOutOfRange
	}
	if rp.FetchOffset >= upper || (limit <= 0 && !minOne) {
		return 0, nil
	}
	all, err := p.log.Read(b.fetchArena, rp.FetchOffset, max(limit, 0), minOne)
	data := all[len(b.fetchArena):]
	b.fetchArena = all
	if err != nil && errors.Is(err, plog.ErrCorruption) && p.replicated {
		// Serve the intact batches before the damage; step down so that a
		// replica with an intact copy leads (replica_leader.go).
		var at int64
		data, at = wholeBatches(data, rp.FetchOffset)
		b.corruptRead(p, at, err)
		if len(data) > 0 {
			err = nil
		}
	}
	if err != nil {
		e := classifyReadError(err)
		if takesOffline(err) {
			b.takeOffline(p, err)
		}
		return 0, e
	}
	data = belowHighWatermark(data, upper)
	op.RecordBatches = data
	if replicaID < 0 {
		b.cfg.Metrics.Add("loglab_broker_bytes_out_total", float64(len(data)), "topic", p.topic.name)
	}
	return len(data), nil
}

// wholeBatches keeps the whole valid batches at the start of data read
// from offset, and returns the offset just after them.
func wholeBatches(data []byte, offset int64) ([]byte, int64) {
	it := batch.Iterate(data)
	end := 0
	for it.Next() {
		end = it.End()
		offset = it.Header().NextOffset()
	}
	return data[:end], offset
}

// fetchReplicaID is the fetching replica's broker id (-1: a consumer).
func fetchReplicaID(req *kmsg.FetchRequest) int32 {
	if req.Version >= 15 {
		return req.ReplicaState.ID
	}
	return req.ReplicaID
}

// noteReplicaFetch tells each led partition's leader state where follower
// id fetches from (its log end offset).
func (b *Broker) noteReplicaFetch(req *kmsg.FetchRequest, id int32) {
	for _, rt := range req.Topics {
		t, _ := b.lookupTopic(req.Version >= 13, rt.Topic, rt.TopicID)
		if t == nil {
			continue
		}
		for _, rp := range rt.Partitions {
			p := t.partition(rp.Partition)
			if p == nil || p.lead == nil || p.lead.recovery != nil || p.offline != nil || !slices.Contains(p.replicas, id) {
				continue
			}
			if rp.CurrentLeaderEpoch >= 0 && rp.CurrentLeaderEpoch != p.leaderEpoch {
				continue
			}
			if rp.FetchOffset < p.log.LogStartOffset() || rp.FetchOffset > p.log.LogEndOffset() {
				continue
			}
			b.recordFollowerFetch(p, id, rp.FetchOffset)
		}
	}
}

// belowHighWatermark cuts whole batches from data that start at or after hw:
// records above the high watermark are not yet promised and never served.
func belowHighWatermark(data []byte, hw int64) []byte {
	pos := 0
	for pos < len(data) {
		h, err := batch.ParseHeader(data[pos:])
		if err != nil || h.BaseOffset >= hw || pos+h.Size() > len(data) {
			break
		}
		pos += h.Size()
	}
	return data[:pos]
}
