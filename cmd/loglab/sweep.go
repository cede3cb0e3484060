package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/broker/bugzoo"
	"github.com/loglab/loglab/reports"
	"github.com/loglab/loglab/scenarios"
)

// A sweep runs one scenario over a range of seeds in P worker processes
// (this binary re-executed as the hidden `loglab sim worker`, which reads
// seeds on stdin and writes one result per line), then summarises: runs,
// passes, failures, anomalies by kind, seeds per minute, and for every
// failing seed the command that replays it. Shards split one range over
// machines: shard I/N keeps the seeds with (seed-A) % N == I, and `loglab
// sim merge` adds the shards' summaries back up (docs/sweeps.md).

// sweepSummary is the JSON of `sim sweep --json`, of DIR/summary.json
// with --out, and of `sim merge --json`; package reports reads it (seed-
// sweep summaries, JUnit XML).
type (
	sweepSummary = reports.SeedSweep
	sweepFailure = reports.SweepFailure
)

// seedRange is an inclusive range of seeds.
type seedRange struct{ first, last uint64 }

func (r seedRange) String() string {
	return strconv.FormatUint(r.first, 10) + "-" + strconv.FormatUint(r.last, 10)
}

// parseSeeds reads "A-B" (or a single seed "A").
func parseSeeds(s string) (seedRange, error) {
	bad := func(why string) (seedRange, error) {
		return seedRange{}, fmt.Errorf("--seeds %q: %s (want A-B, e.g. --seeds 1-200)", s, why)
	}
	a, b, isRange := strings.Cut(strings.TrimSpace(s), "-")
	first, err := strconv.ParseUint(a, 10, 64)
	if err != nil {
		return bad("first seed is not a non-negative integer")
	}
	last := first
	if isRange {
		if last, err = strconv.ParseUint(b, 10, 64); err != nil {
			return bad("last seed is not a non-negative integer")
		}
	}
	if last < first {
		return bad("last seed is below the first")
	}
	if last-first >= 1<<32 {
		return bad("more than 2^32 seeds")
	}
	return seedRange{first, last}, nil
}

// shardSpec is shard I of N.
type shardSpec struct{ index, count uint64 }

func (s shardSpec) String() string {
	return strconv.FormatUint(s.index, 10) + "/" + strconv.FormatUint(s.count, 10)
}

// parseShard reads "I/N" with 0 <= I < N.
func parseShard(s string) (shardSpec, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	index, err1 := strconv.ParseUint(i, 10, 64)
	count, err2 := strconv.ParseUint(n, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return shardSpec{}, fmt.Errorf("--shard %q: want I/N, e.g. --shard 0/4", s)
	}
	if count == 0 || index >= count {
		return shardSpec{}, fmt.Errorf("--shard %q: want 0 <= I < N", s)
	}
	return shardSpec{index, count}, nil
}

// seeds lists the range's seeds that belong to the shard.
func (s shardSpec) seeds(r seedRange) []uint64 {
	var out []uint64
	span := r.last - r.first
	for i := s.index; i <= span; i += s.count {
		out = append(out, r.first+i)
		if s.count > span-i {
			break // the next one is past the range (and would overflow)
		}
	}
	return out
}

