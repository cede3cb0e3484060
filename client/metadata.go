package client

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicMeta is what the last Metadata response said about a topic.
type topicMeta struct {
	err        error // topic-level error (UNKNOWN_TOPIC_OR_PARTITION...)
	partitions []partitionMeta
}

type partitionMeta struct {
	leader      int32 // -1: none
	leaderEpoch int32
	err         error
}

// needMetadata asks for a refresh as soon as allowed: one Metadata request
// at a time, and no sooner than RetryBackoff after the previous one ended,
// so a storm of NOT_LEADER answers causes one refresh, not one per record.
func (cl *Client) needMetadata() {
	if cl.closed {
		return
	}
	cl.metaWanted = true
	if cl.metaInFlight || cl.metaTimer != nil {
		return
	}
	wait := cl.metaLast + cl.cfg.RetryBackoff - cl.h.Monotonic()
	if !cl.metaDone || wait <= 0 {
		cl.sendMetadata()
		return
	}
	cl.metaTimer = cl.h.AfterFunc(wait, func() {
		cl.metaTimer = nil
		if cl.metaWanted {
			cl.sendMetadata()
		}
	})
}

// metadataCandidates are the addresses to ask: known brokers by node id,
// then the bootstrap list, without duplicates.
func (cl *Client) metadataCandidates() []string {
	var out []string
	for _, id := range slices.Sorted(maps.Keys(cl.brokers)) {
		out = append(out, cl.brokers[id])
	}
	for _, a := range cl.cfg.Bootstrap {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func (cl *Client) sendMetadata() {
	cands := cl.metadataCandidates()
	if len(cands) == 0 {
		cl.log.Error("no bootstrap address")
		return
	}
	// Prefer an address with a live connection; otherwise rotate so a dead
	// broker is not asked forever.
	addr := ""
	for _, a := range cands {
		if bc := cl.conns[connKey{a, connGeneral}]; bc != nil && bc.versions != nil {
			addr = a
			break
		}
	}
	if addr == "" {
		addr = cands[cl.metaRotate%len(cands)]
		cl.metaRotate++
	}
	cl.metaWanted = false
	cl.metaInFlight = true
	req := kmsg.NewPtrMetadataRequest()
	topics := slices.Sorted(maps.Keys(cl.wantTopics))
	req.AllowAutoTopicCreation = cl.cfg.AllowAutoTopicCreation
	req.Topics = []kmsg.MetadataRequestTopic{} // empty, not nil: nil asks for every topic
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	cl.request(addr, connGeneral, req, cl.cfg.RequestTimeout, func(resp kmsg.Response, err error) {
		cl.metaInFlight = false
		cl.metaLast, cl.metaDone = cl.h.Monotonic(), true
		if err != nil {
			cl.log.Debug("metadata failed", "addr", addr, "err", err)
			cl.metaRotate++
			cl.needMetadata()
			return
		}
		cl.applyMetadata(resp.(*kmsg.MetadataResponse))
		if cl.metaWanted {
			cl.needMetadata()
		}
	})
}

func (cl *Client) applyMetadata(r *kmsg.MetadataResponse) {
	for _, b := range r.Brokers {
		cl.brokers[b.NodeID] = joinHostPort(b.Host, b.Port)
	}
	for _, t := range r.Topics {
		if t.Topic == nil {
			continue
		}
		tm := &topicMeta{err: kerr.ErrorForCode(t.ErrorCode)}
		if tm.err == nil {
			n := int32(0)
			for _, p := range t.Partitions {
				n = max(n, p.Partition+1)
			}
			tm.partitions = make([]partitionMeta, n)
			for i := range tm.partitions {
				tm.partitions[i] = partitionMeta{leader: -1, leaderEpoch: -1}
			}
			for _, p := range t.Partitions {
				if p.Partition < 0 {
					continue
				}
				tm.partitions[p.Partition] = partitionMeta{leader: p.Leader, leaderEpoch: p.LeaderEpoch, err: kerr.ErrorForCode(p.ErrorCode)}
			}
		}
		keepNewerEpochs(tm, cl.topics[*t.Topic])
		if tm.err != nil || slices.ContainsFunc(tm.partitions, func(p partitionMeta) bool { return p.leader < 0 }) {
			cl.metaWanted = true // retry after the backoff until every leader is known
		}
		cl.topics[*t.Topic] = tm
	}
	// Periodic refresh: metadata goes stale without errors too (a new
	// partition, a moved leader we have not talked to).
	if cl.metaAge != nil {
		cl.metaAge.Stop()
	}
	cl.metaAge = cl.h.AfterFunc(cl.cfg.MetadataMaxAge, cl.needMetadata)
	cl.routeUnrouted()
	cl.schedulePump()
}

// keepNewerEpochs keeps what we knew of a partition when a Metadata answer
// carries an older leader epoch for it (KIP-320): brokers follow the
// metadata log at their own pace, and one that lags must not send us back
// to a leader that has been replaced.
func keepNewerEpochs(fresh, old *topicMeta) {
	if old == nil || fresh.err != nil || old.err != nil {
		return
	}
	for i := range min(len(fresh.partitions), len(old.partitions)) {
		if o := old.partitions[i]; o.leaderEpoch > fresh.partitions[i].leaderEpoch && fresh.partitions[i].leaderEpoch >= 0 {
			fresh.partitions[i] = o
		}
	}
}

// leaderEpoch is the partition's leader epoch as metadata last named it, or
// -1 (unknown: the broker skips the fencing check).
func (cl *Client) leaderEpoch(topic string, partition int32) int32 {
	tm := cl.topics[topic]
	if tm == nil || partition < 0 || int(partition) >= len(tm.partitions) {
		return -1
	}
	return tm.partitions[partition].leaderEpoch
}

// leaderAddr is the address of the partition's leader, if known.
func (cl *Client) leaderAddr(topic string, partition int32) (string, bool) {
	tm := cl.topics[topic]
	if tm == nil || partition < 0 || int(partition) >= len(tm.partitions) {
		return "", false
	}
	addr, ok := cl.brokers[tm.partitions[partition].leader]
	return addr, ok
}

// joinHostPort is net.JoinHostPort without importing net.
func joinHostPort(h string, port int32) string {
	if strings.Contains(h, ":") {
		return "[" + h + "]:" + strconv.Itoa(int(port))
	}
	return h + ":" + strconv.Itoa(int(port))
}

// backoff is the delay before retry attempt n (1-based): RetryBackoff
// doubled per attempt up to RetryBackoffMax, with ±20% jitter from the
// host's source so retrying clients spread out.
func (cl *Client) backoff(attempt int) time.Duration {
	d := cl.cfg.RetryBackoff
	for i := 1; i < attempt && d < cl.cfg.RetryBackoffMax; i++ {
		d *= 2
	}
	d = min(d, cl.cfg.RetryBackoffMax)
	jitter := int64(d) / 5
	if jitter > 0 {
		d += time.Duration(cl.h.Rand().Int64N(2*jitter+1) - jitter)
	}
	return d
}
