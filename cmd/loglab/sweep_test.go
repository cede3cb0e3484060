package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/loglab/loglab/scenarios"
	"github.com/loglab/loglab/scenarios/sweep"
)

// TestShardedSweepMergesToTheUnshardedOne runs the commands of
// docs/sweeps.md: one sweep, the same sweep as 4 shards with --out, and
// `sim merge` of the shard directories; the merged counts, anomalies and
// failing seeds (with their trace hashes) equal the unsharded sweep's. A
// bug-zoo bug makes some seeds fail, so failures and exit codes are
// exercised too.
func TestShardedSweepMergesToTheUnshardedOne(t *testing.T) {
	dir := t.TempDir()
	base := []string{"sim", "sweep", "--scenario", "log-crash", "--seeds", "1-12", "--bug", "ack-before-flush", "--parallel", "2"}
	stdout, stderr, code := runCLI(t, append(base, "--json", "--out", filepath.Join(dir, "all"))...)
	if code != 1 {
		t.Fatalf("unsharded sweep with a bug: exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	var whole sweep.Summary
	if err := json.Unmarshal([]byte(stdout), &whole); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, stdout)
	}
	if whole.Runs != 12 || whole.Failed == 0 || whole.Passed+whole.Failed != 12 || whole.Anomalies["lost-write"] == 0 {
		t.Fatalf("unsharded summary %+v", whole)
	}
	var shardDirs []string
	for i := 0; i < 4; i++ {
		d := filepath.Join(dir, "shard-"+strconvU(uint64(i)))
		shardDirs = append(shardDirs, d)
		_, stderr, code := runCLI(t, append(base, "--shard", strconvU(uint64(i))+"/4", "--out", d)...)
		if code != 0 && code != 1 {
			t.Fatalf("shard %d: exit %d: %s", i, code, stderr)
		}
		if n := countLines(t, filepath.Join(d, "results.jsonl")); n != 3 {
			t.Fatalf("shard %d wrote %d results, want 3", i, n)
		}
	}
	stdout, stderr, code = runCLI(t, append([]string{"sim", "merge", "--json"}, shardDirs...)...)
	if code != 1 {
		t.Fatalf("merge: exit %d, want 1 (a shard failed)\n%s\n%s", code, stdout, stderr)
	}
	var merged sweep.Summary
	if err := json.Unmarshal([]byte(stdout), &merged); err != nil {
		t.Fatalf("bad merge JSON: %v\n%s", err, stdout)
	}
	if merged.Runs != whole.Runs || merged.Passed != whole.Passed || merged.Failed != whole.Failed ||
		!reflect.DeepEqual(merged.Anomalies, whole.Anomalies) || !reflect.DeepEqual(merged.SeedsWithAnomaly, whole.SeedsWithAnomaly) ||
		!reflect.DeepEqual(merged.Failures, whole.Failures) || merged.FirstFailingSeed != whole.FirstFailingSeed ||
		merged.ShardsMerged != 4 || merged.Shard != "all/4" {
		t.Fatalf("merged %+v\nwhole %+v", merged, whole)
	}
	// Each failure's repro replays it: same trace hash, same failure.
	f := whole.Failures[0]
	stdout, _, code = runCLI(t, append(strings.Fields(strings.TrimPrefix(f.Repro, "go run ./cmd/loglab ")), "--json")...)
	var one sweep.Summary
	if err := json.Unmarshal([]byte(stdout), &one); err != nil || code != 1 || one.Failed != 1 || one.Failures[0].TraceHash != f.TraceHash {
		t.Fatalf("repro %q: exit %d, %+v, %v", f.Repro, code, one, err)
	}
	// The human table names every failing seed with its repro.
	stdout, _, _ = runCLI(t, append([]string{"sim", "merge"}, shardDirs...)...)
	for _, f := range whole.Failures {
		if !strings.Contains(stdout, "FAIL seed "+strconvU(f.Seed)+" ") || !strings.Contains(stdout, f.Repro) {
			t.Errorf("table lacks seed %d or its repro:\n%s", f.Seed, stdout)
		}
	}
	// A missing shard is refused.
	_, stderr, code = runCLI(t, "sim", "merge", shardDirs[0], shardDirs[1], shardDirs[3])
	if code != 2 || !strings.Contains(stderr, "loglab: merge:") {
		t.Errorf("merge of 3 of 4 shards: exit %d, %q", code, stderr)
	}
}