func newSimSweepCmd() *cobra.Command {
	var (
		name, seeds, shard, outDir, junit string
		parallel                          int
		bugs                              []string
		asJSON                            bool
	)
	cmd := &cobra.Command{
		Use:   "sweep",
		Short: "Run one scenario over a range of seeds in parallel worker processes",
		Long: `Run one scenario for every seed in A-B, in P worker processes (default: the
number of CPUs), and print a summary: runs, passed, failed, seeds per minute,
anomalies by kind, and for every failing seed its trace hash and the exact
command that replays it.

--shard I/N runs only the seeds with (seed-A) % N == I, so N machines can split
one sweep; 'loglab sim merge' adds their --out directories back up
(docs/sweeps.md). --bug NAME switches on a deliberate bug from the bug zoo
(docs/bugzoo.md; repeatable), to measure how fast the scenario catches it.

Exit status: 0 when every run met its expectations, 1 when any did not,
2 on bad input.`,
		Example: `  loglab sim sweep --scenario log-crash --seeds 1-1000
  loglab sim sweep --scenario log-crash --seeds 1-1000 --parallel 2 --json
  loglab sim sweep --scenario log-crash --seeds 1-1000 --shard 0/4 --out shard-0
  loglab sim sweep --scenario log-crash --seeds 1-200 --bug ack-before-flush`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return fmt.Errorf("--scenario is required (see: loglab scenario list)")
			}
			if _, err := scenarios.Lookup(name); err != nil {
				return err
			}
			if seeds == "" {
				return fmt.Errorf("--seeds is required (e.g. --seeds 1-200)")
			}
			r, err := parseSeeds(seeds)
			if err != nil {
				return err
			}
			sh, err := parseShard(shard)
			if err != nil {
				return err
			}
			zoo, err := bugzoo.Parse(bugs)
			if err != nil {
				return fmt.Errorf("--bug: %w", err)
			}
			if parallel < 0 {
				return fmt.Errorf("--parallel %d: want at least 1 (0: one per CPU)", parallel)
			}
			list := sh.seeds(r)
			if parallel == 0 {
				parallel = runtime.NumCPU()
			}
			parallel = max(1, min(parallel, len(list)))

			start := time.Now()
			results, err := runSweep(name, zoo.Names(), list, parallel)
			if err != nil {
				return err
			}
			sum := summarize(name, zoo.Names(), r, sh, results)
			sum.Parallel = parallel
			sum.WallSeconds = time.Since(start).Seconds()
			sum.SeedsPerMinute = seedsPerMinute(sum.Runs, sum.WallSeconds)
			if outDir != "" {
				if err := writeSweepDir(outDir, sum, results); err != nil {
					return err
				}
			}
			if junit != "" {
				if err := writeJUnit(junit, sum, results); err != nil {
					return fmt.Errorf("--junit: %w", err)
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := json.NewEncoder(out).Encode(sum); err != nil {
					return err
				}
			} else {
				printSweep(out, sum)
			}
			if sum.Failed > 0 {
				return exitError{1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "scenario", "", "scenario name (see: loglab scenario list)")
	f.StringVar(&seeds, "seeds", "", "inclusive seed range A-B")
	f.IntVar(&parallel, "parallel", 0, "worker processes (0: one per CPU)")
	f.StringVar(&shard, "shard", "0/1", "run shard I of N: the seeds with (seed-A) % N == I")
	f.StringArrayVar(&bugs, "bug", nil, "switch on a bug-zoo bug (repeatable; see docs/bugzoo.md)")
	f.StringVar(&outDir, "out", "", "write summary.json and results.jsonl (one result per seed) here")
	f.StringVar(&junit, "junit", "", "also write the sweep as JUnit XML (one testcase per seed) to this file")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func seedsPerMinute(runs int, wall float64) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(runs) * 60 / wall
}

// runSweep runs the seeds in parallel worker processes, handing each idle
// worker the next seed, and returns the results in seed order.
func runSweep(name string, bugs []string, seeds []uint64, parallel int) ([]*scenarios.Result, error) {
	if len(seeds) == 0 {
		return nil, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("sweep: cannot find this binary to start workers: %w", err)
	}
	args := []string{"sim", "worker", "--scenario", name}
	for _, b := range bugs {
		args = append(args, "--bug", b)
	}
	next := make(chan int)
	results := make([]*scenarios.Result, len(seeds))
	errs := make([]error, parallel)
	var wg sync.WaitGroup
	var stop sync.Once
	done := make(chan struct{})
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			errs[w] = runWorker(exe, args, seeds, results, next)
			if errs[w] != nil {
				stop.Do(func() { close(done) })
			}
		}(w)
	}
feed:
	for i := range seeds {
		select {
		case next <- i:
		case <-done:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return results, nil
}

// runWorker drives one worker process: for each seed index from next it
// writes the seed and reads back that seed's result line.
func runWorker(exe string, args []string, seeds []uint64, results []*scenarios.Result, next <-chan int) error {
	c := exec.Command(exe, args...)
	var stderr strings.Builder
	c.Stderr = &stderr
	in, err := c.StdinPipe()
	if err != nil {
		return err
	}
	outPipe, err := c.StdoutPipe()
	if err != nil {
		return err
	}
	if err := c.Start(); err != nil {
		return fmt.Errorf("sweep: start worker: %w", err)
	}
	out := bufio.NewReaderSize(outPipe, 1<<16)
	var runErr error
	for i := range next {
		if _, err := fmt.Fprintf(in, "%d\n", seeds[i]); err != nil {
			runErr = fmt.Errorf("sweep: worker for seed %d: %w", seeds[i], err)
			break
		}
		line, err := out.ReadBytes('\n')
		if err != nil {
			runErr = fmt.Errorf("sweep: worker died at seed %d", seeds[i])
			break
		}
		var res scenarios.Result
		if err := json.Unmarshal(line, &res); err != nil {
			runErr = fmt.Errorf("sweep: worker result for seed %d: %w", seeds[i], err)
			break
		}
		if res.Seed != seeds[i] {
			runErr = fmt.Errorf("sweep: worker answered seed %d for seed %d", res.Seed, seeds[i])
			break
		}
		results[i] = &res
	}
	in.Close()
	if err := c.Wait(); err != nil && runErr == nil {
		runErr = fmt.Errorf("sweep: worker: %w", err)
	}
	if runErr != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			runErr = fmt.Errorf("%w: %s", runErr, lastLine(msg))
		}
	}
	return runErr
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// newSimWorkerCmd is the hidden worker a sweep starts: it reads seeds, one
// per line, on stdin and writes each seed's result as one JSON line.
func newSimWorkerCmd() *cobra.Command {
	var (
		name string
		bugs []string
	)
	cmd := &cobra.Command{
		Use:    "worker",
		Short:  "Run seeds read from stdin, one JSON result per line (used by sim sweep)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := scenarios.Lookup(name)
			if err != nil {
				return err
			}
			if _, err := bugzoo.Parse(bugs); err != nil {
				return fmt.Errorf("--bug: %w", err)
			}
			out := bufio.NewWriter(cmd.OutOrStdout())
			enc := json.NewEncoder(out)
			sc2 := bufio.NewScanner(cmd.InOrStdin())
			for sc2.Scan() {
				text := strings.TrimSpace(sc2.Text())
				if text == "" {
					continue
				}
				seed, err := strconv.ParseUint(text, 10, 64)
				if err != nil {
					return fmt.Errorf("worker: bad seed %q", text)
				}
				start := time.Now()
				res, err := sc.Run(scenarios.Options{Seed: seed, Bugs: bugs})
				if err != nil {
					return fmt.Errorf("scenario %s seed %d: %w", sc.Name, seed, err)
				}
				res.WallSeconds = time.Since(start).Seconds()
				if len(bugs) > 0 {
					res.Repro = sweepRepro(sc.Name, bugs, seed)
				}
				if err := enc.Encode(res); err != nil {
					return err
				}
				if err := out.Flush(); err != nil {
					return err
				}
			}
			return sc2.Err()
		},
	}
	cmd.Flags().StringVar(&name, "scenario", "", "scenario name")
	cmd.Flags().StringArrayVar(&bugs, "bug", nil, "bug-zoo bug to switch on (repeatable)")
	return cmd
}

