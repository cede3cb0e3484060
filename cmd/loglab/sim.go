package main

import (
	"encoding/json"
	"fmt"
	"os"

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

// simRunHelp is `loglab sim run --help`'s long text.
const simRunHelp = `Run one scenario for one seed. The seed and every knob derived from it are
printed first; the same seed and build always give the same trace_hash.
Exit status: 0 when the scenario's expectations hold, 1 when they do not.`

// simRunOpts are the flags of newSimRunCmd.
type simRunOpts struct {
	name   string
	file   string
	seed   uint64
	asJSON bool
	outDir string
	bugs   []string
	logTo  string
	level  string
}

func newSimRunCmd() *cobra.Command {
	var o simRunOpts
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run one scenario for one seed",
		Long:  simRunHelp,
		Example: "  loglab sim run --scenario log-crash --seed 42\n  loglab sim run --scenario log-crash --seed 42 --json --out run42\n" +
			"  loglab sim run --scenario-file my-scenario.yaml --seed 7 --out run7",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	cmd.Flags().StringVar(&o.name, "scenario", "", "scenario name (see: loglab scenario list)")
	cmd.Flags().StringVar(&o.file, "scenario-file", "", "run a scenario file (YAML, see scenarios/library/README.md)")
	cmd.Flags().Uint64Var(&o.seed, "seed", 1, "run seed (default: the file's seed, else 1)")
	cmd.Flags().BoolVar(&o.asJSON, "json", false, "print one JSON object")
	cmd.Flags().StringVar(&o.outDir, "out", "", "write result.json, verdicts.json, summary.txt, trace.txt, history.jsonl\n(and porcupine's HTML for a partition found not linearizable) to this directory")
	cmd.Flags().StringArrayVar(&o.bugs, "bug", nil, "turn on a bug-zoo switch (repeatable; see docs/bugzoo.md)")
	cmd.Flags().StringVar(&o.logTo, "node-log", "", "write every node's own log (elections, truncations, recoveries), stamped with virtual time, to this file")
	cmd.Flags().StringVar(&o.level, "node-log-level", "info", "level of --node-log: debug, info, warn or error")
	return cmd
}

func (o *simRunOpts) run(cmd *cobra.Command) error {
	sc, err := o.scenario(cmd)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	knobsTo := out
	if o.asJSON {
		knobsTo = cmd.ErrOrStderr()
	}
	opts := scenarios.Options{Seed: o.seed, RecordTrace: o.outDir != "", Bugs: o.bugs}
	if o.logTo != "" {
		lvl, err := parseLogLevel(o.level)
		if err != nil {
			return err
		}
		f, err := os.Create(o.logTo)
		if err != nil {
			return fmt.Errorf("--node-log: %w", err)
		}
		defer f.Close()
		opts.NodeLog, opts.NodeLogLevel = f, lvl
	}
	res, err := sweep.RunOne(sc, opts, knobsTo)
	if err != nil {
		return err
	}
	if o.outDir != "" {
		if err := sweep.WriteRunDir(o.outDir, res); err != nil {
			return err
		}
	}
	if o.asJSON {
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
}

// scenario is the scenario --scenario or --scenario-file names; a file's
// own seed becomes the seed unless --seed was given.
func (o *simRunOpts) scenario(cmd *cobra.Command) (*scenarios.Scenario, error) {
	var sc *scenarios.Scenario
	switch {
	case o.name != "" && o.file != "":
		return nil, fmt.Errorf("give --scenario or --scenario-file, not both")
	case o.file != "":
		var spec *scenarios.Spec
		var err error
		if sc, spec, err = sweep.LoadFile(o.file); err != nil {
			return nil, err
		}
		// A shrunk file notes the seed that reproduces it.
		if !cmd.Flags().Changed("seed") && spec.Seed != nil {
			o.seed = *spec.Seed
		}
	case o.name == "":
		return nil, fmt.Errorf("--scenario or --scenario-file is required (see: loglab scenario list)")
	default:
		var err error
		if sc, err = scenarios.Lookup(o.name); err != nil {
			return nil, err
		}
	}
	return sc, nil
}
