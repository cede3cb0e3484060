package sweep

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/loglab/loglab/scenarios"
)

// RunOne runs a scenario for one seed, printing its knobs to knobs (may
// be nil), and measures its wall time (the one thing the simulator cannot
// know); the repro turns the same bugs on.
func RunOne(sc *scenarios.Scenario, opts scenarios.Options, knobs io.Writer) (*scenarios.Result, error) {
	start := time.Now()
	opts.Log = func(format string, args ...any) {
		if knobs != nil {
			fmt.Fprintf(knobs, format+"\n", args...)
		}
	}
	res, err := sc.Run(opts)
	if err != nil {
		return nil, fmt.Errorf("scenario %s seed %d: %w", sc.Name, opts.Seed, err)
	}
	res.WallSeconds = time.Since(start).Seconds()
	for _, b := range opts.Bugs {
		res.Repro += " --bug " + b // the repro must turn the same bugs on
	}
	return res, nil
}

// LoadFile reads and compiles a scenario file; errors name the file, the
// line and the field.
func LoadFile(path string) (*scenarios.Scenario, *scenarios.Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--scenario-file: %w", err)
	}
	return scenarios.LoadFile(path, data)
}
