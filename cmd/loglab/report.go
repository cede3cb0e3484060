package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/reports"
)

func newReportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report DIR",
		Short: "Write an HTML report with plots (and a Markdown summary) from the results in DIR",
		Long: `report reads every bench result in DIR (the *.json files ` + "`loglab bench --out DIR`" + `
writes) and writes one self-contained HTML file — a table of the runs and
the plots inline: latency by percentile (HDR style, publish and end-to-end),
publish and consume throughput over time, p99 over time — to -o (default
DIR/index.html), plus the same table as Markdown in summary.md next to it
(for a CI step summary). A directory without results is an error and
nothing is written.`,
		Example: "  loglab bench --duration 20s --out results && loglab bench --target kfake --duration 20s --out results\n" +
			"  loglab report results -o report.html",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			rs, err := reports.ReadBenchResults(dir)
			if err != nil {
				return err
			}
			plots, err := reports.BenchPlots(rs)
			if err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join(dir, "index.html")
			}
			var html bytes.Buffer
			if err := reports.WriteHTML(&html, "loglab bench report", rs, plots); err != nil {
				return err
			}
			if err := os.WriteFile(out, html.Bytes(), 0o644); err != nil {
				return err
			}
			md := filepath.Join(filepath.Dir(out), "summary.md")
			if err := os.WriteFile(md, []byte(reports.Markdown("loglab bench report", rs)), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report of %d runs written to %s (summary: %s)\n", len(rs), out, md)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "HTML file to write (default DIR/index.html)")
	return cmd
}