// sweepRepro replays one seed with bugs on: a one-seed sweep, since the
// bug flags belong to sweep.
func sweepRepro(name string, bugs []string, seed uint64) string {
	var b strings.Builder
	b.WriteString("go run ./cmd/loglab sim sweep --scenario " + name + " --seeds " + strconv.FormatUint(seed, 10) + "-" + strconv.FormatUint(seed, 10))
	for _, bug := range bugs {
		b.WriteString(" --bug " + bug)
	}
	return b.String()
}

// summarize counts the results of one shard.
func summarize(name string, bugs []string, r seedRange, sh shardSpec, results []*scenarios.Result) *sweepSummary {
	s := &sweepSummary{
		Scenario: name, Bugs: bugs, Seeds: r.String(), Shard: sh.String(),
		Anomalies: map[string]int{}, SeedsWithAnomaly: map[string]int{}, Failures: []sweepFailure{},
	}
	for _, res := range results {
		s.Runs++
		s.Events += res.Events
		s.SimSeconds += res.SimSeconds
		for k, n := range res.Anomalies {
			s.Anomalies[k] += n
			s.SeedsWithAnomaly[k]++
		}
		if res.OK {
			s.Passed++
			continue
		}
		s.Failed++
		s.Failures = append(s.Failures, sweepFailure{Seed: res.Seed, Anomalies: res.Anomalies, TraceHash: res.TraceHash, Repro: res.Repro})
	}
	finish(s)
	return s
}

