package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/scenarios"
)

func newScenarioCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "scenario",
		Short:   "The scenario library",
		Example: "  loglab scenario list\n  loglab scenario list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("missing subcommand (try: loglab scenario list)")
		},
	}
	var asJSON bool
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the named scenarios with their expectations",
		Example: "  loglab scenario list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			all := scenarios.All()
			if asJSON {
				type entry struct {
					Name        string `json:"name"`
					Description string `json:"description"`
					Expectation string `json:"expectation"`
				}
				entries := make([]entry, 0, len(all))
				for _, s := range all {
					entries = append(entries, entry{s.Name, s.Description, s.Expectation})
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(entries)
			}
			tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tEXPECTATION\tDESCRIPTION")
			for _, s := range all {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.Expectation, s.Description)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	cmd.AddCommand(list)
	return cmd
}
