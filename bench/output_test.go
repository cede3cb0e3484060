package bench_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/loglab/loglab/bench"
)

func compareReport(target string, mbps, p50, p99 float64, held *bool) bench.Report {
	var r bench.Report
	r.Target = target
	r.Rate = mbps * 1000
	r.Held = held
	r.Aggregate.PublishMBps = mbps
	r.Aggregate.PublishLatency = bench.Percentiles{P50: p50, P99: p99}
	return r
}

// columns returns the row of the side-by-side table that starts with
// target, split into its columns.
func columns(t *testing.T, out, target string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == target {
			return f
		}
	}
	t.Fatalf("no row for %s in\n%s", target, out)
	return nil
}

// TestPrintComparison: ratios are the first target's advantage (throughput
// first/other, latency other/first), and after a search each row says
// whether its measured run held the rate, so a maximum that did not hold
// cannot pass for one.
func TestPrintComparison(t *testing.T) {
	yes, no := true, false
	var buf bytes.Buffer
	bench.WriteComparison(&buf, compareReport("loglab", 400, 2, 10, &no),
		[]bench.Report{compareReport("nats", 100, 1, 50, &yes), compareReport("redis", 80, 4, 5, nil)})
	out := buf.String()
	if h := columns(t, out, "TARGET"); h[len(h)-1] != "HELD" {
		t.Fatalf("header %v: want a HELD column after a search", h)
	}
	for _, c := range []struct {
		target string
		want   []string // THROUGHPUT_RATIO, P50_RATIO, P99_RATIO, HELD
	}{
		{"loglab", []string{"1", "1", "1", "no"}},
		{"nats", []string{"4.00x", "0.50x", "5.00x", "yes"}},
		{"redis", []string{"5.00x", "2.00x", "0.50x", "-"}},
	} {
		f := columns(t, out, c.target)
		if got := f[len(f)-4:]; strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: ratios and held %v, want %v\n%s", c.target, got, c.want, out)
		}
	}

	buf.Reset()
	bench.WriteComparison(&buf, compareReport("loglab", 50, 2, 10, nil), []bench.Report{compareReport("kfake", 50, 2, 20, nil)})
	if h := columns(t, buf.String(), "TARGET"); h[len(h)-1] != "P99_RATIO" {
		t.Fatalf("header %v: a fixed-rate comparison has no HELD column", h)
	}
	if f := columns(t, buf.String(), "kfake"); f[len(f)-1] != "2.00x" {
		t.Errorf("kfake row %v: want p99 ratio 2.00x", f)
	}
}