// TestSweepResultsMatchSimRun: a worker's per-seed results equal what the
// scenario gives in this process, and a clean sweep exits 0.
func TestSweepResultsMatchSimRun(t *testing.T) {
	dir := t.TempDir()
	stdout, stderr, code := runCLI(t, "sim", "sweep", "--scenario", "log-crash", "--seeds", "5-8", "--parallel", "3", "--out", dir)
	if code != 0 {
		t.Fatalf("clean sweep: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"PASS sweep log-crash seeds 5-8", "SEEDS/MIN", "anomalies: none"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	f, err := os.Open(filepath.Join(dir, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc, _ := scenarios.Lookup("log-crash")
	seed := uint64(5)
	for s := bufio.NewScanner(f); s.Scan(); seed++ {
		var got scenarios.Result
		if err := json.Unmarshal(s.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		in, err := sc.Run(scenarios.Options{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		if got.Seed != seed || got.TraceHash != in.TraceHash || got.OK != in.OK || got.Repro != in.Repro {
			t.Errorf("seed %d: worker %s/%v, in-process %s/%v", seed, got.TraceHash, got.OK, in.TraceHash, in.OK)
		}
	}
	if seed != 9 {
		t.Errorf("results.jsonl ends at seed %d", seed)
	}
}

func TestSweepBadInputOneClearLine(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"sim", "sweep", "--scenario", "log-crash", "--seeds", "ten-twenty"}, "want A-B"},
		{[]string{"sim", "sweep", "--scenario", "log-crash", "--seeds", "9-1"}, "below the first"},
		{[]string{"sim", "sweep", "--scenario", "log-crash"}, "--seeds is required"},
		{[]string{"sim", "sweep", "--scenario", "log-crash", "--seeds", "1-2", "--shard", "4/4"}, "0 <= I < N"},
		{[]string{"sim", "sweep", "--scenario", "log-crash", "--seeds", "1-2", "--bug", "nope"}, "ack-before-flush"},
		{[]string{"sim", "sweep", "--scenario", "nope", "--seeds", "1-2"}, "log-crash"},
		{[]string{"sim", "merge", "/no/such/dir"}, "merge:"},
	}
	for _, c := range cases {
		stdout, stderr, code := runCLI(t, c.args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "loglab: ") || !strings.Contains(lines[0], c.want) {
			t.Errorf("%v: exit %d, stderr %q (stdout %q); want exit 2 and one 'loglab: ' line with %q", c.args, code, stderr, stdout, c.want)
		}
	}
}

func countLines(t *testing.T, name string) int {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// TestBugzooMeasure runs `loglab bugzoo measure` on log-crash: the
// baseline passes, ack-before-flush is caught, fetch-past-high-watermark
// (log-crash has no Fetch) is not, and that makes the exit status 1;
// measuring only the bug it catches exits 0.
func TestBugzooMeasure(t *testing.T) {
	base := []string{"bugzoo", "measure", "--scenario", "log-crash", "--seeds", "1-4", "--parallel", "2", "--bug", "ack-before-flush"}
	stdout, stderr, code := runCLI(t, append(base, "--bug", "fetch-past-high-watermark", "--json")...)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (a bug not detected)\n%s\n%s", code, stdout, stderr)
	}
	var d sweep.Detection
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, stdout)
	}
	if d.Baseline.Runs != 4 || d.Baseline.Failed != 0 || len(d.Bugs) != 2 {
		t.Fatalf("detection %+v", d)
	}
	if b := d.Bugs[0]; b.Bug != "ack-before-flush" || b.SeedsToDetect == 0 || b.Failed == 0 || b.SeedsWithAnomaly["lost-write"] == 0 ||
		b.Sweep.FirstFailingSeed != b.SeedsToDetect {
		t.Fatalf("ack-before-flush row %+v", b)
	}
	if b := d.Bugs[1]; b.Bug != "fetch-past-high-watermark" || b.SeedsToDetect != 0 || b.Failed != 0 || b.Runs != 4 {
		t.Fatalf("fetch-past-high-watermark row %+v", b)
	}
	stdout, stderr, code = runCLI(t, base...)
	if code != 0 || !strings.HasPrefix(stdout, "PASS bug-zoo detection: log-crash seeds 1-4") || !strings.Contains(stdout, "ack-before-flush") ||
		!strings.Contains(stderr, "(no bug): 0 of 4 seeds failed") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if _, stderr, code := runCLI(t, "bugzoo", "measure", "--scenario", "log-crash", "--seeds", "1-4", "--bug", "no-such-bug"); code != 2 || !strings.Contains(stderr, "no-such-bug") {
		t.Fatalf("unknown bug: exit %d: %s", code, stderr)
	}
}
