package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/checkers"
	"github.com/loglab/loglab/checkers/verdict"
)

// checkHelp is `loglab check --help`'s long text.
var checkHelp = `Run loglab's checkers over a history in the JSONL format of package
history, recorded in simulation or by a real run (produce/consume
--history). The checkers: ` + strings.Join(checkers.Names(), ", ") + ` (all by default),
and final-read when named: every acknowledged write judged against the
history's final reader (the scenarios that end with a final read).

--out DIR writes porcupine's HTML visualization of every partition found not
linearizable to DIR.

Exit status: 0 when every checker passes, 1 when one finds an anomaly, 3 when
none fails but one could not decide (verdict unknown, e.g. a linearizability
search out of time), 2 on bad input (a malformed history names its file and
line).`

// checkOpts are the flags of newCheckCmd.
type checkOpts struct {
	file, outDir string
	opts         checkers.Options
	asJSON       bool
}

func newCheckCmd() *cobra.Command {
	var o checkOpts
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Run the checkers over a recorded history (JSONL)",
		Long:  checkHelp,
		Example: `  loglab check --history run/history.jsonl
  loglab check --history run/history.jsonl --json --checkers queue,liveness
  loglab check --history run/history.jsonl --final-reads-complete --out viz`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	f.StringVar(&o.file, "history", "", "the history file (JSONL)")
	f.BoolVar(&o.asJSON, "json", false, "print the report as one JSON object")
	f.StringSliceVar(&o.opts.Checkers, "checkers", nil, "comma-separated checkers to run: "+strings.Join(checkers.AllNames(), ",")+" (default all but final-read)")
	f.StringVar(&o.outDir, "out", "", "write porcupine HTML for non-linearizable partitions here")
	f.BoolVar(&o.opts.Queue.FinalReadsComplete, "final-reads-complete", false, "the history ends with reads that drained every partition: an acknowledged value never read is a lost write")
	f.BoolVar(&o.opts.Linearizable.StaleReads, "stale-reads", false, "allow empty polls below the log end (acks=1, follower fetches)")
	f.DurationVar(&o.opts.Linearizable.Timeout, "linearizable-timeout", 0, "porcupine's budget per partition (0: the default; negative: none)")
	return cmd
}

func (o *checkOpts) run(cmd *cobra.Command) error {
	if o.file == "" {
		return fmt.Errorf("--history is required (a JSONL history file)")
	}
	opts := o.opts
	if o.outDir != "" {
		opts.Linearizable.WriteFile = func(name string, data []byte) error {
			if err := os.MkdirAll(o.outDir, 0o755); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(o.outDir, filepath.Base(name)), data, 0o644)
		}
	}
	f, err := os.Open(o.file)
	if err != nil {
		return fmt.Errorf("--history: %w", err)
	}
	defer f.Close()
	rep, err := checkers.CheckFile(o.file, f, opts)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if o.asJSON {
		if err := json.NewEncoder(out).Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprint(out, rep.Text())
	}
	switch rep.Verdict {
	case verdict.Pass:
		return nil
	case verdict.Fail:
		return exitError{1}
	default:
		return exitError{3}
	}
}
