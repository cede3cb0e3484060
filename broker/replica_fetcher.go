package broker

// The follower's side of replication (Kafka's ReplicaFetcherThread, on the
// node's loop): one replicaFetcher per leader broker, one connection to
// that broker's client listener, speaking Kafka's wire protocol with
// ReplicaID = this broker's id. One request is in flight at a time.
//
// A partition that starts following first truncates (KIP-101/KIP-279):
// OffsetForLeaderEpoch (v4) with its latest epoch and the current leader
// epoch, then truncation to min(leader's end offset, our own end offset for
// the epoch the leader returned, our log end offset); when the leader
// returns an epoch we do not have, we truncate to the end of our largest
// epoch below it and ask again. A leader answer UNDEFINED (it has no epoch
// at or below ours) truncates to our high watermark, as Kafka does; a log
// with no epochs at all (empty: every batch here carries an epoch) skips
// truncation. Then it fetches (Fetch v12, full fetches: session 0, epoch
// -1; MaxWait = replica.fetch.wait.max.ms), appends with the leader's
// offsets and epochs, and takes high watermark = min(leader's, own log end
// offset).
//
// Errors: FENCED_LEADER_EPOCH, NOT_LEADER_OR_FOLLOWER, UNKNOWN_LEADER_EPOCH
// and the like pause the partition for replica.fetch.backoff.ms (the image
// usually changes its role meanwhile); OFFSET_OUT_OF_RANGE truncates again
// by epoch; a lost connection is redialled after replica.fetch.backoff.ms.
// Simplification: a follower whose log end offset is below the leader's
// log start offset (the leader deleted what it needs by retention) keeps
// getting OFFSET_OUT_OF_RANGE; Kafka would restart its log there.

import (
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	plog "github.com/loglab/loglab/broker/log"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire"
	"github.com/loglab/loglab/wire/batch"
)

// followState is a partition's state while this broker follows a leader.
type followState struct {
	f          *replicaFetcher
	truncating bool          // OffsetForLeaderEpoch is due before fetching
	retryAt    time.Duration // paused until then (monotonic)
	// syncing: paused until what it appended is durable (flush.messages=1):
	// its next fetch tells the leader it holds it.
	syncing bool
}

// syncPollMs caps a fetch's long poll while a partition of the fetcher
// waits for its sync: one request is in flight at a time, so a long poll
// for the others (replica.fetch.wait.max.ms, 500 ms) would hold that
// partition's next fetch back until it returned. A follower behind under
// flush.messages=1 then fetched twice a second, always half a second of
// production behind the high watermark, and stayed out of the ISR until
// the producers stopped (cluster-swarm seed 8: 30.9 s after the repair,
// past liveness.converge).
const syncPollMs = 10

type replicaFetcher struct {
	b      *Broker
	leader int32
	addr   string
	conn   host.Conn
	parts  []*partition // in topic, partition order
	corr   int32
	// inflight is the correlation id awaited (0: none); onResp handles it.
	inflight int32
	onResp   func(frame []byte)
	reqTimer host.Timer
	wake     host.Timer // a backoff or retry pause
	closed   bool
}

// startFollowing adds p to the fetcher of leader (creating it).
func (b *Broker) startFollowing(p *partition, leader int32, addr string) {
	f := b.fetchers[leader]
	if f != nil && f.addr != addr {
		f.close()
		delete(b.fetchers, leader)
		f = nil
	}
	if f == nil {
		f = &replicaFetcher{b: b, leader: leader, addr: addr}
		b.fetchers[leader] = f
	}
	fs := &followState{f: f, truncating: !b.bugFollowerTruncatesToHW(p)}
	p.follow = fs
	i, _ := slices.BinarySearchFunc(f.parts, p, comparePartitions)
	f.parts = slices.Insert(f.parts, i, p)
	// The new partition must not wait behind a pause armed for the
	// others: while a partition waits for its appends to be durable its
	// retry is an hour away, and if it moves to another leader before the
	// wait ends nothing else would cut that pause short (cluster-swarm
	// seed 1680: a fetcher wedged for the rest of the run).
	if f.wake != nil {
		f.wake.Stop()
		f.wake = nil
	}
	b.h.Post(f.kick)
}

func comparePartitions(a, b *partition) int {
	switch {
	case a.topic.name < b.topic.name:
		return -1
	case a.topic.name > b.topic.name:
		return 1
	}
	return int(a.index - b.index)
}

// stopFollowing removes p from its fetcher; an empty fetcher is closed by
// reconcile.
func (b *Broker) stopFollowing(p *partition) {
	if p.follow == nil {
		return
	}
	f := p.follow.f
	f.parts = slices.DeleteFunc(f.parts, func(x *partition) bool { return x == p })
	p.follow = nil
}

