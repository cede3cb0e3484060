package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/scenarios"
)

// WriteResultText prints one run's result for people: the verdict line,
// the anomalies with their evidence, the run's statistics and the command
// that replays it.
func WriteResultText(w io.Writer, r *scenarios.Result) {
	verdict := "PASS"
	if !r.OK {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s %s seed=%d trace_hash=%s events=%d sim=%.3fs wall=%.3fs\n",
		verdict, r.Scenario, r.Seed, r.TraceHash, r.Events, r.SimSeconds, r.WallSeconds)
	if len(r.Expected) > 0 {
		fmt.Fprintf(w, "expected anomalies: %s\n", strings.Join(r.Expected, ", "))
	}
	kinds := r.AnomalyKinds()
	if len(kinds) == 0 {
		fmt.Fprintln(w, "anomalies: none")
	}
	for _, k := range kinds {
		fmt.Fprintf(w, "anomaly %s: %d\n", k, r.Anomalies[k])
	}
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  %s: %s\n", f.Kind, f.Evidence)
	}
	stats := make([]string, 0, len(r.Stats))
	for k := range r.Stats {
		stats = append(stats, k)
	}
	sort.Strings(stats)
	for _, k := range stats {
		fmt.Fprintf(w, "  %s=%d\n", k, r.Stats[k])
	}
	fmt.Fprintf(w, "repro: %s\n", r.Repro)
}

// WriteRunDir writes one run's evidence into dir: result.json,
// summary.txt, trace.txt, history.jsonl (when the run recorded one),
// verdicts.json and the scenario's own files.
func WriteRunDir(dir string, r *scenarios.Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	var sum strings.Builder
	WriteResultText(&sum, r)
	files := map[string][]byte{
		"result.json": append(js, '\n'),
		"summary.txt": []byte(sum.String()),
		"trace.txt":   []byte(strings.Join(r.Trace, "\n") + "\n"),
	}
	names := []string{"result.json", "summary.txt", "trace.txt"}
	if r.History != nil {
		var hb bytes.Buffer
		hw := history.NewWriter(&hb)
		for _, op := range r.History {
			hw.Append(op)
		}
		if err := hw.Err(); err != nil {
			return fmt.Errorf("--out: history: %w", err)
		}
		files["history.jsonl"] = hb.Bytes()
		names = append(names, "history.jsonl")
	}
	if r.Report != nil {
		vj, err := json.MarshalIndent(r.Report, "", "  ")
		if err != nil {
			return err
		}
		files["verdicts.json"] = append(vj, '\n')
		files["summary.txt"] = append(files["summary.txt"], []byte("\n"+r.Report.Text())...)
		names = append(names, "verdicts.json")
	}
	extra := make([]string, 0, len(r.Files))
	for name := range r.Files {
		extra = append(extra, name)
	}
	sort.Strings(extra)
	for _, name := range extra {
		files[name] = r.Files[name]
		names = append(names, name)
	}
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(name)), files[name], 0o644); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	return nil
}
