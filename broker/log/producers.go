package log

// Producer state (Kafka's ProducerStateManager): for every idempotent
// producer that wrote to this partition, its epoch and its last five
// batches' sequence ranges and offsets. The leader checks each
// idempotent batch against it before appending:
//
//   - a batch equal (first and last sequence) to one of the producer's
//     last five at the current epoch is a duplicate — a retry of a batch
//     already written — and is not written again: the append reports the
//     original offsets (AppendInfo.Duplicate);
//   - an older epoch is ErrInvalidProducerEpoch (a zombie producer);
//   - a newer epoch must start at sequence 0;
//   - otherwise the first sequence must follow the last one (int32 wraps
//     to 0), or ErrOutOfOrderSequence;
//   - a producer the log does not know (it never wrote here, or retention
//     removed all its batches) starting above 0 is ErrUnknownProducerID,
//     which tells the client to reset its sequences (KIP-360).
//
// The state is derived from the log: it is rebuilt from the batch headers
// (not the records) when the leader first needs it after an open or a
// truncation, and followers keep it current as they append, so a new
// leader — after a failover or a crash — knows every producer the log
// knows. It is never written to disk (Kafka snapshots it; the scan is
// the simplification).

import (
	"errors"
	"fmt"
	"math"

	"github.com/loglab/loglab/wire/batch"
)

// Producer-state errors (classify with errors.Is).
var (
	ErrOutOfOrderSequence   = errors.New("log: out of order sequence number")
	ErrInvalidProducerEpoch = errors.New("log: invalid producer epoch")
	ErrUnknownProducerID    = errors.New("log: unknown producer id")
)

// maxProducerBatches is how many batches per producer duplicates are
// detected against: max.in.flight.requests.per.connection's limit for
// idempotence.
const maxProducerBatches = 5

type producerBatch struct {
	firstSeq, lastSeq       int32
	firstOffset, lastOffset int64
	maxTimestamp            int64
}

type producerEntry struct {
	epoch   int16
	batches []producerBatch // oldest first, at most maxProducerBatches
}

func idempotent(h batch.Header) bool { return h.ProducerID >= 0 }

func lastSeq(h batch.Header) int32 {
	s := int64(h.BaseSequence) + int64(h.LastOffsetDelta)
	if s > math.MaxInt32 {
		s -= math.MaxInt32 + 1
	}
	return int32(s)
}

// producers returns the state, rebuilding it from the batch headers when
// it is not known.
func (l *Log) producerState() (map[int64]*producerEntry, error) {
	if l.producers != nil {
		return l.producers, nil
	}
	ps := map[int64]*producerEntry{}
	for _, s := range l.segs {
		for p := int64(0); p < s.size; {
			h, err := l.readHeader(s, p)
			if err != nil {
				return nil, fmt.Errorf("rebuilding producer state: %w", err)
			}
			observeProducer(ps, h)
			p += int64(h.Size())
		}
	}
	l.producers = ps
	return ps, nil
}

// observeProducer records an appended batch.
func observeProducer(ps map[int64]*producerEntry, h batch.Header) {
	if !idempotent(h) {
		return
	}
	e := ps[h.ProducerID]
	if e == nil || h.ProducerEpoch != e.epoch {
		e = &producerEntry{epoch: h.ProducerEpoch}
		ps[h.ProducerID] = e
	}
	e.batches = append(e.batches, producerBatch{firstSeq: h.BaseSequence, lastSeq: lastSeq(h),
		firstOffset: h.BaseOffset, lastOffset: h.LastOffset(), maxTimestamp: h.MaxTimestamp})
	if len(e.batches) > maxProducerBatches {
		e.batches = e.batches[1:]
	}
}

// checkProducer validates a leader append of an idempotent batch: nil and
// no duplicate to append it, a duplicate to answer without appending, or
// an error.
func (l *Log) checkProducer(h batch.Header) (*producerBatch, error) {
	ps, err := l.producerState()
	if err != nil {
		return nil, err
	}
	if l.bugSkipSequenceCheck() {
		return nil, nil
	}
	e := ps[h.ProducerID]
	switch {
	case e == nil:
		if h.BaseSequence != 0 {
			return nil, fmt.Errorf("%w: producer %d unknown here, first sequence %d", ErrUnknownProducerID, h.ProducerID, h.BaseSequence)
		}
		return nil, nil
	case h.ProducerEpoch < e.epoch:
		return nil, fmt.Errorf("%w: producer %d epoch %d, current %d", ErrInvalidProducerEpoch, h.ProducerID, h.ProducerEpoch, e.epoch)
	case h.ProducerEpoch > e.epoch:
		if h.BaseSequence != 0 {
			return nil, fmt.Errorf("%w: producer %d new epoch %d starts at sequence %d", ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence)
		}
		return nil, nil
	}
	last := lastSeq(h)
	for i := range e.batches {
		if b := &e.batches[i]; b.firstSeq == h.BaseSequence && b.lastSeq == last {
			return b, nil
		}
	}
	want := int32(0)
	if n := len(e.batches); n > 0 && e.batches[n-1].lastSeq != math.MaxInt32 {
		want = e.batches[n-1].lastSeq + 1
	}
	if h.BaseSequence != want {
		return nil, fmt.Errorf("%w: producer %d epoch %d sequence %d, expected %d", ErrOutOfOrderSequence, h.ProducerID, h.ProducerEpoch, h.BaseSequence, want)
	}
	return nil, nil
}

// ProducerCount is how many producers the state knows (rebuilding it if
// needed); for tests and metrics.
func (l *Log) ProducerCount() (int, error) {
	ps, err := l.producerState()
	return len(ps), err
}
