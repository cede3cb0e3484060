package reports

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// Plot is one picture of a report.
type Plot struct {
	Title string
	SVG   []byte
}

// BenchPlots are the plots of a set of bench results.
func BenchPlots(rs []BenchResult) ([]Plot, error) {
	var out []Plot
	lat, err := LatencyPercentiles(rs)
	if err != nil {
		return nil, err
	}
	out = append(out, Plot{"Latency by percentile (solid: publish, dashed: end-to-end)", lat})
	for _, s := range []struct {
		title, y string
		v        func(Window) float64
	}{
		{"Publish throughput over time", "MB/s", func(w Window) float64 { return w.PublishMBps }},
		{"Consume throughput over time", "MB/s", func(w Window) float64 { return w.ConsumeMBps }},
		{"Publish p99 latency over time", "ms", func(w Window) float64 { return w.PublishLatency.P99 }},
	} {
		b, err := OverTime(rs, s.title, s.y, s.v)
		if err != nil {
			return nil, err
		}
		out = append(out, Plot{s.title, b})
	}
	return out, nil
}

var page = template.Must(template.New("report").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}th:first-child,td:first-child{text-align:left}img{max-width:100%}</style>
</head><body>
<h1>{{.Title}}</h1>
<table><tr><th>run</th><th>rate (rec/s)</th><th>publish MB/s</th><th>consume MB/s</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>e2e p99 ms</th><th>errors</th></tr>
{{range .Rows}}<tr><td>{{.Label}}</td><td>{{printf "%.0f" .Rate}}</td><td>{{printf "%.1f" .Aggregate.PublishMBps}}</td><td>{{printf "%.1f" .Aggregate.ConsumeMBps}}</td><td>{{printf "%.2f" .Aggregate.PublishLatency.P50}}</td><td>{{printf "%.2f" .Aggregate.PublishLatency.P99}}</td><td>{{printf "%.2f" .Aggregate.PublishLatency.P999}}</td><td>{{printf "%.2f" .Aggregate.PublishLatency.Max}}</td><td>{{printf "%.2f" .Aggregate.EndToEndLatency.P99}}</td><td>{{.Aggregate.Errors}}</td></tr>
{{end}}</table>
{{range .Plots}}<h2>{{.Title}}</h2>
<img alt="{{.Title}}" src="data:image/svg+xml;base64,{{.Data}}">
{{end}}</body></html>
`))

// WriteHTML writes one self-contained HTML report (plots inline).
func WriteHTML(w io.Writer, title string, rs []BenchResult, plots []Plot) error {
	type pl struct {
		Title string
		Data  string
	}
	var ps []pl
	for _, p := range plots {
		ps = append(ps, pl{p.Title, base64.StdEncoding.EncodeToString(p.SVG)})
	}
	return page.Execute(w, struct {
		Title string
		Rows  []BenchResult
		Plots []pl
	}{title, rs, ps})
}

// Markdown is the results as a Markdown table (for a CI step summary).
func Markdown(title string, rs []BenchResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n| run | rate (rec/s) | publish MB/s | consume MB/s | p50 ms | p99 ms | p99.9 ms | max ms | e2e p99 ms | errors |\n|---|---|---|---|---|---|---|---|---|---|\n", title)
	for _, r := range rs {
		a := r.Aggregate
		fmt.Fprintf(&b, "| %s | %.0f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %d |\n", r.Label(), r.Rate, a.PublishMBps, a.ConsumeMBps,
			a.PublishLatency.P50, a.PublishLatency.P99, a.PublishLatency.P999, a.PublishLatency.Max, a.EndToEndLatency.P99, a.Errors)
	}
	return b.String()
}
