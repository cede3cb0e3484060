package client

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/wire/batch"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Offset is where a consumer starts reading a partition.
type Offset struct{ at int64 }

var (
	// Earliest is the log start offset (ListOffsets timestamp -2).
	Earliest = Offset{-2}
	// Latest is the log end offset (ListOffsets timestamp -1).
	Latest = Offset{-1}
)

// At is the explicit offset o (>= 0).
func At(o int64) Offset { return Offset{max(o, 0)} }

// fetchPart is one assigned partition's consumer state.
type fetchPart struct {
	tp            topicPartition
	position      int64 // next offset to read; -1 until known
	reset         int64 // ListOffsets timestamp for an unknown position
	listing       bool
	fetching      bool
	stopped       bool
	attempts      int
	retryAt       time.Duration
	highWatermark int64
}

// Assign starts (or restarts) fetching a partition from start. Records go
// to Config.OnRecords.
func (cl *Client) Assign(topic string, partition int32, start Offset) {
	tp := topicPartition{topic, partition}
	fp := &fetchPart{tp: tp, position: -1, reset: start.at, highWatermark: -1}
	if start.at >= 0 {
		fp.position = start.at
	}
	if _, ok := cl.assigned[tp]; !ok {
		cl.fetchOrder = insertSorted(cl.fetchOrder, tp)
	}
	cl.assigned[tp] = fp
	if !cl.wantTopics[topic] || cl.topics[topic] == nil {
		cl.wantTopics[topic] = true
		cl.needMetadata()
	}
	cl.schedulePump()
}

// Unassign stops fetching a partition; responses in flight are dropped.
func (cl *Client) Unassign(topic string, partition int32) {
	tp := topicPartition{topic, partition}
	if _, ok := cl.assigned[tp]; !ok {
		return
	}
	delete(cl.assigned, tp)
	cl.fetchOrder = slices.DeleteFunc(cl.fetchOrder, func(x topicPartition) bool { return x == tp })
}

// Position is the next offset the consumer will read from the partition,
// and the high watermark of its last fetch (-1 if none); ok is false if the
// partition is not assigned or its position is not known yet.
func (cl *Client) Position(topic string, partition int32) (position, highWatermark int64, ok bool) {
	fp := cl.assigned[topicPartition{topic, partition}]
	if fp == nil || fp.position < 0 {
		return -1, -1, false
	}
	return fp.position, fp.highWatermark, true
}

func (cl *Client) fetchBackoff(fp *fetchPart, err error) {
	fp.attempts++
	fp.retryAt = cl.h.Monotonic() + cl.backoff(fp.attempts)
	cl.h.AfterFunc(fp.retryAt-cl.h.Monotonic(), cl.schedulePump)
	if staleMetadata(err) || errors.Is(err, ErrConnLost) {
		cl.needMetadata()
	}
}

// listOffsets resolves Earliest/Latest positions, one request per leader.
func (cl *Client) listOffsets() {
	now := cl.h.Monotonic()
	reqs := map[string]*kmsg.ListOffsetsRequest{}
	var addrs []string
	parts := map[string][]*fetchPart{}
	for _, tp := range cl.fetchOrder {
		fp := cl.assigned[tp]
		if fp.position >= 0 || fp.listing || fp.stopped || now < fp.retryAt {
			continue
		}
		addr, ok := cl.leaderAddr(tp.topic, tp.partition)
		if !ok {
			cl.needMetadata()
			continue
		}
		req := reqs[addr]
		if req == nil {
			req = kmsg.NewPtrListOffsetsRequest()
			req.ReplicaID = -1
			reqs[addr] = req
			addrs = append(addrs, addr)
		}
		if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != tp.topic {
			t := kmsg.NewListOffsetsRequestTopic()
			t.Topic = tp.topic
			req.Topics = append(req.Topics, t)
		}
		p := kmsg.NewListOffsetsRequestTopicPartition()
		p.Partition = tp.partition
		p.Timestamp = fp.reset
		p.CurrentLeaderEpoch = cl.leaderEpoch(tp.topic, tp.partition)
		t := &req.Topics[len(req.Topics)-1]
		t.Partitions = append(t.Partitions, p)
		fp.listing = true
		parts[addr] = append(parts[addr], fp)
	}
	for _, addr := range addrs {
		fps := parts[addr]
		cl.request(addr, connGeneral, reqs[addr], cl.cfg.RequestTimeout, func(resp kmsg.Response, err error) {
			results := map[topicPartition]kmsg.ListOffsetsResponseTopicPartition{}
			if r, ok := resp.(*kmsg.ListOffsetsResponse); ok {
				for _, t := range r.Topics {
					for _, p := range t.Partitions {
						results[topicPartition{t.Topic, p.Partition}] = p
					}
				}
			}
			for _, fp := range fps {
				fp.listing = false
				if cl.assigned[fp.tp] != fp {
					continue
				}
				perr := err
				p, ok := results[fp.tp]
				if perr == nil && !ok {
					perr = fmt.Errorf("%w: no ListOffsets result for %s-%d", ErrProtocol, fp.tp.topic, fp.tp.partition)
				}
				if perr == nil {
					perr = kerr.ErrorForCode(p.ErrorCode)
				}
				if perr == nil && p.Offset < 0 {
					perr = fmt.Errorf("%w: ListOffsets returned offset %d", ErrProtocol, p.Offset)
				}
				if perr != nil {
					cl.log.Debug("list offsets failed", "topic", fp.tp.topic, "partition", fp.tp.partition, "err", perr)
					cl.fetchBackoff(fp, perr)
					continue
				}
				fp.position, fp.attempts = p.Offset, 0
			}
			cl.schedulePump()
		})
	}
}

