package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/scenarios/sweep"
)

func newBugzooCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "bugzoo", Short: "Measure how fast scenarios catch the planted bugs (docs/bugzoo.md)", Args: cobra.NoArgs,
		RunE: missingSubcommand("loglab bugzoo measure --scenario cluster-swarm --seeds 1-100")}
	var o struct {
		name, seeds string
		bugs        []string
		parallel    int
		asJSON      bool
	}
	measure := &cobra.Command{
		Use:   "measure",
		Short: "Sweep a scenario with no bug on, then once per planted bug, and print the detection table",
		Long: `Sweep the scenario over the seeds with no bug on (the baseline), then once per
bug-zoo bug (every bug, or those named by --bug), one bug on at a time, and
print per bug the seeds it took to detect, the failing seeds and the anomaly
kinds seen: the detection table of docs/bugzoo.md.

Exit status: 0 when the baseline passes every seed and every bug fails at
least one, 1 when not, 2 on bad input.`,
		Example: "  loglab bugzoo measure --scenario cluster-swarm --seeds 1-100 --parallel 2\n" +
			"  loglab bugzoo measure --scenario log-crash --seeds 1-200 --bug ack-before-flush --json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.name == "" || o.seeds == "" {
				return fmt.Errorf("--scenario and --seeds are required (e.g. --scenario cluster-swarm --seeds 1-100)")
			}
			r, err := sweep.ParseRange(o.seeds)
			if err != nil {
				return err
			}
			d, err := sweep.Measure(sweep.MeasureConfig{Scenario: o.name, Seeds: r, Bugs: o.bugs, Parallel: o.parallel, Progress: cmd.ErrOrStderr()})
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), o.asJSON, d, func(w io.Writer) { sweep.WriteDetection(w, d) }, d.Failed())
		},
	}
	f := measure.Flags()
	f.StringVar(&o.name, "scenario", "", "scenario name (see: loglab scenario list)")
	f.StringVar(&o.seeds, "seeds", "", "inclusive seed range A-B")
	f.StringArrayVar(&o.bugs, "bug", nil, "measure only this bug (repeatable; default: every bug)")
	f.IntVar(&o.parallel, "parallel", 0, "worker processes (0: one per CPU)")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object")
	cmd.AddCommand(measure)
	return cmd
}
