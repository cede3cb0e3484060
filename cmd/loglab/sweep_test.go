package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/loglab/loglab/scenarios"
)

func TestParseSeedsAndShard(t *testing.T) {
	good := map[string]seedRange{"1-200": {1, 200}, "7": {7, 7}, "0-0": {0, 0}, " 3-5 ": {3, 5}}
	for in, want := range good {
		if got, err := parseSeeds(in); err != nil || got != want {
			t.Errorf("parseSeeds(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "a-b", "5-1", "-3", "1-", "1-2-3", "1..5"} {
		if _, err := parseSeeds(in); err == nil || !strings.Contains(err.Error(), "want A-B") {
			t.Errorf("parseSeeds(%q): err = %v, want a one-line 'want A-B' error", in, err)
		}
	}
	if s, err := parseShard("3/4"); err != nil || s != (shardSpec{3, 4}) {
		t.Errorf("parseShard(3/4) = %v, %v", s, err)
	}
	for _, in := range []string{"4/4", "0/0", "1", "a/b", "-1/4", "1/-4"} {
		if _, err := parseShard(in); err == nil {
			t.Errorf("parseShard(%q) accepted", in)
		}
	}
}

// The shards of a range partition it: every seed in exactly one shard, in
// order, and shard I holds the seeds with (seed-A) % N == I.
func TestShardsPartitionTheRange(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		first := rapid.Uint64Range(0, 1<<20).Draw(t, "first")
		if rapid.Bool().Draw(t, "near-max") {
			first = ^uint64(0) - rapid.Uint64Range(0, 300).Draw(t, "back")
		}
		last := first + rapid.Uint64Range(0, min(300, ^uint64(0)-first)).Draw(t, "span")
		n := rapid.Uint64Range(1, 20).Draw(t, "n")
		r := seedRange{first, last}
		seen := map[uint64]uint64{}
		for i := uint64(0); i < n; i++ {
			for _, s := range (shardSpec{i, n}).seeds(r) {
				if s < first || s > last || (s-first)%n != i {
					t.Fatalf("shard %d/%d of %v holds seed %d", i, n, r, s)
				}
				if _, dup := seen[s]; dup {
					t.Fatalf("seed %d in two shards", s)
				}
				seen[s] = i
			}
		}
		if uint64(len(seen)) != last-first+1 {
			t.Fatalf("%d seeds covered of %v", len(seen), r)
		}
	})
}

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
	var whole sweepSummary
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
	var merged sweepSummary
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
	var one sweepSummary
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
