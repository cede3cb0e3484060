package sweep

import (
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/loglab/loglab/scenarios"
)

// Suite sweeps every scenario over seeds 1..n in parallel workers,
// writing each sweep to dir/suite/NAME and a table to out, and returns the
// failing runs (the demo's first step).
func Suite(out io.Writer, dir string, n, parallel int) ([]*scenarios.Result, error) {
	all := scenarios.All()
	fmt.Fprintf(out, "1. scenario suite in simulation: %d scenarios x seeds 1-%d, %d worker processes\n", len(all), n, parallel)
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tRUNS\tPASSED\tEXPECTED ANOMALIES FOUND (SEEDS)\tEVENTS/S\tSIM_S/WALL_S")
	var failed []*scenarios.Result
	var runs int
	var events uint64
	var simSeconds float64
	start := time.Now()
	r := Range{First: 1, Last: uint64(n)}
	for _, sc := range all {
		sum, results, err := Run(Config{Scenario: sc.Name, Seeds: r, Parallel: parallel})
		if err != nil {
			return nil, fmt.Errorf("suite: %s: %w", sc.Name, err)
		}
		if err := WriteDir(filepath.Join(dir, "suite", sc.Name), sum, results); err != nil {
			return nil, err
		}
		for _, res := range results {
			if !res.OK {
				failed = append(failed, res)
			}
		}
		var found []string
		for _, k := range slices.Sorted(maps.Keys(sum.SeedsWithAnomaly)) {
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
