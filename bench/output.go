package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/loglab/loglab/history"
)

// WriteJSON writes v, indented, to dir/name (creating dir): the result
// files loglab report reads.
func WriteJSON(dir, name string, v any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), append(data, '\n'), 0o644)
}

// RunSimTimed is RunSim timed by this machine's wall clock; with outDir
// set it also writes the report there as bench-NAME-sim-seedN-UNIX.json
// (for loglab report) and says so on status.
func RunSimTimed(w Workload, brokers int, m SimModel, seed uint64, window time.Duration, outDir string, status io.Writer) (Report, error) {
	start := time.Now()
	rep, err := RunSim(w, brokers, m, seed, window, func() time.Duration { return time.Since(start) })
	if err != nil || outDir == "" {
		return rep, err
	}
	name := fmt.Sprintf("bench-%s-sim-seed%d-%d.json", w.Name, seed, time.Now().Unix())
	if err := WriteJSON(outDir, name, rep); err != nil {
		return rep, err
	}
	fmt.Fprintln(status, "result written to "+filepath.Join(outDir, name))
	return rep, nil
}

// SavedHistory is a history kept in memory (for the checkers) and
// written to a file beside the results (for loglab check).
type SavedHistory struct {
	Name string // the file's base name
	W    *history.Writer
	f    *os.File
	buf  *bufio.Writer
}

// CreateHistory creates dir/name for a run's history.
func CreateHistory(dir, name string) (*SavedHistory, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	buf := bufio.NewWriterSize(f, 1<<20)
	return &SavedHistory{Name: name, f: f, buf: buf, W: history.Tee(buf)}, nil
}

// Finish writes out and syncs the file.
func (h *SavedHistory) Finish() error {
	if err := errors.Join(h.buf.Flush(), h.f.Sync()); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// Discard removes a history whose run failed: nothing half-written stays.
func (h *SavedHistory) Discard() {
	h.f.Close()
	os.Remove(h.f.Name())
}

// Close closes the file.
func (h *SavedHistory) Close() { h.f.Close() }

// WriteComparison prints the runs side by side, with each other target's
// throughput and latency as ratios to the first run's. After a search each
// row says whether its measured run held the rate found (HELD): a maximum
// that did not hold is a trial artefact, and its ratio says so next to it.
func WriteComparison(w io.Writer, first Report, others []Report) {
	fmt.Fprintf(w, "\nside by side (same client and workload %s; ratios are the first target over the other for throughput, the other over the first for latency: >1 means the first is better)\n", first.Workload.Name)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	all := append([]Report{first}, others...)
	searched := false
	for _, r := range all {
		searched = searched || r.Held != nil
	}
	head := "TARGET\tRATE\tMB/S\tP50_MS\tP99_MS\tP99.9_MS\tE2E_P99_MS\tERRORS\tTHROUGHPUT_RATIO\tP50_RATIO\tP99_RATIO"
	if searched {
		head += "\tHELD"
	}
	fmt.Fprintln(tw, head)
	ratio := func(a, b float64) string {
		if a <= 0 || b <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", a/b)
	}
	fa := first.Aggregate
	for i, r := range all {
		a := r.Aggregate
		thr, p50, p99 := "1", "1", "1"
		if i > 0 {
			thr = ratio(fa.PublishMBps, a.PublishMBps)
			p50 = ratio(a.PublishLatency.P50, fa.PublishLatency.P50)
			p99 = ratio(a.PublishLatency.P99, fa.PublishLatency.P99)
		}
		row := fmt.Sprintf("%s\t%.0f\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%s\t%s\t%s", r.Target, r.Rate, a.PublishMBps, a.PublishLatency.P50,
			a.PublishLatency.P99, a.PublishLatency.P999, a.EndToEndLatency.P99, a.Errors, thr, p50, p99)
		if searched {
			held := "-"
			if r.Held != nil {
				held = map[bool]string{true: "yes", false: "no"}[*r.Held]
			}
			row += "\t" + held
		}
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
}

// WriteAggregate prints a run's result for people: the checkers' verdict,
// the faults and their recovery, the search's maximum and the aggregate
// rates and latency percentiles.
func WriteAggregate(w io.Writer, r Report) {
	a := r.Aggregate
	if c := r.Check; c != nil {
		reads := "the consumers read every acknowledged record after the run"
		if !c.FinalReadsComplete {
			reads = fmt.Sprintf("the consumers did not catch up after the run: %d acknowledged records unseen", c.Unseen)
		}
		fmt.Fprintf(w, "history: %d operations; sends %d ok, %d failed, %d unknown; %d records read; %s\n",
			c.Operations, c.SendsOK, c.SendsFail, c.SendsInfo, c.RecordsRead, reads)
		fmt.Fprintf(w, "checkers (%s): %s", strings.Join(c.Checkers, ", "), c.Verdict)
		for _, k := range slices.Sorted(maps.Keys(c.Anomalies)) {
			fmt.Fprintf(w, "  %s %d", k, c.Anomalies[k])
		}
		fmt.Fprintln(w)
	}
	for _, f := range r.Faults {
		if f.Error != "" {
			fmt.Fprintf(w, "fault %s failed: %s\n", f.Name, f.Error)
			continue
		}
		rec := "not back to 90 % within the run"
		if f.RecoveryS >= 0 {
			rec = fmt.Sprintf("back to 90 %% %.1fs after the repair", f.RecoveryS)
		}
		fmt.Fprintf(w, "fault %s from %.1fs to %.1fs: publish rate %.0f rec/s before, %.0f at its lowest, %s\n",
			f.Name, f.StartS, f.EndS, f.BaselineRate, f.LowestRate, rec)
	}
	if r.MaxSustainableRate > 0 {
		fmt.Fprintf(w, "maximum sustainable rate %.0f records/s; measured at %.0f\n", r.MaxSustainableRate, r.Rate)
		if r.Held != nil && !*r.Held {
			fmt.Fprintf(w, "the measured run did not hold that rate (the trials' test: %s): the search's trials were too short for it; try a longer --trial\n", SustainedTest)
		}
	}
	fmt.Fprintf(w, "aggregate over %.1fs: publish %.0f rec/s (%.1f MB/s), consume %.0f rec/s (%.1f MB/s), backlog %d, errors %d\n",
		a.EndS, a.PublishRate, a.PublishMBps, a.ConsumeRate, a.ConsumeMBps, a.Backlog, a.Errors)
	for _, l := range []struct {
		name string
		p    Percentiles
	}{{"publish latency", a.PublishLatency}, {"end-to-end latency", a.EndToEndLatency}} {
		fmt.Fprintf(w, "%s ms: p50 %.2f  p75 %.2f  p95 %.2f  p99 %.2f  p99.9 %.2f  p99.99 %.2f  max %.2f  (%d records)\n",
			l.name, l.p.P50, l.p.P75, l.p.P95, l.p.P99, l.p.P999, l.p.P9999, l.p.Max, l.p.Count)
	}
}

// WriteReports prints a run's report and its comparisons: as JSON (one
// report, or an array when there are comparisons), or as the aggregate
// text and the comparison table.
func WriteReports(w io.Writer, asJSON bool, rep Report, others []Report) error {
	if asJSON {
		var v any = rep
		if len(others) > 0 {
			v = append([]Report{rep}, others...)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	WriteAggregate(w, rep)
	if len(others) > 0 {
		WriteComparison(w, rep, others)
	}
	return nil
}
