package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/scenarios"
)

func newDemoCmd() *cobra.Command {
	var seeds int
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "The embedded default: run the log-crash scenario over a range of seeds",
		Long: `demo runs the log-crash scenario (a partition log appended under a seed-chosen
flush policy, crashed in seed-chosen modes, recovered and checked) over a range
of seeds and prints a summary table. It exits non-zero if any run fails its
expectations, printing the command that replays it.`,
		Example: "  loglab demo\n  loglab demo --seeds 200",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if seeds < 1 {
				return fmt.Errorf("--seeds must be at least 1, got %d", seeds)
			}
			sc, err := scenarios.Lookup("log-crash")
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "loglab demo: scenario %s, seeds 1-%d\n", sc.Name, seeds)
			fmt.Fprintf(out, "claim: %s\n\n", sc.Description)
			tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "SEED\tVERDICT\tEVENTS\tSIM_S\tCRASHES\tAPPENDED\tACKED\tRECOVERED\tTRACE_HASH")
			start := time.Now()
			var failed []*scenarios.Result
			var events uint64
			var simSeconds float64
			for s := 1; s <= seeds; s++ {
				res, err := runOne(sc, uint64(s), false, nil)
				if err != nil {
					return err
				}
				verdict := "pass"
				if !res.OK {
					verdict = "FAIL"
					failed = append(failed, res)
				}
				events += res.Events
				simSeconds += res.SimSeconds
				fmt.Fprintf(tw, "%d\t%s\t%d\t%.1f\t%d\t%d\t%d\t%d\t%s\n", s, verdict, res.Events, res.SimSeconds,
					res.Stats["crashes"], res.Stats["batches_appended"], res.Stats["batches_acked_durable"],
					res.Stats["recoveries_checked"], res.TraceHash)
			}
			tw.Flush()
			wall := time.Since(start).Seconds()
			fmt.Fprintf(out, "\n%d seeds, %d passed, %d failed; %d events, %.0f simulated seconds in %.2f wall seconds\n",
				seeds, seeds-len(failed), len(failed), events, simSeconds, wall)
			for _, r := range failed {
				fmt.Fprintf(out, "FAIL seed %d: %v\n  repro: %s\n", r.Seed, r.AnomalyKinds(), r.Repro)
			}
			if len(failed) > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&seeds, "seeds", 50, "number of seeds to run, from 1")
	return cmd
}
