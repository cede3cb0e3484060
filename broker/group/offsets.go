package group

import (
	"cmp"
	"slices"

	"github.com/loglab/loglab/wire/batch"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit handles an OffsetCommit request (v0-9). Kafka's checks,
// in order: a Dead group is COORDINATOR_NOT_AVAILABLE; a fenced static
// member FENCED_INSTANCE_ID; generation -1 on an Empty or unknown group
// is an administrator's commit; CompletingRebalance is
// REBALANCE_IN_PROGRESS; an unknown member UNKNOWN_MEMBER_ID; another
// generation ILLEGAL_GENERATION. Per partition: unknown partitions are
// UNKNOWN_TOPIC_OR_PARTITION and metadata over offset.metadata.max.bytes
// OFFSET_METADATA_TOO_LARGE. The rest is written as one batch and
// answered once committed.
func (c *Coordinator) OffsetCommit(req *kmsg.OffsetCommitRequest, reply func(*kmsg.OffsetCommitResponse)) {
	resp := kmsg.NewPtrOffsetCommitResponse()
	type slot struct {
		p  *kmsg.OffsetCommitResponseTopicPartition
		tp TopicPartition
		e  OffsetEntry
	}
	var slots []slot
	for _, rt := range req.Topics {
		ot := kmsg.NewOffsetCommitResponseTopic()
		ot.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			op := kmsg.NewOffsetCommitResponseTopicPartition()
			op.Partition = rp.Partition
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	all := func(e *kerr.Error) {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				resp.Topics[i].Partitions[j].ErrorCode = e.Code
			}
		}
		reply(resp)
	}
	g, e := c.lookup(req.Group)
	if e != nil {
		all(e)
		return
	}
	instance := ""
	if req.InstanceID != nil {
		instance = *req.InstanceID
	}
	if g == nil {
		if req.Generation >= 0 {
			all(kerr.IllegalGeneration)
			return
		}
		g = c.newGroup(req.Group, c.shards[c.PartitionFor(req.Group)])
	}
	if e := c.commitAllowed(g, req.MemberID, instance, req.Generation); e != nil {
		all(e)
		return
	}
	now := c.h.Now().UnixMilli()
	var records []batch.Record
	for i, rt := range req.Topics {
		for j, rp := range rt.Partitions {
			op := &resp.Topics[i].Partitions[j]
			md := ""
			if rp.Metadata != nil {
				md = *rp.Metadata
			}
			tp := TopicPartition{rt.Topic, rp.Partition}
			switch {
			case !c.out.PartitionExists(rt.Topic, rp.Partition):
				op.ErrorCode = kerr.UnknownTopicOrPartition.Code
				continue
			case len(md) > c.cfg.OffsetMetadataMaxBytes:
				op.ErrorCode = kerr.OffsetMetadataTooLarge.Code
				continue
			}
			le := int32(-1)
			if req.Version >= 6 {
				le = rp.LeaderEpoch
			}
			oe := OffsetEntry{Offset: rp.Offset, LeaderEpoch: le, Metadata: md, CommitTimestamp: now}
			slots = append(slots, slot{p: op, tp: tp, e: oe})
			records = append(records, offsetRecord(g.id, tp, oe))
		}
	}
	if len(records) == 0 {
		reply(resp)
		return
	}
	c.write(g, records, func(e *kerr.Error) {
		for _, s := range slots {
			if e != nil {
				s.p.ErrorCode = e.Code
				continue
			}
			if g.live() {
				g.offsets[s.tp] = s.e
			}
		}
		if e != nil {
			c.log.Warn("offset commit not written", "group", g.id, "err", e.Message)
		}
		reply(resp)
	})
}

func (c *Coordinator) commitAllowed(g *group, memberID, instance string, generation int32) *kerr.Error {
	if g.state == Dead {
		return kerr.CoordinatorNotAvailable
	}
	if e := g.checkInstance(memberID, instance); e != nil {
		return e
	}
	if generation < 0 && g.state == Empty {
		return nil
	}
	if c.cfg.StaleGenerationCommits { // bugzoo: test-only deliberate bug
		return nil
	}
	if g.state == CompletingRebalance {
		return kerr.RebalanceInProgress
	}
	m := g.member(memberID)
	if m == nil {
		return kerr.UnknownMemberID
	}
	if generation != g.generation {
		return kerr.IllegalGeneration
	}
	c.scheduleSession(g, m)
	return nil
}

