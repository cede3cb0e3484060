package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/bench"
	"github.com/loglab/loglab/reports"
)

// scalingSweep is the JSON `bench sweep` writes (reports.ScalingSweep
// reads it; Result is a whole bench.Report).
type scalingSweep struct {
	Kind   string         `json:"kind"`
	Param  string         `json:"param"`
	Target string         `json:"target"`
	Points []scalingPoint `json:"points"`
}

type scalingPoint struct {
	Value  string       `json:"value"`
	X      float64      `json:"x"`
	Result bench.Report `json:"result"`
}

func newBenchSweepCmd() *cobra.Command {
	var (
		wf                workloadFlags
		sweeps            []string
		bootstrap, target string
		brokers           int
		rateOfMax         float64
		window, trial     time.Duration
		outDir            string
		asJSON            bool
		sm                simFlags
	)
	cmd := &cobra.Command{
		Use:   "sweep --sweep PARAM=V1,V2,... [--sweep ...]",
		Short: "Run a workload at each value of a parameter: one scaling curve per parameter",
		Long: `bench sweep runs the workload (the flags of loglab bench) once per value of
each --sweep parameter, the other parameters staying at the workload's
values, each run against a fresh target (for the embedded cluster: fresh
brokers and data, at least as many brokers as the run's replication
factor). Parameters: message-size, partitions, acks, replication-factor,
flush, compression, producers, batch-bytes, linger, rate, topics; with
--sim (the runs in the simulator, bench --sim) also link-latency and
fsync-latency, the model's, for what-if curves.

It prints a table per parameter (rate, throughput, latency percentiles)
and, with --out DIR, writes DIR/bench-sweep-PARAM.json, which loglab report
draws as curves: publish throughput, and publish latency p50/p99/p99.9,
against the parameter. With --rate 0 every point searches its maximum
sustainable rate (throughput curves); with a fixed --rate, latency curves
at equal load. Every value is checked before anything runs.`,
		Example: "  loglab bench sweep --sweep message-size=256,1024,4096,16384 --rate 0 --duration 10s --out results\n" +
			"  loglab bench sweep --brokers 3 --acks all --sweep replication-factor=1,2,3 --sweep flush=never,every-batch --rate 20000 --out results\n" +
			"  loglab bench sweep --sim --brokers 3 --replication-factor 3 --acks all --rate 5000 --sweep link-latency=100us,1ms,5ms,20ms --out results",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			base, err := wf.workload(f)
			if err != nil {
				return err
			}
			if len(sweeps) == 0 {
				return errors.New("--sweep PARAM=V1,V2,... is required (e.g. --sweep message-size=256,1024,4096)")
			}
			if err := checkTargetFlags(f, rateOfMax, bootstrap, brokers); err != nil {
				return err
			}
			if err := sm.check(f, "bootstrap", "target", "rate-of-max", "trial"); err != nil {
				return err
			}
			type plan struct {
				param  string
				ws     []bench.Workload
				models []bench.SimModel
				vals   []string
				xs     []float64
			}
			var plans []plan
			seen := map[string]bool{}
			for _, s := range sweeps {
				param, values, err := bench.ParseSweep(s)
				if err != nil {
					return fmt.Errorf("--sweep: %w", err)
				}
				if seen[param] {
					return fmt.Errorf("--sweep %s given twice", param)
				}
				seen[param] = true
				p := plan{param: param, vals: values}
				for i, v := range values {
					m := sm.model()
					var w bench.Workload
					var x float64
					switch param {
					case "link-latency", "fsync-latency":
						if !sm.on {
							return fmt.Errorf("--sweep %s varies the simulator's model: add --sim", param)
						}
						d, err := time.ParseDuration(v)
						if err != nil || d < 0 {
							return fmt.Errorf("--sweep %s=%s: not a duration", param, v)
						}
						if param == "link-latency" {
							m.Link = "base=" + v
						} else {
							m.FsyncLatency = v
						}
						w, x = base, float64(d)/float64(time.Millisecond)
					default:
						if w, x, err = base.With(param, v, i); err != nil {
							return fmt.Errorf("--sweep: %w", err)
						}
					}
					p.models = append(p.models, m)
					if w.ReplicationFactor > 9 && bootstrap == "" {
						return fmt.Errorf("--sweep %s=%s: at most 9 embedded brokers", param, v)
					}
					w.Name = param + "=" + v
					p.ws, p.xs = append(p.ws, w), append(p.xs, x)
				}
				plans = append(plans, p)
			}
			if outDir != "" {
				if err := os.MkdirAll(outDir, 0o755); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			out := cmd.OutOrStdout()
			progress := func(line string) { fmt.Fprintln(cmd.ErrOrStderr(), "  "+line) }
			var all []scalingSweep
			for _, p := range plans {
				sw := scalingSweep{Kind: reports.KindBenchSweep, Param: p.param}
				for i, w := range p.ws {
					n := brokers
					if bootstrap == "" && target == "loglab" {
						n = max(n, w.ReplicationFactor)
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "sweep %s: %s (%d of %d)\n", p.param, p.vals[i], i+1, len(p.ws))
					if sm.on {
						start := time.Now()
						rep, err := bench.RunSim(w, max(brokers, w.ReplicationFactor), p.models[i], sm.seed, window, func() time.Duration { return time.Since(start) })
						if err != nil {
							return fmt.Errorf("sweep %s=%s: %w", p.param, p.vals[i], err)
						}
						sw.Target = "simulated loglab"
						sw.Points = append(sw.Points, scalingPoint{Value: p.vals[i], X: p.xs[i], Result: rep})
						continue
					}
					tg, err := startTarget(ctx, bootstrap, target, n)
					if err != nil {
						return err
					}
					name := tg.name
					rep, err := bench.Run(ctx, w, bench.RunOptions{Seeds: tg.seeds, Target: name, Window: window, Trial: trial,
						RateOfMax: rateOfMax, Progress: progress, Peer: tg.peer})
					tg.cleanup()
					if err != nil {
						return fmt.Errorf("sweep %s=%s: %w", p.param, p.vals[i], err)
					}
					if sw.Target == "" {
						sw.Target = name
					}
					sw.Points = append(sw.Points, scalingPoint{Value: p.vals[i], X: p.xs[i], Result: rep})
				}
				if outDir != "" {
					name := "bench-sweep-" + p.param + ".json"
					if err := writeJSON(outDir, name, sw); err != nil {
						return err
					}
					fmt.Fprintln(cmd.ErrOrStderr(), "sweep written to "+filepath.Join(outDir, name))
				}
				if !asJSON {
					printScaling(out, sw)
				}
				all = append(all, sw)
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(all)
			}
			return nil
		},
	}
	f := cmd.Flags()
	wf.register(f)
	f.StringArrayVar(&sweeps, "sweep", nil, "PARAM=V1,V2,...: run once per value (repeatable: one curve per parameter)")
	f.StringVar(&bootstrap, "bootstrap", "", "benchmark a running Kafka-compatible cluster at HOST:PORT instead of an embedded one")
	f.StringVar(&target, "target", "loglab", "embedded target: loglab or kfake")
	f.IntVar(&brokers, "brokers", 1, "brokers of the embedded loglab cluster (at least the run's replication factor)")
	f.Float64Var(&rateOfMax, "rate-of-max", 1, "with --rate 0: run at this fraction of the maximum found")
	f.DurationVar(&window, "window", 10*time.Second, "reporting window")
	f.DurationVar(&trial, "trial", 10*time.Second, "length of each trial of the maximum-rate search (each on fresh topics, deleted after it)")
	f.StringVar(&outDir, "out", "", "write DIR/bench-sweep-PARAM.json per parameter (for loglab report)")
	sm.register(f)
	f.BoolVar(&asJSON, "json", false, "print the sweeps as JSON (progress goes to stderr)")
	return cmd
}

func printScaling(w io.Writer, s scalingSweep) {
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
