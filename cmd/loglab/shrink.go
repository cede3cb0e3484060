package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/scenarios"
	"github.com/loglab/loglab/scenarios/sweep"
)

// simShrinkHelp is `loglab sim shrink --help`'s long text.
const simShrinkHelp = `Shrink a failing run (a scenario file, from the library or from disk) by
greedy delta debugging: drop fault steps, producers and consumers, halve the
safety phase and the rate, fewer partitions — keeping each change under which
the same anomaly kind persists with the same seed. Writes a minimal YAML
scenario (faults pasted as text, seed noted) that reproduces the anomaly
deterministically: loglab sim run --scenario-file FILE.`

func newSimShrinkCmd() *cobra.Command {
	var (
		name, file, kind, out string
		seed                  uint64
		maxRuns               int
	)
	cmd := &cobra.Command{
		Use:   "shrink",
		Short: "Minimise a failing run into a small scenario file that reproduces it",
		Long:  simShrinkHelp,
		Example: "  loglab sim shrink --scenario single-broker-flush-every-1000-messages-loses-acked-writes-on-power-loss --seed 3 --out min.yaml\n" +
			"  loglab sim run --scenario-file min.yaml",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, _, err := sweep.Resolve(name, file)
			if err != nil {
				return err
			}
			logTo := cmd.ErrOrStderr()
			res, err := scenarios.Shrink(sc, scenarios.ShrinkOptions{
				Seed: seed, Kind: kind, MaxRuns: maxRuns,
				Log: func(format string, args ...any) { fmt.Fprintf(logTo, format+"\n", args...) },
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(logTo, "kept %s after %d runs\nbefore: %s\nafter:  %s\n", res.Kind, res.Runs, res.Before, res.After)
			if out == "" {
				_, err = cmd.OutOrStdout().Write(res.YAML)
				return err
			}
			if err := os.WriteFile(out, res.YAML, 0o644); err != nil {
				return fmt.Errorf("--out: %w", err)
			}
			fmt.Fprintf(logTo, "wrote %s (replay: loglab sim run --scenario-file %s)\n", out, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "scenario", "", "library scenario name")
	cmd.Flags().StringVar(&file, "scenario-file", "", "scenario file to shrink")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "the failing seed")
	cmd.Flags().StringVar(&kind, "anomaly", "", "anomaly kind to keep (default: the first that fails the run, or the first expected one)")
	cmd.Flags().IntVar(&maxRuns, "max-runs", 150, "bound on the runs tried")
	cmd.Flags().StringVar(&out, "out", "", "write the minimal scenario file here (default: stdout)")
	return cmd
}
