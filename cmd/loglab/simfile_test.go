package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/scenarios"
)

const unsafeFlush = "single-broker-flush-every-1000-messages-loses-acked-writes-on-power-loss"

// TestSimRunOut: --out writes the run's artifacts, and a partition found
// not linearizable gets porcupine's visualization.
func TestSimRunOut(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := runCLI(t, "sim", "run", "--scenario", unsafeFlush, "--seed", "3", "--json", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	var res scenarios.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"result.json", "verdicts.json", "summary.txt", "trace.txt", "history.jsonl"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	html, _ := filepath.Glob(filepath.Join(dir, "linearizable-events-*.html"))
	if len(html) == 0 {
		t.Error("no porcupine visualization for a nonlinearizable partition")
	}
	hf, err := os.Open(filepath.Join(dir, "history.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer hf.Close()
	ops, err := history.Parse(hf)
	if err != nil || len(ops) == 0 {
		t.Fatalf("history.jsonl: %d ops, %v", len(ops), err)
	}
	var v struct{ Verdict string }
	b, _ := os.ReadFile(filepath.Join(dir, "verdicts.json"))
	if err := json.Unmarshal(b, &v); err != nil || v.Verdict != "fail" {
		t.Errorf("verdicts.json: %v %q", err, v.Verdict)
	}
	if !strings.Contains(res.Schedule, "crash broker-1") {
		t.Errorf("result.schedule: %q", res.Schedule)
	}
}

// TestSimShrinkThenReplay: shrink writes a file that `sim run
// --scenario-file` replays (with the seed it notes) to the same anomaly.
func TestSimShrinkThenReplay(t *testing.T) {
	min := filepath.Join(t.TempDir(), "min.yaml")
	_, stderr, code := runCLI(t, "sim", "shrink", "--scenario", unsafeFlush, "--seed", "3", "--max-runs", "25", "--out", min)
	if code != 0 {
		t.Fatalf("shrink: exit %d\n%s", code, stderr)
	}
	stdout, stderr, code := runCLI(t, "sim", "run", "--scenario-file", min, "--json")
	if code != 0 {
		t.Fatalf("replay: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var res scenarios.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Seed != 3 || res.Anomalies["divergent-offset"] == 0 || !strings.Contains(res.Repro, "--scenario-file "+min) {
		t.Fatalf("replay: %+v", res)
	}
}

// TestScenarioFileBadInput: a malformed file is one line naming the file,
// the line and the field.
func TestScenarioFileBadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: x\ndescription: d\ncluster:\n  brokers: 1\n  brokerz: 2\n"), 0o644)
	_, stderr, code := runCLI(t, "sim", "run", "--scenario-file", bad)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code == 0 || len(lines) != 1 || !strings.Contains(lines[0], bad+`:5: field "cluster.brokerz": unknown field (valid: brokers, configs`) {
		t.Fatalf("exit %d: %q", code, stderr)
	}
}
