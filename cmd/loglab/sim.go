package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/scenarios"
	"github.com/loglab/loglab/scenarios/sweep"
)

func newSimCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run scenarios in the deterministic simulator",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("missing subcommand (try: loglab sim run --scenario log-crash --seed 1)")
		},
	}
	cmd.AddCommand(newSimRunCmd())
	cmd.AddCommand(newSimShrinkCmd())
	cmd.AddCommand(newSimSweepCmd(), newSimWorkerCmd(), newSimMergeCmd())
	return cmd
}

func newSimRunCmd() *cobra.Command {
	var (
		name   string
		file   string
		seed   uint64
		asJSON bool
		outDir string
		bugs   []string
		logTo  string
		level  string
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run one scenario for one seed",
		Long: `Run one scenario for one seed. The seed and every knob derived from it are
printed first; the same seed and build always give the same trace_hash.
Exit status: 0 when the scenario's expectations hold, 1 when they do not.`,
		Example: "  loglab sim run --scenario log-crash --seed 42\n  loglab sim run --scenario log-crash --seed 42 --json --out run42\n" +
			"  loglab sim run --scenario-file my-scenario.yaml --seed 7 --out run7",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var sc *scenarios.Scenario
			switch {
			case name != "" && file != "":
				return fmt.Errorf("give --scenario or --scenario-file, not both")
			case file != "":
				var spec *scenarios.Spec
				var err error
				if sc, spec, err = loadScenarioFile(file); err != nil {
					return err
				}
				// A shrunk file notes the seed that reproduces it.
				if !cmd.Flags().Changed("seed") && spec.Seed != nil {
					seed = *spec.Seed
				}
			case name == "":
				return fmt.Errorf("--scenario or --scenario-file is required (see: loglab scenario list)")
			default:
				var err error
				if sc, err = scenarios.Lookup(name); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			knobsTo := out
			if asJSON {
				knobsTo = cmd.ErrOrStderr()
			}
			opts := scenarios.Options{Seed: seed, RecordTrace: outDir != "", Bugs: bugs}
			if logTo != "" {
				lvl, err := parseLogLevel(level)
				if err != nil {
					return err
				}
				f, err := os.Create(logTo)
				if err != nil {
					return fmt.Errorf("--node-log: %w", err)
				}
				defer f.Close()
				opts.NodeLog, opts.NodeLogLevel = f, lvl
			}
			res, err := runOne(sc, opts, knobsTo)
			if err != nil {
				return err
			}
			if outDir != "" {
				if err := sweep.WriteRunDir(outDir, res); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(out)
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				sweep.WriteResultText(out, res)
			}
			if !res.OK {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "scenario", "", "scenario name (see: loglab scenario list)")
	cmd.Flags().StringVar(&file, "scenario-file", "", "run a scenario file (YAML, see scenarios/library/README.md)")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "run seed (default: the file's seed, else 1)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.Flags().StringVar(&outDir, "out", "", "write result.json, verdicts.json, summary.txt, trace.txt, history.jsonl\n(and porcupine's HTML for a partition found not linearizable) to this directory")
	cmd.Flags().StringArrayVar(&bugs, "bug", nil, "turn on a bug-zoo switch (repeatable; see docs/bugzoo.md)")
	cmd.Flags().StringVar(&logTo, "node-log", "", "write every node's own log (elections, truncations, recoveries), stamped with virtual time, to this file")
	cmd.Flags().StringVar(&level, "node-log-level", "info", "level of --node-log: debug, info, warn or error")
	return cmd
}

// runOne runs a scenario and measures its wall time (the one thing the
// simulator cannot know).
func runOne(sc *scenarios.Scenario, opts scenarios.Options, knobs io.Writer) (*scenarios.Result, error) {
	start := time.Now()
	opts.Log = func(format string, args ...any) {
		if knobs != nil {
			fmt.Fprintf(knobs, format+"\n", args...)
		}
	}
	res, err := sc.Run(opts)
	if err != nil {
		return nil, fmt.Errorf("scenario %s seed %d: %w", sc.Name, opts.Seed, err)
	}
	res.WallSeconds = time.Since(start).Seconds()
	for _, b := range opts.Bugs {
		res.Repro += " --bug " + b // the repro must turn the same bugs on
	}
	return res, nil
}

// loadScenarioFile reads and compiles a scenario file; errors name the
// file, the line and the field.
func loadScenarioFile(path string) (*scenarios.Scenario, *scenarios.Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--scenario-file: %w", err)
	}
	return scenarios.LoadFile(path, data)
}
