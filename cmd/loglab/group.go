package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Newest versions the group commands were checked against.
const (
	maxListGroupsV      = 4
	maxDescribeGroupsV  = 5
	maxFindCoordinatorV = 3
	maxOffsetFetchV     = 7
	maxOffsetCommitV    = 8
)

func newGroupCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "group",
		Short: "List, describe and reset consumer groups",
		Long: `group lists the consumer groups of a cluster (every broker is asked: each
coordinates its own), describes one (state, members and their partitions,
committed offsets and lag), or resets its committed offsets while it has no
members (kafka-consumer-groups --reset-offsets).`,
		Example: "  loglab group list --bootstrap 127.0.0.1:9092\n" +
			"  loglab group describe --bootstrap 127.0.0.1:9092 --group orders-app\n" +
			"  loglab group reset-offsets --bootstrap 127.0.0.1:9092 --group orders-app --topic orders --to-earliest",
	}
	cmd.AddCommand(newGroupListCmd(), newGroupDescribeCmd(), newGroupResetCmd())
	return cmd
}

func newGroupListCmd() *cobra.Command {
	var nf netFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List every consumer group with its state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := nf.open()
			if err != nil {
				return err
			}
			defer s.close()
			m, err := s.metadata([]string{})
			if err != nil {
				return err
			}
			type row struct{ group, state, typ string }
			var rows []row
			for _, b := range m.Brokers {
				resp, err := s.doAt(joinAddr(b.Host, b.Port), kmsg.NewPtrListGroupsRequest(), maxListGroupsV)
				if err != nil {
					return fmt.Errorf("list groups at broker %d: %w", b.NodeID, err)
				}
				r := resp.(*kmsg.ListGroupsResponse)
				if r.ErrorCode != 0 {
					return fmt.Errorf("list groups at broker %d: %w", b.NodeID, kerrFor(r.ErrorCode))
				}
				for _, g := range r.Groups {
					rows = append(rows, row{g.Group, g.GroupState, g.ProtocolType})
				}
			}
			sort.Slice(rows, func(i, j int) bool { return rows[i].group < rows[j].group })
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "GROUP\tSTATE\tPROTOCOL-TYPE")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.group, r.state, r.typ)
			}
			return tw.Flush()
		},
	}
	nf.add(cmd)
	return cmd
}

// coordinator finds group's coordinator (FindCoordinator, retried while
// it is being created or loaded).
func (s *session) coordinator(group string) (string, error) {
	var last error
	for range 20 {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.CoordinatorKey = group
		resp, err := s.do(req, maxFindCoordinatorV)
		if err != nil {
			return "", fmt.Errorf("find coordinator of %s: %w", group, err)
		}
		r := resp.(*kmsg.FindCoordinatorResponse)
		if r.ErrorCode == 0 {
			return joinAddr(r.Host, r.Port), nil
		}
		last = kerrFor(r.ErrorCode)
		if !kerr.IsRetriable(last) {
			break
		}
		sleepBriefly()
	}
	return "", fmt.Errorf("find coordinator of %s: %w", group, last)
}

func (s *session) describeGroup(coord, group string) (kmsg.DescribeGroupsResponseGroup, error) {
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{group}
	resp, err := s.doAt(coord, req, maxDescribeGroupsV)
	if err != nil {
		return kmsg.DescribeGroupsResponseGroup{}, fmt.Errorf("describe group %s: %w", group, err)
	}
	gs := resp.(*kmsg.DescribeGroupsResponse).Groups
	if len(gs) != 1 {
		return kmsg.DescribeGroupsResponseGroup{}, fmt.Errorf("describe group %s: %d groups in the answer", group, len(gs))
	}
	if gs[0].ErrorCode != 0 {
		return gs[0], fmt.Errorf("describe group %s: %w", group, kerrFor(gs[0].ErrorCode))
	}
	return gs[0], nil
}

