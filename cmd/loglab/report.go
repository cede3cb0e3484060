package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/reports"
)

func newReportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report DIR",
		Short: "Write an HTML report with plots, a Markdown summary and JUnit XML from the results in DIR",
		Long: `report reads every result in DIR — bench runs and bench sweeps (the *.json files
` + "`loglab bench --out DIR`" + ` and ` + "`loglab bench sweep --out DIR`" + ` write) and scenario seed
sweeps (the summary.json and results.jsonl of ` + "`loglab sim sweep --out DIR/NAME`" + `, in
DIR or up to two levels below) — and writes one self-contained HTML file
with tables and the plots inline (latency by percentile, HDR style; publish
and consume throughput and p99 over time with fault windows shaded; scaling
curves; the simulator's speed per scenario) to -o (default DIR/index.html),
the same tables as Markdown in summary.md next to it (for a CI step
summary) and, when there are seed sweeps, junit.xml (one testcase per seed).

A directory without results, or with a file that is not one, is an error
and nothing is written. Exit status 1 when a sweep had failing seeds or a
bench run's history check failed (the report is written all the same).`,
		Example: "  loglab bench --duration 20s --out results && loglab bench --target kfake --duration 20s --out results\n" +
			"  loglab sim sweep --scenario cluster-swarm --seeds 1-100 --out results/swarm\n" +
			"  loglab report results -o report.html",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			set, err := reports.Read(dir)
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join(dir, "index.html")
			}
			files, err := reports.WriteFiles(set, "loglab report", out)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report of %d bench runs, %d bench sweeps and %d seed sweeps written to %s (also: %s)\n",
				len(set.Bench), len(set.Scaling), len(set.Sweeps), out, strings.Join(files[1:], ", "))
			if err := set.Failed(); err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "HTML file to write (default DIR/index.html)")
	return cmd
}
