package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// palette is a fixed colour order (no random colours: output is golden).
var palette = []color.RGBA{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, {R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, {R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, {R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
}

// quantiles of the percentile plot; max is drawn at 99.999.
var quantiles = []float64{50, 75, 95, 99, 99.9, 99.99, 99.999}

func pcts(p Percentiles) []float64 {
	return []float64{p.P50, p.P75, p.P95, p.P99, p.P999, p.P9999, p.Max}
}

// percentileTicks label the HDR x axis, 1/(1-q).
type percentileTicks struct{}

func (percentileTicks) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for _, q := range []float64{50, 90, 99, 99.9, 99.99, 99.999} {
		x := 1 / (1 - q/100)
		if x >= min && x <= max*1.0001 {
			ts = append(ts, plot.Tick{Value: x, Label: fmt.Sprintf("%g%%", q)})
		}
	}
	return ts
}

func svg(p *plot.Plot) ([]byte, error) {
	w, err := p.WriterTo(7*vg.Inch, 4*vg.Inch, "svg")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// LatencyPercentiles plots each result's publish and end-to-end latency
// distribution, HDR style: percentile on a log scale of 1/(1-q).
func LatencyPercentiles(rs []BenchResult) ([]byte, error) {
	p := plot.New()
	p.Title.Text = "Latency by percentile"
	p.X.Label.Text = "percentile"
	p.Y.Label.Text = "latency (ms)"
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = percentileTicks{}
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top, p.Legend.Left = true, true
	for i, r := range rs {
		for j, s := range []struct {
			name string
			p    Percentiles
		}{{"publish", r.Aggregate.PublishLatency}, {"end-to-end", r.Aggregate.EndToEndLatency}} {
			if s.p.Count == 0 {
				continue
			}
			var xys plotter.XYs
			for k, v := range pcts(s.p) {
				xys = append(xys, plotter.XY{X: 1 / (1 - quantiles[k]/100), Y: math.Max(v, 0.001)})
			}
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, err
			}
			l.Color = palette[i%len(palette)]
			if j == 1 {
				l.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			}
			p.Add(l)
			p.Legend.Add(fmt.Sprintf("%s: %s", r.Label(), s.name), l)
		}
	}
	return svg(p)
}

// OverTime plots one value per window for each result (a throughput or a
// latency series) against the window's end time.
func OverTime(rs []BenchResult, title, ylabel string, value func(Window) float64) ([]byte, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "time (s)"
	p.Y.Label.Text = ylabel
	p.Legend.Top = true
	top := 0.0
	for _, r := range rs {
		for _, w := range r.Windows {
			top = math.Max(top, value(w))
		}
	}
	for i, r := range rs {
		for _, f := range r.Faults {
			if f.StartS < 0 || f.EndS < f.StartS {
				continue
			}
			// The fault's window, shaded in the run's colour.
			shade, err := plotter.NewPolygon(plotter.XYs{{X: f.StartS, Y: 0}, {X: f.EndS, Y: 0}, {X: f.EndS, Y: top}, {X: f.StartS, Y: top}})
			if err != nil {
				return nil, err
			}
			c := palette[i%len(palette)]
			c.A = 0x30
			shade.Color, shade.LineStyle.Width = c, 0
			p.Add(shade)
		}
	}
	for i, r := range rs {
		var xys plotter.XYs
		for _, w := range r.Windows {
			xys = append(xys, plotter.XY{X: w.EndS, Y: value(w)})
		}
		if len(xys) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, err
		}
		l.Color, pts.Color = palette[i%len(palette)], palette[i%len(palette)]
		p.Add(l, pts)
		p.Legend.Add(r.Label(), l, pts)
	}
	return svg(p)
}
