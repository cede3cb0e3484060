package broker

import (
	"errors"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	plog "github.com/loglab/loglab/broker/log"
	"github.com/loglab/loglab/broker/topics"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire/batch"
)

// defaultLogOpener opens a partition with package broker/log; onFlush
// (nil: none) hears every flush round's duration.
func defaultLogOpener(onFlush func(time.Duration)) logOpener {
	return func(h host.Host, dir string, cfg topics.Config, scanAll bool) (partitionLog, error) {
		lc := logConfig(cfg)
		lc.OnFlush, lc.ScanAll = onFlush, scanAll
		l, err := plog.Open(h, dir, lc)
		if err != nil {
			return nil, err
		}
		return newDiskLog(l)
	}
}

// logConfig maps Kafka's topic configs onto the log's, whose zero means
// "never" or "unlimited" where Kafka says Long.MAX_VALUE or -1.
func logConfig(c topics.Config) plog.Config {
	unlimited := func(v int64) int64 {
		if v < 0 || v == math.MaxInt64 {
			return 0
		}
		return v
	}
	return plog.Config{
		SegmentBytes:   c.SegmentBytes,
		SegmentMs:      unlimited(c.SegmentMs),
		MaxBatchBytes:  int(min(c.MaxMessageBytes, math.MaxInt32)),
		FlushMessages:  unlimited(c.FlushMessages),
		FlushMs:        unlimited(c.FlushMs),
		RetentionBytes: unlimited(c.RetentionBytes),
		RetentionMs:    unlimited(c.RetentionMs),
		LogAppendTime:  c.TimestampType == topics.LogAppendTime,
	}
}

// diskLog adapts *log.Log to partitionLog.
type diskLog struct{ l *plog.Log }

func newDiskLog(l *plog.Log) (*diskLog, error) { return &diskLog{l: l}, nil }

func (d *diskLog) AppendAsLeader(b []byte, epoch int32) (int64, int64, int64, bool, error) {
	info, err := d.l.AppendAsLeader(b, epoch)
	if err != nil {
		return 0, 0, 0, false, err
	}
	return info.FirstOffset, info.LastOffset, info.LogAppendTime, info.Duplicate, nil
}

func (d *diskLog) AppendAsFollower(b []byte) error {
	_, err := d.l.AppendAsFollower(b)
	return err
}

func (d *diskLog) TruncateTo(offset int64) error                { return d.l.TruncateTo(offset) }
func (d *diskLog) AssignEpoch(epoch int32, start int64) error   { return d.l.AssignEpoch(epoch, start) }
func (d *diskLog) LatestEpoch() (int32, bool)                   { return d.l.LatestEpoch() }
func (d *diskLog) RecoveryCut() (int64, bool)                   { return d.l.RecoveryCut() }
func (d *diskLog) EndOffsetForEpoch(epoch int32) (int32, int64) { return d.l.EndOffsetForEpoch(epoch) }

func (d *diskLog) EpochAt(offset int64) int32 {
	e := int32(-1)
	for _, en := range d.l.EpochEntries() {
		if en.StartOffset > offset {
			break
		}
		e = en.Epoch
	}
	return e
}

func (d *diskLog) LogStartOffset() int64 { return d.l.LogStartOffset() }
func (d *diskLog) LogEndOffset() int64   { return d.l.LogEndOffset() }

func (d *diskLog) Read(dst []byte, offset int64, maxBytes int, minOne bool) ([]byte, error) {
	start := len(dst)
	out, err := d.l.ReadInto(dst, offset, maxBytes)
	data := out[start:]
	if err != nil || minOne || len(data) <= maxBytes {
		return out, err
	}
	// The log always returns the first batch (KIP-74); without minOne
	// keep only the whole batches that fit.
	it := batch.Iterate(data)
	end := 0
	for it.Next() && it.End() <= maxBytes {
		end = it.End()
	}
	return out[:start+end], nil
}

func (d *diskLog) OffsetForTimestamp(ts int64) (int64, int64, bool, error) {
	off, ok, err := d.l.OffsetForTimestamp(ts)
	if err != nil || !ok {
		return -1, -1, false, err
	}
	data, err := d.l.Read(off, 1)
	if err != nil {
		return -1, -1, false, err
	}
	return off, recordTimestamp(data, off), true, nil
}

