package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/checkers"
	"github.com/loglab/loglab/checkers/linearizable"
	"github.com/loglab/loglab/checkers/verdict"
)

func newCheckCmd() *cobra.Command {
	var (
		file, outDir, list string
		asJSON, finalReads bool
		staleReads         bool
		linTimeout         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Run the checkers over a recorded history (JSONL)",
		Long: `Run loglab's checkers over a history in the JSONL format of package
history, recorded in simulation or by a real run (produce/consume
--history). The checkers: ` + strings.Join(checkers.Names(), ", ") + ` (all by default).

--out DIR writes porcupine's HTML visualization of every partition found not
linearizable to DIR.

Exit status: 0 when every checker passes, 1 when one finds an anomaly, 3 when
none fails but one could not decide (verdict unknown, e.g. a linearizability
search out of time), 2 on bad input (a malformed history names its file and
line).`,
		Example: `  loglab check --history run/history.jsonl
  loglab check --history run/history.jsonl --json --checkers queue,liveness
  loglab check --history run/history.jsonl --final-reads-complete --out viz`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return fmt.Errorf("--history is required (a JSONL history file)")
			}
			var opts checkers.Options
			if list != "" {
				for _, n := range strings.Split(list, ",") {
					if n = strings.TrimSpace(n); n != "" {
						opts.Checkers = append(opts.Checkers, n)
					}
				}
			}
			opts.Queue.FinalReadsComplete = finalReads
			opts.Linearizable.StaleReads = staleReads
			if linTimeout < 0 {
				opts.Linearizable.Timeout = linearizable.NoTimeout
			} else {
				opts.Linearizable.Timeout = linTimeout
			}
			if outDir != "" {
				opts.Linearizable.WriteFile = func(name string, data []byte) error {
					if err := os.MkdirAll(outDir, 0o755); err != nil {
						return err
					}
					return os.WriteFile(filepath.Join(outDir, filepath.Base(name)), data, 0o644)
				}
			}
			f, err := os.Open(file)
			if err != nil {
				return fmt.Errorf("--history: %w", err)
			}
			defer f.Close()
			rep, err := checkers.CheckFile(file, f, opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
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
		},
	}
	f := cmd.Flags()
	f.StringVar(&file, "history", "", "the history file (JSONL)")
	f.BoolVar(&asJSON, "json", false, "print the report as one JSON object")
	f.StringVar(&list, "checkers", "", "comma-separated checkers to run (default all: "+strings.Join(checkers.Names(), ",")+")")
	f.StringVar(&outDir, "out", "", "write porcupine HTML for non-linearizable partitions here")
	f.BoolVar(&finalReads, "final-reads-complete", false, "the history ends with reads that drained every partition: an acknowledged value never read is a lost write")
	f.BoolVar(&staleReads, "stale-reads", false, "allow empty polls below the log end (acks=1, follower fetches)")
	f.DurationVar(&linTimeout, "linearizable-timeout", 0, "porcupine's budget per partition (0: the default; negative: none)")
	return cmd
}
