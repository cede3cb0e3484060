package broker

// InitProducerId (key 22): a new producer id, epoch 0, for
// an idempotent producer. Ids come in blocks of 1000 that the controller
// quorum hands out (AllocateProducerIDs, Kafka's KIP-730), so no two
// brokers ever give out the same id, across restarts and controller
// failovers; a standalone broker keeps its next block in the file
// "producer-ids", synced before any id of the block is used.
//
// Simplifications: transactions are not served (a TransactionalID is
// answered TRANSACTIONAL_ID_AUTHORIZATION_FAILED, a non-retriable error,
// rather than letting a transactional client wait forever), and an
// idempotent producer that passes its current id and epoch (v3+, KIP-360)
// gets a fresh id, as Kafka does without transactions.

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker/metadata"
)

// Served versions 0-4.
func init() { register(keyInitProducerID, 0, 4, (*Broker).handleInitProducerID) }

const producerIDsFile = "producer-ids"

// producerIDs is the broker's current block and the requests waiting
// for the next one.
type producerIDs struct {
	next, end  int64
	allocating bool
	waiting    []func(id int64, e *kerr.Error)
}

func (b *Broker) handleInitProducerID(r *request) {
	req := r.kreq.(*kmsg.InitProducerIDRequest)
	answer := func(id int64, e *kerr.Error) {
		resp := kmsg.NewPtrInitProducerIDResponse()
		resp.ProducerID, resp.ProducerEpoch = -1, -1
		if e != nil {
			resp.ErrorCode = e.Code
			r.warn("init producer id failed", "error", e.Message)
		} else {
			resp.ProducerID, resp.ProducerEpoch = id, 0
		}
		r.respond(resp)
	}
	if req.TransactionalID != nil {
		answer(-1, kerr.TransactionalIDAuthorizationFailed)
		return
	}
	b.nextProducerID(answer)
}

// nextProducerID hands out one producer id, fetching a new block first
// when the current one is used up.
func (b *Broker) nextProducerID(done func(id int64, e *kerr.Error)) {
	s := &b.pids
	if s.next < s.end {
		id := s.next
		s.next++
		done(id, nil)
		return
	}
	s.waiting = append(s.waiting, done)
	if s.allocating {
		return
	}
	s.allocating = true
	b.meta.allocateProducerIDs(func(block metadata.ProducerIDBlock, e *kerr.Error) {
		s.allocating = false
		ws := s.waiting
		s.waiting = nil
		if e != nil {
			for _, w := range ws {
				w(-1, e)
			}
			return
		}
		s.next, s.end = block.Start, block.Start+block.Len
		b.log.Info("producer id block allocated", "start", block.Start, "len", block.Len)
		for _, w := range ws {
			b.nextProducerID(w)
		}
	})
}

// allocateProducerIDs gets a block from the controller.
func (s imageSource) allocateProducerIDs(done func(metadata.ProducerIDBlock, *kerr.Error)) {
	b := s.b
	if !b.ready() {
		b.h.Post(func() { done(metadata.ProducerIDBlock{}, kerr.CoordinatorLoadInProgress) })
		return
	}
	rec := metadata.Record{Type: metadata.TypeAllocateProducerIDs, AllocateProducerIDs: &metadata.BrokerEpochRef{
		BrokerID: b.cfg.NodeID, BrokerEpoch: b.follower.BrokerEpoch()}}
	b.follower.Submit(rec, func(res metadata.Result, err error) {
		if err == nil {
			err = res.Err
		}
		if err != nil {
			b.log.Warn("allocating producer ids failed", "err", err)
			done(metadata.ProducerIDBlock{}, kerr.CoordinatorLoadInProgress)
			return
		}
		done(res.ProducerIDs, nil)
	})
}

// allocateProducerIDs gets a block from the producer-ids file.
func (s catalogueSource) allocateProducerIDs(done func(metadata.ProducerIDBlock, *kerr.Error)) {
	b := s.b
	start := int64(0)
	if s, err := readSmallFile(b.h.Disk(), producerIDsFile); err == nil {
		v, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if perr != nil || v < 0 {
			b.log.Error("producer-ids file is corrupt; refusing to hand out ids that may repeat", "content", s)
			b.h.Post(func() { done(metadata.ProducerIDBlock{}, kerr.UnknownServerError) })
			return
		}
		start = v
	}
	block := metadata.ProducerIDBlock{Start: start, Len: metadata.ProducerIDBlockSize}
	f, err := b.h.Disk().OpenFile(producerIDsFile, true)
	if err == nil {
		err = f.Truncate(0)
	}
	if err == nil {
		_, err = f.WriteAt([]byte(fmt.Sprintf("%d\n", start+block.Len)), 0)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		b.log.Error("writing producer-ids failed", "err", err)
		b.h.Post(func() { done(metadata.ProducerIDBlock{}, kerr.KafkaStorageError) })
		return
	}
	f.Sync(func(err error) {
		f.Close()
		if err != nil {
			b.log.Error("syncing producer-ids failed", "err", err)
			done(metadata.ProducerIDBlock{}, kerr.KafkaStorageError)
			return
		}
		done(block, nil)
	})
}
