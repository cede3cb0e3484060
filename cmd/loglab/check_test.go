package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The hand-made histories send v1 and v2 (acknowledged at offsets 0 and 1)
// and end with a final read of the partition: the clean one reads both, the
// lost-write one only v2, so --final-reads-complete makes v1 a lost write.
func TestCheckFindsALostWrite(t *testing.T) {
	stdout, stderr, code := runCLI(t, "check", "--history", "testdata/history-lost-write.jsonl", "--final-reads-complete")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "verdict: fail") || !strings.Contains(stdout, "lost-write: 1") || !strings.Contains(stdout, `"v1"`) {
		t.Errorf("report does not show the lost write of v1:\n%s", stdout)
	}
	stdout, _, code = runCLI(t, "check", "--history", "testdata/history-lost-write.jsonl", "--json", "--checkers", "queue", "--final-reads-complete")
	var rep struct {
		Verdict   string
		Anomalies []struct {
			Kind  string
			Count int
		}
		Checkers []struct{ Name string }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("bad JSON: %v\n%s", err, stdout)
	}
	if code != 1 || rep.Verdict != "fail" || len(rep.Anomalies) != 1 || rep.Anomalies[0].Kind != "lost-write" ||
		len(rep.Checkers) != 1 || rep.Checkers[0].Name != "queue" {
		t.Errorf("exit %d, report %+v", code, rep)
	}
}

func TestCheckPassesACleanHistory(t *testing.T) {
	stdout, stderr, code := runCLI(t, "check", "--history", "testdata/history-clean.jsonl", "--final-reads-complete")
	if code != 0 || !strings.Contains(stdout, "verdict: pass") {
		t.Fatalf("exit %d, want 0\n%s\n%s", code, stdout, stderr)
	}
}

func TestCheckBadInputOneClearLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	clean, err := os.ReadFile("testdata/history-clean.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(clean), "\n")
	if err := os.WriteFile(bad, []byte(lines[0]+lines[1]+`{"index":2,"time":3,"process":"p1"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"check", "--history", bad}, []string{"bad.jsonl", "line 3"}},
		{[]string{"check", "--history", filepath.Join(dir, "missing.jsonl")}, []string{"missing.jsonl"}},
		{[]string{"check", "--history", "testdata/history-clean.jsonl", "--checkers", "queue,nope"}, []string{`"nope"`, "linearizable", "liveness"}},
		{[]string{"check"}, []string{"--history is required"}},
	}
	for _, c := range cases {
		_, stderr, code := runCLI(t, c.args...)
		got := strings.Split(strings.TrimSpace(stderr), "\n")
		ok := code == 2 && len(got) == 1 && strings.HasPrefix(got[0], "loglab: ")
		for _, w := range c.want {
			ok = ok && strings.Contains(stderr, w)
		}
		if !ok {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one 'loglab: ' line naming %q", c.args, code, stderr, c.want)
		}
	}
}
