package client

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire/batch"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// pendingRecord is a record from Produce until its callback.
type pendingRecord struct {
	rec      Record
	cb       func(Record, error)
	op       int64 // history id
	manual   bool  // partition given by ProduceTo
	deadline time.Duration
	timer    host.Timer // delivery timeout while unrouted
	lastErr  error      // why it is still unrouted
	done     bool
}

// prodBatch is one partition's batch: open while it fills, sealed once sent
// (a retry resends the same bytes, so its records keep their order).
type prodBatch struct {
	recs         []*pendingRecord
	bytes        int
	created      time.Duration
	sealed       bool
	payload      []byte
	attempts     int
	inflight     bool
	maybeWritten bool // an attempt's fate is unknown: the records may be in the log
	lastErr      error
	expiry       host.Timer
}

// partProducer is one partition's queue of batches. At most one batch per
// partition is in flight, so a retry cannot reorder records (without
// idempotence a later batch could otherwise land before a retried one).
type partProducer struct {
	tp       topicPartition
	batches  []*prodBatch
	inflight bool
	retryAt  time.Duration
	// nextSeq is the idempotent producer's next sequence number here.
	nextSeq int32
}

// Produce sends r.Value (with r.Key, r.Headers) to r.Topic, choosing the
// partition as Kafka's default partitioner does: murmur2 of the key for a
// keyed record, the sticky partition for an unkeyed one. cb receives the
// record with Partition and Offset set, or the error (wrapping
// ErrUnknownOutcome when the record may have been written anyway).
func (cl *Client) Produce(r Record, cb func(Record, error)) { cl.produce(r, false, cb) }

// ProduceTo is Produce to the explicit partition r.Partition.
func (cl *Client) ProduceTo(r Record, cb func(Record, error)) { cl.produce(r, true, cb) }

func (cl *Client) produce(r Record, manual bool, cb func(Record, error)) {
	if cb == nil {
		cb = func(Record, error) {}
	}
	now := cl.h.Monotonic()
	r.Offset = -1
	if !manual || r.Partition < 0 {
		r.Partition = history.NoPartition
	}
	if r.Timestamp == 0 {
		r.Timestamp = cl.h.Now().UnixMilli()
	}
	pr := &pendingRecord{rec: r, cb: cb, op: cl.nextOp(), manual: manual, deadline: now + cl.cfg.DeliveryTimeout}
	cl.pending++
	if !manual {
		if p, ok := cl.partitionFor(r.Topic, r.Key); ok {
			pr.rec.Partition = p
		}
	}
	cl.record(cl.sendOp(pr, history.Invoke))
	switch {
	case cl.closed:
		cl.complete(pr, -1, ErrClosed, false)
		return
	case recordBytes(&pr.rec) > cl.cfg.MaxRequestBytes:
		cl.complete(pr, -1, fmt.Errorf("%w: %d bytes, limit %d", ErrRecordTooLarge, recordBytes(&pr.rec), cl.cfg.MaxRequestBytes), false)
		return
	case manual && r.Partition < 0:
		cl.complete(pr, -1, fmt.Errorf("partition %d: %w", r.Partition, kerr.UnknownTopicOrPartition), false)
		return
	}
	if pr.rec.Partition >= 0 && cl.route(pr) {
		return
	}
	cl.wantTopics[r.Topic] = true
	cl.unrouted = append(cl.unrouted, pr)
	pr.timer = cl.h.AfterFunc(pr.deadline-now, func() { cl.expireUnrouted(pr) })
	cl.needMetadata()
}

// partitionFor applies the default partitioner if the topic's partition
// count is known.
func (cl *Client) partitionFor(topic string, key []byte) (int32, bool) {
	tm := cl.topics[topic]
	if tm == nil || tm.err != nil || len(tm.partitions) == 0 {
		return 0, false
	}
	n := int32(len(tm.partitions))
	if key != nil {
		return KeyPartition(key, n), true
	}
	return cl.stickyPartition(topic, n), true
}

