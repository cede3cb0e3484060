package console

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/client/admin"
)

// The operator views: what `loglab topic` and `loglab group` print, in the
// layout of kafka-topics --describe and kafka-consumer-groups --describe.

// ParseConfigs turns KEY=VALUE strings into topic configs.
func ParseConfigs(kvs []string) ([]admin.Config, error) {
	var out []admin.Config
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("config %q: want KEY=VALUE", kv)
		}
		out = append(out, admin.Config{Name: k, Value: kmsg.StringPtr(v)})
	}
	return out, nil
}

// WriteTopics prints, per topic, a header line (partition count and the
// configs set on the topic) and one line per partition with its leader,
// replicas, in-sync replicas, log start offset and high watermark.
func WriteTopics(out io.Writer, ds []admin.TopicDescription) {
	for _, d := range ds {
		var overrides []string
		for _, cfg := range d.Overrides {
			overrides = append(overrides, cfg.Name+"="+cfg.String())
		}
		fmt.Fprintf(out, "Topic: %s\tPartitionCount: %d\tConfigs: %s\n", d.Name, len(d.Partitions), strings.Join(overrides, ","))
		for _, p := range d.Partitions {
			if p.Err != nil {
				fmt.Fprintf(out, "\tPartition: %d\tError: %v\n", p.Partition, p.Err)
				continue
			}
			fmt.Fprintf(out, "\tPartition: %d\tLeader: %d\tReplicas: %s\tIsr: %s\tLogStartOffset: %d\tHighWatermark: %d\n",
				p.Partition, p.Leader, joinInts(p.Replicas), joinInts(p.ISR), d.LogStartOffset[p.Partition], d.HighWatermark[p.Partition])
		}
	}
}

// ListTopics prints the cluster's topic names, one per line, sorted.
func ListTopics(ctx context.Context, c *admin.Client, out io.Writer) error {
	m, err := c.Metadata(ctx, nil)
	if err != nil {
		return err
	}
	for _, t := range m.Topics {
		fmt.Fprintln(out, t.Name)
	}
	return nil
}

// DescribeTopics describes names (none: every topic) as WriteTopics does.
func DescribeTopics(ctx context.Context, c *admin.Client, out io.Writer, names []string) error {
	ds, err := c.DescribeTopics(ctx, names)
	if err != nil {
		return err
	}
	WriteTopics(out, ds)
	return nil
}

// DeleteTopics deletes names, prints "deleted topic T" for each that went
// and fails naming every one that did not.
func DeleteTopics(ctx context.Context, c *admin.Client, out io.Writer, names []string) error {
	results, err := c.DeleteTopics(ctx, names...)
	if err != nil {
		return err
	}
	var failed []string
	for _, r := range results {
		if r.Err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", r.Topic, r.Err))
			continue
		}
		fmt.Fprintf(out, "deleted topic %s\n", r.Topic)
	}
	if len(failed) > 0 {
		return fmt.Errorf("delete topic %s", strings.Join(failed, "; "))
	}
	return nil
}

// WriteGroups prints one line per group: its name, state and protocol type.
func WriteGroups(out io.Writer, groups []admin.GroupListing) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "GROUP\tSTATE\tPROTOCOL-TYPE")
	for _, g := range groups {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", g.Group, g.State, g.ProtocolType)
	}
	return tw.Flush()
}

// WriteGroup prints a group's state, its members with their partitions,
// and its committed offsets with their lag.
func WriteGroup(w io.Writer, g admin.GroupDescription, lags []admin.PartitionLag) error {
	fmt.Fprintf(w, "group %s: state %s, protocol %s, coordinator %s, %d members\n", g.Group, g.State,
		strings.TrimSpace(g.ProtocolType+" "+g.Protocol), g.Coordinator, len(g.Members))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(g.Members) > 0 {
		fmt.Fprintln(tw, "MEMBER\tCLIENT-ID\tHOST\tPARTITIONS")
		for _, m := range g.Members {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.MemberID, m.ClientID, m.ClientHost, AssignmentText(m))
		}
		tw.Flush()
	}
	if len(lags) == 0 {
		fmt.Fprintln(w, "no committed offsets")
		return nil
	}
	fmt.Fprintln(tw, "TOPIC\tPARTITION\tCOMMITTED\tLOG-END\tLAG")
	for _, l := range lags {
		end, lag := "-", "-"
		if l.LogEnd >= 0 {
			end, lag = fmt.Sprint(l.LogEnd), fmt.Sprint(l.Lag)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", l.Topic, l.Partition, l.Committed, end, lag)
	}
	return tw.Flush()
}

// AssignmentText renders a member's assignment as "t:0,1 u:2".
func AssignmentText(m admin.Member) string {
	if len(m.RawAssignment) == 0 {
		return "-"
	}
	if m.Assignment == nil {
		return fmt.Sprintf("(%d bytes, not the consumer protocol)", len(m.RawAssignment))
	}
	var parts []string
	for _, t := range slices.Sorted(maps.Keys(m.Assignment)) {
		parts = append(parts, t+":"+joinInts(m.Assignment[t]))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

func joinInts(v []int32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

// Reset is a reset of a group's committed offsets of one topic
// (kafka-consumer-groups --reset-offsets).
type Reset struct {
	Group, Topic string
	Partition    int32 // -1: every partition
	To           admin.ResetTo
	ToOffset     bool // To.Offset was given
	DryRun       bool // print the plan, commit nothing
}

// ErrBadReset classifies a Reset that names no group or topic, or not
// exactly one target.
var ErrBadReset = errors.New("console: bad reset")

func (r Reset) validate() error {
	n := 0
	for _, b := range []bool{r.To.Earliest, r.To.Latest, r.ToOffset} {
		if b {
			n++
		}
	}
	switch {
	case r.Group == "" || r.Topic == "":
		return fmt.Errorf("%w: a group and a topic are required", ErrBadReset)
	case n != 1:
		return fmt.Errorf("%w: give exactly one of earliest, latest or an offset", ErrBadReset)
	case r.ToOffset && r.To.Offset < 0:
		return fmt.Errorf("%w: offset must not be negative, got %d", ErrBadReset, r.To.Offset)
	}
	return nil
}

// ResetOffsets plans r (the group must have no members), prints the new
// offset of each partition and, unless r.DryRun, commits them.
func ResetOffsets(ctx context.Context, c *admin.Client, w io.Writer, r Reset) error {
	if err := r.validate(); err != nil {
		return err
	}
	parts, err := Partitions(c, r.Topic, r.Partition)
	if err != nil {
		return err
	}
	target, err := c.ResetPlan(ctx, r.Group, r.Topic, parts, r.To)
	if err != nil {
		return err
	}
	for _, p := range parts {
		fmt.Fprintf(w, "%s %s-%d -> %d\n", r.Group, r.Topic, p, target[p])
	}
	if r.DryRun {
		fmt.Fprintln(w, "dry run: nothing committed")
		return nil
	}
	if err := c.CommitOffsets(ctx, r.Group, r.Topic, target); err != nil {
		return err
	}
	fmt.Fprintf(w, "committed %d offsets\n", len(parts))
	return nil
}
