package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
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
			var shards []*sweepSummary
			for _, a := range args {
				s, err := readSummary(a)
				if err != nil {
					return err
				}
				shards = append(shards, s)
			}
			m, err := mergeSummaries(shards, args)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := json.NewEncoder(out).Encode(m); err != nil {
					return err
				}
			} else {
				printSweep(out, m)
			}
			if m.Failed > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

// readSummary reads a shard's summary from its --out directory or a file.
func readSummary(path string) (*sweepSummary, error) {
	name := path
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		name = filepath.Join(path, "summary.json")
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	var s sweepSummary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("merge: %s: not a sweep summary: %w", name, err)
	}
	if s.Scenario == "" || s.Shard == "" {
		return nil, fmt.Errorf("merge: %s: not a sweep summary (no scenario or shard)", name)
	}
	return &s, nil
}

// mergeSummaries adds up the shards of one sweep; names are for errors.
func mergeSummaries(shards []*sweepSummary, names []string) (*sweepSummary, error) {
	first := shards[0]
	firstShard, err := parseShard(first.Shard)
	if err != nil {
		return nil, fmt.Errorf("merge: %s: %w", names[0], err)
	}
	n := firstShard.count
	if n != uint64(len(shards)) {
		return nil, fmt.Errorf("merge: %s is shard %s: want all %d shards, got %d summaries", names[0], first.Shard, n, len(shards))
	}
	seen := make([]bool, n)
	m := &sweepSummary{
		Scenario: first.Scenario, Bugs: first.Bugs, Seeds: first.Seeds,
		Shard:     "all/" + strconv.FormatUint(n, 10),
		Anomalies: map[string]int{}, SeedsWithAnomaly: map[string]int{}, Failures: []sweepFailure{},
	}
	for i, s := range shards {
		sh, err := parseShard(s.Shard)
		if err != nil {
			return nil, fmt.Errorf("merge: %s: %w", names[i], err)
		}
		switch {
		case s.Scenario != first.Scenario || s.Seeds != first.Seeds || !slices.Equal(s.Bugs, first.Bugs):
			return nil, fmt.Errorf("merge: %s is a sweep of %s seeds %s bugs [%s], %s of %s seeds %s bugs [%s]",
				names[i], s.Scenario, s.Seeds, strings.Join(s.Bugs, ","), names[0], first.Scenario, first.Seeds, strings.Join(first.Bugs, ","))
		case sh.count != n:
			return nil, fmt.Errorf("merge: %s is shard %s, %s is of %d shards", names[i], s.Shard, names[0], n)
		case seen[sh.index]:
			return nil, fmt.Errorf("merge: shard %s given twice (%s)", s.Shard, names[i])
		}
		seen[sh.index] = true
		m.Runs += s.Runs
		m.Passed += s.Passed
		m.Failed += s.Failed
		for k, v := range s.Anomalies {
			m.Anomalies[k] += v
		}
		for k, v := range s.SeedsWithAnomaly {
			m.SeedsWithAnomaly[k] += v
		}
		m.Failures = append(m.Failures, s.Failures...)
		m.Events += s.Events
		m.SimSeconds += s.SimSeconds
		m.WallSeconds = max(m.WallSeconds, s.WallSeconds)
		m.Parallel += s.Parallel
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("merge: shard %d/%d is missing", i, n)
		}
	}
	m.ShardsMerged = len(shards)
	m.SeedsPerMinute = seedsPerMinute(m.Runs, m.WallSeconds)
	finish(m)
	return m, nil
}
