package main

import (
	"context"
	"errors"

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
			return nf.with(func(c *admin.Client) error {
				groups, err := c.ListGroups(context.Background())
				if err != nil {
					return err
				}
				return console.WriteGroups(cmd.OutOrStdout(), groups)
			})
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
			return nf.with(func(c *admin.Client) error {
				return describeGroup(cmd, c, group)
			})
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
	return console.WriteGroup(cmd.OutOrStdout(), g, lags)
}

// groupResetHelp is `loglab group reset --help`'s long text.
const groupResetHelp = `reset-offsets commits new offsets for --group on --topic (every partition, or
--partition): the log start (--to-earliest), the log end (--to-latest) or
--to-offset N (clamped to each partition's range). The group must be Empty:
members would overwrite the reset with their next commit, so a group with
members is refused. --dry-run prints the plan without committing.`

func newGroupResetCmd() *cobra.Command {
	var (
		nf netFlags
		r  console.Reset
	)
	cmd := &cobra.Command{
		Use:   "reset-offsets",
		Short: "Set a group's committed offsets of a topic (the group must have no members)",
		Long:  groupResetHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r.ToOffset = cmd.Flags().Changed("to-offset")
			return nf.with(func(c *admin.Client) error {
				return console.ResetOffsets(context.Background(), c, cmd.OutOrStdout(), r)
			})
		},
	}
	nf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&r.Group, "group", "", "the consumer group")
	f.StringVar(&r.Topic, "topic", "", "the topic whose offsets to reset")
	f.Int32Var(&r.Partition, "partition", -1, "only this partition (-1: every partition)")
	f.BoolVar(&r.To.Earliest, "to-earliest", false, "reset to each partition's log start offset")
	f.BoolVar(&r.To.Latest, "to-latest", false, "reset to each partition's log end offset")
	f.Int64Var(&r.To.Offset, "to-offset", 0, "reset to this offset (clamped to each partition's range)")
	f.BoolVar(&r.DryRun, "dry-run", false, "print the new offsets without committing them")
	return cmd
}