// fetch sends one Fetch per leader that has none outstanding, for every
// assigned partition with a known position (a long poll: the broker holds it
// up to FetchMaxWait for FetchMinBytes).
func (cl *Client) fetch() {
	now := cl.h.Monotonic()
	reqs := map[string]*kmsg.FetchRequest{}
	var addrs []string
	parts := map[string][]*fetchPart{}
	for _, tp := range cl.fetchOrder {
		fp := cl.assigned[tp]
		if fp.position < 0 || fp.fetching || fp.listing || fp.stopped || now < fp.retryAt {
			continue
		}
		addr, ok := cl.leaderAddr(tp.topic, tp.partition)
		if !ok {
			cl.needMetadata()
			continue
		}
		if cl.fetchInFlight[addr] {
			continue
		}
		req := reqs[addr]
		if req == nil {
			req = kmsg.NewPtrFetchRequest()
			req.ReplicaID = -1
			req.MaxWaitMillis = int32(cl.cfg.FetchMaxWait / time.Millisecond)
			req.MinBytes = cl.cfg.FetchMinBytes
			req.MaxBytes = cl.cfg.FetchMaxBytes
			req.SessionID, req.SessionEpoch = 0, -1 // full fetches, no sessions
			reqs[addr] = req
			addrs = append(addrs, addr)
		}
		if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != tp.topic {
			t := kmsg.NewFetchRequestTopic()
			t.Topic = tp.topic
			req.Topics = append(req.Topics, t)
		}
		p := kmsg.NewFetchRequestTopicPartition()
		p.Partition = tp.partition
		p.FetchOffset = fp.position
		p.PartitionMaxBytes = cl.cfg.FetchMaxPartitionBytes
		// KIP-320: name the leader epoch we routed by, so a deposed leader
		// answers FENCED_LEADER_EPOCH (or a lagging one UNKNOWN_LEADER_EPOCH)
		// and we refresh metadata instead of reading from it.
		p.CurrentLeaderEpoch = cl.leaderEpoch(tp.topic, tp.partition)
		p.LastFetchedEpoch, p.LogStartOffset = -1, -1
		t := &req.Topics[len(req.Topics)-1]
		t.Partitions = append(t.Partitions, p)
		fp.fetching = true
		parts[addr] = append(parts[addr], fp)
	}
	for _, addr := range addrs {
		cl.sendFetch(addr, reqs[addr], parts[addr])
	}
}

func (cl *Client) sendFetch(addr string, req *kmsg.FetchRequest, fps []*fetchPart) {
	cl.fetchInFlight[addr] = true
	ops := make([]history.Op, len(fps))
	for i, fp := range fps {
		ops[i] = history.Op{ID: cl.nextOp(), Type: history.Invoke, F: history.Poll,
			Topic: fp.tp.topic, Partition: fp.tp.partition, Offset: fp.position}
		if g := cl.group; g != nil && slices.Contains(g.owned, fp.tp) {
			ops[i].Group, ops[i].Member, ops[i].Generation = cl.cfg.Group, g.memberID, g.generation
		}
		cl.record(ops[i])
	}
	cl.request(addr, connFetch, req, cl.cfg.RequestTimeout+cl.cfg.FetchMaxWait, func(resp kmsg.Response, err error) {
		delete(cl.fetchInFlight, addr)
		results := map[topicPartition]*kmsg.FetchResponseTopicPartition{}
		if r, ok := resp.(*kmsg.FetchResponse); ok {
			if err = kerr.ErrorForCode(r.ErrorCode); err == nil {
				for ti := range r.Topics {
					t := &r.Topics[ti]
					for pi := range t.Partitions {
						results[topicPartition{t.Topic, t.Partitions[pi].Partition}] = &t.Partitions[pi]
					}
				}
			}
		}
		for i, fp := range fps {
			fp.fetching = false
			op := ops[i]
			current := cl.assigned[fp.tp] == fp
			if err != nil {
				op.Type, op.Error = history.Info, errorText(err)
				if errors.Is(err, errNotSent) {
					op.Type = history.Fail
				}
				cl.record(op)
				if current {
					cl.fetchBackoff(fp, err)
				}
				continue
			}
			cl.fetched(fp, op, results[fp.tp], current)
		}
		cl.schedulePump()
	})
}

