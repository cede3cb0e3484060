package sweep

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/loglab/loglab/broker/bugzoo"
	"github.com/loglab/loglab/reports"
	"github.com/loglab/loglab/scenarios"
)

// Summary is a sweep's summary: the JSON of `sim sweep --json`, of
// DIR/summary.json and of `sim merge`.
type Summary = reports.SeedSweep

// Config is one sweep.
type Config struct {
	Scenario string   // a name scenarios.Lookup knows
	Bugs     []string // bug-zoo bugs to switch on
	Seeds    Range
	Shard    Shard // zero: Whole
	// Parallel is the number of worker processes (0: one per CPU),
	// capped at the number of seeds.
	Parallel int
	// Executable and Args start one worker; the defaults re-execute the
	// running binary with WorkerArgs, so it must serve `sim worker`.
	Executable string
	Args       []string
}

// WorkerArgs are the arguments that make the loglab binary a worker.
func WorkerArgs(scenario string, bugs []string) []string {
	args := []string{"sim", "worker", "--scenario", scenario}
	for _, b := range bugs {
		args = append(args, "--bug", b)
	}
	return args
}

// Run checks cfg, runs every seed of its shard and returns the summary
// and the results in seed order.
func Run(cfg Config) (*Summary, []*scenarios.Result, error) {
	if _, err := scenarios.Lookup(cfg.Scenario); err != nil {
		return nil, nil, err
	}
	zoo, err := bugzoo.Parse(cfg.Bugs)
	if err != nil {
		return nil, nil, fmt.Errorf("--bug: %w", err)
	}
	if cfg.Parallel < 0 {
		return nil, nil, fmt.Errorf("--parallel %d: want at least 1 (0: one per CPU)", cfg.Parallel)
	}
	if cfg.Shard.Count == 0 {
		cfg.Shard = Whole
	}
	list := cfg.Shard.Seeds(cfg.Seeds)
	parallel := cfg.Parallel
	if parallel == 0 {
		parallel = runtime.NumCPU()
	}
	parallel = max(1, min(parallel, len(list)))
	if cfg.Executable == "" {
		if cfg.Executable, err = os.Executable(); err != nil {
			return nil, nil, fmt.Errorf("sweep: cannot find this binary to start workers: %w", err)
		}
		cfg.Args = WorkerArgs(cfg.Scenario, zoo.Names())
	}
	start := time.Now()
	results, err := runWorkers(cfg.Executable, cfg.Args, list, parallel)
	if err != nil {
		return nil, nil, err
	}
	sum := Summarize(cfg.Scenario, zoo.Names(), cfg.Seeds, cfg.Shard, results)
	sum.Parallel = parallel
	sum.WallSeconds = time.Since(start).Seconds()
	sum.SeedsPerMinute = seedsPerMinute(sum.Runs, sum.WallSeconds)
	return sum, results, nil
}

func seedsPerMinute(runs int, wall float64) float64 {
	if wall <= 0 {
		return 0
	}
	return float64(runs) * 60 / wall
}

// runWorkers runs the seeds in parallel worker processes, handing each
// idle worker the next seed, and returns the results in seed order.
func runWorkers(exe string, args []string, seeds []uint64, parallel int) ([]*scenarios.Result, error) {
	if len(seeds) == 0 {
		return nil, nil
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

// Serve is a worker: it reads seeds, one per line, from in and writes
// each seed's result of scenario (with bugs on) as one JSON line to out.
func Serve(in io.Reader, out io.Writer, scenario string, bugs []string) error {
	sc, err := scenarios.Lookup(scenario)
	if err != nil {
		return err
	}
	if _, err := bugzoo.Parse(bugs); err != nil {
		return fmt.Errorf("--bug: %w", err)
	}
	w := bufio.NewWriter(out)
	enc := json.NewEncoder(w)
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		text := strings.TrimSpace(lines.Text())
		if text == "" {
			continue
		}
		seed, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			return fmt.Errorf("worker: bad seed %q", text)
		}
		start := time.Now()
		res, err := runSeed(sc.Name, seed, bugs, sc.Run)
		if err != nil {
			return fmt.Errorf("scenario %s seed %d: %w", sc.Name, seed, err)
		}
		res.WallSeconds = time.Since(start).Seconds()
		if len(bugs) > 0 {
			res.Repro = Repro(sc.Name, bugs, seed)
		}
		if err := enc.Encode(res); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	return lines.Err()
}

// runSeed runs one seed. A panic inside the run (a broker, the raft
// library or the simulator itself failing an assertion) is a finding of
// that seed, kind "panic", not the end of the sweep: the world is
// discarded either way, and the other seeds still run.
func runSeed(name string, seed uint64, bugs []string, run func(scenarios.Options) (*scenarios.Result, error)) (res *scenarios.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res = &scenarios.Result{Scenario: name, Seed: seed, Repro: scenarios.ReproCommand(name, seed)}
			res.AddFinding("panic", "the run panicked: %v", r)
			err = nil
		}
	}()
	return run(scenarios.Options{Seed: seed, Bugs: bugs})
}

// Repro replays one seed with bugs on: a one-seed sweep, since the bug
// flags belong to sweep.
func Repro(name string, bugs []string, seed uint64) string {
	var b strings.Builder
	b.WriteString("go run ./cmd/loglab sim sweep --scenario " + name + " --seeds " + strconv.FormatUint(seed, 10) + "-" + strconv.FormatUint(seed, 10))
	for _, bug := range bugs {
		b.WriteString(" --bug " + bug)
	}
	return b.String()
}
