package controller

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/loglab/loglab/broker/bugzoo"
	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/host"
	"github.com/twmb/franz-go/pkg/kerr"
)

// FollowerConfig configures a Follower.
type FollowerConfig struct {
	// BrokerID registers and heartbeats as this broker; negative: observe
	// the metadata log only.
	BrokerID int32
	// Addr is the broker's client address (host:port) published in the
	// registration; Rack is optional.
	Addr string
	Rack string
	// Controllers are the voters' controller addresses.
	Controllers []string
	// HeartbeatInterval (500ms), FetchMaxWait (500ms: how long a voter may
	// hold a fetch with nothing new), RetryBackoff (100ms) and
	// RequestTimeout (2s, on top of FetchMaxWait for fetches).
	HeartbeatInterval time.Duration
	FetchMaxWait      time.Duration
	RetryBackoff      time.Duration
	RequestTimeout    time.Duration
	// OnChange is called after the image changed: a snapshot replaced it
	// (records nil) or records were applied (in offset order).
	OnChange func(img *metadata.Image, records []FetchedRecord)
	// Bugs: the bug zoo's switches (test-only; package bugzoo). Only
	// "unclean-election" matters here: it must equal the voters' so that
	// this follower's Image reaches the voters' verdicts.
	Bugs bugzoo.Set
}

// Follower is what a broker embeds to take part in the cluster: it
// registers with the active controller and heartbeats to it, and it follows
// the committed metadata log by fetching it, keeping an Image in offset
// order. It also submits a broker's own metadata writes (AlterPartition,
// CreateTopic on behalf of clients, ...).
//
// Brokers fetch the log instead of joining raft as learners: this is how
// KRaft brokers follow __cluster_metadata, it needs no membership change per
// broker (a restarted broker with an empty disk simply fetches again, from a
// snapshot), and a follower only ever sees committed records, so it never has
// to truncate its image.
//
// The follower talks to one voter at a time. Any voter serves fetches; a
// non-leader answers registrations, heartbeats and writes with
// NOT_CONTROLLER and the leader's address, and the follower moves there.
// On a lost connection or timeout it moves to the next voter after
// RetryBackoff.
type Follower struct {
	h   host.Host
	cfg FollowerConfig
	log *slog.Logger

	incarnation uint64
	img         *metadata.Image

	target   string
	next     int // index into Controllers for the next rotation
	conn     host.Conn
	corr     uint32
	inflight map[uint32]*call
	closed   bool

	registered  bool
	registering bool
	epoch       int64
	fenced      bool
	beating     bool
	fetching    bool
	beatTimer   host.Timer
}

type call struct {
	done  func(Response, error)
	timer host.Timer
}

// ErrConnLost: the request's connection to the voter closed or timed out
// before an answer; its outcome is unknown.
var ErrConnLost = errors.New("controller: connection to controller lost")

// NewFollower starts a follower on h.
func NewFollower(h host.Host, cfg FollowerConfig) (*Follower, error) {
	if len(cfg.Controllers) == 0 {
		return nil, fmt.Errorf("%w: no controllers", ErrConfig)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.HeartbeatInterval, 500*time.Millisecond)
	def(&cfg.FetchMaxWait, 500*time.Millisecond)
	def(&cfg.RetryBackoff, 100*time.Millisecond)
	def(&cfg.RequestTimeout, 2*time.Second)
	f := &Follower{
		h: h, cfg: cfg, log: h.Logger().With("component", "metadata-follower"),
		incarnation: h.Rand().Uint64() | 1,
		img:         &metadata.Image{UncleanElectionBug: cfg.Bugs.Has(bugzoo.UncleanElection)}, // bugzoo: test-only deliberate bug
		inflight:    map[uint32]*call{},
	}
	f.target = cfg.Controllers[0]
	f.next = 1 % len(cfg.Controllers)
	f.kick()
	f.beatTimer = h.AfterFunc(cfg.HeartbeatInterval, f.onBeatTimer)
	return f, nil
}

// Image is the metadata image at the last fetched offset. The follower
// owns it: read it on the loop; Clone it to keep it.
func (f *Follower) Image() *metadata.Image { return f.img }

// Offset is the last metadata offset applied.
func (f *Follower) Offset() int64 { return f.img.Offset }

