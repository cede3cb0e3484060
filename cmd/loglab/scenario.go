package main

import (
	"github.com/spf13/cobra"

	"github.com/loglab/loglab/scenarios"
)

func newScenarioCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "scenario",
		Short:   "The scenario library",
		Example: "  loglab scenario list\n  loglab scenario list --json",
		Args:    cobra.NoArgs,
		RunE:    missingSubcommand("loglab scenario list"),
	}
	var asJSON bool
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the named scenarios with their expectations",
		Example: "  loglab scenario list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if asJSON {
				return printJSON(cmd.OutOrStdout(), scenarios.Catalog())
			}
			return scenarios.WriteCatalog(cmd.OutOrStdout(), scenarios.Catalog())
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	cmd.AddCommand(list)
	return cmd
}