// fetched handles one partition of a Fetch response.
func (cl *Client) fetched(fp *fetchPart, op history.Op, p *kmsg.FetchResponseTopicPartition, current bool) {
	if p == nil { // not in the response: nothing read
		op.Type = history.OK
		cl.record(op)
		return
	}
	if perr := kerr.ErrorForCode(p.ErrorCode); perr != nil {
		op.Type, op.Error = history.Fail, errorText(perr)
		cl.record(op)
		if !current {
			return
		}
		if errors.Is(perr, kerr.OffsetOutOfRange) {
			cl.resetOffset(fp, perr)
			return
		}
		cl.fetchBackoff(fp, perr)
		return
	}
	records, next, derr := cl.decode(fp, p.RecordBatches)
	op.Type = history.OK
	for _, r := range records {
		read := history.Read{Offset: r.Offset, Value: string(r.Value)}
		if r.Key != nil {
			read.Key = history.Str(string(r.Key))
		}
		op.Records = append(op.Records, read)
	}
	cl.record(op)
	if !current {
		return
	}
	fp.attempts = 0
	fp.highWatermark = p.HighWatermark
	fp.position = next
	if derr != nil {
		fp.stopped = true
		cl.log.Warn("fetch decode failed", "topic", fp.tp.topic, "partition", fp.tp.partition, "err", derr)
		if cl.cfg.OnFetchError != nil {
			cl.cfg.OnFetchError(fp.tp.topic, fp.tp.partition, derr)
		}
	}
	if len(records) > 0 && cl.cfg.OnRecords != nil {
		cl.cfg.OnRecords(records)
	}
}

// decode turns fetched batches into records at or after the position (a
// fetch may start mid-batch) and returns the position after the last whole
// batch, control batches included. A partial trailing batch is normal (the
// size limit cut it). On an error it returns what it decoded before.
func (cl *Client) decode(fp *fetchPart, buf []byte) ([]Record, int64, error) {
	var out []Record
	next := fp.position
	it := batch.Iterate(buf)
	for it.Next() {
		h := it.Header()
		if h.NextOffset() <= next {
			continue
		}
		if h.Control() {
			next = h.NextOffset()
			continue
		}
		recs, err := batch.Records(it.Batch())
		if err != nil {
			return out, next, fmt.Errorf("%s-%d at offset %d: %w", fp.tp.topic, fp.tp.partition, h.BaseOffset, err)
		}
		for _, r := range recs {
			off := h.BaseOffset + int64(r.OffsetDelta)
			if off < next {
				continue
			}
			ts := h.BaseTimestamp + r.TimestampDelta
			if h.LogAppendTime() {
				ts = h.MaxTimestamp
			}
			out = append(out, Record{Topic: fp.tp.topic, Partition: fp.tp.partition, Offset: off,
				Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: ts})
			next = off + 1
		}
		next = max(next, h.NextOffset())
	}
	if it.Err() != nil {
		return out, next, fmt.Errorf("%s-%d: %w", fp.tp.topic, fp.tp.partition, it.Err())
	}
	return out, next, nil
}

// resetOffset applies Config.OffsetReset after OFFSET_OUT_OF_RANGE.
func (cl *Client) resetOffset(fp *fetchPart, err error) {
	switch cl.cfg.OffsetReset {
	case ResetNone:
		fp.stopped = true
		if cl.cfg.OnFetchError != nil {
			cl.cfg.OnFetchError(fp.tp.topic, fp.tp.partition, err)
		}
	case ResetEarliest:
		fp.position, fp.reset = -1, Earliest.at
	default:
		fp.position, fp.reset = -1, Latest.at
	}
}
