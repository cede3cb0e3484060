package reports

import (
	"encoding/base64"
	"errors"
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

// Set is everything one report shows: bench runs, bench sweeps (scaling
// curves) and scenario seed sweeps.
type Set struct {
	Bench   []BenchResult
	Scaling []ScalingSweep
	Sweeps  []SeedSweep
}

// Empty reports whether the set holds nothing to report.
func (s Set) Empty() bool { return len(s.Bench) == 0 && len(s.Scaling) == 0 && len(s.Sweeps) == 0 }

// Read reads every result in dir: bench results and bench sweeps (its
// *.json files) and seed sweeps (summary.json in it or up to two levels
// below). A directory with none is ErrNoResults; a file that is not a
// result is ErrBadResult naming it.
func Read(dir string) (Set, error) {
	var s Set
	var err error
	if s.Bench, s.Scaling, err = readJSONResults(dir); err != nil {
		return Set{}, err
	}
	if s.Sweeps, err = ReadSeedSweeps(dir); err != nil {
		return Set{}, err
	}
	if s.Empty() {
		return Set{}, fmt.Errorf("%w in %s: no bench result (loglab bench --out %s), bench sweep (loglab bench sweep --out %s) or seed sweep (loglab sim sweep --out %s/NAME)",
			ErrNoResults, dir, dir, dir, dir)
	}
	return s, nil
}

// Plots draws the set: the bench runs' latency percentiles and their
// throughput and p99 over time (fault windows shaded), one scaling curve
// per swept parameter, and the simulator's speed per scenario swept.
func (s Set) Plots() ([]Plot, error) {
	var out []Plot
	if len(s.Bench) > 0 {
		ps, err := BenchPlots(s.Bench)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	for _, sc := range s.Scaling {
		ps, err := ScalingPlots(sc)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	if len(s.Sweeps) > 0 {
		p, err := SweepSpeedPlot(s.Sweeps)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
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
<style>body{font-family:sans-serif;max-width:64em;margin:2em auto}table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}th:first-child,td:first-child{text-align:left}img{max-width:100%}.fail{color:#b00;font-weight:bold}.pass{color:#070}</style>
</head><body>
<h1>{{.Title}}</h1>
{{if .Sweeps}}<h2>Scenario sweeps (simulation)</h2>
<p>{{.SweepRuns}} runs of {{len .Sweeps}} scenario sweeps: {{if .SweepFailed}}<span class="fail">{{.SweepFailed}} failed</span>{{else}}<span class="pass">all met their expectations</span>{{end}}.</p>
<table><tr><th>scenario</th><th>seeds</th><th>runs</th><th>passed</th><th>failed</th><th>anomalies found (seeds)</th><th>events/s</th><th>sim s / wall s</th></tr>
{{range .Sweeps}}<tr><td>{{.Scenario}}{{if .Bugs}} [bugs {{range .Bugs}}{{.}} {{end}}]{{end}}</td><td>{{.Seeds}}</td><td>{{.Runs}}</td><td>{{.Passed}}</td><td{{if .Failed}} class="fail"{{end}}>{{.Failed}}</td><td>{{range $k, $v := .SeedsWithAnomaly}}{{$k}} ({{$v}}) {{end}}</td><td>{{printf "%.0f" .EventsPerSecond}}</td><td>{{printf "%.0f" .SimSpeedup}}</td></tr>
{{end}}</table>
{{range .Sweeps}}{{$sc := .Scenario}}{{range .Failures}}<p class="fail">FAIL {{$sc}} seed {{.Seed}}: <code>{{.Repro}}</code></p>{{end}}{{end}}{{end}}
{{if .Rows}}<h2>Benchmarks</h2>
<table><tr><th>run</th><th>rate (rec/s)</th><th>publish MB/s</th><th>consume MB/s</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>e2e p99 ms</th><th>errors</th></tr>
{{range .Rows}}<tr><td>{{.Label}}</td><td>{{printf "%.0f" .Rate}}</td><td>{{printf "%.1f" .Aggregate.PublishMBps}}</td><td>{{printf "%.1f" .Aggregate.ConsumeMBps}}</td><td>{{printf "%.2f" .Aggregate.PublishLatency.P50}}</td><td>{{printf "%.2f" .Aggregate.PublishLatency.P99}}</td><td>{{printf "%.2f" .Aggregate.PublishLatency.P999}}</td><td>{{printf "%.2f" .Aggregate.PublishLatency.Max}}</td><td>{{printf "%.2f" .Aggregate.EndToEndLatency.P99}}</td><td>{{.Aggregate.Errors}}</td></tr>
{{end}}</table>
{{range .Rows}}{{$run := .Label}}{{range .Faults}}<p>{{$run}}: fault <b>{{.Name}}</b> from {{printf "%.1f" .StartS}}s to {{printf "%.1f" .EndS}}s: publish rate {{printf "%.0f" .BaselineRate}} rec/s before, {{printf "%.0f" .LowestRate}} at its lowest, {{if ge .RecoveryS 0.0}}back to 90 % {{printf "%.1f" .RecoveryS}}s after the repair{{else}}not back to 90 % within the run{{end}}.</p>
{{end}}{{with .Sim}}<p>{{$run}}: simulated, seed {{.Seed}} (trace {{.TraceHash}}; replay: <code>{{.Repro}}</code>): {{.Events}} events, {{printf "%.1f" .SimSeconds}} simulated s in {{printf "%.2f" .WallSeconds}} wall s ({{printf "%.0f" .EventsPerSecond}} events/s, {{printf "%.0f" .SimSecondsPerWallSecond}} simulated s per wall s).</p>
{{end}}{{with .Check}}<p>{{$run}}: history of {{.Operations}} operations ({{.SendsOK}} sends acknowledged, {{.SendsFail}} failed, {{.SendsInfo}} unknown; {{.RecordsRead}} records read{{if .FinalReadsComplete}}, every acknowledged record read back after the run{{else}}, {{.Unseen}} acknowledged records unseen{{end}}): the {{range .Checkers}}{{.}} {{end}}checker's verdict is <span class="{{.Verdict}}">{{.Verdict}}</span>{{range $k, $v := .Anomalies}}, {{$k}} {{$v}}{{end}}.{{if .History}} History: <code>{{.History}}</code>.{{end}}</p>
{{end}}{{end}}{{end}}
{{range .Scaling}}<h2>Sweep of {{.Param}} ({{.Target}})</h2>
<table><tr><th>{{.Param}}</th><th>rate (rec/s)</th><th>publish MB/s</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>errors</th></tr>
{{range .Points}}<tr><td>{{.Value}}</td><td>{{printf "%.0f" .Result.Rate}}</td><td>{{printf "%.1f" .Result.Aggregate.PublishMBps}}</td><td>{{printf "%.2f" .Result.Aggregate.PublishLatency.P50}}</td><td>{{printf "%.2f" .Result.Aggregate.PublishLatency.P99}}</td><td>{{printf "%.2f" .Result.Aggregate.PublishLatency.P999}}</td><td>{{.Result.Aggregate.Errors}}</td></tr>
{{end}}</table>{{end}}
{{range .Plots}}<h2>{{.Title}}</h2>
<img class="plot" alt="{{.Title}}" src="data:image/svg+xml;base64,{{.Data}}">
{{end}}<script>
// For headless checks: how many plots the browser decoded and drew.
window.addEventListener("load", function () {
  var imgs = document.querySelectorAll("img.plot"), ok = 0;
  imgs.forEach(function (i) { if (i.complete && i.naturalWidth > 0) ok++; });
  document.body.setAttribute("data-plots", imgs.length);
  document.body.setAttribute("data-plots-rendered", ok);
});
</script>
</body></html>
`))

// WriteHTML writes one self-contained HTML report (plots inline).
func WriteHTML(w io.Writer, title string, s Set, plots []Plot) error {
	type pl struct {
		Title string
		Data  string
	}
	var ps []pl
	for _, p := range plots {
		ps = append(ps, pl{p.Title, base64.StdEncoding.EncodeToString(p.SVG)})
	}
	runs, failed := 0, 0
	for _, sw := range s.Sweeps {
		runs += sw.Runs
		failed += sw.Failed
	}
	return page.Execute(w, struct {
		Title                  string
		Rows                   []BenchResult
		Scaling                []ScalingSweep
		Sweeps                 []SeedSweep
		SweepRuns, SweepFailed int
		Plots                  []pl
	}{title, s.Bench, s.Scaling, s.Sweeps, runs, failed, ps})
}

// Markdown is the set as Markdown tables (for a CI step summary).
func Markdown(title string, s Set) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n", title)
	if len(s.Sweeps) > 0 {
		b.WriteString("| scenario | seeds | runs | passed | failed | anomalies (seeds) | events/s |\n|---|---|---|---|---|---|---|\n")
		for _, sw := range s.Sweeps {
			var an []string
			for _, k := range sortedKinds(sw.SeedsWithAnomaly) {
				an = append(an, fmt.Sprintf("%s (%d)", k, sw.SeedsWithAnomaly[k]))
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %s | %.0f |\n", sw.Scenario, sw.Seeds, sw.Runs, sw.Passed, sw.Failed, strings.Join(an, ", "), sw.EventsPerSecond())
		}
		b.WriteString("\n")
	}
	if len(s.Bench) > 0 {
		b.WriteString("| run | rate (rec/s) | publish MB/s | consume MB/s | p50 ms | p99 ms | p99.9 ms | max ms | e2e p99 ms | errors | history check |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, r := range s.Bench {
			a := r.Aggregate
			check := "—"
			if c := r.Check; c != nil {
				check = c.Verdict
				for _, k := range sortedKinds(c.Anomalies) {
					check += fmt.Sprintf(" %s=%d", k, c.Anomalies[k])
				}
			}
			fmt.Fprintf(&b, "| %s | %.0f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f | %.2f | %d | %s |\n", r.Label(), r.Rate, a.PublishMBps, a.ConsumeMBps,
				a.PublishLatency.P50, a.PublishLatency.P99, a.PublishLatency.P999, a.PublishLatency.Max, a.EndToEndLatency.P99, a.Errors, check)
		}
		b.WriteString("\n")
	}
	for _, sc := range s.Scaling {
		fmt.Fprintf(&b, "| %s | rate (rec/s) | publish MB/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|\n", sc.Param)
		for _, p := range sc.Points {
			a := p.Result.Aggregate
			fmt.Fprintf(&b, "| %s | %.0f | %.1f | %.2f | %.2f | %d |\n", p.Value, p.Result.Rate, a.PublishMBps, a.PublishLatency.P50, a.PublishLatency.P99, a.Errors)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// Failed reports whether anything in the set failed: a seed sweep's run,
// or a bench run's history check.
func (s Set) Failed() error {
	var errs []error
	for _, sw := range s.Sweeps {
		if sw.Failed > 0 {
			errs = append(errs, fmt.Errorf("sweep %s: %d of %d runs failed", sw.Scenario, sw.Failed, sw.Runs))
		}
	}
	for _, r := range s.Bench {
		if r.Check != nil && r.Check.Verdict != "pass" {
			errs = append(errs, fmt.Errorf("bench %s: history check %s", r.Label(), r.Check.Verdict))
		}
	}
	return errors.Join(errs...)
}