// truncate truncates p's log to offset (never above its end) and lowers
// the high watermark with it.
func (b *Broker) truncate(p *partition, offset int64) {
	if offset >= p.log.LogEndOffset() {
		return
	}
	b.log.Info("truncating follower log", "topic", p.topic.name, "partition", p.index, "from", p.log.LogEndOffset(), "to", offset)
	err := p.log.TruncateTo(offset)
	if errors.Is(err, plog.ErrCorruption) {
		// The batch to cut at cannot be read: drop the whole log and
		// refetch it. Committed records go with it, so until the log is
		// back above the high watermark this replica is suspect: elected
		// meanwhile, it asks the others before leading.
		b.log.Warn("truncation hit a corrupt batch; truncating the whole log", "topic", p.topic.name, "partition", p.index, "err", err)
		lost := p.hw
		err = p.log.TruncateTo(p.log.LogStartOffset())
		if err == nil {
			p.markSuspect(lost)
		}
	}
	if err != nil {
		b.log.Error("truncation failed", "topic", p.topic.name, "partition", p.index, "err", err)
		if takesOffline(err) {
			b.takeOffline(p, err)
		}
		return
	}
	p.hw = min(p.hw, p.log.LogEndOffset())
}

func (f *replicaFetcher) close() {
	if f.closed {
		return
	}
	f.closed = true
	f.stopTimers()
	if f.conn != nil {
		f.conn.Close()
		f.conn = nil
	}
	for _, p := range f.parts {
		if p.follow != nil && p.follow.f == f {
			p.follow = nil
		}
	}
	f.parts = nil
}

func (f *replicaFetcher) stopTimers() {
	if f.reqTimer != nil {
		f.reqTimer.Stop()
		f.reqTimer = nil
	}
	if f.wake != nil {
		f.wake.Stop()
		f.wake = nil
	}
}

// kick sends the next request if none is in flight and nothing pauses us.
func (f *replicaFetcher) kick() {
	if f.closed || f.inflight != 0 || f.wake != nil || f.b.stopping {
		return
	}
	now := f.b.h.Monotonic()
	var trunc, fetch []*partition
	next := time.Duration(-1)
	for _, p := range f.parts {
		fs := p.follow
		if p.offline != nil || p.log == nil {
			continue
		}
		if fs.retryAt > now {
			if next < 0 || fs.retryAt < next {
				next = fs.retryAt
			}
			continue
		}
		if fs.truncating {
			trunc = append(trunc, p)
		} else {
			fetch = append(fetch, p)
		}
	}
	switch {
	case len(trunc) > 0:
		f.sendEpochs(trunc)
	case len(fetch) > 0:
		f.sendFetch(fetch)
	case next >= 0:
		f.pause(next - now)
	}
}

func (f *replicaFetcher) pause(d time.Duration) {
	f.wake = f.b.h.AfterFunc(d, func() {
		f.wake = nil
		f.kick()
	})
}

func (f *replicaFetcher) backoff() time.Duration {
	return time.Duration(f.b.cfg.ReplicaFetchBackoffMs) * time.Millisecond
}

// send frames req (header v1, v2 when flexible) and arranges for handle
// to get the decoded response.
func (f *replicaFetcher) send(req kmsg.Request, timeout time.Duration, handle func(kmsg.Response)) {
	if f.conn == nil {
		f.conn = f.b.h.Net().Dial(f.addr, host.DialOptions{MaxFrameBytes: f.b.cfg.MaxFrameBytes}, f)
	}
	f.corr++
	corr := f.corr
	buf := wire.AppendRequest(nil, req, corr, "replica-fetcher")
	f.inflight = corr
	f.onResp = func(frame []byte) {
		resp, err := wire.ReadResponse(frame, req, corr)
		if err != nil {
			f.fail("undecodable response from leader: " + err.Error())
			return
		}
		handle(resp)
	}
	f.reqTimer = f.b.h.AfterFunc(timeout, func() {
		f.reqTimer = nil
		if f.inflight == corr {
			f.fail("request to leader timed out")
		}
	})
	if err := f.conn.Send(buf); err != nil {
		f.fail("send to leader failed: " + err.Error())
	}
}

// fail drops the connection and retries after replica.fetch.backoff.ms.
func (f *replicaFetcher) fail(why string) {
	if f.closed {
		return
	}
	f.b.log.Info("replica fetcher: connection to leader lost", "leader", f.leader, "addr", f.addr, "why", why)
	f.inflight, f.onResp = 0, nil
	f.stopTimers()
	if f.conn != nil {
		c := f.conn
		f.conn = nil
		c.Close()
	}
	f.pause(f.backoff())
}

