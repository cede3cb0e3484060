package broker

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/wire/batch"
)

// appendRecords is the one way records enter a partition's log on this
// broker: client produces (Produce) and the group coordinator's records
// (__consumer_offsets).

// appendRecords validates one partition's records and appends them. It
// fills op and returns the log end offset after the append.
func (b *Broker) appendRecords(p *partition, records []byte, op *kmsg.ProduceResponseTopicPartition) (int64, *kerr.Error, string) {
	if p.offline != nil {
		return 0, kerr.KafkaStorageError, p.offline.Error()
	}
	if len(records) > 16 && records[16] < batch.Magic {
		return 0, kerr.UnsupportedForMessageFormat, fmt.Sprintf("record format magic %d; only v2 batches are stored", records[16])
	}
	h, err := batch.ParseHeader(records)
	if err != nil {
		return 0, kerr.CorruptMessage, err.Error()
	}
	if int64(h.Size()) > p.topic.cfg.MaxMessageBytes {
		return 0, kerr.MessageTooLarge, fmt.Sprintf("batch of %d bytes, max.message.bytes is %d", h.Size(), p.topic.cfg.MaxMessageBytes)
	}
	if h.Size() < len(records) {
		return 0, kerr.InvalidRecord, "more than one record batch for a partition"
	}
	if h, err = batch.Validate(records); err != nil {
		return 0, kerr.CorruptMessage, err.Error()
	}
	if h.Compression() > 4 {
		return 0, kerr.CorruptMessage, fmt.Sprintf("unknown compression codec %d", h.Compression())
	}
	if h.Control() || h.Transactional() {
		return 0, kerr.InvalidRecord, "transactional and control batches are not supported yet"
	}
	base, last, appendTime, dup, err := p.log.AppendAsLeader(records, p.leaderEpoch)
	if err != nil {
		e := classifyAppendError(err)
		if takesOffline(err) {
			b.takeOffline(p, err)
		}
		return 0, e, err.Error()
	}
	op.BaseOffset = base
	op.LogAppendTime = appendTime
	op.LogStartOffset = p.log.LogStartOffset()
	if !dup {
		b.cfg.Metrics.Add("loglab_broker_bytes_in_total", float64(len(records)), "topic", p.topic.name)
		b.cfg.Metrics.Add("loglab_broker_messages_in_total", float64(h.RecordCount), "topic", p.topic.name)
	}
	if dup {
		// A retry of a batch already written: answered with the
		// original offsets once they are as safe as a new append's.
		b.log.Debug("duplicate idempotent batch not appended", "topic", p.topic.name, "partition", p.index,
			"producer_id", h.ProducerID, "sequence", h.BaseSequence, "base_offset", base)
		return last + 1, nil, ""
	}
	end := p.log.LogEndOffset()
	if p.topic.cfg.SyncsEveryAppend() {
		// The high watermark moves when the sync completes (see
		// highWatermark); wake long polls then, whatever the acks.
		p.log.WhenDurable(end, func(error) {
			b.advanceHW(p)
			p.wake()
		})
	} else {
		b.advanceHW(p)
		b.h.Post(p.wake)
	}
	return end, nil, ""
}
