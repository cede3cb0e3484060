package controller

import (
	"slices"
	"time"

	"github.com/loglab/loglab/broker/metadata"
	"github.com/twmb/franz-go/pkg/kerr"
	"go.etcd.io/raft/v3/raftpb"
)

// leaderDuties is the active controller's volatile state: broker liveness
// on its own monotonic clock, and which fencing/unfencing/election records
// it has in flight. A new leader starts with every broker's session fresh
// (a grace period of one SessionTimeout), as Kafka's controller does.
type leaderDuties struct {
	active     bool
	lastBeat   map[int32]time.Duration
	fencing    map[int32]time.Duration // retry after
	unfencing  map[int32]time.Duration
	nextRebal  time.Duration
	rebalUntil time.Duration
}

func (d *leaderDuties) reset(now time.Duration, interval time.Duration) {
	*d = leaderDuties{
		active:    true,
		lastBeat:  map[int32]time.Duration{},
		fencing:   map[int32]time.Duration{},
		unfencing: map[int32]time.Duration{},
		nextRebal: now + interval,
	}
}

func (d *leaderDuties) applied(v *Voter, rec *metadata.Record, res metadata.Result) {
	if !d.active {
		return
	}
	switch rec.Type {
	case metadata.TypeFenceBroker:
		delete(d.fencing, rec.FenceBroker.BrokerID)
	case metadata.TypeUnfenceBroker:
		delete(d.unfencing, rec.UnfenceBroker.BrokerID)
	case metadata.TypeRegisterBroker:
		// A (re)registration starts a fresh session.
		d.lastBeat[rec.RegisterBroker.BrokerID] = v.h.Monotonic()
	}
}

// leaderTick runs on every raft tick.
func (v *Voter) leaderTick() {
	if !v.IsLeader() {
		v.lead.active = false
		return
	}
	now := v.h.Monotonic()
	d := &v.lead
	if !d.active {
		d.reset(now, v.cfg.LeaderImbalanceCheckInterval)
	}
	for _, b := range v.img.Brokers {
		last, ok := d.lastBeat[b.ID]
		if !ok {
			d.lastBeat[b.ID] = now
			continue
		}
		if b.Fenced || now-last <= v.cfg.SessionTimeout || now < d.fencing[b.ID] {
			continue
		}
		v.log.Info("fencing broker: session expired", "broker", b.ID, "epoch", b.Epoch, "silent", now-last)
		d.fencing[b.ID] = now + v.cfg.SessionTimeout
		v.Propose(metadata.Record{Type: metadata.TypeFenceBroker, FenceBroker: &metadata.BrokerEpochRef{BrokerID: b.ID, BrokerEpoch: b.Epoch}},
			func(metadata.Result, error) {})
	}
	if v.cfg.LeaderImbalanceCheckInterval > 0 && now >= d.nextRebal {
		d.nextRebal = now + v.cfg.LeaderImbalanceCheckInterval
		v.electPreferred()
	}
}

// electPreferred moves leadership back to preferred replicas that are
// usable and in sync (Kafka's auto.leader.rebalance).
func (v *Voter) electPreferred() {
	var tps []metadata.TopicPartitions
	for ti := range v.img.Topics {
		t := &v.img.Topics[ti]
		var idx []int32
		for pi := range t.Partitions {
			p := &t.Partitions[pi]
			pref := p.PreferredLeader()
			if p.Leader != pref && v.img.Usable(pref) && slices.Contains(p.ISR, pref) {
				idx = append(idx, p.Index)
			}
		}
		if idx != nil {
			tps = append(tps, metadata.TopicPartitions{Topic: t.Name, Partitions: idx})
		}
	}
	if tps == nil {
		return
	}
	v.Propose(metadata.Record{Type: metadata.TypeElectLeaders, ElectLeaders: &metadata.ElectLeaders{Type: metadata.ElectPreferred, Partitions: tps}},
		func(metadata.Result, error) {})
}

// heartbeat records a broker's liveness and unfences it once it has caught
// up with the metadata log up to its own registration.
func (v *Voter) heartbeat(req Request) Response {
	b := v.img.Broker(req.BrokerID)
	if b == nil {
		return Response{ErrorCode: kerr.BrokerIDNotRegistered.Code}
	}
	if b.Epoch != req.BrokerEpoch {
		return Response{ErrorCode: kerr.StaleBrokerEpoch.Code}
	}
	now := v.h.Monotonic()
	d := &v.lead
	if !d.active {
		d.reset(now, v.cfg.LeaderImbalanceCheckInterval)
	}
	d.lastBeat[b.ID] = now
	if b.Fenced && req.MetadataOffset >= b.Epoch && now >= d.unfencing[b.ID] {
		d.unfencing[b.ID] = now + v.cfg.SessionTimeout
		v.Propose(metadata.Record{Type: metadata.TypeUnfenceBroker, UnfenceBroker: &metadata.BrokerEpochRef{BrokerID: b.ID, BrokerEpoch: b.Epoch}},
			func(metadata.Result, error) {})
	}
	return Response{BrokerEpoch: b.Epoch, Fenced: b.Fenced}
}

func isRecordEntry(e raftpb.Entry) bool {
	return e.Type == raftpb.EntryNormal && len(e.Data) > 0
}