// route puts a partitioned record into its partition's batch, or fails it
// if the partition does not exist. It reports false if the topic's
// metadata is not known yet.
func (cl *Client) route(pr *pendingRecord) bool {
	tm := cl.topics[pr.rec.Topic]
	if tm == nil || tm.err != nil || len(tm.partitions) == 0 {
		if tm != nil && tm.err != nil {
			pr.lastErr = tm.err
		}
		return false
	}
	if pr.rec.Partition >= int32(len(tm.partitions)) {
		cl.complete(pr, -1, fmt.Errorf("partition %d of %d: %w", pr.rec.Partition, len(tm.partitions), kerr.UnknownTopicOrPartition), false)
		return true
	}
	cl.appendRecord(pr)
	return true
}

// routeUnrouted retries the records waiting for metadata, in Produce order.
func (cl *Client) routeUnrouted() {
	waiting := cl.unrouted
	cl.unrouted = nil
	for _, pr := range waiting {
		if pr.done {
			continue
		}
		if !pr.manual {
			p, ok := cl.partitionFor(pr.rec.Topic, pr.rec.Key)
			if !ok {
				cl.route(pr) // records the topic error
				cl.unrouted = append(cl.unrouted, pr)
				continue
			}
			pr.rec.Partition = p
		}
		if cl.route(pr) {
			pr.timer.Stop()
			continue
		}
		cl.unrouted = append(cl.unrouted, pr)
	}
}

func (cl *Client) expireUnrouted(pr *pendingRecord) {
	i := slices.Index(cl.unrouted, pr)
	if i < 0 || pr.done {
		return
	}
	cl.unrouted = slices.Delete(cl.unrouted, i, i+1)
	err := ErrDeliveryTimeout
	if pr.lastErr != nil {
		err = fmt.Errorf("%w: %w", ErrDeliveryTimeout, pr.lastErr)
	}
	cl.complete(pr, -1, err, false)
}

// recordBytes is an upper bound of the record's size in a batch.
func recordBytes(r *Record) int {
	n := 21 + len(r.Key) + len(r.Value) // length, attributes, deltas, key and value lengths, header count
	for _, h := range r.Headers {
		n += 10 + len(h.Key) + len(h.Value)
	}
	return n
}

func (cl *Client) appendRecord(pr *pendingRecord) {
	tp := topicPartition{pr.rec.Topic, pr.rec.Partition}
	pp := cl.producers[tp]
	if pp == nil {
		pp = &partProducer{tp: tp}
		cl.producers[tp] = pp
		cl.prodOrder = insertSorted(cl.prodOrder, tp)
	}
	size := recordBytes(&pr.rec)
	var b *prodBatch
	if n := len(pp.batches); n > 0 {
		last := pp.batches[n-1]
		if !last.sealed && last.bytes+size <= cl.cfg.BatchBytes {
			b = last
		} else {
			last.sealed = true
		}
	}
	if b == nil {
		now := cl.h.Monotonic()
		b = &prodBatch{created: now, bytes: batch.HeaderBytes}
		pp.batches = append(pp.batches, b)
		if cl.cfg.Linger > 0 {
			cl.h.AfterFunc(cl.cfg.Linger, cl.schedulePump)
		}
		b.expiry = cl.h.AfterFunc(pr.deadline-now, func() { cl.expireBatch(pp, b) })
	}
	b.recs = append(b.recs, pr)
	b.bytes += size
	if b.bytes >= cl.cfg.BatchBytes {
		b.sealed = true
	}
	cl.schedulePump()
}

// expireBatch fails a batch whose first record's delivery timeout passed
// while it waited (a batch in flight completes when its request does).
func (cl *Client) expireBatch(pp *partProducer, b *prodBatch) {
	if b.inflight || !slices.Contains(pp.batches, b) {
		return
	}
	err := ErrDeliveryTimeout
	if b.lastErr != nil {
		err = fmt.Errorf("%w: %w", ErrDeliveryTimeout, b.lastErr)
	}
	cl.finishBatch(pp, b, err)
}

func (cl *Client) batchReady(b *prodBatch, now time.Duration) bool {
	return b.sealed || now >= b.created+cl.cfg.Linger || len(cl.flushers) > 0
}

