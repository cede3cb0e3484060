package controller

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"

	"github.com/loglab/loglab/broker/bugzoo"
	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/host"
	"github.com/twmb/franz-go/pkg/kerr"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
)

// Voter is one member of the controller quorum: a raft RawNode driven on a
// Host, its durable log, and the metadata Image built from the committed
// records. Everything runs on the Host's loop.
type Voter struct {
	h   host.Host
	cfg VoterConfig
	log *slog.Logger

	rn      *raft.RawNode // nil until the log is recovered
	ms      *raft.MemoryStorage
	wal     *wal
	hard    raftpb.HardState
	conf    raftpb.ConfState
	img     *metadata.Image
	applied uint64

	busy    bool // a Ready is being persisted or the log rewritten
	posted  bool // a process() is queued
	stopped bool
	err     error

	listener host.Listener
	peers    []*peer // by ID, without self
	ticker   host.Timer

	proposer uint64 // random per incarnation: tells our records from older ones
	seq      uint64
	pending  map[uint64]*proposal
	waiters  []*fetchWaiter
	lead     leaderDuties

	// OnApply, when set, is called after each committed record is applied
	// (tests and embedding nodes use it to observe the log).
	OnApply func(offset int64, rec *metadata.Record, res metadata.Result)
}

type proposal struct {
	done  func(metadata.Result, error)
	timer host.Timer
}

// ErrNotController: this voter is not the active controller (wraps
// kerr.NotController).
var ErrNotController = fmt.Errorf("controller: %w", kerr.NotController)

// ErrStopped: the voter was stopped or failed.
var ErrStopped = errors.New("controller: voter stopped")

// StartVoter starts a voter on h: it listens on its address at once,
// recovers its log from h.Disk (bootstrapping an empty disk with the
// configured membership) and then runs raft.
func StartVoter(h host.Host, cfg VoterConfig) (*Voter, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	v := &Voter{h: h, cfg: c, log: h.Logger().With("component", "controller"), pending: map[uint64]*proposal{}}
	v.proposer = h.Rand().Uint64() | 1
	for _, p := range c.Voters {
		if p.ID != c.ID {
			v.peers = append(v.peers, &peer{v: v, id: p.ID, addr: p.Addr})
		}
	}
	l, err := h.Net().Listen(c.addrOf(c.ID), host.ListenOptions{}, func(conn host.Conn) host.ConnHandler {
		return inbound{v}
	})
	if err != nil {
		return nil, fmt.Errorf("controller: listen: %w", err)
	}
	v.listener = l
	w, st, err := openWAL(h.Disk(), c.Dir)
	if err != nil {
		l.Close()
		return nil, err
	}
	v.wal = w
	if st.torn > 0 {
		v.log.Warn("raft log tail truncated", "bytes", st.torn)
	}
	if !st.fresh {
		if err := v.startRaft(st); err != nil {
			v.fail(err)
			return v, err
		}
		v.syncRecovered()
		return v, nil
	}
	// Bootstrap: every voter writes the same snapshot at index 1 holding
	// the membership and the empty image, so the logs agree from the start.
	snap := raftpb.Snapshot{
		Data:     (&metadata.Image{Offset: 1}).Encode(),
		Metadata: raftpb.SnapshotMetadata{Index: 1, Term: 1, ConfState: raftpb.ConfState{Voters: v.voterIDs()}},
	}
	w.rewrite(snap, raftpb.HardState{}, nil, func(err error) {
		if err == nil {
			err = v.startRaft(walState{snapshot: snap})
		}
		if err != nil {
			v.fail(err)
		}
	})
	return v, nil
}

// syncRecovered makes the recovered log durable before raft may act on
// it: what recovery read can be in the page cache without being on disk
// (a process crash, or a power loss that kept some unsynced pages), and a
// voter that acknowledged such an entry and then lost it in a second
// crash would break raft's promise (cluster-swarm seed 9013728: voter 1
// came back with entry 20, was counted for it, crashed again, came back
// without it, and the leader's heartbeat made its raft panic). PostgreSQL
// and etcd sync their logs at startup for the same reason. No Ready, and
// so no message, is handled until the sync is done.
func (v *Voter) syncRecovered() {
	v.busy = true
	v.wal.f.Sync(func(err error) {
		if v.stopped {
			return
		}
		if err != nil {
			v.fail(fmt.Errorf("controller: wal sync after recovery: %w", err))
			return
		}
		v.busy = false
		v.schedule()
	})
}

