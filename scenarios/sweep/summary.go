package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/loglab/loglab/reports"
	"github.com/loglab/loglab/scenarios"
)

// Summarize counts the results of one shard.
func Summarize(name string, bugs []string, r Range, sh Shard, results []*scenarios.Result) *Summary {
	s := &Summary{
		Scenario: name, Bugs: bugs, Seeds: r.String(), Shard: sh.String(),
		Anomalies: map[string]int{}, SeedsWithAnomaly: map[string]int{}, Failures: []reports.SweepFailure{},
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
		s.Failures = append(s.Failures, reports.SweepFailure{Seed: res.Seed, Anomalies: res.Anomalies, TraceHash: res.TraceHash, Repro: res.Repro})
	}
	finish(s)
	return s
}

// finish orders the failures and derives FirstFailingSeed.
func finish(s *Summary) {
	sort.Slice(s.Failures, func(i, j int) bool { return s.Failures[i].Seed < s.Failures[j].Seed })
	s.FirstFailingSeed = 0
	if len(s.Failures) > 0 {
		s.FirstFailingSeed = s.Failures[0].Seed
	}
}

// WriteText prints a summary for people: the verdict, the counts, the
// anomalies by kind and every failing seed with its replay command.
func WriteText(w io.Writer, s *Summary) {
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
		for _, k := range slices.Sorted(maps.Keys(s.Anomalies)) {
			fmt.Fprintf(tw, "%s\t%d\t%d\n", k, s.SeedsWithAnomaly[k], s.Anomalies[k])
		}
		tw.Flush()
	}
	for _, f := range s.Failures {
		var kinds []string
		for _, k := range slices.Sorted(maps.Keys(f.Anomalies)) {
			kinds = append(kinds, k+"="+strconv.Itoa(f.Anomalies[k]))
		}
		if len(kinds) == 0 {
			kinds = []string{"none (an expected anomaly was missing)"}
		}
		fmt.Fprintf(w, "FAIL seed %d trace_hash %s anomalies %s\n  repro: %s\n", f.Seed, f.TraceHash, strings.Join(kinds, " "), f.Repro)
	}
}

// WriteJUnit writes one sweep's results as JUnit XML to the file name.
func WriteJUnit(name string, s *Summary, results []*scenarios.Result) error {
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

// WriteDir writes dir/summary.json and dir/results.jsonl (one result per
// seed).
func WriteDir(dir string, s *Summary, results []*scenarios.Result) error {
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
