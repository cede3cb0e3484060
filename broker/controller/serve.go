package controller

import (
	"errors"
	"time"

	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/host"
	"github.com/twmb/franz-go/pkg/kerr"
)

// fetchMaxBytes bounds the records of one fetch response.
const fetchMaxBytes = 1 << 20

type fetchWaiter struct {
	c     host.Conn
	corr  uint32
	from  int64
	timer host.Timer
	done  bool
}

func (v *Voter) handleRequest(c host.Conn, frame []byte) {
	var req Request
	corr, err := decodeCall(frame, &req)
	if err != nil {
		v.log.Warn("bad controller request", "from", c.RemoteAddr(), "err", err)
		c.Close()
		return
	}
	reply := func(resp Response) { _ = c.Send(encodeCall(kindResponse, corr, resp)) }
	if v.rn == nil {
		reply(Response{ErrorCode: kerr.NotController.Code})
		return
	}
	switch req.Op {
	case OpFetch:
		v.fetch(c, corr, req)
	case OpRegister:
		if !v.IsLeader() {
			reply(v.notController())
			return
		}
		rec := metadata.Record{Type: metadata.TypeRegisterBroker, RegisterBroker: &metadata.RegisterBroker{
			BrokerID: req.BrokerID, Addr: req.Addr, Rack: req.Rack, Incarnation: req.Incarnation,
		}}
		v.Propose(rec, func(res metadata.Result, err error) {
			if err != nil {
				reply(v.errorResponse(err))
				return
			}
			reply(Response{ErrorCode: errorCode(res.Err), BrokerEpoch: res.BrokerEpoch, Fenced: true})
		})
	case OpHeartbeat:
		if !v.IsLeader() {
			reply(v.notController())
			return
		}
		reply(v.heartbeat(req))
	case OpWrite:
		if !v.IsLeader() {
			reply(v.notController())
			return
		}
		rec, err := metadata.DecodeRecord(req.Record)
		if err != nil || !writable(rec.Type) {
			reply(Response{ErrorCode: kerr.InvalidRequest.Code})
			return
		}
		v.Propose(rec, func(res metadata.Result, err error) {
			if err != nil {
				reply(v.errorResponse(err))
				return
			}
			reply(Response{Result: toWire(res)})
		})
	default:
		reply(Response{ErrorCode: kerr.InvalidRequest.Code})
	}
}

// writable lists the records brokers and admin clients may submit; broker
// registration and fencing records are the controller's own.
func writable(t metadata.RecordType) bool {
	switch t {
	case metadata.TypeCreateTopic, metadata.TypeDeleteTopic, metadata.TypeAlterPartition, metadata.TypeElectLeaders,
		metadata.TypeAllocateProducerIDs:
		return true
	}
	return false
}

func (v *Voter) notController() Response {
	return Response{ErrorCode: kerr.NotController.Code, LeaderAddr: v.cfg.addrOf(v.Leader())}
}

func (v *Voter) errorResponse(err error) Response {
	switch {
	case errors.Is(err, kerr.NotController), errors.Is(err, ErrStopped):
		return v.notController()
	case errors.Is(err, kerr.RequestTimedOut):
		return Response{ErrorCode: kerr.RequestTimedOut.Code}
	}
	return Response{ErrorCode: errorCode(err)}
}

// fetch answers with committed records from req.FetchOffset, with the whole
// image when that offset was compacted away, or holds the request up to
// MaxWaitMs until something new is applied.
func (v *Voter) fetch(c host.Conn, corr uint32, req Request) {
	w := &fetchWaiter{c: c, corr: corr, from: req.FetchOffset}
	if w.from < 1 {
		w.from = 1
	}
	if w.from <= int64(v.applied) || req.MaxWaitMs <= 0 {
		v.answerFetch(w)
		return
	}
	w.timer = v.h.AfterFunc(time.Duration(req.MaxWaitMs)*time.Millisecond, func() { v.answerFetch(w) })
	v.waiters = append(v.waiters, w)
}

func (v *Voter) wakeFetchers() {
	if len(v.waiters) == 0 {
		return
	}
	ws := v.waiters
	v.waiters = nil
	for _, w := range ws {
		if w.done {
			continue
		}
		if w.from <= int64(v.applied) {
			w.timer.Stop()
			v.answerFetch(w)
			continue
		}
		v.waiters = append(v.waiters, w)
	}
}

func (v *Voter) answerFetch(w *fetchWaiter) {
	if w.done || v.stopped {
		return
	}
	w.done = true
	resp := Response{HighOffset: w.from - 1}
	first, _ := v.ms.FirstIndex()
	switch {
	case w.from > int64(v.applied):
		// Nothing new (or the follower is ahead of this voter).
	case uint64(w.from) < first:
		resp.Snapshot = v.img.Encode()
		resp.HighOffset = v.img.Offset
	default:
		ents, err := v.ms.Entries(uint64(w.from), v.applied+1, fetchMaxBytes)
		if err != nil {
			resp.ErrorCode = kerr.UnknownServerError.Code
			break
		}
		for _, e := range ents {
			if isRecordEntry(e) {
				resp.Records = append(resp.Records, FetchedRecord{Offset: int64(e.Index), Data: e.Data})
			}
			resp.HighOffset = int64(e.Index)
		}
	}
	_ = w.c.Send(encodeCall(kindResponse, w.corr, resp))
}