func (v *Voter) voterIDs() []uint64 {
	ids := make([]uint64, len(v.cfg.Voters))
	for i, p := range v.cfg.Voters {
		ids[i] = p.ID
	}
	return ids
}

// startRaft rebuilds raft's storage and the image from the recovered log.
func (v *Voter) startRaft(st walState) error {
	if v.stopped {
		return ErrStopped
	}
	ms := raft.NewMemoryStorage()
	img := &metadata.Image{}
	if !raft.IsEmptySnap(st.snapshot) {
		if err := ms.ApplySnapshot(st.snapshot); err != nil {
			return err
		}
		var err error
		if img, err = metadata.DecodeImage(st.snapshot.Data); err != nil {
			return err
		}
		v.conf = st.snapshot.Metadata.ConfState
		v.applied = st.snapshot.Metadata.Index
	}
	for _, e := range st.entries {
		last, _ := ms.LastIndex()
		if e.Index > last+1 {
			return fmt.Errorf("%w: entry %d after %d", ErrWALCorrupt, e.Index, last)
		}
		if err := ms.Append([]raftpb.Entry{e}); err != nil {
			return err
		}
	}
	if !isEmptyHardState(st.hard) {
		last, _ := ms.LastIndex()
		if st.hard.Commit > last {
			return fmt.Errorf("%w: commit %d beyond last entry %d", ErrWALCorrupt, st.hard.Commit, last)
		}
		if err := ms.SetHardState(st.hard); err != nil {
			return err
		}
		v.hard = st.hard
	}
	rn, err := raft.NewRawNode(&raft.Config{
		ID:                        v.cfg.ID,
		ElectionTick:              v.cfg.ElectionTicks,
		HeartbeatTick:             v.cfg.HeartbeatTicks,
		Storage:                   ms,
		Applied:                   v.applied,
		MaxSizePerMsg:             1 << 20,
		MaxInflightMsgs:           64,
		MaxUncommittedEntriesSize: 64 << 20,
		CheckQuorum:               true,
		PreVote:                   true,
		DisableProposalForwarding: true,
		Logger:                    raftLogger{v.log},
	})
	if err != nil {
		return err
	}
	img.UncleanElectionBug = v.cfg.Bugs.Has(bugzoo.UncleanElection) // bugzoo: test-only deliberate bug
	v.ms, v.img, v.rn = ms, img, rn
	v.arm()
	v.schedule()
	return nil
}

func (v *Voter) arm() {
	v.ticker = v.h.AfterFunc(v.cfg.TickInterval, func() {
		if v.stopped {
			return
		}
		v.rn.Tick()
		v.leaderTick()
		v.schedule()
		v.arm()
	})
}

// schedule queues one process() after the current callback, coalescing the
// many events (messages, ticks, proposals) that make raft ready.
func (v *Voter) schedule() {
	if v.posted || v.stopped {
		return
	}
	v.posted = true
	v.h.Post(v.process)
}

// process handles one Ready in etcd raft's order: persist entries and
// HardState (waiting for the sync), then send messages, apply committed
// entries, Advance. Only one Ready is in flight at a time.
func (v *Voter) process() {
	v.posted = false
	if v.busy || v.stopped || v.rn == nil || !v.rn.HasReady() {
		return
	}
	rd := v.rn.Ready()
	v.busy = true
	if rd.SoftState != nil {
		v.onSoftState(rd.SoftState)
	}
	persisted := func(err error) {
		if v.stopped {
			return
		}
		if err != nil {
			v.fail(err)
			return
		}
		v.afterPersist(rd)
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		hs := v.hard
		if !raft.IsEmptyHardState(rd.HardState) {
			hs = rd.HardState
		}
		v.wal.rewrite(rd.Snapshot, hs, rd.Entries, persisted)
		return
	}
	v.wal.append(rd.Entries, rd.HardState, rd.MustSync, persisted)
}