// sendBatches sends the head batch of every partition that is ready and has
// nothing in flight, one Produce request per leader (split at
// MaxRequestBytes).
func (cl *Client) sendBatches() {
	if cl.cfg.Idempotent && !cl.pid.ready {
		if cl.pending > 0 {
			cl.initProducerID()
		}
		return
	}
	now := cl.h.Monotonic()
	type group struct {
		addr    string
		batches []*prodBatch
		pps     []*partProducer
		bytes   int
	}
	var groups []*group
	for _, tp := range cl.prodOrder {
		pp := cl.producers[tp]
		if pp.inflight || len(pp.batches) == 0 || now < pp.retryAt {
			continue
		}
		b := pp.batches[0]
		if len(pp.batches) == 1 && !cl.batchReady(b, now) {
			continue
		}
		addr, ok := cl.leaderAddr(tp.topic, tp.partition)
		if !ok {
			cl.needMetadata()
			continue
		}
		if b.payload == nil {
			cl.build(pp, b)
		}
		var g *group
		for i := len(groups) - 1; i >= 0; i-- {
			if groups[i].addr == addr {
				g = groups[i]
				break
			}
		}
		if g == nil || (g.bytes+len(b.payload) > cl.cfg.MaxRequestBytes && len(g.batches) > 0) {
			g = &group{addr: addr}
			groups = append(groups, g)
		}
		g.batches = append(g.batches, b)
		g.pps = append(g.pps, pp)
		g.bytes += len(b.payload)
		b.sealed, b.inflight, pp.inflight = true, true, true
		b.attempts++
		cl.nextSticky(tp.topic, tp.partition)
	}
	for _, g := range groups {
		cl.sendProduce(g.addr, g.pps, g.batches)
	}
}

// build encodes a batch once; with idempotence it takes the partition's
// next sequence numbers, which every retry of the batch keeps.
func (cl *Client) build(pp *partProducer, b *prodBatch) {
	base := b.recs[0].rec.Timestamp
	recs := make([]batch.Record, len(b.recs))
	for i, pr := range b.recs {
		recs[i] = batch.Record{Key: pr.rec.Key, Value: pr.rec.Value, Headers: pr.rec.Headers, TimestampDelta: pr.rec.Timestamp - base}
	}
	opts := batch.BuildOptions{BaseTimestamp: base}
	if cl.cfg.Idempotent {
		opts.Idempotent, opts.ProducerID, opts.ProducerEpoch, opts.BaseSequence = true, cl.pid.id, cl.pid.epoch, pp.nextSeq
		pp.nextSeq += int32(len(recs))
	}
	b.payload = batch.Build(nil, recs, opts)
}

func (cl *Client) sendProduce(addr string, pps []*partProducer, batches []*prodBatch) {
	req := kmsg.NewPtrProduceRequest()
	req.Acks = cl.cfg.Acks.wire()
	req.TimeoutMillis = int32(cl.cfg.RequestTimeout / time.Millisecond)
	for i, pp := range pps {
		if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != pp.tp.topic {
			t := kmsg.NewProduceRequestTopic()
			t.Topic = pp.tp.topic
			req.Topics = append(req.Topics, t)
		}
		p := kmsg.NewProduceRequestTopicPartition()
		p.Partition = pp.tp.partition
		p.Records = batches[i].payload
		t := &req.Topics[len(req.Topics)-1]
		t.Partitions = append(t.Partitions, p)
	}
	cl.request(addr, connProduce, req, cl.cfg.RequestTimeout, func(resp kmsg.Response, err error) {
		var results map[topicPartition]kmsg.ProduceResponseTopicPartition
		if r, ok := resp.(*kmsg.ProduceResponse); ok {
			results = map[topicPartition]kmsg.ProduceResponseTopicPartition{}
			for _, t := range r.Topics {
				for _, p := range t.Partitions {
					results[topicPartition{t.Topic, p.Partition}] = p
				}
			}
		}
		for i, pp := range pps {
			b := batches[i]
			switch {
			case err != nil:
				cl.batchFailed(pp, b, err, !errors.Is(err, errNotSent))
			case results == nil: // acks=0: no answer, no offsets
				cl.batchDone(pp, b, -1)
			default:
				p, ok := results[pp.tp]
				if !ok {
					cl.batchFailed(pp, b, fmt.Errorf("%w: no result for %s-%d", ErrProtocol, pp.tp.topic, pp.tp.partition), true)
				} else if perr := kerr.ErrorForCode(p.ErrorCode); perr != nil {
					cl.batchFailed(pp, b, perr, appendedMaybe(perr))
				} else {
					cl.batchDone(pp, b, p.BaseOffset)
				}
			}
		}
		cl.schedulePump()
	})
}