// committed returns the group's committed offsets by topic and partition.
func (s *session) committed(coord, group string) (map[string]map[int32]int64, error) {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group // null topics: every committed offset
	resp, err := s.doAt(coord, req, maxOffsetFetchV)
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of %s: %w", group, err)
	}
	r := resp.(*kmsg.OffsetFetchResponse)
	if r.ErrorCode != 0 {
		return nil, fmt.Errorf("fetch offsets of %s: %w", group, kerrFor(r.ErrorCode))
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

func newGroupDescribeCmd() *cobra.Command {
	var (
		nf    netFlags
		group string
	)
	cmd := &cobra.Command{
		Use:   "describe",
		Short: "Show a group's state, members, committed offsets and lag",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if group == "" {
				return errors.New("--group is required")
			}
			s, err := nf.open()
			if err != nil {
				return err
			}
			defer s.close()
			coord, err := s.coordinator(group)
			if err != nil {
				return err
			}
			g, err := s.describeGroup(coord, group)
			if err != nil {
				return err
			}
			offsets, err := s.committed(coord, group)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "group %s: state %s, protocol %s, coordinator %s, %d members\n", group, g.State,
				strings.TrimSpace(g.ProtocolType+" "+g.Protocol), coord, len(g.Members))
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			if len(g.Members) > 0 {
				fmt.Fprintln(tw, "MEMBER\tCLIENT-ID\tHOST\tPARTITIONS")
				for _, m := range g.Members {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.MemberID, m.ClientID, m.ClientHost, assignmentText(m.MemberAssignment))
				}
				tw.Flush()
			}
			topics := slices.Sorted(maps.Keys(offsets))
			if len(topics) == 0 {
				fmt.Fprintln(w, "no committed offsets")
				return nil
			}
			fmt.Fprintln(tw, "TOPIC\tPARTITION\tCOMMITTED\tLOG-END\tLAG")
			for _, t := range topics {
				ends, err := s.leaderOffsets(t, -1)
				if err != nil {
					return err
				}
				for _, p := range slices.Sorted(maps.Keys(offsets[t])) {
					end, lag := "-", "-"
					if e, ok := ends[p]; ok && e >= 0 {
						end, lag = fmt.Sprint(e), fmt.Sprint(max(0, e-offsets[t][p]))
					}
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", t, p, offsets[t][p], end, lag)
				}
			}
			return tw.Flush()
		},
	}
	nf.add(cmd)
	cmd.Flags().StringVar(&group, "group", "", "the consumer group")
	return cmd
}