// MaxTimestamp scans the log. broker/log does not expose its segments'
// largest timestamps yet; ListOffsets with -3 is a rare admin call.
func (d *diskLog) MaxTimestamp() (int64, int64, error) {
	bestOff, bestTs := int64(-1), int64(-1)
	for off := d.l.LogStartOffset(); off < d.l.LogEndOffset(); {
		data, err := d.l.Read(off, 1<<20)
		if err != nil {
			return -1, -1, err
		}
		it := batch.Iterate(data)
		for it.Next() {
			h := it.Header()
			if h.MaxTimestamp > bestTs {
				bestTs = h.MaxTimestamp
				bestOff = maxTimestampOffset(it.Batch(), h)
			}
			off = h.NextOffset()
		}
		if it.Offset() == 0 {
			break // no whole batch: cannot advance
		}
	}
	return bestOff, bestTs, nil
}

func (d *diskLog) WhenDurable(end int64, done func(error)) { d.l.WhenDurable(end, done) }
func (d *diskLog) RecoveryPoint() int64                    { return d.l.RecoveryPoint() }
func (d *diskLog) Size() int64                             { return d.l.Size() }
func (d *diskLog) Close(done func(error))                  { d.l.Close(done) }
func (d *diskLog) ApplyRetention() (int, error)            { return d.l.ApplyRetention() }

// recordTimestamp is the timestamp of the record at offset in the batch at
// the start of b: the record's own for an uncompressed CreateTime batch,
// the batch's max timestamp otherwise.
func recordTimestamp(b []byte, offset int64) int64 {
	h, err := batch.ParseHeader(b)
	if err != nil {
		return -1
	}
	if h.Compression() != 0 || h.LogAppendTime() {
		return h.MaxTimestamp
	}
	rs, err := batch.Records(b)
	if err != nil {
		return h.MaxTimestamp
	}
	for _, r := range rs {
		if h.BaseOffset+int64(r.OffsetDelta) == offset {
			return h.BaseTimestamp + r.TimestampDelta
		}
	}
	return h.MaxTimestamp
}

// maxTimestampOffset is the offset of the record holding the batch's max
// timestamp (the first one, for an uncompressed CreateTime batch; the
// base offset otherwise).
func maxTimestampOffset(b []byte, h batch.Header) int64 {
	if h.Compression() != 0 || h.LogAppendTime() {
		return h.BaseOffset
	}
	rs, err := batch.Records(b)
	if err != nil {
		return h.BaseOffset
	}
	for _, r := range rs {
		if h.BaseTimestamp+r.TimestampDelta == h.MaxTimestamp {
			return h.BaseOffset + int64(r.OffsetDelta)
		}
	}
	return h.BaseOffset
}

// classifyAppendError maps a log append error to a Kafka error.
func classifyAppendError(err error) *kerr.Error {
	switch {
	case errors.Is(err, plog.ErrBatchTooLarge):
		return kerr.MessageTooLarge
	case errors.Is(err, plog.ErrInvalidBatch):
		return kerr.CorruptMessage
	case errors.Is(err, plog.ErrTruncationPending):
		return kerr.NotLeaderForPartition
	case errors.Is(err, plog.ErrOutOfOrderSequence):
		return kerr.OutOfOrderSequenceNumber
	case errors.Is(err, plog.ErrInvalidProducerEpoch):
		return kerr.InvalidProducerEpoch
	case errors.Is(err, plog.ErrUnknownProducerID):
		return kerr.UnknownProducerID
	default: // ErrLogFailed, ErrClosed, host I/O errors
		return kerr.KafkaStorageError
	}
}

// classifyReadError maps a log read error to a Kafka error.
func classifyReadError(err error) *kerr.Error {
	switch {
	case errors.Is(err, plog.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange
	default: // ErrCorruption, ErrLogFailed, ErrClosed, host I/O errors
		return kerr.KafkaStorageError
	}
}

// takesOffline reports whether a log error means the whole log failed.
func takesOffline(err error) bool {
	return errors.Is(err, plog.ErrLogFailed) || errors.Is(err, host.ErrIO) || errors.Is(err, host.ErrNoSpace)
}