func (f *replicaFetcher) OnFrame(c host.Conn, frame []byte) {
	corr, _, err := wire.ParseResponseHeader(frame, false)
	if f.closed || c != f.conn || err != nil || f.inflight == 0 {
		return
	}
	if corr != f.inflight {
		f.fail("response out of order")
		return
	}
	h := f.onResp
	f.inflight, f.onResp = 0, nil
	if f.reqTimer != nil {
		f.reqTimer.Stop()
		f.reqTimer = nil
	}
	h(frame)
	f.kick()
}

func (f *replicaFetcher) OnClose(c host.Conn, err error) {
	if f.closed || c != f.conn {
		return
	}
	f.conn = nil
	why := "closed"
	if err != nil {
		why = err.Error()
	}
	f.fail(why)
}

// pendingPart pairs a partition with the follow state a request was made
// for, so that an answer arriving after a role change is ignored.
type pendingPart struct {
	p  *partition
	fs *followState
}

func (pp pendingPart) current() bool {
	return pp.p.follow == pp.fs && pp.p.log != nil && pp.p.offline == nil
}

func (f *replicaFetcher) sendEpochs(parts []*partition) {
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.Version = 4
	req.ReplicaID = f.b.cfg.NodeID
	byTopic := map[string][]pendingPart{}
	var pending []pendingPart
	for _, p := range parts {
		if _, ok := p.log.LatestEpoch(); !ok {
			// No epochs: an empty log (every batch here has one). Nothing
			// to truncate.
			p.follow.truncating = false
			continue
		}
		byTopic[p.topic.name] = append(byTopic[p.topic.name], pendingPart{p, p.follow})
		pending = append(pending, pendingPart{p, p.follow})
	}
	if len(pending) == 0 {
		f.b.h.Post(f.kick)
		return
	}
	for _, name := range slices.Sorted(maps.Keys(byTopic)) {
		rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
		rt.Topic = name
		for _, pp := range byTopic[name] {
			rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
			rp.Partition = pp.p.index
			rp.CurrentLeaderEpoch = pp.p.leaderEpoch
			rp.LeaderEpoch, _ = pp.p.log.LatestEpoch()
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	f.send(req, 10*time.Second, func(r kmsg.Response) {
		resp := r.(*kmsg.OffsetForLeaderEpochResponse)
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				pp, ok := findPending(byTopic[rt.Topic], rp.Partition)
				if !ok || !pp.current() {
					continue
				}
				f.truncateByEpoch(pp.p, rp)
			}
		}
	})
}

func findPending(ps []pendingPart, index int32) (pendingPart, bool) {
	for _, pp := range ps {
		if pp.p.index == index {
			return pp, true
		}
	}
	return pendingPart{}, false
}

// truncateByEpoch applies the leader's OffsetForLeaderEpoch answer
// (Kafka's AbstractFetcherThread.getOffsetTruncationState).
func (f *replicaFetcher) truncateByEpoch(p *partition, rp kmsg.OffsetForLeaderEpochResponseTopicPartition) {
	b := f.b
	fs := p.follow
	if rp.ErrorCode != 0 {
		b.log.Info("OffsetForLeaderEpoch failed; retrying", "topic", p.topic.name, "partition", p.index, "err", kerr.ErrorForCode(rp.ErrorCode))
		fs.retryAt = b.h.Monotonic() + f.backoff()
		return
	}
	leo := p.log.LogEndOffset()
	switch {
	case rp.EndOffset < 0:
		b.truncate(p, min(p.hw, leo))
	case rp.LeaderEpoch < 0:
		b.truncate(p, min(rp.EndOffset, leo))
	default:
		fe, fend := p.log.EndOffsetForEpoch(rp.LeaderEpoch)
		switch {
		case fe < 0:
			b.truncate(p, min(rp.EndOffset, leo))
		case fe != rp.LeaderEpoch:
			// We do not know the leader's epoch: cut back to the end of
			// our largest epoch below it and ask again. If that removes
			// no epoch (the next one has no data yet), the end of our
			// data is within epoch fe: settle at the leader's end offset.
			before, _ := p.log.LatestEpoch()
			b.truncate(p, min(fend, leo))
			if after, _ := p.log.LatestEpoch(); after != before {
				return
			}
			b.truncate(p, min(rp.EndOffset, p.log.LogEndOffset()))
		default:
			b.truncate(p, min(fend, rp.EndOffset, leo))
		}
	}
	fs.truncating = false
}