// producerStateLost: the broker refuses our producer id or sequences.
func producerStateLost(err error) bool {
	return errors.Is(err, kerr.OutOfOrderSequenceNumber) || errors.Is(err, kerr.UnknownProducerID) ||
		errors.Is(err, kerr.InvalidProducerEpoch) || errors.Is(err, kerr.InvalidProducerIDMapping)
}

// producerID is the idempotent producer's identity.
type producerID struct {
	id         int64
	epoch      int16
	ready      bool
	requesting bool
	attempts   int
}

// initProducerID asks any broker for a producer id (InitProducerId);
// batches wait until it arrives.
func (cl *Client) initProducerID() {
	if cl.pid.requesting || cl.pid.ready || cl.closed {
		return
	}
	cands := cl.metadataCandidates()
	if len(cands) == 0 {
		return
	}
	cl.pid.requesting = true
	addr := cands[cl.pid.attempts%len(cands)]
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionTimeoutMillis = 60000
	req.ProducerID, req.ProducerEpoch = -1, -1
	cl.request(addr, connGeneral, req, cl.cfg.RequestTimeout, func(resp kmsg.Response, err error) {
		cl.pid.requesting = false
		if err == nil {
			r := resp.(*kmsg.InitProducerIDResponse)
			if err = kerr.ErrorForCode(r.ErrorCode); err == nil {
				cl.pid = producerID{id: r.ProducerID, epoch: r.ProducerEpoch, ready: true}
				cl.log.Debug("producer id", "id", r.ProducerID, "epoch", r.ProducerEpoch)
				cl.schedulePump()
				return
			}
		}
		cl.pid.attempts++
		cl.log.Debug("init producer id failed", "err", err)
		cl.h.AfterFunc(cl.backoff(cl.pid.attempts), cl.schedulePump)
	})
}

// resetProducerID drops the producer id and every partition's sequences;
// batches not in flight are re-encoded under the next id, except those an
// earlier attempt may have written: under a new id the broker could not
// tell a retry of one from a new batch, so they end with their outcome
// unknown instead (as Kafka's producer fails a batch whose sequence it
// can no longer resolve rather than risk storing it twice).
func (cl *Client) resetProducerID(err error) {
	if !cl.pid.ready {
		return
	}
	cl.log.Warn("idempotent producer state lost at the broker; getting a new producer id", "producer_id", cl.pid.id, "err", err)
	cl.pid = producerID{}
	type doomed struct {
		pp *partProducer
		b  *prodBatch
	}
	var unresolved []doomed
	for _, tp := range cl.prodOrder {
		pp := cl.producers[tp]
		pp.nextSeq = 0
		for _, b := range pp.batches {
			switch {
			case b.inflight:
			case b.maybeWritten:
				unresolved = append(unresolved, doomed{pp, b})
			default:
				b.payload = nil
			}
		}
	}
	for _, d := range unresolved {
		cl.finishBatch(d.pp, d.b, fmt.Errorf("%w: the producer id was reset (%w)", ErrSequenceUnresolved, err))
	}
}

// appendedMaybe: these errors come after the leader appended; whether the
// records stay depends on replication we cannot see.
func appendedMaybe(err error) bool {
	return errors.Is(err, kerr.RequestTimedOut) || errors.Is(err, kerr.NotEnoughReplicasAfterAppend)
}