func (v *Voter) afterPersist(rd raft.Ready) {
	if !raft.IsEmptySnap(rd.Snapshot) {
		if err := v.ms.ApplySnapshot(rd.Snapshot); err != nil && !errors.Is(err, raft.ErrSnapOutOfDate) {
			v.fail(err)
			return
		}
		img, err := metadata.DecodeImage(rd.Snapshot.Data)
		if err != nil {
			v.fail(err)
			return
		}
		img.UncleanElectionBug = v.cfg.Bugs.Has(bugzoo.UncleanElection) // bugzoo: test-only deliberate bug
		v.img, v.applied, v.conf = img, rd.Snapshot.Metadata.Index, rd.Snapshot.Metadata.ConfState
	}
	if len(rd.Entries) > 0 {
		if err := v.ms.Append(rd.Entries); err != nil {
			v.fail(err)
			return
		}
	}
	if !raft.IsEmptyHardState(rd.HardState) {
		v.hard = rd.HardState
		v.ms.SetHardState(rd.HardState)
	}
	v.send(rd.Messages)
	v.applyEntries(rd.CommittedEntries)
	v.rn.Advance(rd)
	v.maybeCompact(func() {
		v.busy = false
		v.schedule()
	})
}

func (v *Voter) applyEntries(ents []raftpb.Entry) {
	for _, e := range ents {
		if e.Index <= v.applied {
			continue // covered by an installed snapshot
		}
		switch e.Type {
		case raftpb.EntryNormal:
			if len(e.Data) == 0 {
				v.img.SetOffset(int64(e.Index))
				break
			}
			rec, err := metadata.DecodeRecord(e.Data)
			if err != nil {
				// Every replica decodes the same bytes, so all skip it alike.
				v.log.Error("undecodable metadata record", "offset", e.Index, "err", err)
				v.img.SetOffset(int64(e.Index))
				break
			}
			res := v.img.Apply(int64(e.Index), &rec)
			v.onApplied(int64(e.Index), &rec, res)
		case raftpb.EntryConfChange:
			var cc raftpb.ConfChange
			if err := cc.Unmarshal(e.Data); err == nil {
				v.conf = *v.rn.ApplyConfChange(cc)
			}
			v.img.SetOffset(int64(e.Index))
		case raftpb.EntryConfChangeV2:
			var cc raftpb.ConfChangeV2
			if err := cc.Unmarshal(e.Data); err == nil {
				v.conf = *v.rn.ApplyConfChange(cc)
			}
			v.img.SetOffset(int64(e.Index))
		}
		v.applied = e.Index
	}
	if len(ents) > 0 {
		v.wakeFetchers()
	}
}

func (v *Voter) onApplied(offset int64, rec *metadata.Record, res metadata.Result) {
	v.lead.applied(v, rec, res)
	if rec.Proposer == v.proposer {
		if p := v.pending[rec.Seq]; p != nil {
			delete(v.pending, rec.Seq)
			p.timer.Stop()
			p.done(res, nil)
		}
	}
	if v.OnApply != nil {
		v.OnApply(offset, rec, res)
	}
}

// maybeCompact snapshots the image and rewrites the log once the log file
// has grown past SnapshotBytes.
func (v *Voter) maybeCompact(done func()) {
	first, _ := v.ms.FirstIndex()
	if v.wal.size < v.cfg.SnapshotBytes || v.applied < first {
		done()
		return
	}
	if v.img.Offset != int64(v.applied) {
		panic(fmt.Sprintf("controller: image at %d, applied %d", v.img.Offset, v.applied))
	}
	snap, err := v.ms.CreateSnapshot(v.applied, &v.conf, v.img.Encode())
	if err != nil {
		v.fail(err)
		return
	}
	if err := v.ms.Compact(v.applied); err != nil {
		v.fail(err)
		return
	}
	last, _ := v.ms.LastIndex()
	var ents []raftpb.Entry
	if last > v.applied {
		if ents, err = v.ms.Entries(v.applied+1, last+1, 1<<62); err != nil {
			v.fail(err)
			return
		}
	}
	v.log.Debug("raft log compacted", "index", v.applied, "kept", len(ents))
	v.wal.rewrite(snap, v.hard, ents, func(err error) {
		if v.stopped {
			return
		}
		if err != nil {
			v.fail(err)
			return
		}
		done()
	})
}