func (f *replicaFetcher) sendFetch(parts []*partition) {
	b := f.b
	req := kmsg.NewPtrFetchRequest()
	req.Version = 12
	req.ReplicaID = b.cfg.NodeID
	req.MaxWaitMillis = int32(b.cfg.ReplicaFetchWaitMaxMs)
	for _, p := range f.parts {
		if p.follow != nil && p.follow.syncing {
			req.MaxWaitMillis = min(req.MaxWaitMillis, syncPollMs)
		}
	}
	req.MinBytes = 1
	req.MaxBytes = 10 << 20
	req.SessionID, req.SessionEpoch = 0, -1
	byTopic := map[string][]pendingPart{}
	for _, p := range parts {
		byTopic[p.topic.name] = append(byTopic[p.topic.name], pendingPart{p, p.follow})
	}
	for _, name := range slices.Sorted(maps.Keys(byTopic)) {
		rt := kmsg.NewFetchRequestTopic()
		rt.Topic = name
		for _, pp := range byTopic[name] {
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.Partition = pp.p.index
			rp.CurrentLeaderEpoch = pp.p.leaderEpoch
			rp.FetchOffset = pp.p.log.LogEndOffset()
			rp.LogStartOffset = pp.p.log.LogStartOffset()
			rp.PartitionMaxBytes = 1 << 20
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	timeout := time.Duration(b.cfg.ReplicaFetchWaitMaxMs)*time.Millisecond + 10*time.Second
	f.send(req, timeout, func(r kmsg.Response) {
		resp := r.(*kmsg.FetchResponse)
		if resp.ErrorCode != 0 {
			f.b.log.Info("replica fetch failed", "leader", f.leader, "err", kerr.ErrorForCode(resp.ErrorCode))
			f.pause(f.backoff())
			return
		}
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				pp, ok := findPending(byTopic[rt.Topic], rp.Partition)
				if !ok || !pp.current() {
					continue
				}
				f.applyFetched(pp.p, &rp)
			}
		}
	})
}

// applyFetched appends what the leader sent for p.
func (f *replicaFetcher) applyFetched(p *partition, rp *kmsg.FetchResponseTopicPartition) {
	b := f.b
	fs := p.follow
	now := b.h.Monotonic()
	switch rp.ErrorCode {
	case 0:
	case kerr.OffsetOutOfRange.Code:
		b.log.Info("follower fetch offset out of range; truncating by epoch again", "topic", p.topic.name, "partition", p.index, "log_end_offset", p.log.LogEndOffset())
		fs.truncating = true
		fs.retryAt = now + f.backoff()
		return
	default:
		fs.retryAt = now + f.backoff()
		return
	}
	if at, e, ok := epochAbove(rp.RecordBatches, p.leaderEpoch); ok && !b.bugTrustEpochField() {
		// A leader in epoch p.leaderEpoch cannot have written it: the
		// leader's copy rotted where the CRC does not reach.
		b.log.Warn("follower fetch refused: a batch from a leader epoch newer than the leader's", "topic", p.topic.name, "partition", p.index,
			"offset", at, "batch_epoch", e, "leader_epoch", p.leaderEpoch)
		fs.retryAt = now + f.backoff()
		return
	}
	if len(rp.RecordBatches) > 0 {
		if err := p.log.AppendAsFollower(rp.RecordBatches); err != nil {
			switch {
			case errors.Is(err, plog.ErrTruncationPending):
				fs.retryAt = now + 10*time.Millisecond
			case takesOffline(err):
				b.takeOffline(p, err)
			default:
				b.log.Warn("follower append refused; truncating by epoch again", "topic", p.topic.name, "partition", p.index, "err", err)
				fs.truncating = true
				fs.retryAt = now + f.backoff()
			}
			return
		}
	}
	p.hw = max(min(rp.HighWatermark, p.log.LogEndOffset()), 0)
	p.maybeUnsuspect(rp.HighWatermark)
	if len(rp.RecordBatches) > 0 && p.topic.cfg.SyncsEveryAppend() {
		// As Kafka's follower flushes inside its append under
		// flush.messages=1, fetch on (and so report the new end offset)
		// only once it is durable.
		fs.retryAt, fs.syncing = now+time.Hour, true
		p.log.WhenDurable(p.log.LogEndOffset(), func(err error) {
			fs.syncing = false
			if err != nil && takesOffline(err) {
				b.takeOffline(p, err)
			}
			if p.follow == fs {
				fs.retryAt = 0
				if f.wake != nil {
					f.wake.Stop()
					f.wake = nil
				}
				f.kick()
			}
		})
	}
}

// epochAbove finds the first batch in data whose leader epoch is above
// epoch: its base offset and epoch.
func epochAbove(data []byte, epoch int32) (offset int64, e int32, ok bool) {
	it := batch.Iterate(data)
	for it.Next() {
		if h := it.Header(); h.PartitionLeaderEpoch > epoch {
			return h.BaseOffset, h.PartitionLeaderEpoch, true
		}
	}
	return 0, 0, false
}
