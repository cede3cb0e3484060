package sweep

import (
	"errors"
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

// RunOneFiles is RunOne with its files: with nodeLog set the nodes' own
// logs go to that file (at opts.NodeLogLevel), and with outDir set the
// run records its trace and WriteRunDir writes the run there.
func RunOneFiles(sc *scenarios.Scenario, opts scenarios.Options, knobs io.Writer, outDir, nodeLog string) (*scenarios.Result, error) {
	if nodeLog != "" {
		f, err := os.Create(nodeLog)
		if err != nil {
			return nil, fmt.Errorf("node log: %w", err)
		}
		defer f.Close()
		opts.NodeLog = f
	}
	opts.RecordTrace = opts.RecordTrace || outDir != ""
	res, err := RunOne(sc, opts, knobs)
	if err != nil || outDir == "" {
		return res, err
	}
	return res, WriteRunDir(outDir, res)
}

// LoadFile reads and compiles a scenario file; errors name the file, the
// line and the field.
func LoadFile(path string) (*scenarios.Scenario, *scenarios.Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("scenario file: %w", err)
	}
	return scenarios.LoadFile(path, data)
}

// ErrNoScenario: Resolve was given neither a library name nor a file, or
// both.
var ErrNoScenario = errors.New("sweep: name a library scenario or a scenario file, one of them")

// Resolve is the scenario a command names: the library's scenario name,
// or the scenario file at path (compiled; errors name the file, the line
// and the field). The seed the file notes, a library file's included (a
// regression pins the seed that found it), comes back with it (nil
// otherwise).
func Resolve(name, path string) (*scenarios.Scenario, *uint64, error) {
	switch {
	case (name == "") == (path == ""):
		return nil, nil, fmt.Errorf("%w (see: loglab scenario list)", ErrNoScenario)
	case path != "":
		sc, spec, err := LoadFile(path)
		if err != nil {
			return nil, nil, err
		}
		return sc, spec.Seed, nil
	}
	sc, err := scenarios.Lookup(name)
	if err != nil {
		return nil, nil, err
	}
	if seed, ok := sc.PinnedSeed(); ok {
		return sc, &seed, nil
	}
	return sc, nil, nil
}
