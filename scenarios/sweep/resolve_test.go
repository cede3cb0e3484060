package sweep

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loglab/loglab/scenarios"
)

func TestResolve(t *testing.T) {
	if _, _, err := Resolve("", ""); !errors.Is(err, ErrNoScenario) {
		t.Errorf("neither: %v", err)
	}
	if _, _, err := Resolve("log-crash", "f.yaml"); !errors.Is(err, ErrNoScenario) {
		t.Errorf("both: %v", err)
	}
	if sc, seed, err := Resolve("log-crash", ""); err != nil || sc.Name != "log-crash" || seed != nil {
		t.Errorf("by name: %v %v %v", sc, seed, err)
	}
	if sc, seed, err := Resolve("cluster-swarm-seed-9002678-hw-waits-for-min-isr-so-reads-never-diverge", ""); err != nil || seed == nil || *seed != 9002678 {
		t.Fatalf("a pinned library scenario by name: %v, seed %v, %v", sc, seed, err)
	}
	if _, _, err := Resolve("no-such-scenario", ""); err == nil {
		t.Error("an unknown name resolved")
	}
	lib := "../library/cluster-swarm-seed-9002678-hw-waits-for-min-isr-so-reads-never-diverge.yaml"
	if sc, seed, err := Resolve("", lib); err != nil || seed == nil || *seed != 9002678 || !strings.HasPrefix(sc.Name, "cluster-swarm-seed-9002678") {
		t.Errorf("by file: %v %v %v", sc, seed, err)
	}
	if _, _, err := Resolve("", filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("a missing file resolved")
	}
}

// RunOneFiles writes the run's directory and the nodes' own logs.
func TestRunOneFiles(t *testing.T) {
	sc, err := scenarios.Lookup("log-crash")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, nodeLog := filepath.Join(dir, "run"), filepath.Join(dir, "nodes.log")
	res, err := RunOneFiles(sc, scenarios.Options{Seed: 1}, nil, out, nodeLog)
	if err != nil || !res.OK {
		t.Fatalf("run: %v %v", res, err)
	}
	for _, f := range []string{"result.json", "summary.txt", "trace.txt"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := os.Stat(nodeLog); err != nil {
		t.Errorf("node log: %v", err)
	}
	if _, err := RunOneFiles(sc, scenarios.Options{Seed: 1}, nil, "", filepath.Join(dir, "no", "such", "dir", "log")); err == nil {
		t.Error("an uncreatable node log was accepted")
	}
}

// A panicking run is a failing seed with a "panic" finding and a repro,
// not the end of the sweep.
func TestRunSeedTurnsAPanicIntoAFinding(t *testing.T) {
	res, err := runSeed("cluster-swarm", 9013728, nil, func(scenarios.Options) (*scenarios.Result, error) {
		panic("tocommit(20) is out of range [lastIndex(19)]")
	})
	if err != nil || res.OK || res.Anomalies["panic"] != 1 || res.Seed != 9013728 ||
		!strings.Contains(res.Findings[0].Evidence, "tocommit(20)") || !strings.Contains(res.Repro, "--seed 9013728") {
		t.Fatalf("runSeed after a panic: %+v, %v", res, err)
	}
	want := errors.New("bad scenario")
	if _, err := runSeed("x", 1, nil, func(scenarios.Options) (*scenarios.Result, error) { return nil, want }); !errors.Is(err, want) {
		t.Fatalf("an error is still an error: %v", err)
	}
}
