package scenarios

import (
	"bytes"
	"slices"
	"testing"

	"github.com/loglab/loglab/checkers"
	"github.com/loglab/loglab/checkers/finalread"
	"github.com/loglab/loglab/history"
)

// recheck writes a run's history as `--out` does (JSONL) and checks the
// file as `loglab check --history FILE --checkers final-read` does,
// returning the anomaly kinds found.
func recheck(t *testing.T, res *Result) []string {
	t.Helper()
	var buf bytes.Buffer
	w := history.NewWriter(&buf)
	for _, op := range res.History {
		w.Append(op)
	}
	if err := w.Err(); err != nil {
		t.Fatal(err)
	}
	rep, err := checkers.CheckFile("history.jsonl", &buf, checkers.Options{Checkers: []string{finalread.Name}})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, k := range rep.Anomalies {
		kinds = append(kinds, k.Kind)
	}
	return kinds
}

// TestEveryScenarioWritesItsEvidence: every scenario, written in YAML or in
// Go, records its history and its checkers' report when run with
// RecordTrace (what `sim run --out` uses), so `--out` writes history.jsonl
// and verdicts.json. Where the verdict is the final read's (the
// single-broker crash family, log-crash), checking the written history
// finds exactly the run's anomaly kinds.
func TestEveryScenarioWritesItsEvidence(t *testing.T) {
	for _, sc := range All() {
		t.Run(sc.Name, func(t *testing.T) {
			if !isCluster(sc) {
				t.Parallel() // cluster runs seed the process-wide crypto/rand: one at a time
			}
			res, err := sc.Run(Options{Seed: 1, RecordTrace: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.History) == 0 || res.Report == nil {
				t.Fatalf("seed 1: %d history records, report %v", len(res.History), res.Report != nil)
			}
			byFinalRead := sc.Name == "log-crash" || sc.compiled != nil && slices.Equal(sc.compiled.checkers, []string{finalread.Name})
			if !byFinalRead {
				return
			}
			if got, want := recheck(t, res), res.AnomalyKinds(); !slices.Equal(got, want) {
				t.Errorf("seed 1: the history file shows %v, the run %v", got, want)
			}
		})
	}
}

// TestLogCrashHistoryShowsPlantedBug: with the bug zoo's ack-before-flush
// in the log, a log-crash run that catches it leaves a history in which
// the final-read checker finds the same lost writes.
func TestLogCrashHistoryShowsPlantedBug(t *testing.T) {
	sc := mustLookup(t, "log-crash")
	for seed := uint64(1); seed <= 50; seed++ {
		res, err := sc.Run(Options{Seed: seed, RecordTrace: true, Bugs: []string{"ack-before-flush"}})
		if err != nil {
			t.Fatal(err)
		}
		if res.OK {
			continue
		}
		got := recheck(t, res)
		if !slices.Contains(got, finalread.LostWrite) || !slices.Equal(got, res.AnomalyKinds()) {
			t.Fatalf("seed %d: the history file shows %v, the run %v %v", seed, got, res.AnomalyKinds(), firstFindings(res, 3))
		}
		t.Logf("seed %d: the run and its history file both show %v", seed, got)
		return
	}
	t.Fatal("ack-before-flush went undetected by log-crash for 50 seeds")
}
