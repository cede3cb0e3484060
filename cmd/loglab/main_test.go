package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/loglab/loglab/scenarios"
)

// TestMain lets the test binary act as the loglab command in a fresh
// process (LOGLAB_AS_CLI=1), so tests can compare runs across processes
// without building anything.
func TestMain(m *testing.M) {
	if os.Getenv("LOGLAB_AS_CLI") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LOGLAB_AS_CLI=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestFreshProcessSameTraceHash: a seed run in a fresh process gives the
// trace hash of the same seed run in this process.
func TestFreshProcessSameTraceHash(t *testing.T) {
	for _, sc := range scenarios.All() {
		for _, seed := range []uint64{1, 2, 3} {
			in, err := sc.Run(scenarios.Options{Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			stdout, stderr, code := runCLI(t, "sim", "run", "--scenario", sc.Name, "--seed", strconvU(seed), "--json")
			var got scenarios.Result
			if err := json.Unmarshal([]byte(stdout), &got); err != nil {
				t.Fatalf("%s seed %d: bad JSON (exit %d): %v\n%s\n%s", sc.Name, seed, code, err, stdout, stderr)
			}
			if got.TraceHash != in.TraceHash || got.Events != in.Events {
				t.Errorf("%s seed %d: fresh process %s/%d, in-process %s/%d", sc.Name, seed, got.TraceHash, got.Events, in.TraceHash, in.Events)
			}
			if got.Repro == "" || got.Scenario != sc.Name || got.Seed != seed || got.SimSeconds <= 0 || got.WallSeconds <= 0 {
				t.Errorf("%s seed %d: incomplete result %+v", sc.Name, seed, got)
			}
			if (code == 0) != got.OK {
				t.Errorf("exit %d with ok=%v", code, got.OK)
			}
		}
	}
}

func strconvU(v uint64) string { return strconv.FormatUint(v, 10) }

func TestBadInputOneClearLine(t *testing.T) {
	cases := [][]string{
		{"sim", "run", "--scenario", "no-such-scenario"},
		{"sim", "run", "--scenario", "log-crash", "--seed", "banana"},
		{"scenario", "list", "--bogus"},
		{"demo", "--seeds", "0"},
		{"nonsense"},
		{"bench", "--workload", "testdata/bad-workload.yaml"},
		{"bench", "--workload", "testdata/bad-workload-value.yaml"},
		{"bench", "--workload", "testdata/no-such-file.yaml"},
		{"bench", "--bootstrap", "127.0.0.1:1", "--duration", "1s"},
		{"bench", "--target", "redpanda"},
		{"bench", "--acks", "2"},
		{"bench", "--brokers", "1", "--replication-factor", "3"},
		{"report", "testdata/no-such-dir"},
		{"report", "testdata"},
		{"bench", "sweep"},
		{"bench", "sweep", "--sweep", "acks=2,1"},
		{"bench", "sweep", "--sweep", "colour=red,blue"},
		{"bench", "sweep", "--sweep", "message-size=1024"},
		{"bench", "--pause-broker", "4", "--brokers", "3"},
		{"demo", "--out", "testdata"},
		{"demo", "--rate", "0"},
		{"bench", "--peer", "kafka"},
		{"bench", "--peer", "nats", "--target", "kfake"},
		{"bench", "--compare", "kfake"},
		{"bench", "--compare", "rabbitmq", "--rate", "100"},
		{"bench", "--target", "nats", "--check", "--rate", "100"},
		{"bench", "--sim", "--rate", "0"},
		{"bench", "--link", "base=1ms", "--rate", "100"},
		{"bench", "--sim", "--rate", "100", "--kill-broker", "1"},
		{"bench", "--sim", "--rate", "100", "--link", "base=soon"},
		{"bench", "--sim", "--rate", "100", "--brokers", "6"},
		{"bench", "sweep", "--sweep", "link-latency=1ms,2ms", "--rate", "100"},
	}
	for _, args := range cases {
		stdout, stderr, code := runCLI(t, args...)
		if code == 0 {
			t.Errorf("%v: exit 0", args)
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "loglab: ") {
			t.Errorf("%v: want one 'loglab: ' line on stderr, got %q (stdout %q)", args, stderr, stdout)
		}
	}
	_, stderr, _ := runCLI(t, "sim", "run", "--scenario", "no-such-scenario")
	if !strings.Contains(stderr, "log-crash") {
		t.Errorf("unknown scenario error should list the known ones: %q", stderr)
	}
}

// A peer whose server is not installed: one clear line naming the
// package, before anything runs.
func TestBenchPeerNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, args := range [][]string{{"bench", "--peer", "nats"}, {"bench", "--rate", "100", "--compare", "redis"}} {
		_, stderr, code := runCLI(t, args...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code == 0 || len(lines) != 1 || !strings.Contains(stderr, "apt-get install") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

func TestScenarioListJSON(t *testing.T) {
	stdout, _, code := runCLI(t, "scenario", "list", "--json")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var list []struct{ Name, Description, Expectation string }
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, s := range list {
		if s.Name == "log-crash" && s.Description != "" && s.Expectation != "" {
			found = true
		}
	}
	if !found {
		t.Fatalf("log-crash missing from %s", stdout)
	}
}

// TestSimRunBugRepro: a run with a bug-zoo switch on fails, names the bug
// in its repro, and the repro replays the same trace hash.
func TestSimRunBugRepro(t *testing.T) {
	stdout, _, code := runCLI(t, "sim", "run", "--scenario", "log-crash", "--seed", "1", "--bug", "ack-before-flush", "--json")
	var a scenarios.Result
	if err := json.Unmarshal([]byte(stdout), &a); err != nil {
		t.Fatal(err)
	}
	if code != 1 || a.OK || a.Anomalies["lost-write"] == 0 {
		t.Fatalf("ack-before-flush on log-crash seed 1: exit %d ok=%v %v", code, a.OK, a.Anomalies)
	}
	if !strings.HasSuffix(a.Repro, " --bug ack-before-flush") {
		t.Fatalf("repro %q does not turn the bug on", a.Repro)
	}
	args := strings.Fields(strings.TrimPrefix(a.Repro, "go run ./cmd/loglab "))
	stdout, _, _ = runCLI(t, append(args, "--json")...)
	var b scenarios.Result
	if err := json.Unmarshal([]byte(stdout), &b); err != nil {
		t.Fatal(err)
	}
	if b.TraceHash != a.TraceHash || b.OK != a.OK {
		t.Fatalf("repro gave %s ok=%v, run gave %s ok=%v", b.TraceHash, b.OK, a.TraceHash, a.OK)
	}
}

// demo without its benchmark: every scenario's sweep is written and
// reported (HTML, Markdown, JUnit with a testcase per run); a second demo
// clears the first's directory; a directory the demo did not write is
// refused and left alone.
func TestDemoSuiteAndReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "report")
	for range 2 {
		stdout, stderr, code := runCLI(t, "demo", "--no-bench", "--seeds", "1", "--out", dir)
		if code != 0 {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		if !strings.Contains(stdout, "report: ") || !strings.Contains(stdout, "index.html") {
			t.Fatalf("stdout does not say where the report is:\n%s", stdout)
		}
	}
	n := len(scenarios.All())
	junit, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(junit), "<testcase "); got != n {
		t.Fatalf("junit.xml has %d testcases, want %d", got, n)
	}
	html, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenarios.All() {
		if !strings.Contains(string(html), "<td>"+sc.Name+"</td>") {
			t.Fatalf("index.html lacks scenario %s", sc.Name)
		}
	}
	foreign := t.TempDir()
	os.WriteFile(filepath.Join(foreign, "mine.txt"), []byte("keep"), 0o644)
	if _, stderr, code := runCLI(t, "demo", "--no-bench", "--seeds", "1", "--out", foreign); code == 0 || !strings.Contains(stderr, "not written by loglab demo") {
		t.Fatalf("foreign dir: exit %d %q", code, stderr)
	}
	if data, err := os.ReadFile(filepath.Join(foreign, "mine.txt")); err != nil || string(data) != "keep" {
		t.Fatalf("the foreign file was touched: %q %v", data, err)
	}
}

// bench --sim: the workload in the simulator, reported like a real run
// plus the model, the seed and the simulator's speed; the same seed gives
// the same trace.
func TestBenchSim(t *testing.T) {
	run := func() map[string]any {
		stdout, stderr, code := runCLI(t, "bench", "--sim", "--rate", "500", "--duration", "2s", "--warmup", "0s", "--window", "1s",
			"--link", "base=1ms", "--json")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	a, b := run(), run()
	sa, _ := a["sim"].(map[string]any)
	sb, _ := b["sim"].(map[string]any)
	if sa == nil || sa["trace_hash"] == "" || sa["trace_hash"] != sb["trace_hash"] || sa["link"] != "base=1ms" || sa["events"].(float64) <= 0 {
		t.Fatalf("sim %v / %v", sa, sb)
	}
	agg := a["aggregate"].(map[string]any)["publish_latency_ms"].(map[string]any)
	if agg["count"].(float64) < 800 || agg["p50"].(float64) < 2 {
		t.Fatalf("publish latency %v (a 1ms link: at least a 2ms round trip)", agg)
	}
}
