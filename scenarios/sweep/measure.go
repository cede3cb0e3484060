package sweep

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/loglab/loglab/broker/bugzoo"
)

// A detection measurement is the bug zoo's table for one scenario: a
// sweep over the seeds with no bug on (the baseline, which must pass for
// the failures below to be the bugs' doing), then one sweep per planted
// bug, one bug on at a time (docs/bugzoo.md).

// Detection is one measurement: the JSON of `loglab bugzoo measure --json`.
type Detection struct {
	Scenario string `json:"scenario"`
	Seeds    string `json:"seeds"`
	// Baseline is the sweep with no bug on.
	Baseline *Summary      `json:"baseline"`
	Bugs     []BugDetected `json:"bugs"`
	// WallSeconds is the whole measurement's.
	WallSeconds float64 `json:"wall_seconds"`
}

// BugDetected is one planted bug's row.
type BugDetected struct {
	Bug string `json:"bug"`
	// SeedsToDetect is how many seeds, from the range's first, it took to
	// see the first failure (0: no seed failed).
	SeedsToDetect uint64 `json:"seeds_to_detect"`
	Runs          int    `json:"runs"`
	Failed        int    `json:"failed"`
	// SeedsWithAnomaly counts the failing and passing runs that showed
	// each anomaly kind (tolerated kinds included).
	SeedsWithAnomaly map[string]int `json:"seeds_with_anomaly"`
	// Sweep is the bug's whole sweep summary (failing seeds with repros).
	Sweep *Summary `json:"sweep"`
}

// Failed reports a measurement that does not hold: the baseline failed
// (the bugs' failures cannot be told from the scenario's own), or a bug
// was not detected on any seed.
func (d *Detection) Failed() bool {
	if d.Baseline.Failed > 0 {
		return true
	}
	for _, b := range d.Bugs {
		if b.SeedsToDetect == 0 {
			return true
		}
	}
	return false
}

// MeasureConfig is one measurement.
type MeasureConfig struct {
	Scenario string
	Seeds    Range
	// Bugs are the bugs to measure (empty: every bug in the zoo).
	Bugs     []string
	Parallel int
	// Progress, if set, hears one line as each sweep ends.
	Progress io.Writer
}

// Measure runs the baseline sweep and one sweep per bug (see Detection).
func Measure(cfg MeasureConfig) (*Detection, error) {
	bugs := cfg.Bugs
	if len(bugs) == 0 {
		bugs = bugzoo.Names()
	}
	if _, err := bugzoo.Parse(bugs); err != nil {
		return nil, fmt.Errorf("--bug: %w", err)
	}
	start := time.Now()
	d := &Detection{Scenario: cfg.Scenario, Seeds: cfg.Seeds.String()}
	sweepOne := func(zoo []string) (*Summary, error) {
		sum, _, err := Run(Config{Scenario: cfg.Scenario, Bugs: zoo, Seeds: cfg.Seeds, Parallel: cfg.Parallel})
		if err != nil {
			return nil, err
		}
		if cfg.Progress != nil {
			name := "(no bug)"
			if len(zoo) > 0 {
				name = zoo[0]
			}
			fmt.Fprintf(cfg.Progress, "%s: %d of %d seeds failed, %.0fs\n", name, sum.Failed, sum.Runs, sum.WallSeconds)
		}
		return sum, nil
	}
	var err error
	if d.Baseline, err = sweepOne(nil); err != nil {
		return nil, err
	}
	for _, b := range bugs {
		sum, err := sweepOne([]string{b})
		if err != nil {
			return nil, err
		}
		row := BugDetected{Bug: b, Runs: sum.Runs, Failed: sum.Failed, SeedsWithAnomaly: sum.SeedsWithAnomaly, Sweep: sum}
		if sum.FirstFailingSeed != 0 {
			row.SeedsToDetect = sum.FirstFailingSeed - cfg.Seeds.First + 1
		}
		d.Bugs = append(d.Bugs, row)
	}
	d.WallSeconds = time.Since(start).Seconds()
	return d, nil
}

// WriteDetection prints the table of docs/bugzoo.md: per bug, the seeds
// to detect, the failing seeds and the anomaly kinds seen (with the
// number of seeds showing each), after the baseline's line.
func WriteDetection(w io.Writer, d *Detection) {
	verdict := "PASS"
	if d.Failed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s bug-zoo detection: %s seeds %s (%.0fs)\n", verdict, d.Scenario, d.Seeds, d.WallSeconds)
	fmt.Fprintf(w, "baseline (no bug): %d of %d seeds failed%s\n", d.Baseline.Failed, d.Baseline.Runs, anomalyList(d.Baseline.SeedsWithAnomaly))
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "BUG\tSEEDS TO DETECT\tFAILING SEEDS\tANOMALIES (SEEDS)")
	for _, b := range d.Bugs {
		first := "not detected"
		if b.SeedsToDetect > 0 {
			first = fmt.Sprint(b.SeedsToDetect)
		}
		rate := 0.0
		if b.Runs > 0 {
			rate = 100 * float64(b.Failed) / float64(b.Runs)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d of %d (%.0f %%)\t%s\n", b.Bug, first, b.Failed, b.Runs, rate, strings.TrimPrefix(anomalyList(b.SeedsWithAnomaly), ": "))
	}
	tw.Flush()
}

// anomalyList renders ": kind N, kind N" in kind order ("" for none).
func anomalyList(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return ": " + strings.Join(parts, ", ")
}