// OffsetFetch handles an OffsetFetch request: v0-7 for one group, v8+
// for a batch of groups. Topics nil (v2+) asks for every committed
// offset of the group. A partition without a commit answers offset -1.
func (c *Coordinator) OffsetFetch(req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := kmsg.NewPtrOffsetFetchResponse()
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			og := kmsg.NewOffsetFetchResponseGroup()
			og.Group = rg.Group
			var want []TopicPartition
			all := rg.Topics == nil
			for _, t := range rg.Topics {
				for _, p := range t.Partitions {
					want = append(want, TopicPartition{t.Topic, p})
				}
			}
			got, e := c.fetchOffsets(rg.Group, want, all)
			og.ErrorCode = code(e)
			for _, r := range groupByTopic(got) {
				ot := kmsg.NewOffsetFetchResponseGroupTopic()
				ot.Topic = r.topic
				for _, x := range r.parts {
					op := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					op.Partition, op.Offset, op.LeaderEpoch, op.ErrorCode = x.tp.Partition, x.e.Offset, x.e.LeaderEpoch, x.code
					md := x.e.Metadata
					op.Metadata = &md
					ot.Partitions = append(ot.Partitions, op)
				}
				og.Topics = append(og.Topics, ot)
			}
			resp.Groups = append(resp.Groups, og)
		}
		return resp
	}
	var want []TopicPartition
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			want = append(want, TopicPartition{t.Topic, p})
		}
	}
	got, e := c.fetchOffsets(req.Group, want, req.Topics == nil && req.Version >= 2)
	if e != nil {
		resp.ErrorCode = e.Code
		if req.Version < 2 {
			// v0-1 have no top-level error: every partition carries it.
			for i := range got {
				got[i].code = e.Code
			}
		}
	}
	for _, r := range groupByTopic(got) {
		ot := kmsg.NewOffsetFetchResponseTopic()
		ot.Topic = r.topic
		for _, x := range r.parts {
			op := kmsg.NewOffsetFetchResponseTopicPartition()
			op.Partition, op.Offset, op.LeaderEpoch, op.ErrorCode = x.tp.Partition, x.e.Offset, x.e.LeaderEpoch, x.code
			md := x.e.Metadata
			op.Metadata = &md
			ot.Partitions = append(ot.Partitions, op)
		}
		resp.Topics = append(resp.Topics, ot)
	}
	return resp
}

type fetched struct {
	tp   TopicPartition
	e    OffsetEntry
	code int16
}

// fetchOffsets answers want (or, with all, every committed offset) for
// one group; on an ownership error the partitions answer -1.
func (c *Coordinator) fetchOffsets(groupID string, want []TopicPartition, all bool) ([]fetched, *kerr.Error) {
	none := OffsetEntry{Offset: -1, LeaderEpoch: -1}
	g, e := c.lookup(groupID)
	if e != nil {
		out := make([]fetched, len(want))
		for i, tp := range want {
			out[i] = fetched{tp: tp, e: none}
		}
		return out, e
	}
	if all {
		if g == nil {
			return nil, nil
		}
		want = sortedTPs(g.offsets)
	}
	out := make([]fetched, 0, len(want))
	for _, tp := range want {
		f := fetched{tp: tp, e: none}
		if g != nil {
			if oe, ok := g.offsets[tp]; ok {
				f.e = oe
			}
		}
		out = append(out, f)
	}
	return out, nil
}

type topicOffsets struct {
	topic string
	parts []fetched
}

// groupByTopic keeps the request's order of first appearance.
func groupByTopic(fs []fetched) []topicOffsets {
	var out []topicOffsets
	idx := map[string]int{}
	for _, f := range fs {
		i, ok := idx[f.tp.Topic]
		if !ok {
			i = len(out)
			idx[f.tp.Topic] = i
			out = append(out, topicOffsets{topic: f.tp.Topic})
		}
		out[i].parts = append(out[i].parts, f)
	}
	return out
}

func sortedTPs(m map[TopicPartition]OffsetEntry) []TopicPartition {
	out := make([]TopicPartition, 0, len(m))
	for tp := range m { //detcheck:ordered sorted below
		out = append(out, tp)
	}
	sortTPs(out)
	return out
}

func sortTPs(s []TopicPartition) {
	slices.SortFunc(s, func(a, b TopicPartition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
}
