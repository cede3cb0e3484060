package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/bench"
	"github.com/loglab/loglab/reports"
	"github.com/loglab/loglab/scenarios/sweep"
)

// demoMarker marks a directory the demo wrote, which a later demo may
// clear; the demo refuses to write into any other non-empty directory.
const demoMarker = ".loglab-demo"

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
		Use:   "demo",
		Short: "The embedded default: a scenario suite in simulation, a benchmark under a broker kill, and a report",
		Long: `demo is loglab's whole loop on this machine, with nothing to set up:

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
non-empty directory is refused.`,
		Example: "  loglab demo\n  loglab demo --seeds 20 --out /tmp/demo\n  loglab demo --no-bench",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case seeds < 1:
				return fmt.Errorf("--seeds must be at least 1, got %d", seeds)
			case parallel < 0:
				return fmt.Errorf("--parallel %d: want at least 1 (0: one per CPU)", parallel)
			case !noBench && rate < 1:
				return fmt.Errorf("--rate %d: want at least 1 record/s", rate)
			case !noBench && (killBroker < 0 || killBroker > 3):
				return fmt.Errorf("--kill-broker %d: want 1..3 (0: none)", killBroker)
			case !noBench && killBroker > 0 && (killAt < 0 || down <= 0 || killAt+down >= duration):
				return fmt.Errorf("--kill-at %v --down %v: the broker must be back before the run ends (--duration %v)", killAt, down, duration)
			}
			if parallel == 0 {
				parallel = runtime.NumCPU()
			}
			if err := prepareDemoDir(outDir); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out := cmd.OutOrStdout()
			start := time.Now()
			fmt.Fprintf(out, "loglab demo: results and report in %s\n\n", outDir)

			failedRuns, err := sweep.Suite(out, outDir, seeds, parallel)
			if err != nil {
				return err
			}
			if !noBench {
				if err := bench.Demo(ctx, out, outDir, bench.DemoConfig{Rate: rate, Duration: duration, Warmup: warmup, Window: window,
					Kill: killBroker, KillAt: killAt, Down: down, KeepHistory: keepHistory}); err != nil {
					return err
				}
			}
			set, err := reports.Read(outDir)
			if err != nil {
				return err
			}
			index := filepath.Join(outDir, "index.html")
			files, err := writeReport(set, "loglab demo", index)
			if err != nil {
				return err
			}
			abs, _ := filepath.Abs(index)
			fmt.Fprintf(out, "\nreport: %s\n(also %s; took %.0fs)\n", abs, strings.Join(files[1:], ", "), time.Since(start).Seconds())
			for _, r := range failedRuns {
				fmt.Fprintf(out, "FAIL %s seed %d: %v\n  repro: %s\n", r.Scenario, r.Seed, r.AnomalyKinds(), r.Repro)
			}
			if err := set.Failed(); err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), err)
				return exitError{1}
			}
			return nil
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

// prepareDemoDir makes dir empty: creates it, or clears what an earlier
// demo wrote there; a non-empty directory the demo did not write is an
// error (nothing of the user's is deleted).
func prepareDemoDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return fmt.Errorf("--out: %w", err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, demoMarker)); err != nil {
			return fmt.Errorf("--out %s: the directory is not empty and was not written by loglab demo; choose another", dir)
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("--out: clearing an earlier demo: %w", err)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, demoMarker), []byte("written by loglab demo; cleared by the next one\n"), 0o644)
}