// Registered reports whether the broker holds a broker epoch.
func (f *Follower) Registered() bool { return f.registered }

// BrokerEpoch is the epoch of the current registration (0 before).
func (f *Follower) BrokerEpoch() int64 { return f.epoch }

// Fenced is the fencing state the controller last reported (true until the
// first heartbeat answer after registration).
func (f *Follower) Fenced() bool { return !f.registered || f.fenced }

// Incarnation identifies this process's registration (random per start).
func (f *Follower) Incarnation() uint64 { return f.incarnation }

// Close stops the follower; pending Submit callbacks get ErrConnLost.
func (f *Follower) Close() {
	if f.closed {
		return
	}
	f.closed = true
	f.beatTimer.Stop()
	if f.conn != nil {
		f.conn.Close()
	}
	f.failInflight()
}

// Submit sends a metadata write (CreateTopic, DeleteTopic, AlterPartition,
// ElectLeaders) to the active controller and calls done with its verdict.
// err (ErrConnLost, or wrapping kerr.NotController / kerr.RequestTimedOut)
// means the outcome is unknown; the caller decides whether to retry.
func (f *Follower) Submit(rec metadata.Record, done func(metadata.Result, error)) {
	f.request(Request{Op: OpWrite, Record: rec.Encode(nil)}, f.cfg.RequestTimeout, func(resp Response, err error) {
		switch {
		case err != nil:
			done(metadata.Result{}, err)
		case resp.ErrorCode != 0:
			f.maybeFollowLeader(resp)
			done(metadata.Result{}, fmt.Errorf("controller: %w", kerr.ErrorForCode(resp.ErrorCode)))
		case resp.Result == nil:
			done(metadata.Result{}, fmt.Errorf("controller: %w", kerr.UnknownServerError))
		default:
			done(FromWire(resp.Result), nil)
		}
	})
}

// kick starts whatever is due: registration, then fetching.
func (f *Follower) kick() {
	if f.closed {
		return
	}
	if f.cfg.BrokerID >= 0 && !f.registered && !f.registering {
		f.register()
	}
	if !f.fetching {
		f.fetch()
	}
}

func (f *Follower) register() {
	f.registering = true
	req := Request{Op: OpRegister, BrokerID: f.cfg.BrokerID, Addr: f.cfg.Addr, Rack: f.cfg.Rack, Incarnation: f.incarnation}
	f.request(req, f.cfg.RequestTimeout, func(resp Response, err error) {
		f.registering = false
		if err == nil && resp.ErrorCode == 0 {
			f.registered, f.epoch, f.fenced = true, resp.BrokerEpoch, true
			f.log.Info("registered", "broker", f.cfg.BrokerID, "epoch", f.epoch)
			f.heartbeat()
			return
		}
		if err == nil {
			f.maybeFollowLeader(resp)
		}
		f.later(f.kick)
	})
}

func (f *Follower) onBeatTimer() {
	if f.closed {
		return
	}
	f.beatTimer = f.h.AfterFunc(f.cfg.HeartbeatInterval, f.onBeatTimer)
	if f.registered {
		f.heartbeat()
	}
}

func (f *Follower) heartbeat() {
	if f.beating {
		return
	}
	f.beating = true
	req := Request{Op: OpHeartbeat, BrokerID: f.cfg.BrokerID, BrokerEpoch: f.epoch, MetadataOffset: f.img.Offset}
	f.request(req, f.cfg.RequestTimeout, func(resp Response, err error) {
		f.beating = false
		if err != nil {
			return
		}
		switch resp.ErrorCode {
		case 0:
			f.fenced = resp.Fenced
		case kerr.StaleBrokerEpoch.Code, kerr.BrokerIDNotRegistered.Code:
			f.registered = false
			f.kick()
		default:
			f.maybeFollowLeader(resp)
		}
	})
}

func (f *Follower) fetch() {
	f.fetching = true
	req := Request{Op: OpFetch, FetchOffset: f.img.Offset + 1, MaxWaitMs: f.cfg.FetchMaxWait.Milliseconds()}
	f.request(req, f.cfg.FetchMaxWait+f.cfg.RequestTimeout, func(resp Response, err error) {
		f.fetching = false
		if err != nil || resp.ErrorCode != 0 {
			f.later(f.kick)
			return
		}
		f.applyFetch(resp)
		f.kick()
	})
}