// Propose replicates rec (as the active controller) and calls done with its
// verdict once it is applied here, or with an error wrapping
// kerr.NotController or kerr.RequestTimedOut when the outcome is unknown.
func (v *Voter) Propose(rec metadata.Record, done func(metadata.Result, error)) {
	if v.stopped || v.rn == nil {
		done(metadata.Result{}, ErrStopped)
		return
	}
	if !v.IsLeader() {
		done(metadata.Result{}, ErrNotController)
		return
	}
	v.seq++
	seq := v.seq
	rec.Proposer, rec.Seq = v.proposer, seq
	if err := v.rn.Propose(rec.Encode(nil)); err != nil {
		done(metadata.Result{}, fmt.Errorf("%w: %v", ErrNotController, err))
		return
	}
	p := &proposal{done: done}
	p.timer = v.h.AfterFunc(v.cfg.ProposalTimeout, func() {
		if v.pending[seq] == p {
			delete(v.pending, seq)
			done(metadata.Result{}, fmt.Errorf("controller: %w", kerr.RequestTimedOut))
		}
	})
	v.pending[seq] = p
	v.schedule()
}

func (v *Voter) onSoftState(ss *raft.SoftState) {
	if ss.RaftState != raft.StateLeader {
		v.failPending(ErrNotController)
	}
}

// failPending answers every pending proposal with err (their records may
// still commit: the outcome is unknown to the requester).
func (v *Voter) failPending(err error) {
	for _, seq := range slices.Sorted(maps.Keys(v.pending)) {
		p := v.pending[seq]
		delete(v.pending, seq)
		p.timer.Stop()
		p.done(metadata.Result{}, err)
	}
}

func (v *Voter) fail(err error) {
	if v.stopped {
		return
	}
	v.log.Error("controller voter failed; restart it", "err", err)
	v.err = err
	v.Stop()
}

// Stop shuts the voter down: no more ticks, messages or requests. Unsynced
// log writes are left to the disk (a clean stop keeps the page cache).
func (v *Voter) Stop() {
	if v.stopped {
		return
	}
	v.stopped = true
	if v.ticker != nil {
		v.ticker.Stop()
	}
	v.listener.Close()
	for _, p := range v.peers {
		if p.conn != nil {
			p.conn.Close()
		}
	}
	v.failPending(ErrStopped)
	v.wal.close()
}

// ID is this voter's raft ID.
func (v *Voter) ID() uint64 { return v.cfg.ID }

// Addr is this voter's controller address.
func (v *Voter) Addr() string { return v.cfg.addrOf(v.cfg.ID) }

// Err is why the voter failed (nil while it runs).
func (v *Voter) Err() error { return v.err }

// IsLeader reports whether this voter is the active controller.
func (v *Voter) IsLeader() bool {
	return v.rn != nil && !v.stopped && v.rn.BasicStatus().RaftState == raft.StateLeader
}

// Leader is the raft ID of the leader this voter knows (0: none).
func (v *Voter) Leader() uint64 {
	if v.rn == nil || v.stopped {
		return 0
	}
	return v.rn.BasicStatus().Lead
}

// Term is the current raft term.
func (v *Voter) Term() uint64 {
	if v.rn == nil {
		return 0
	}
	return v.rn.BasicStatus().Term
}

// Committed is the raft commit index known here.
func (v *Voter) Committed() uint64 {
	if v.rn == nil {
		return 0
	}
	return v.rn.BasicStatus().Commit
}

// Applied is the offset of the last entry applied to the image.
func (v *Voter) Applied() uint64 { return v.applied }

// Image is the metadata image at Applied. The voter owns it: read it on the
// loop, do not keep or modify it (Clone it).
func (v *Voter) Image() *metadata.Image { return v.img }
