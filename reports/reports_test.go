package reports

import (
	"bytes"
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
	rs, err := ReadBenchResults("testdata/results")
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Target != "kfake" || rs[1].File != "bench-loglab.json" {
		t.Fatalf("read %+v", rs)
	}
	a, err := BenchPlots(rs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := BenchPlots(rs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if !bytes.Equal(a[i].SVG, b[i].SVG) {
			t.Fatalf("plot %q differs between two draws", a[i].Title)
		}
		if !bytes.Contains(a[i].SVG, []byte("<svg")) {
			t.Fatalf("plot %q is not SVG", a[i].Title)
		}
		golden := filepath.Join("testdata", "golden", strings.ReplaceAll(strings.Fields(a[i].Title)[0]+"-"+strings.Fields(a[i].Title)[1], " ", "-")+".svg")
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
	if err := WriteHTML(&html, "bench", rs, a); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(html.String(), "data:image/svg+xml;base64,"); n != len(a) {
		t.Fatalf("%d inline plots in the HTML, want %d", n, len(a))
	}
	md := Markdown("bench", rs)
	if !strings.Contains(md, "| loglab default | 90000 | 92.2 |") {
		t.Fatalf("markdown:\n%s", md)
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