// finish orders the failures and derives FirstFailingSeed.
func finish(s *sweepSummary) {
	sort.Slice(s.Failures, func(i, j int) bool { return s.Failures[i].Seed < s.Failures[j].Seed })
	s.FirstFailingSeed = 0
	if len(s.Failures) > 0 {
		s.FirstFailingSeed = s.Failures[0].Seed
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func printSweep(w io.Writer, s *sweepSummary) {
	verdict := "PASS"
	if s.Failed > 0 {
		verdict = "FAIL"
	}
	bugs := "none"
	if len(s.Bugs) > 0 {
		bugs = strings.Join(s.Bugs, ",")
	}
	fmt.Fprintf(w, "%s sweep %s seeds %s shard %s bugs %s\n", verdict, s.Scenario, s.Seeds, s.Shard, bugs)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "RUNS\tPASSED\tFAILED\tSEEDS/MIN\tWALL\tPARALLEL\tEVENTS/S\tSIM_S/WALL_S")
	fmt.Fprintf(tw, "%d\t%d\t%d\t%.1f\t%.1fs\t%d\t%.0f\t%.0f\n", s.Runs, s.Passed, s.Failed, s.SeedsPerMinute, s.WallSeconds, s.Parallel,
		s.EventsPerSecond(), s.SimSpeedup())
	tw.Flush()
	if len(s.Anomalies) == 0 {
		fmt.Fprintln(w, "anomalies: none")
	} else {
		tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "ANOMALY\tSEEDS\tFINDINGS")
		for _, k := range sortedKeys(s.Anomalies) {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", k, s.SeedsWithAnomaly[k], s.Anomalies[k])
		}
		tw.Flush()
	}
	for _, f := range s.Failures {
		var kinds []string
		for _, k := range sortedKeys(f.Anomalies) {
			kinds = append(kinds, k+"="+strconv.Itoa(f.Anomalies[k]))
		}
		if len(kinds) == 0 {
			kinds = []string{"none (an expected anomaly was missing)"}
		}
		fmt.Fprintf(w, "FAIL seed %d trace_hash %s anomalies %s\n  repro: %s\n", f.Seed, f.TraceHash, strings.Join(kinds, " "), f.Repro)
	}
}

// writeJUnit writes one sweep's results as JUnit XML.
func writeJUnit(name string, s *sweepSummary, results []*scenarios.Result) error {
	one := *s
	for _, r := range results {
		one.Results = append(one.Results, reports.SeedResult{Scenario: r.Scenario, Seed: r.Seed, TraceHash: r.TraceHash,
			Events: r.Events, SimSeconds: r.SimSeconds, WallSeconds: r.WallSeconds, OK: r.OK, Anomalies: r.Anomalies,
			Expected: r.Expected, Repro: r.Repro})
	}
	var b bytes.Buffer
	if err := reports.JUnit(&b, []reports.SeedSweep{one}); err != nil {
		return err
	}
	return os.WriteFile(name, b.Bytes(), 0o644)
}

func writeSweepDir(dir string, s *sweepSummary, results []*scenarios.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	js, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.json"), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	var lines []byte
	for _, r := range results {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		lines = append(append(lines, b...), '\n')
	}
	if err := os.WriteFile(filepath.Join(dir, "results.jsonl"), lines, 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}