func (f *Follower) applyFetch(resp Response) {
	if resp.Snapshot != nil {
		img, err := metadata.DecodeImage(resp.Snapshot)
		if err != nil || img.Offset < f.img.Offset {
			f.log.Warn("bad metadata snapshot", "err", err)
			return
		}
		img.UncleanElectionBug = f.cfg.Bugs.Has(bugzoo.UncleanElection) // bugzoo: test-only deliberate bug
		f.img = img
		if f.cfg.OnChange != nil {
			f.cfg.OnChange(f.img, nil)
		}
		return
	}
	var applied []FetchedRecord
	for _, r := range resp.Records {
		if r.Offset <= f.img.Offset {
			continue
		}
		rec, err := metadata.DecodeRecord(r.Data)
		if err != nil {
			f.img.SetOffset(r.Offset) // every voter skipped it too
			continue
		}
		f.img.Apply(r.Offset, &rec)
		applied = append(applied, r)
	}
	f.img.SetOffset(resp.HighOffset)
	if len(applied) > 0 && f.cfg.OnChange != nil {
		f.cfg.OnChange(f.img, applied)
	}
}

// maybeFollowLeader switches to the leader a NOT_CONTROLLER answer names.
func (f *Follower) maybeFollowLeader(resp Response) {
	if resp.ErrorCode != kerr.NotController.Code {
		return
	}
	if resp.LeaderAddr != "" && resp.LeaderAddr != f.target {
		f.switchTo(resp.LeaderAddr)
		return
	}
	if resp.LeaderAddr == "" {
		f.rotate()
	}
}

func (f *Follower) rotate() {
	f.switchTo(f.cfg.Controllers[f.next])
	f.next = (f.next + 1) % len(f.cfg.Controllers)
}

func (f *Follower) switchTo(addr string) {
	f.target = addr
	if f.conn != nil {
		c := f.conn
		f.conn = nil
		c.Close()
		f.failInflight()
	}
}

func (f *Follower) later(fn func()) {
	f.h.AfterFunc(f.cfg.RetryBackoff, func() {
		if !f.closed {
			fn()
		}
	})
}

func (f *Follower) request(req Request, timeout time.Duration, done func(Response, error)) {
	if f.closed {
		done(Response{}, ErrConnLost)
		return
	}
	if f.conn == nil {
		f.conn = f.h.Net().Dial(f.target, host.DialOptions{Timeout: f.cfg.RequestTimeout}, followerConn{f})
	}
	f.corr++
	corr := f.corr
	c := &call{done: done}
	conn := f.conn
	c.timer = f.h.AfterFunc(timeout, func() {
		if f.inflight[corr] == c && f.conn == conn {
			// A silent voter (paused, partitioned): drop it and move on.
			f.conn = nil
			conn.Close()
			f.rotate()
			f.failInflight()
		}
	})
	f.inflight[corr] = c
	if err := conn.Send(encodeCall(kindRequest, corr, req)); err != nil {
		delete(f.inflight, corr)
		c.timer.Stop()
		done(Response{}, ErrConnLost)
	}
}

func (f *Follower) failInflight() {
	for _, corr := range slices.Sorted(maps.Keys(f.inflight)) {
		c := f.inflight[corr]
		delete(f.inflight, corr)
		c.timer.Stop()
		c.done(Response{}, ErrConnLost)
	}
}

type followerConn struct{ f *Follower }

func (fc followerConn) OnFrame(c host.Conn, frame []byte) {
	f := fc.f
	if c != f.conn || len(frame) == 0 || frame[0] != kindResponse {
		return
	}
	var resp Response
	corr, err := decodeCall(frame, &resp)
	if err != nil {
		f.log.Warn("bad controller response", "err", err)
		return
	}
	call := f.inflight[corr]
	if call == nil {
		return
	}
	delete(f.inflight, corr)
	call.timer.Stop()
	call.done(resp, nil)
}

func (fc followerConn) OnClose(c host.Conn, err error) {
	f := fc.f
	if c != f.conn {
		return
	}
	f.conn = nil
	f.rotate()
	f.failInflight()
}
