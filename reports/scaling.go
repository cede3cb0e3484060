package reports

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// KindBenchSweep marks a bench sweep's JSON (`loglab bench sweep`).
const KindBenchSweep = "bench-sweep"

// ScalingSweep is a `loglab bench sweep`: one workload run at each value
// of one parameter.
type ScalingSweep struct {
	Kind   string         `json:"kind"`
	Param  string         `json:"param"`
	Target string         `json:"target"`
	Points []ScalingPoint `json:"points"`
	// File is where it was read from (not part of the JSON).
	File string `json:"-"`
}

// ScalingPoint is one run of a sweep: the parameter's value as given, its
// position on the x axis, and the run's report.
type ScalingPoint struct {
	Value  string      `json:"value"`
	X      float64     `json:"x"`
	Result BenchResult `json:"result"`
}

// ReadBenchResults reads every *.json file of dir that is a bench result
// (bench sweeps are skipped), sorted by file name.
func ReadBenchResults(dir string) ([]BenchResult, error) {
	rs, _, err := readJSONResults(dir)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("%w: no *.json bench result in %s (write some with `loglab bench --out %s`)", ErrNoResults, dir, dir)
	}
	return rs, nil
}

// readJSONResults reads dir's *.json files: bench results and bench sweeps.
func readJSONResults(dir string) ([]BenchResult, []ScalingSweep, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(names)
	var rs []BenchResult
	var ss []ScalingSweep
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			return nil, nil, err
		}
		var probe struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(data, &probe); err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %v", ErrBadResult, n, err)
		}
		if probe.Kind == KindBenchSweep {
			var s ScalingSweep
			if err := json.Unmarshal(data, &s); err != nil {
				return nil, nil, fmt.Errorf("%w: %s: %v", ErrBadResult, n, err)
			}
			if s.Param == "" || len(s.Points) == 0 {
				return nil, nil, fmt.Errorf("%w: %s is a bench sweep without a parameter or points", ErrBadResult, n)
			}
			s.File = filepath.Base(n)
			ss = append(ss, s)
			continue
		}
		var r BenchResult
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %v", ErrBadResult, n, err)
		}
		if r.Target == "" || r.Aggregate.PublishLatency.Count == 0 && len(r.Windows) == 0 {
			return nil, nil, fmt.Errorf("%w: %s has no target or measurements", ErrBadResult, n)
		}
		r.File = filepath.Base(n)
		rs = append(rs, r)
	}
	return rs, ss, nil
}

// ScalingPlots draws a sweep's curves: publish throughput, and publish
// latency p50/p99/p99.9, against the parameter.
func ScalingPlots(s ScalingSweep) ([]Plot, error) {
	xlabel := s.Param
	ticks := nominalTicks(s.Points)
	// Values spanning a factor of 8 or more (message sizes, rates) are
	// spread on a log axis, where doublings are equally spaced.
	lo, hi := math.Inf(1), 0.0
	for _, p := range s.Points {
		lo, hi = math.Min(lo, p.X), math.Max(hi, p.X)
	}
	logX := lo > 0 && hi/lo >= 8
	setX := func(p *plot.Plot) {
		p.X.Tick.Marker = ticks
		if logX {
			p.X.Scale = plot.LogScale{}
			p.X.Min, p.X.Max = lo/1.2, hi*1.2
		}
	}
	thr := plot.New()
	thr.Title.Text = fmt.Sprintf("Publish throughput by %s (%s)", s.Param, s.Target)
	thr.X.Label.Text, thr.Y.Label.Text = xlabel, "MB/s"
	setX(thr)
	var xys plotter.XYs
	for _, p := range s.Points {
		xys = append(xys, plotter.XY{X: p.X, Y: p.Result.Aggregate.PublishMBps})
	}
	l, pts, err := plotter.NewLinePoints(xys)
	if err != nil {
		return nil, err
	}
	l.Color, pts.Color = palette[0], palette[0]
	thr.Add(l, pts)
	a, err := svg(thr)
	if err != nil {
		return nil, err
	}
	lat := plot.New()
	lat.Title.Text = fmt.Sprintf("Publish latency by %s (%s)", s.Param, s.Target)
	lat.X.Label.Text, lat.Y.Label.Text = xlabel, "latency (ms)"
	setX(lat)
	lat.Y.Scale = plot.LogScale{}
	lat.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	lat.Legend.Top, lat.Legend.Left = true, true
	for i, q := range []struct {
		name string
		v    func(Percentiles) float64
	}{{"p50", func(p Percentiles) float64 { return p.P50 }}, {"p99", func(p Percentiles) float64 { return p.P99 }},
		{"p99.9", func(p Percentiles) float64 { return p.P999 }}} {
		var xys plotter.XYs
		for _, p := range s.Points {
			xys = append(xys, plotter.XY{X: p.X, Y: math.Max(q.v(p.Result.Aggregate.PublishLatency), 0.001)})
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		l.Color, pts.Color = palette[i+1], palette[i+1]
		lat.Add(l, pts)
		lat.Legend.Add(q.name, l, pts)
	}
	b, err := svg(lat)
	if err != nil {
		return nil, err
	}
	return []Plot{{thr.Title.Text, a}, {lat.Title.Text, b}}, nil
}

// pointTicks label the x axis with the swept values where they are.
type pointTicks []plot.Tick

func (t pointTicks) Ticks(min, max float64) []plot.Tick { return t }

func nominalTicks(ps []ScalingPoint) pointTicks {
	var t pointTicks
	for _, p := range ps {
		t = append(t, plot.Tick{Value: p.X, Label: p.Value})
	}
	return t
}

// SweepSpeedPlot draws the simulator's speed per scenario swept:
// simulated seconds per wall second, one bar per sweep.
func SweepSpeedPlot(sweeps []SeedSweep) (Plot, error) {
	p := plot.New()
	title := "Simulator speed by scenario (simulated seconds per wall second)"
	p.Title.Text = title
	p.X.Label.Text = "simulated s / wall s"
	var vals plotter.Values
	var names []string
	for i := len(sweeps) - 1; i >= 0; i-- {
		s := sweeps[i]
		vals = append(vals, s.SimSpeedup())
		name := s.Scenario
		if len(name) > 48 {
			name = name[:45] + "..."
		}
		names = append(names, name)
	}
	bars, err := plotter.NewBarChart(vals, vg.Points(8))
	if err != nil {
		return Plot{}, err
	}
	bars.Horizontal = true
	bars.Color = palette[0]
	bars.LineStyle.Width = 0
	p.Add(bars)
	p.NominalY(names...)
	p.X.Min = 0
	h := vg.Length(len(sweeps))*vg.Points(13) + vg.Inch
	w, err := p.WriterTo(9*vg.Inch, h, "svg")
	if err != nil {
		return Plot{}, err
	}
	var b strings.Builder
	if _, err := w.WriteTo(&b); err != nil {
		return Plot{}, err
	}
	return Plot{title, []byte(b.String())}, nil
}

func sortedKinds(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
