package admin

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// GroupListing is one group as ListGroups names it.
type GroupListing struct {
	Group        string
	State        string
	ProtocolType string
	Coordinator  int32 // the node id of the broker that listed it
}

// ListGroups asks every broker (each lists the groups it coordinates) and
// returns the groups sorted by name.
func (c *Client) ListGroups(ctx context.Context) ([]GroupListing, error) {
	m, err := c.Metadata(ctx, []string{})
	if err != nil {
		return nil, err
	}
	var out []GroupListing
	for _, b := range m.Brokers {
		resp, err := c.doAt(ctx, b.Addr(), kmsg.NewPtrListGroupsRequest(), maxListGroupsV)
		if err != nil {
			return nil, fmt.Errorf("list groups at broker %d: %w", b.NodeID, err)
		}
		r := resp.(*kmsg.ListGroupsResponse)
		if err := codeErr(r.ErrorCode); err != nil {
			return nil, fmt.Errorf("list groups at broker %d: %w", b.NodeID, err)
		}
		for _, g := range r.Groups {
			out = append(out, GroupListing{Group: g.Group, State: g.GroupState, ProtocolType: g.ProtocolType, Coordinator: b.NodeID})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out, nil
}

// coordinatorRetries and coordinatorBackoff bound the wait for a group's
// coordinator while it is created or loaded (COORDINATOR_NOT_AVAILABLE,
// COORDINATOR_LOAD_IN_PROGRESS).
const (
	coordinatorRetries = 20
	coordinatorBackoff = 250 * time.Millisecond
)

// Coordinator returns the address of group's coordinator.
func (c *Client) Coordinator(ctx context.Context, group string) (string, error) {
	var last error
	for range coordinatorRetries {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorKey = group
		resp, err := c.do(ctx, req, maxFindCoordinatorV)
		if err != nil {
			return "", fmt.Errorf("find coordinator of %s: %w", group, err)
		}
		r := resp.(*kmsg.FindCoordinatorResponse)
		if last = codeErr(r.ErrorCode); last == nil {
			return Broker{Host: r.Host, Port: r.Port}.Addr(), nil
		}
		if !kerr.IsRetriable(last) {
			break
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("find coordinator of %s: %w (last: %w)", group, ctx.Err(), last)
		case <-time.After(coordinatorBackoff):
		}
	}
	return "", fmt.Errorf("find coordinator of %s: %w", group, last)
}

// Member is one member of a described group.
type Member struct {
	MemberID   string
	InstanceID *string
	ClientID   string
	ClientHost string
	// Assignment is the member's partitions when the group uses the
	// consumer protocol (nil otherwise, or when it has none yet).
	Assignment map[string][]int32
	// RawAssignment is the assignment as the leader sent it.
	RawAssignment []byte
}

// GroupDescription is DescribeGroups' answer for one group.
type GroupDescription struct {
	Group        string
	Coordinator  string // HOST:PORT
	State        string // Empty, PreparingRebalance, CompletingRebalance, Stable, Dead
	ProtocolType string
	Protocol     string
	Members      []Member
}

// ErrNotConsumerProtocol marks an assignment that is not the consumer
// protocol's encoding.
var ErrNotConsumerProtocol = errors.New("admin: assignment is not the consumer protocol")

// DescribeGroup asks group's coordinator for its state and members.
func (c *Client) DescribeGroup(ctx context.Context, group string) (GroupDescription, error) {
	coord, err := c.Coordinator(ctx, group)
	if err != nil {
		return GroupDescription{}, err
	}
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{group}
	resp, err := c.doAt(ctx, coord, req, maxDescribeGroupsV)
	if err != nil {
		return GroupDescription{}, fmt.Errorf("describe group %s: %w", group, err)
	}
	gs := resp.(*kmsg.DescribeGroupsResponse).Groups
	if len(gs) != 1 {
		return GroupDescription{}, fmt.Errorf("describe group %s: %d groups in the answer", group, len(gs))
	}
	g := gs[0]
	if err := codeErr(g.ErrorCode); err != nil {
		return GroupDescription{}, fmt.Errorf("describe group %s: %w", group, err)
	}
	d := GroupDescription{Group: group, Coordinator: coord, State: g.State, ProtocolType: g.ProtocolType, Protocol: g.Protocol}
	for _, m := range g.Members {
		mm := Member{MemberID: m.MemberID, InstanceID: m.InstanceID, ClientID: m.ClientID, ClientHost: m.ClientHost,
			RawAssignment: m.MemberAssignment}
		mm.Assignment, _ = ConsumerAssignment(m.MemberAssignment)
		d.Members = append(d.Members, mm)
	}
	return d, nil
}

// ConsumerAssignment decodes a consumer-protocol assignment (nil for an
// empty one).
func ConsumerAssignment(b []byte) (map[string][]int32, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var a kmsg.ConsumerMemberAssignment
	if err := a.ReadFrom(b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotConsumerProtocol, err)
	}
	out := map[string][]int32{}
	for _, t := range a.Topics {
		out[t.Topic] = append(out[t.Topic], t.Partitions...)
	}
	return out, nil
}

// CommittedOffsets returns group's committed offsets by topic and
// partition (partitions with no commit are absent).
func (c *Client) CommittedOffsets(ctx context.Context, group string) (map[string]map[int32]int64, error) {
	coord, err := c.Coordinator(ctx, group)
	if err != nil {
		return nil, err
	}
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group // null topics: every committed offset
	resp, err := c.doAt(ctx, coord, req, maxOffsetFetchV)
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of %s: %w", group, err)
	}
	r := resp.(*kmsg.OffsetFetchResponse)
	if err := codeErr(r.ErrorCode); err != nil {
		return nil, fmt.Errorf("fetch offsets of %s: %w", group, err)
	}
	out := map[string]map[int32]int64{}
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 || p.Offset < 0 {
				continue
			}
			if out[t.Topic] == nil {
				out[t.Topic] = map[int32]int64{}
			}
			out[t.Topic][p.Partition] = p.Offset
		}
	}
	return out, nil
}

