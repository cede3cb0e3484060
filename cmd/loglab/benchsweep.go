package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/bench"
)

// benchSweepHelp is `loglab bench sweep --help`'s long text.
const benchSweepHelp = `bench sweep runs the workload (the flags of loglab bench) once per value of
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
at equal load. Every value is checked before anything runs.`

// benchSweepOpts are the flags of newBenchSweepCmd.
type benchSweepOpts struct {
	wf                workloadFlags
	sweeps            []string
	bootstrap, target string
	brokers           int
	rateOfMax         float64
	window, trial     time.Duration
	outDir            string
	asJSON            bool
	sm                simFlags
}

func newBenchSweepCmd() *cobra.Command {
	var o benchSweepOpts
	cmd := &cobra.Command{
		Use:   "sweep --sweep PARAM=V1,V2,... [--sweep ...]",
		Short: "Run a workload at each value of a parameter: one scaling curve per parameter",
		Long:  benchSweepHelp,
		Example: "  loglab bench sweep --sweep message-size=256,1024,4096,16384 --rate 0 --duration 10s --out results\n" +
			"  loglab bench sweep --brokers 3 --acks all --sweep replication-factor=1,2,3 --sweep flush=never,every-batch --rate 20000 --out results\n" +
			"  loglab bench sweep --sim --brokers 3 --replication-factor 3 --acks all --rate 5000 --sweep link-latency=100us,1ms,5ms,20ms --out results",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	f := cmd.Flags()
	o.wf.register(f)
	f.StringArrayVar(&o.sweeps, "sweep", nil, "PARAM=V1,V2,...: run once per value (repeatable: one curve per parameter)")
	f.StringVar(&o.bootstrap, "bootstrap", "", "benchmark a running Kafka-compatible cluster at HOST:PORT instead of an embedded one")
	f.StringVar(&o.target, "target", "loglab", "embedded target: loglab or kfake")
	f.IntVar(&o.brokers, "brokers", 1, "brokers of the embedded loglab cluster (at least the run's replication factor)")
	f.Float64Var(&o.rateOfMax, "rate-of-max", 1, "with --rate 0: run at this fraction of the maximum found")
	f.DurationVar(&o.window, "window", 10*time.Second, "reporting window")
	f.DurationVar(&o.trial, "trial", 10*time.Second, "length of each trial of the maximum-rate search (each on fresh topics, deleted after it)")
	f.StringVar(&o.outDir, "out", "", "write DIR/bench-sweep-PARAM.json per parameter (for loglab report)")
	o.sm.register(f)
	f.BoolVar(&o.asJSON, "json", false, "print the sweeps as JSON (progress goes to stderr)")
	return cmd
}

func (o *benchSweepOpts) run(cmd *cobra.Command) error {
	f := cmd.Flags()
	base, err := o.wf.workload(f)
	if err != nil {
		return err
	}
	if len(o.sweeps) == 0 {
		return errors.New("--sweep PARAM=V1,V2,... is required (e.g. --sweep message-size=256,1024,4096)")
	}
	if err := checkTargetFlags(f, o.rateOfMax, o.bootstrap, o.brokers); err != nil {
		return err
	}
	if err := o.sm.check(f, "bootstrap", "target", "rate-of-max", "trial"); err != nil {
		return err
	}
	plans, err := bench.PlanScaling(base, o.sm.model(), o.sm.on, o.bootstrap != "", o.sweeps)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := bench.ScalingOptions{Spec: bench.TargetSpec{Bootstrap: o.bootstrap, Kind: o.target, Brokers: o.brokers,
		DataParent: benchDataParent, BrokerLog: benchBrokerLog}, Sim: o.sm.on, SimSeed: o.sm.seed, Window: o.window, Trial: o.trial,
		RateOfMax: o.rateOfMax, OutDir: o.outDir, Progress: func(line string) { fmt.Fprintln(cmd.ErrOrStderr(), "  "+line) }, Status: cmd.ErrOrStderr()}
	var all []bench.ScalingSweep
	for _, p := range plans {
		sw, err := bench.RunScaling(ctx, p, opts)
		if err != nil {
			return err
		}
		if !o.asJSON {
			bench.WriteScaling(cmd.OutOrStdout(), sw)
		}
		all = append(all, sw)
	}
	if o.asJSON {
		return printJSON(cmd.OutOrStdout(), all)
	}
	return nil
}
