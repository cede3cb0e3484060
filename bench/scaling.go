package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/loglab/loglab/reports"
)

// ScalingSweep is one parameter's curve, the JSON `bench sweep` writes
// (reports.ScalingSweep reads it; Result is a whole Report).
type ScalingSweep struct {
	Kind   string         `json:"kind"`
	Param  string         `json:"param"`
	Target string         `json:"target"`
	Points []ScalingPoint `json:"points"`
}

// ScalingPoint is one value of the parameter and its run.
type ScalingPoint struct {
	Value  string  `json:"value"`
	X      float64 `json:"x"`
	Result Report  `json:"result"`
}

// ScalingPlan is the runs of one parameter: a workload (and simulator
// model) per value, and the value as a number for the curve's x axis.
type ScalingPlan struct {
	Param     string
	Values    []string
	Xs        []float64
	Workloads []Workload
	Models    []SimModel
}

// PlanScaling checks every --sweep PARAM=V1,V2,... against base (and,
// for the simulator's link-latency and fsync-latency, against model)
// before anything runs. sim says the runs are simulated; external that
// the target is a running cluster (no limit on embedded brokers).
func PlanScaling(base Workload, model SimModel, sim, external bool, sweeps []string) ([]ScalingPlan, error) {
	var plans []ScalingPlan
	seen := map[string]bool{}
	for _, s := range sweeps {
		param, values, err := ParseSweep(s)
		if err != nil {
			return nil, fmt.Errorf("--sweep: %w", err)
		}
		if seen[param] {
			return nil, fmt.Errorf("--sweep %s given twice", param)
		}
		seen[param] = true
		p := ScalingPlan{Param: param, Values: values}
		for i, v := range values {
			w, m, x, err := planPoint(base, model, sim, param, v, i)
			if err != nil {
				return nil, err
			}
			if w.ReplicationFactor > 9 && !external {
				return nil, fmt.Errorf("--sweep %s=%s: at most 9 embedded brokers", param, v)
			}
			w.Name = param + "=" + v
			p.Workloads, p.Models, p.Xs = append(p.Workloads, w), append(p.Models, m), append(p.Xs, x)
		}
		plans = append(plans, p)
	}
	return plans, nil
}

func planPoint(base Workload, m SimModel, sim bool, param, v string, i int) (Workload, SimModel, float64, error) {
	switch param {
	case "link-latency", "fsync-latency":
		if !sim {
			return base, m, 0, fmt.Errorf("--sweep %s varies the simulator's model: add --sim", param)
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return base, m, 0, fmt.Errorf("--sweep %s=%s: not a duration", param, v)
		}
		if param == "link-latency" {
			m.Link = "base=" + v
		} else {
			m.FsyncLatency = v
		}
		return base, m, float64(d) / float64(time.Millisecond), nil
	}
	w, x, err := base.With(param, v, i)
	if err != nil {
		return w, m, 0, fmt.Errorf("--sweep: %w", err)
	}
	return w, m, x, nil
}

// ScalingOptions say how RunScaling runs each point.
type ScalingOptions struct {
	// Spec is the target; an embedded loglab cluster gets at least as
	// many brokers as a point's replication factor, fresh for each point.
	Spec TargetSpec
	// Sim runs every point in the simulator with SimSeed instead.
	Sim     bool
	SimSeed uint64
	Window  time.Duration
	Trial   time.Duration
	// RateOfMax is the fraction of a searched maximum to measure at.
	RateOfMax float64
	Progress  func(string) // one line per window (may be nil)
	Status    io.Writer    // one line per point (may be nil)
	// OutDir, if set, receives each sweep as bench-sweep-PARAM.json (for
	// loglab report); it is created before the first point runs.
	OutDir string
}

// RunScaling runs every point of p, each against a fresh target, and
// writes the sweep into o.OutDir if set.
func RunScaling(ctx context.Context, p ScalingPlan, o ScalingOptions) (ScalingSweep, error) {
	sw := ScalingSweep{Kind: reports.KindBenchSweep, Param: p.Param}
	if o.Status == nil {
		o.Status = io.Discard
	}
	if o.OutDir != "" {
		if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
			return sw, fmt.Errorf("bench: results directory: %w", err)
		}
	}
	for i, w := range p.Workloads {
		fmt.Fprintf(o.Status, "sweep %s: %s (%d of %d)\n", p.Param, p.Values[i], i+1, len(p.Workloads))
		spec := o.Spec
		if spec.Bootstrap == "" && spec.Kind == "loglab" {
			spec.Brokers = max(spec.Brokers, w.ReplicationFactor)
		}
		var rep Report
		var err error
		if o.Sim {
			rep, err = RunSimTimed(w, max(o.Spec.Brokers, w.ReplicationFactor), p.Models[i], o.SimSeed, o.Window, "", nil)
			sw.Target = "simulated loglab"
		} else {
			rep, err = runScalingPoint(ctx, w, spec, o)
			if sw.Target == "" && err == nil {
				sw.Target = rep.Target
			}
		}
		if err != nil {
			return sw, fmt.Errorf("sweep %s=%s: %w", p.Param, p.Values[i], err)
		}
		sw.Points = append(sw.Points, ScalingPoint{Value: p.Values[i], X: p.Xs[i], Result: rep})
	}
	if o.OutDir != "" {
		name := "bench-sweep-" + p.Param + ".json"
		if err := WriteJSON(o.OutDir, name, sw); err != nil {
			return sw, err
		}
		fmt.Fprintln(o.Status, "sweep written to "+filepath.Join(o.OutDir, name))
	}
	return sw, nil
}

func runScalingPoint(ctx context.Context, w Workload, spec TargetSpec, o ScalingOptions) (Report, error) {
	tg, err := StartEndpoint(ctx, spec)
	if err != nil {
		return Report{}, err
	}
	defer tg.Close()
	return Run(ctx, w, RunOptions{Seeds: tg.Seeds, Target: tg.Name, Window: o.Window, Trial: o.Trial,
		RateOfMax: o.RateOfMax, Progress: o.Progress, Peer: tg.Peer})
}

// WriteScaling prints one curve as a table.
func WriteScaling(w io.Writer, s ScalingSweep) {
	fmt.Fprintf(w, "sweep of %s (%s)\n", s.Param, s.Target)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tRATE\tMB/S\tP50_MS\tP99_MS\tP99.9_MS\tE2E_P99_MS\tERRORS\n", s.Param)
	for _, p := range s.Points {
		a := p.Result.Aggregate
		fmt.Fprintf(tw, "%s\t%.0f\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\n", p.Value, p.Result.Rate, a.PublishMBps, a.PublishLatency.P50,
			a.PublishLatency.P99, a.PublishLatency.P999, a.EndToEndLatency.P99, a.Errors)
	}
	tw.Flush()
}