// assignmentText renders a consumer-protocol assignment as "t:0,1 u:2".
func assignmentText(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	var a kmsg.ConsumerMemberAssignment
	if err := a.ReadFrom(b); err != nil {
		return fmt.Sprintf("(%d bytes, not the consumer protocol)", len(b))
	}
	var parts []string
	for _, t := range a.Topics {
		parts = append(parts, t.Topic+":"+joinInts(t.Partitions))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func newGroupResetCmd() *cobra.Command {
	var (
		nf                           netFlags
		group, topic                 string
		toEarliest, toLatest, dryRun bool
		toOffset                     int64
		partition                    int32
	)
	cmd := &cobra.Command{
		Use:   "reset-offsets",
		Short: "Set a group's committed offsets of a topic (the group must have no members)",
		Long: `reset-offsets commits new offsets for --group on --topic (every partition, or
--partition): the log start (--to-earliest), the log end (--to-latest) or
--to-offset N (clamped to each partition's range). The group must be Empty:
members would overwrite the reset with their next commit, so a group with
members is refused. --dry-run prints the plan without committing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n := 0
			for _, b := range []bool{toEarliest, toLatest, cmd.Flags().Changed("to-offset")} {
				if b {
					n++
				}
			}
			switch {
			case group == "" || topic == "":
				return errors.New("--group and --topic are required")
			case n != 1:
				return errors.New("give exactly one of --to-earliest, --to-latest, --to-offset N")
			case cmd.Flags().Changed("to-offset") && toOffset < 0:
				return fmt.Errorf("--to-offset must not be negative, got %d", toOffset)
			}
			s, err := nf.open()
			if err != nil {
				return err
			}
			defer s.close()
			parts, err := s.partitionsOf(topic, partition)
			if err != nil {
				return err
			}
			coord, err := s.coordinator(group)
			if err != nil {
				return err
			}
			g, err := s.describeGroup(coord, group)
			if err != nil {
				return err
			}
			if g.State != "Empty" && g.State != "Dead" {
				return fmt.Errorf("group %s is %s with %d members: stop them before resetting its offsets", group, g.State, len(g.Members))
			}
			starts, err := s.leaderOffsets(topic, -2)
			if err != nil {
				return err
			}
			ends, err := s.leaderOffsets(topic, -1)
			if err != nil {
				return err
			}
			target := map[int32]int64{}
			for _, p := range parts {
				lo, hi := starts[p], ends[p]
				if lo < 0 || hi < 0 {
					return fmt.Errorf("%s-%d: its leader did not give its offsets", topic, p)
				}
				switch {
				case toEarliest:
					target[p] = lo
				case toLatest:
					target[p] = hi
				default:
					target[p] = min(max(toOffset, lo), hi)
				}
			}
			w := cmd.OutOrStdout()
			for _, p := range parts {
				fmt.Fprintf(w, "%s %s-%d -> %d\n", group, topic, p, target[p])
			}
			if dryRun {
				fmt.Fprintln(w, "dry run: nothing committed")
				return nil
			}
			req := kmsg.NewPtrOffsetCommitRequest()
			req.Group, req.Generation, req.MemberID = group, -1, ""
			rt := kmsg.NewOffsetCommitRequestTopic()
			rt.Topic = topic
			for _, p := range parts {
				rp := kmsg.NewOffsetCommitRequestTopicPartition()
				rp.Partition, rp.Offset, rp.LeaderEpoch = p, target[p], -1
				rt.Partitions = append(rt.Partitions, rp)
			}
			req.Topics = append(req.Topics, rt)
			resp, err := s.doAt(coord, req, maxOffsetCommitV)
			if err != nil {
				return fmt.Errorf("commit offsets of %s: %w", group, err)
			}
			for _, t := range resp.(*kmsg.OffsetCommitResponse).Topics {
				for _, p := range t.Partitions {
					if p.ErrorCode != 0 {
						return fmt.Errorf("commit %s-%d for %s: %w", t.Topic, p.Partition, group, kerrFor(p.ErrorCode))
					}
				}
			}
			fmt.Fprintf(w, "committed %d offsets\n", len(parts))
			return nil
		},
	}
	nf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&group, "group", "", "the consumer group")
	f.StringVar(&topic, "topic", "", "the topic whose offsets to reset")
	f.Int32Var(&partition, "partition", -1, "only this partition (-1: every partition)")
	f.BoolVar(&toEarliest, "to-earliest", false, "reset to each partition's log start offset")
	f.BoolVar(&toLatest, "to-latest", false, "reset to each partition's log end offset")
	f.Int64Var(&toOffset, "to-offset", 0, "reset to this offset (clamped to each partition's range)")
	f.BoolVar(&dryRun, "dry-run", false, "print the new offsets without committing them")
	return cmd
}

// leaderOffsets asks each partition's leader for its offset at ts (-2
// log start, -1 log end); a partition whose leader fails is -1.
func (s *session) leaderOffsets(topic string, ts int64) (map[int32]int64, error) {
	m, err := s.metadata([]string{topic})
	if err != nil {
		return nil, err
	}
	addrs := map[int32]string{}
	for _, b := range m.Brokers {
		addrs[b.NodeID] = joinAddr(b.Host, b.Port)
	}
	byLeader := map[string][]int32{}
	for _, t := range m.Topics {
		if deref(t.Topic) != topic {
			continue
		}
		if t.ErrorCode != 0 {
			return nil, fmt.Errorf("topic %s: %w", topic, kerrFor(t.ErrorCode))
		}
		for _, p := range t.Partitions {
			if a, ok := addrs[p.Leader]; ok {
				byLeader[a] = append(byLeader[a], p.Partition)
			}
		}
	}
	out := map[int32]int64{}
	for _, addr := range slices.Sorted(maps.Keys(byLeader)) {
		req := kmsg.NewPtrListOffsetsRequest()
		req.ReplicaID = -1
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		for _, p := range byLeader[addr] {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = p, ts, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		resp, err := s.doAt(addr, req, maxListOffsetsV)
		if err != nil {
			return nil, fmt.Errorf("list offsets of %s at %s: %w", topic, addr, err)
		}
		for _, t := range resp.(*kmsg.ListOffsetsResponse).Topics {
			for _, p := range t.Partitions {
				out[p.Partition] = -1
				if p.ErrorCode == 0 {
					out[p.Partition] = p.Offset
				}
			}
		}
	}
	return out, nil
}

// doAt sends one request to addr on a connection of its own (the
// bootstrap's when addr is the bootstrap).
func (s *session) doAt(addr string, req kmsg.Request, maxV int16) (kmsg.Response, error) {
	if addr == s.opts.bootstrap {
		return s.do(req, maxV)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.timeout)
	defer cancel()
	w, err := dialWire(ctx, s.rt, addr)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	return w.Do(ctx, req, maxV)
}

func joinAddr(host string, port int32) string {
	if strings.Contains(host, ":") {
		return fmt.Sprintf("[%s]:%d", host, port)
	}
	return fmt.Sprintf("%s:%d", host, port)
}

// sleepBriefly waits between retries of a coordinator being created or
// loaded (the CLI's own loop, not simulated code).
func sleepBriefly() { time.Sleep(250 * time.Millisecond) }
