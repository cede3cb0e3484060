package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/client/admin"
	"github.com/loglab/loglab/client/console"
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
			c, err := nf.open()
			if err != nil {
				return err
			}
			defer c.Close()
			groups, err := c.ListGroups(context.Background())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "GROUP\tSTATE\tPROTOCOL-TYPE")
			for _, g := range groups {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", g.Group, g.State, g.ProtocolType)
			}
			return tw.Flush()
		},
	}
	nf.add(cmd)
	return cmd
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
			c, err := nf.open()
			if err != nil {
				return err
			}
			defer c.Close()
			return describeGroup(cmd, c, group)
		},
	}
	nf.add(cmd)
	cmd.Flags().StringVar(&group, "group", "", "the consumer group")
	return cmd
}

func describeGroup(cmd *cobra.Command, c *admin.Client, group string) error {
	ctx := context.Background()
	g, err := c.DescribeGroup(ctx, group)
	if err != nil {
		return err
	}
	lags, err := c.Lag(ctx, group)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "group %s: state %s, protocol %s, coordinator %s, %d members\n", group, g.State,
		strings.TrimSpace(g.ProtocolType+" "+g.Protocol), g.Coordinator, len(g.Members))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(g.Members) > 0 {
		fmt.Fprintln(tw, "MEMBER\tCLIENT-ID\tHOST\tPARTITIONS")
		for _, m := range g.Members {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.MemberID, m.ClientID, m.ClientHost, assignmentText(m))
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

// assignmentText renders a member's assignment as "t:0,1 u:2".
func assignmentText(m admin.Member) string {
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

// groupResetHelp is `loglab group reset --help`'s long text.
const groupResetHelp = `reset-offsets commits new offsets for --group on --topic (every partition, or
--partition): the log start (--to-earliest), the log end (--to-latest) or
--to-offset N (clamped to each partition's range). The group must be Empty:
members would overwrite the reset with their next commit, so a group with
members is refused. --dry-run prints the plan without committing.`

// groupResetOpts are the flags of newGroupResetCmd.
type groupResetOpts struct {
	nf           netFlags
	group, topic string
	plan         admin.ResetTo
	dryRun       bool
	partition    int32
}

func newGroupResetCmd() *cobra.Command {
	var o groupResetOpts
	cmd := &cobra.Command{
		Use:   "reset-offsets",
		Short: "Set a group's committed offsets of a topic (the group must have no members)",
		Long:  groupResetHelp,
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	o.nf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&o.group, "group", "", "the consumer group")
	f.StringVar(&o.topic, "topic", "", "the topic whose offsets to reset")
	f.Int32Var(&o.partition, "partition", -1, "only this partition (-1: every partition)")
	f.BoolVar(&o.plan.Earliest, "to-earliest", false, "reset to each partition's log start offset")
	f.BoolVar(&o.plan.Latest, "to-latest", false, "reset to each partition's log end offset")
	f.Int64Var(&o.plan.Offset, "to-offset", 0, "reset to this offset (clamped to each partition's range)")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the new offsets without committing them")
	return cmd
}

func (o *groupResetOpts) run(cmd *cobra.Command) error {
	n := 0
	for _, b := range []bool{o.plan.Earliest, o.plan.Latest, cmd.Flags().Changed("to-offset")} {
		if b {
			n++
		}
	}
	switch {
	case o.group == "" || o.topic == "":
		return errors.New("--group and --topic are required")
	case n != 1:
		return errors.New("give exactly one of --to-earliest, --to-latest, --to-offset N")
	case cmd.Flags().Changed("to-offset") && o.plan.Offset < 0:
		return fmt.Errorf("--to-offset must not be negative, got %d", o.plan.Offset)
	}
	c, err := o.nf.open()
	if err != nil {
		return err
	}
	defer c.Close()
	parts, err := console.Partitions(c, o.topic, o.partition)
	if err != nil {
		return err
	}
	target, err := c.ResetPlan(context.Background(), o.group, o.topic, parts, o.plan)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	for _, p := range parts {
		fmt.Fprintf(w, "%s %s-%d -> %d\n", o.group, o.topic, p, target[p])
	}
	if o.dryRun {
		fmt.Fprintln(w, "dry run: nothing committed")
		return nil
	}
	if err := c.CommitOffsets(context.Background(), o.group, o.topic, target); err != nil {
		return err
	}
	fmt.Fprintf(w, "committed %d offsets\n", len(parts))
	return nil
}
