package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/bench"
	"github.com/loglab/loglab/reports/demo"
)

// demoHelp is `loglab demo --help`'s long text.
const demoHelp = `demo is loglab's whole loop on this machine, with nothing to set up:

 1. a scenario suite in simulation: every named scenario (loglab scenario
    list) over seeds 1..--seeds in --parallel worker processes, each run
    checked against its expectation (no anomaly, or the anomaly a
    known-unsafe configuration must show);
 2. a benchmark on an embedded 3-broker cluster on loopback: RF=3,
    acks=all, 1 KiB records at --rate records/s for --duration, with
    broker --kill-broker killed (no clean shutdown) at --kill-at and
    restarted --down later; the run's history (every send and read) is
    checked for lost, duplicated, reordered and divergent records;
 3. a report: --out/index.html (self-contained, plots inline),
    summary.md and junit.xml, and the raw results beside them.

It exits 1 if a scenario run missed its expectation or the benchmark's
history check found an anomaly, printing the command that replays each
failing seed. --out is cleared first if an earlier demo wrote it; any other
non-empty directory is refused.`

func newDemoCmd() *cobra.Command {
	var (
		outDir               string
		seeds, parallel      int
		rate, killBroker     int
		duration, killAt     time.Duration
		down, warmup, window time.Duration
		noBench, keepHistory bool
	)
	cmd := &cobra.Command{
		Use:     "demo",
		Short:   "The embedded default: a scenario suite in simulation, a benchmark under a broker kill, and a report",
		Long:    demoHelp,
		Example: "  loglab demo\n  loglab demo --seeds 20 --out /tmp/demo\n  loglab demo --no-bench",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var bc *bench.DemoConfig
			if !noBench {
				bc = &bench.DemoConfig{Rate: rate, Duration: duration, Warmup: warmup, Window: window,
					Kill: killBroker, KillAt: killAt, Down: down, KeepHistory: keepHistory}
			}
			err := demo.Run(ctx, cmd.OutOrStdout(), demo.Config{Dir: outDir, Seeds: seeds, Parallel: parallel, Bench: bc})
			var failed *demo.FailedError
			if errors.As(err, &failed) {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return exitError{1}
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&outDir, "out", "loglab-report", "directory for the results and the report")
	f.IntVar(&seeds, "seeds", 5, "seeds per scenario in the suite, from 1")
	f.IntVar(&parallel, "parallel", 0, "worker processes for the suite (0: one per CPU)")
	f.BoolVar(&noBench, "no-bench", false, "skip the benchmark (suite and report only)")
	f.BoolVar(&keepHistory, "keep-history", false, "benchmark: also save its history (about 400 bytes per operation) for loglab check")
	f.IntVar(&rate, "rate", 20000, "benchmark: records per second (1 KiB each)")
	f.DurationVar(&duration, "duration", 20*time.Second, "benchmark: measured duration")
	f.DurationVar(&warmup, "warmup", 3*time.Second, "benchmark: warm-up before measuring")
	f.DurationVar(&window, "window", time.Second, "benchmark: reporting window")
	f.IntVar(&killBroker, "kill-broker", 2, "benchmark: the broker killed mid-run (0: none)")
	f.DurationVar(&killAt, "kill-at", 8*time.Second, "benchmark: when the broker is killed")
	f.DurationVar(&down, "down", 4*time.Second, "benchmark: how long it stays down")
	return cmd
}
