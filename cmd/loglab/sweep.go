package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/scenarios/sweep"
)

// A sweep runs one scenario over a range of seeds in worker processes
// (package scenarios/sweep; this binary re-executed as the hidden `loglab
// sim worker`).

// simSweepHelp is `loglab sim sweep --help`'s long text.
const simSweepHelp = `Run one scenario for every seed in A-B, in P worker processes (default: the
number of CPUs), and print a summary: runs, passed, failed, seeds per minute,
anomalies by kind, and for every failing seed its trace hash and the exact
command that replays it.

--shard I/N runs only the seeds with (seed-A) % N == I, so N machines can split
one sweep; 'loglab sim merge' adds their --out directories back up
(docs/sweeps.md). --bug NAME switches on a deliberate bug from the bug zoo
(docs/bugzoo.md; repeatable), to measure how fast the scenario catches it.

Exit status: 0 when every run met its expectations, 1 when any did not,
2 on bad input.`

// simSweepOpts are the flags of newSimSweepCmd.
type simSweepOpts struct {
	name, seeds, shard, outDir, junit string
	parallel                          int
	bugs                              []string
	asJSON                            bool
}

func newSimSweepCmd() *cobra.Command {
	var o simSweepOpts
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Run one scenario over a range of seeds in parallel worker processes",
		Long:  simSweepHelp,
		Example: `  loglab sim sweep --scenario log-crash --seeds 1-1000
  loglab sim sweep --scenario log-crash --seeds 1-1000 --parallel 2 --json
  loglab sim sweep --scenario log-crash --seeds 1-1000 --shard 0/4 --out shard-0
  loglab sim sweep --scenario log-crash --seeds 1-200 --bug ack-before-flush`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&o.name, "scenario", "", "scenario name (see: loglab scenario list)")
	f.StringVar(&o.seeds, "seeds", "", "inclusive seed range A-B")
	f.IntVar(&o.parallel, "parallel", 0, "worker processes (0: one per CPU)")
	f.StringVar(&o.shard, "shard", "0/1", "run shard I of N: the seeds with (seed-A) % N == I")
	f.StringArrayVar(&o.bugs, "bug", nil, "switch on a bug-zoo bug (repeatable; see docs/bugzoo.md)")
	f.StringVar(&o.outDir, "out", "", "write summary.json and results.jsonl (one result per seed) here")
	f.StringVar(&o.junit, "junit", "", "also write the sweep as JUnit XML (one testcase per seed) to this file")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object")
	return cmd
}

func (o *simSweepOpts) run(cmd *cobra.Command) error {
	if o.name == "" {
		return fmt.Errorf("--scenario is required (see: loglab scenario list)")
	}
	if o.seeds == "" {
		return fmt.Errorf("--seeds is required (e.g. --seeds 1-200)")
	}
	r, err := sweep.ParseRange(o.seeds)
	if err != nil {
		return err
	}
	sh, err := sweep.ParseShard(o.shard)
	if err != nil {
		return err
	}
	sum, results, err := sweep.Run(sweep.Config{Scenario: o.name, Bugs: o.bugs, Seeds: r, Shard: sh, Parallel: o.parallel})
	if err != nil {
		return err
	}
	if o.outDir != "" {
		if err := sweep.WriteDir(o.outDir, sum, results); err != nil {
			return err
		}
	}
	if o.junit != "" {
		if err := sweep.WriteJUnit(o.junit, sum, results); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	return emit(cmd.OutOrStdout(), o.asJSON, sum, func(w io.Writer) { sweep.WriteText(w, sum) }, sum.Failed > 0)
}

// newSimWorkerCmd is the hidden worker a sweep starts: it reads seeds, one
// per line, on stdin and writes each seed's result as one JSON line.
func newSimWorkerCmd() *cobra.Command {
	var (
		name string
		bugs []string
	)
	cmd := &cobra.Command{
		Use:    "worker",
		Short:  "Run seeds read from stdin, one JSON result per line (used by sim sweep)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return sweep.Serve(cmd.InOrStdin(), cmd.OutOrStdout(), name, bugs)
		},
	}
	cmd.Flags().StringVar(&name, "scenario", "", "scenario name")
	cmd.Flags().StringArrayVar(&bugs, "bug", nil, "bug-zoo bug to switch on (repeatable)")
	return cmd
}
