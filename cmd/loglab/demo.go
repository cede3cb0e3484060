package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/bench"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/reports"
	"github.com/loglab/loglab/scenarios"
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

			failedRuns, err := demoSuite(out, outDir, seeds, parallel)
			if err != nil {
				return err
			}
			if !noBench {
				if err := demoBench(ctx, out, outDir, rate, duration, warmup, window, killBroker, killAt, down, keepHistory); err != nil {
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

// demoSuite sweeps every scenario over seeds 1..n, writing each sweep to
// dir/suite/NAME, and returns the failing runs.
func demoSuite(out io.Writer, dir string, n, parallel int) ([]*scenarios.Result, error) {
	all := scenarios.All()
	fmt.Fprintf(out, "1. scenario suite in simulation: %d scenarios x seeds 1-%d, %d worker processes\n", len(all), n, parallel)
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tRUNS\tPASSED\tEXPECTED ANOMALIES FOUND (SEEDS)\tEVENTS/S\tSIM_S/WALL_S")
	var failed []*scenarios.Result
	var runs int
	var events uint64
	var simSeconds float64
	start := time.Now()
	r := seedRange{1, uint64(n)}
	for _, sc := range all {
		list := shardSpec{0, 1}.seeds(r)
		t0 := time.Now()
		results, err := runSweep(sc.Name, nil, list, max(1, min(parallel, len(list))))
		if err != nil {
			return nil, fmt.Errorf("suite: %s: %w", sc.Name, err)
		}
		sum := summarize(sc.Name, nil, r, shardSpec{0, 1}, results)
		sum.Parallel = parallel
		sum.WallSeconds = time.Since(t0).Seconds()
		sum.SeedsPerMinute = seedsPerMinute(sum.Runs, sum.WallSeconds)
		if err := writeSweepDir(filepath.Join(dir, "suite", sc.Name), sum, results); err != nil {
			return nil, err
		}
		for _, res := range results {
			if !res.OK {
				failed = append(failed, res)
			}
		}
		var found []string
		for _, k := range sortedKeys(sum.SeedsWithAnomaly) {
			found = append(found, fmt.Sprintf("%s (%d)", k, sum.SeedsWithAnomaly[k]))
		}
		if len(found) == 0 {
			found = []string{"-"}
		}
		passed := fmt.Sprint(sum.Passed)
		if sum.Failed > 0 {
			passed += fmt.Sprintf(" (%d FAILED)", sum.Failed)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.0f\t%.0f\n", sc.Name, sum.Runs, passed, strings.Join(found, " "), sum.EventsPerSecond(), sum.SimSpeedup())
		runs += sum.Runs
		events += sum.Events
		simSeconds += sum.SimSeconds
	}
	tw.Flush()
	wall := time.Since(start).Seconds()
	fmt.Fprintf(out, "%d runs, %d failed; %d events and %.0f simulated seconds in %.1f wall seconds (%.0f events/s, %.0f simulated s per wall s)\n",
		runs, len(failed), events, simSeconds, wall, float64(events)/wall, simSeconds/wall)
	return failed, nil
}

// demoBench runs the benchmark on an embedded 3-broker cluster with a
// broker killed mid-run, records and checks its history, and writes the
// result and the history into dir.
func demoBench(ctx context.Context, out io.Writer, dir string, rate int, duration, warmup, window time.Duration, kill int, killAt, down time.Duration, keep bool) error {
	w := bench.DefaultWorkload()
	w.Name, w.ReplicationFactor, w.Acks, w.ProducerRate = "demo", 3, -1, rate
	w.Duration, w.Warmup = bench.Duration(duration), bench.Duration(warmup)
	fmt.Fprintf(out, "\n2. benchmark: 3 embedded brokers, RF=3, acks=all, %d x %d B records/s for %v", rate, w.MessageSize, duration)
	if kill > 0 {
		fmt.Fprintf(out, "; broker %d killed at %v, restarted %v later", kill, killAt, down)
	}
	fmt.Fprintln(out)
	tg, err := startTarget(ctx, "", "loglab", 3)
	if err != nil {
		return err
	}
	defer tg.cleanup()
	seeds, name, cluster := tg.seeds, tg.name, tg.cluster
	var faults []bench.Fault
	if kill > 0 {
		faults = append(faults, killFault(cluster, kill, killAt, down))
	}
	hist := history.NewMemory()
	var saved *savedHistory
	if keep {
		if saved, err = createHistory(dir, "bench-demo.history.jsonl"); err != nil {
			return err
		}
		defer saved.close()
		hist = saved.w
	}
	rep, err := bench.Run(ctx, w, bench.RunOptions{Seeds: seeds, Target: name, Window: window, Faults: faults,
		History: hist, Progress: func(line string) { fmt.Fprintln(out, "  "+line) }})
	if err != nil {
		if saved != nil {
			saved.discard()
		}
		return err
	}
	if saved != nil {
		if err := saved.finish(); err != nil {
			return err
		}
		rep.Check.History = saved.name
	}
	if err := writeJSON(dir, "bench-demo.json", rep); err != nil {
		return err
	}
	printAggregate(out, rep)
	return nil
}
