package broker

// Produce (key 0).
//
// Every version is advertised from 0 because librdkafka sends compressed
// data uncompressed unless Produce min is 0 (KAFKA-18659); but only v2
// record batches (magic 2) are stored, so a v0-v2 request carrying the
// old message formats gets UNSUPPORTED_FOR_MESSAGE_FORMAT. v13 names
// topics by id (UNKNOWN_TOPIC_ID), earlier versions by name.
//
// Per partition: exactly one batch (INVALID_RECORD otherwise, as Kafka
// does for v3+); a batch larger than max.message.bytes is
// MESSAGE_TOO_LARGE; a bad length, magic, CRC or count is CORRUPT_MESSAGE.
// The broker stamps the leader epoch, the log assigns offsets (and the
// append time under message.timestamp.type=LogAppendTime). acks=1 answers
// after the append, or after the log reports the batch durable when the
// topic syncs every append (flush.messages=1). Standalone, acks=all is
// acks=1. In cluster mode only the partition's leader appends (else
// NOT_LEADER_OR_FOLLOWER, never a silent write); acks=all first checks
// the ISR against min.insync.replicas (NOT_ENOUGH_REPLICAS), then waits
// until the high watermark covers the batch (NOT_ENOUGH_REPLICAS_AFTER_APPEND
// if the ISR has meanwhile fallen below the minimum), up to TimeoutMillis
// (REQUEST_TIMED_OUT) or until leadership is lost (NOT_LEADER_OR_FOLLOWER). acks=0 gets no answer; if anything failed the
// connection is closed, Kafka's way of telling such a producer.
//
// Idempotent batches (producer id >= 0) are checked against the
// partition's producer state (broker/log producers.go): a retry of one of
// the producer's last five batches is answered with its original offsets
// and not written again; a gap is OUT_OF_ORDER_SEQUENCE_NUMBER, a stale
// epoch INVALID_PRODUCER_EPOCH, an unknown producer past sequence 0
// UNKNOWN_PRODUCER_ID.
//
// Simplifications: records inside a batch are not decoded (the CRC covers
// them; compressed batches are stored as sent). Transactional and control
// batches are refused with INVALID_RECORD (no transactions).
// TransactionID is ignored.

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Served versions 0-13.
func init() { register(keyProduce, 0, 13, (*Broker).handleProduce) }

func (b *Broker) handleProduce(r *request) {
	req := r.kreq.(*kmsg.ProduceRequest)
	resp := kmsg.NewPtrProduceResponse()
	acksOK := req.Acks == 0 || req.Acks == 1 || req.Acks == -1
	var firstErr *kerr.Error
	var firstMsg string
	waiting := 1
	answer := func() {
		waiting--
		if waiting > 0 {
			return
		}
		if req.Acks != 0 {
			r.respond(resp)
		} else if firstErr != nil {
			r.closeConn("acks=0 produce failed: "+firstErr.Message, errors.New(firstMsg))
		} else {
			r.noResponse()
		}
	}
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		ot := &resp.Topics[i]
		*ot = kmsg.NewProduceResponseTopic()
		ot.Topic, ot.TopicID = rt.Topic, rt.TopicID
		t, terr := b.lookupTopic(req.Version >= 13, rt.Topic, rt.TopicID)
		ot.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		for j, rp := range rt.Partitions {
			op := &ot.Partitions[j]
			*op = kmsg.NewProduceResponseTopicPartition()
			op.Partition = rp.Partition
			op.BaseOffset, op.LogAppendTime, op.LogStartOffset = -1, -1, -1
			fail := func(e *kerr.Error, msg string) {
				op.ErrorCode = e.Code
				if msg != "" {
					op.ErrorMessage = &msg
				}
				if firstErr == nil {
					firstErr, firstMsg = e, msg
				}
				r.warn("produce rejected", "topic", rt.Topic, "partition", rp.Partition, "error", e.Message, "why", msg)
			}
			if !acksOK {
				fail(kerr.InvalidRequiredAcks, fmt.Sprintf("acks=%d, want -1, 0 or 1", req.Acks))
				continue
			}
			if terr != nil {
				fail(terr, "")
				continue
			}
			if t.name == offsetsTopic {
				// Only the group coordinator writes its own records.
				fail(kerr.InvalidTopicException, "__consumer_offsets is internal: clients cannot produce to it")
				continue
			}
			p := t.partition(rp.Partition)
			if p == nil {
				fail(kerr.UnknownTopicOrPartition, fmt.Sprintf("topic %q has no partition %d", t.name, rp.Partition))
				continue
			}
			if p.replicated {
				if e := checkLeader(p); e != nil {
					fail(e, fmt.Sprintf("broker %d does not lead %s-%d (leader %d, epoch %d)", b.cfg.NodeID, t.name, p.index, p.leader, p.leaderEpoch))
					continue
				}
				if req.Acks == -1 && len(b.effectiveISR(p)) < t.cfg.MinISR() {
					fail(kerr.NotEnoughReplicas, fmt.Sprintf("ISR %v is smaller than min.insync.replicas=%d", b.effectiveISR(p), t.cfg.MinISR()))
					continue
				}
			}
			end, e, msg := b.appendRecords(p, rp.Records, op)
			if e != nil {
				fail(e, msg)
				continue
			}
			if p.replicated && req.Acks == -1 {
				waiting++
				timeout := time.Duration(max(req.TimeoutMillis, 1)) * time.Millisecond
				b.parkProduce(p, end-1, timeout, func(e *kerr.Error) {
					if e != nil {
						fail(e, "")
					}
					answer()
				})
				continue
			}
			if req.Acks != 0 && t.cfg.SyncsEveryAppend() {
				waiting++
				p.log.WhenDurable(end, func(err error) {
					if err != nil && takesOffline(err) {
						b.takeOffline(p, err)
					}
					if err != nil {
						fail(kerr.KafkaStorageError, err.Error())
					}
					answer()
				})
			}
		}
	}
	answer()
}
