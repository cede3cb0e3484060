// Package demo is `loglab demo`, loglab's whole loop on one machine: a
// scenario suite in simulation (scenarios/sweep.Suite), a benchmark on an
// embedded cluster with a broker killed mid-run (bench.Demo), and a report
// of both (package reports).
//
// Ownership and imports: it owns its output directory, which it clears
// only if an earlier demo wrote it. It imports bench, reports and
// scenarios/sweep. Real mode only: worker processes, sockets, files.
//
//detcheck:exempt runs worker processes and an embedded cluster; never runs in simulation
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/loglab/loglab/bench"
	"github.com/loglab/loglab/reports"
	"github.com/loglab/loglab/scenarios/sweep"
)

// marker marks a directory the demo wrote, which a later demo may clear;
// the demo refuses to write into any other non-empty directory.
const marker = ".loglab-demo"

// FailedError is the verdict of a demo whose suite or benchmark found
// what it should not have: which sweeps failed, which history checks.
type FailedError struct{ Err error }

func (e *FailedError) Error() string { return e.Err.Error() }
func (e *FailedError) Unwrap() error { return e.Err }

// Config is one demo.
type Config struct {
	Dir      string // results and the report
	Seeds    int    // seeds per scenario, from 1
	Parallel int    // worker processes (0: one per CPU)
	// Bench, if set, is the benchmark's configuration; nil skips it.
	Bench *bench.DemoConfig
}

// ErrConfig classifies a Config that cannot run.
var ErrConfig = errors.New("demo: bad config")

// Validate checks c (Run calls it first).
func (c Config) Validate() error {
	switch {
	case c.Seeds < 1:
		return fmt.Errorf("%w: seeds %d: want at least 1", ErrConfig, c.Seeds)
	case c.Parallel < 0:
		return fmt.Errorf("%w: parallel %d: want at least 1 (0: one per CPU)", ErrConfig, c.Parallel)
	case c.Bench != nil:
		return c.Bench.Validate()
	}
	return nil
}

// Run runs the demo, printing its progress and the report's place to
// out. It returns a *FailedError when a scenario run missed its
// expectation or the benchmark's history check found an anomaly.
func Run(ctx context.Context, out io.Writer, c Config) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.Parallel == 0 {
		c.Parallel = runtime.NumCPU()
	}
	if err := prepareDir(c.Dir); err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(out, "loglab demo: results and report in %s\n\n", c.Dir)
	failedRuns, err := sweep.Suite(out, c.Dir, c.Seeds, c.Parallel)
	if err != nil {
		return err
	}
	if c.Bench != nil {
		if err := bench.Demo(ctx, out, c.Dir, *c.Bench); err != nil {
			return err
		}
	}
	set, err := reports.Read(c.Dir)
	if err != nil {
		return err
	}
	index := filepath.Join(c.Dir, "index.html")
	files, err := reports.WriteFiles(set, "loglab demo", index)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(index)
	fmt.Fprintf(out, "\nreport: %s\n(also %s; took %.0fs)\n", abs, strings.Join(files[1:], ", "), time.Since(start).Seconds())
	for _, r := range failedRuns {
		fmt.Fprintf(out, "FAIL %s seed %d: %v\n  repro: %s\n", r.Scenario, r.Seed, r.AnomalyKinds(), r.Repro)
	}
	if err := set.Failed(); err != nil {
		return &FailedError{err}
	}
	return nil
}

// prepareDir makes dir empty: creates it, or clears what an earlier
// demo wrote there; a non-empty directory the demo did not write is an
// error (nothing of the user's is deleted).
func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return fmt.Errorf("--out: %w", err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, marker)); err != nil {
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
	return os.WriteFile(filepath.Join(dir, marker), []byte("written by loglab demo; cleared by the next one\n"), 0o644)
}