// staleMetadata: errors that mean our idea of the leader is wrong.
func staleMetadata(err error) bool {
	for _, e := range []error{kerr.NotLeaderForPartition, kerr.UnknownTopicOrPartition, kerr.LeaderNotAvailable,
		kerr.FencedLeaderEpoch, kerr.UnknownLeaderEpoch, kerr.KafkaStorageError, kerr.BrokerNotAvailable} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (cl *Client) batchDone(pp *partProducer, b *prodBatch, base int64) {
	b.inflight, pp.inflight = false, false
	cl.finishBatchAt(pp, b, base, nil)
}

// batchFailed retries a failed attempt after a backoff, or gives up:
// on a non-retriable error, on close, or when the retry would pass the
// delivery timeout.
func (cl *Client) batchFailed(pp *partProducer, b *prodBatch, err error, unknown bool) {
	b.inflight, pp.inflight = false, false
	if unknown {
		b.maybeWritten = true
	}
	b.lastErr = err
	if staleMetadata(err) {
		cl.needMetadata()
	}
	retriable := kerr.IsRetriable(err) || errors.Is(err, ErrConnLost) || errors.Is(err, ErrProtocol)
	if cl.cfg.Idempotent && producerStateLost(err) {
		// The broker no longer accepts our sequences (a batch before
		// this one was given up, or the partition lost our state):
		// start over with a new producer id (KIP-360's reset). This
		// batch is retried under it unless an earlier attempt may be in
		// the log (resetProducerID ended it then).
		cl.resetProducerID(err)
		retriable = true
		if b.maybeWritten {
			cl.finishBatch(pp, b, fmt.Errorf("%w: the producer id was reset (%w)", ErrSequenceUnresolved, err))
			return
		}
		b.payload = nil // re-encoded under the new id
	}
	if cl.closed || !retriable {
		cl.finishBatch(pp, b, err)
		return
	}
	now := cl.h.Monotonic()
	wait := cl.backoff(b.attempts)
	if now+wait >= b.recs[0].deadline {
		cl.finishBatch(pp, b, fmt.Errorf("%w: %w", ErrDeliveryTimeout, err))
		return
	}
	cl.log.Debug("produce retry", "topic", pp.tp.topic, "partition", pp.tp.partition, "attempt", b.attempts, "err", err)
	pp.retryAt = now + wait
	cl.h.AfterFunc(wait, cl.schedulePump)
}

func (cl *Client) finishBatch(pp *partProducer, b *prodBatch, err error) {
	cl.finishBatchAt(pp, b, -1, err)
}

func (cl *Client) finishBatchAt(pp *partProducer, b *prodBatch, base int64, err error) {
	if i := slices.Index(pp.batches, b); i >= 0 {
		pp.batches = slices.Delete(pp.batches, i, i+1)
	}
	if b.expiry != nil {
		b.expiry.Stop()
	}
	for i, pr := range b.recs {
		off := int64(-1)
		if err == nil && base >= 0 {
			off = base + int64(i)
		}
		cl.complete(pr, off, err, b.maybeWritten)
	}
}

// complete ends a record: the history completion, then the callback.
func (cl *Client) complete(pr *pendingRecord, offset int64, err error, maybeWritten bool) {
	if pr.done {
		return
	}
	pr.done = true
	cl.pending--
	if pr.timer != nil {
		pr.timer.Stop()
	}
	rec := pr.rec
	op := cl.sendOp(pr, history.OK)
	switch {
	case err == nil && offset >= 0:
		rec.Offset = offset
		op.Offset = offset
	case err == nil: // acks=0
		op.Type, op.Error = history.Info, "acks=0: no acknowledgement"
	case maybeWritten:
		err = fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
		op.Type, op.Error = history.Info, errorText(err)
	default:
		op.Type, op.Error = history.Fail, errorText(err)
	}
	cl.record(op)
	pr.cb(rec, err)
	cl.runFlushers()
}

func (cl *Client) sendOp(pr *pendingRecord, t history.Type) history.Op {
	op := history.Op{
		ID: pr.op, Type: t, F: history.Send, Topic: pr.rec.Topic, Partition: pr.rec.Partition,
		Value: string(pr.rec.Value), Offset: history.NoOffset,
	}
	if pr.rec.Key != nil {
		op.Key = history.Str(string(pr.rec.Key))
	}
	return op
}
