package main

import (
	"io"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/scenarios"
	"github.com/loglab/loglab/scenarios/sweep"
)

func newSimCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run scenarios in the deterministic simulator",
		Args:  cobra.NoArgs,
		RunE:  missingSubcommand("loglab sim run --scenario log-crash --seed 1"),
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
	lvl, err := parseLogLevel(o.level)
	if err != nil {
		return err
	}
	opts := scenarios.Options{Seed: o.seed, Bugs: o.bugs, NodeLogLevel: lvl}
	res, err := sweep.RunOneFiles(sc, opts, knobsTo, o.outDir, o.logTo)
	if err != nil {
		return err
	}
	return emit(out, o.asJSON, res, func(w io.Writer) { sweep.WriteResultText(w, res) }, !res.OK)
}

// scenario is the scenario --scenario or --scenario-file names; a file's
// own seed (a shrunk file notes the seed that reproduces it) becomes the
// seed unless --seed was given.
func (o *simRunOpts) scenario(cmd *cobra.Command) (*scenarios.Scenario, error) {
	sc, seed, err := sweep.Resolve(o.name, o.file)
	if err == nil && seed != nil && !cmd.Flags().Changed("seed") {
		o.seed = *seed
	}
	return sc, err
}
