package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/scenarios/sweep"
)

func newSimMergeCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "merge DIR|FILE...",
		Short: "Merge the summaries of a sharded sweep into one",
		Long: `Merge the summaries written by 'loglab sim sweep --shard I/N --out DIR' into one
summary of the whole sweep. Each argument is a shard's --out directory (its
summary.json is read) or a summary JSON file. The shards must be of one sweep
(same scenario, seed range, bugs and N) and each shard I of N must appear
exactly once.

The merged wall_seconds is the slowest shard's (the sweep's elapsed time when
the shards ran at once) and seeds_per_minute is runs over that time, the
aggregate rate.

Exit status: 0 when every run of every shard met its expectations, 1 when any
did not, 2 on bad input (a missing or duplicated shard, mismatched sweeps).`,
		Example: "  loglab sim merge shard-0 shard-1 shard-2 shard-3\n  loglab sim merge --json shards/*/summary.json",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := sweep.MergePaths(args)
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), asJSON, m, func(w io.Writer) { sweep.WriteText(w, m) }, m.Failed > 0)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}
