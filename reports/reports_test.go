package reports

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// The plots are a pure function of the results: drawn twice they are
// byte-identical, and they match the committed golden SVGs
// (go test ./reports -update rewrites them after a deliberate change).
func TestPlotsGolden(t *testing.T) {
	set, err := Read("testdata/results")
	if err != nil {
		t.Fatal(err)
	}
	rs := set.Bench
	if len(rs) != 2 || rs[0].Target != "kfake" || rs[1].File != "bench-loglab.json" {
		t.Fatalf("read %+v", rs)
	}
	if len(set.Sweeps) != 3 || len(set.Scaling) != 1 {
		t.Fatalf("read %d seed sweeps, %d bench sweeps", len(set.Sweeps), len(set.Scaling))
	}
	a, err := set.Plots()
	if err != nil {
		t.Fatal(err)
	}
	b, err := set.Plots()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 4+2+1 {
		t.Fatalf("%d plots", len(a))
	}
	for i := range a {
		if !bytes.Equal(a[i].SVG, b[i].SVG) {
			t.Fatalf("plot %q differs between two draws", a[i].Title)
		}
		if !bytes.Contains(a[i].SVG, []byte("<svg")) {
			t.Fatalf("plot %q is not SVG", a[i].Title)
		}
		golden := filepath.Join("testdata", "golden", slug(a[i].Title)+".svg")
		if *update {
			os.MkdirAll(filepath.Dir(golden), 0o755)
			if err := os.WriteFile(golden, a[i].SVG, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./reports -update)", err)
		}
		if !bytes.Equal(want, a[i].SVG) {
			t.Fatalf("plot %q differs from %s", a[i].Title, golden)
		}
	}
	var html bytes.Buffer
	if err := WriteHTML(&html, "bench", set, a); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(html.String(), "data:image/svg+xml;base64,"); n != len(a) {
		t.Fatalf("%d inline plots in the HTML, want %d", n, len(a))
	}
	md := Markdown("bench", set)
	for _, want := range []string{"| loglab default | 90000 | 92.2 |", "| log-crash | 1-6 | 6 | 1 | 5 | lost-write (5) |"} {
		if !strings.Contains(md, want) {
			t.Fatalf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// slug names a plot's golden file after its title.
func slug(title string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// Seed sweeps: read with their per-seed results, summed up, and written
// as JUnit XML that parses back with one testcase per seed and the
// failing seeds' anomalies and repro commands; a failing sweep fails the
// set.
func TestSeedSweepsAndJUnit(t *testing.T) {
	set, err := Read("testdata/results")
	if err != nil {
		t.Fatal(err)
	}
	var runs, failed int
	for _, s := range set.Sweeps {
		runs += s.Runs
		failed += s.Failed
		if len(s.Results) != s.Runs || s.Events == 0 || s.SimSpeedup() <= 0 {
			t.Fatalf("sweep %s: %d results of %d runs, %d events", s.Scenario, len(s.Results), s.Runs, s.Events)
		}
	}
	if runs != 30 || failed != 5 {
		t.Fatalf("%d runs, %d failed", runs, failed)
	}
	if err := set.Failed(); err == nil || !strings.Contains(err.Error(), "log-crash: 5 of 6 runs failed") {
		t.Fatalf("Failed: %v", err)
	}
	var b bytes.Buffer
	if err := JUnit(&b, set.Sweeps); err != nil {
		t.Fatal(err)
	}
	var x junitSuites
	if err := xml.Unmarshal(b.Bytes(), &x); err != nil {
		t.Fatalf("JUnit XML does not parse: %v", err)
	}
	if x.Tests != 30 || x.Failures != 5 || len(x.Suites) != 3 {
		t.Fatalf("testsuites: %d tests, %d failures, %d suites", x.Tests, x.Failures, len(x.Suites))
	}
	cases, failures := 0, 0
	for _, s := range x.Suites {
		cases += len(s.Cases)
		for _, c := range s.Cases {
			if c.Failure == nil {
				continue
			}
			failures++
			if !strings.Contains(c.Failure.Message, "lost-write=") || !strings.Contains(c.Failure.Text, "--bug ack-before-flush") {
				t.Fatalf("failure %+v", c.Failure)
			}
		}
	}
	if cases != 30 || failures != 5 {
		t.Fatalf("%d testcases, %d failures", cases, failures)
	}
}

func TestReadBenchResultsErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadBenchResults(dir); !errors.Is(err, ErrNoResults) {
		t.Fatalf("empty dir: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "x.json"), []byte(`{"target": 3}`), 0o644)
	if _, err := ReadBenchResults(dir); !errors.Is(err, ErrBadResult) || !strings.Contains(err.Error(), "x.json") {
		t.Fatalf("bad file: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "x.json"), []byte(`{"name": "not a result"}`), 0o644)
	if _, err := ReadBenchResults(dir); !errors.Is(err, ErrBadResult) {
		t.Fatalf("other JSON: %v", err)
	}
}