// CommitOffsets commits offsets of topic for group as an administrator
// (generation -1, no member): Kafka accepts it only while the group has
// no members. The error names the first partition refused.
func (c *Client) CommitOffsets(ctx context.Context, group, topic string, offsets map[int32]int64) error {
	coord, err := c.Coordinator(ctx, group)
	if err != nil {
		return err
	}
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group, req.Generation, req.MemberID = group, -1, ""
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topic
	parts := make([]int32, 0, len(offsets))
	for p := range offsets {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	for _, p := range parts {
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch = p, offsets[p], -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := c.doAt(ctx, coord, req, maxOffsetCommitV)
	if err != nil {
		return fmt.Errorf("commit offsets of %s: %w", group, err)
	}
	for _, t := range resp.(*kmsg.OffsetCommitResponse).Topics {
		for _, p := range t.Partitions {
			if err := codeErr(p.ErrorCode); err != nil {
				return fmt.Errorf("commit %s-%d for %s: %w", t.Topic, p.Partition, group, err)
			}
		}
	}
	return nil
}

// PartitionLag is a group's committed offset of one partition against
// the partition's high watermark (LogEnd -1 and Lag -1 when its leader
// did not answer).
type PartitionLag struct {
	Topic     string
	Partition int32
	Committed int64
	LogEnd    int64
	Lag       int64
}

// Lag returns group's committed offsets with the lag behind each
// partition's high watermark, sorted by topic and partition.
func (c *Client) Lag(ctx context.Context, group string) ([]PartitionLag, error) {
	offsets, err := c.CommittedOffsets(ctx, group)
	if err != nil {
		return nil, err
	}
	var out []PartitionLag
	for _, t := range slices.Sorted(maps.Keys(offsets)) {
		ends, err := c.ListOffsets(ctx, t, Latest)
		if err != nil {
			return nil, err
		}
		for _, p := range slices.Sorted(maps.Keys(offsets[t])) {
			l := PartitionLag{Topic: t, Partition: p, Committed: offsets[t][p], LogEnd: -1, Lag: -1}
			if e, ok := ends[p]; ok && e >= 0 {
				l.LogEnd, l.Lag = e, max(0, e-l.Committed)
			}
			out = append(out, l)
		}
	}
	return out, nil
}

// ResetTo says where ResetPlan moves a group's offsets: Earliest, Latest,
// or (both false) Offset, clamped to each partition's range.
type ResetTo struct {
	Earliest, Latest bool
	Offset           int64
}

// ResetPlan checks that group has no members (members would overwrite a
// reset with their next commit) and computes the new offset of each of
// partitions of topic.
func (c *Client) ResetPlan(ctx context.Context, group, topic string, partitions []int32, to ResetTo) (map[int32]int64, error) {
	g, err := c.DescribeGroup(ctx, group)
	if err != nil {
		return nil, err
	}
	if g.State != "Empty" && g.State != "Dead" {
		return nil, fmt.Errorf("group %s is %s with %d members: stop them before resetting its offsets", group, g.State, len(g.Members))
	}
	starts, err := c.ListOffsets(ctx, topic, Earliest)
	if err != nil {
		return nil, err
	}
	ends, err := c.ListOffsets(ctx, topic, Latest)
	if err != nil {
		return nil, err
	}
	target := map[int32]int64{}
	for _, p := range partitions {
		lo, hi := starts[p], ends[p]
		if lo < 0 || hi < 0 {
			return nil, fmt.Errorf("%s-%d: its leader did not give its offsets", topic, p)
		}
		switch {
		case to.Earliest:
			target[p] = lo
		case to.Latest:
			target[p] = hi
		default:
			target[p] = min(max(to.Offset, lo), hi)
		}
	}
	return target, nil
}
