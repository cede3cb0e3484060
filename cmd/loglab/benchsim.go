package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/loglab/loglab/bench"
	"github.com/loglab/loglab/scenarios/sweep"
)

// simFlags are bench's simulated-run flags (--sim and its model).
type simFlags struct {
	on                       bool
	seed                     uint64
	link, fsync, fsyncJitter string
}

func (s *simFlags) register(f *pflag.FlagSet) {
	f.BoolVar(&s.on, "sim", false, "run the workload in the deterministic simulator (virtual time, latency models) instead of on this machine: modelled latencies for what-if studies")
	f.Uint64Var(&s.seed, "seed", 1, "with --sim: the run's seed (one seed replays one run exactly)")
	f.StringVar(&s.link, "link", "", `with --sim: every network link's model, e.g. "base=2ms jitter=exponential:500us" (default base=500us jitter=uniform:200us)`)
	f.StringVar(&s.fsync, "fsync-latency", "", "with --sim: one fsync's latency (default 2ms)")
	f.StringVar(&s.fsyncJitter, "fsync-jitter", "", "with --sim: the bound of a uniform extra per fsync (default a quarter of --fsync-latency; 0: none)")
}

func (s *simFlags) model() bench.SimModel {
	return bench.SimModel{Link: s.link, FsyncLatency: s.fsync, FsyncJitter: s.fsyncJitter}
}

// check refuses the model flags without --sim, and with it the flags
// named (they are for real runs).
func (s *simFlags) check(f *pflag.FlagSet, realOnly ...string) error {
	if !s.on {
		for _, n := range []string{"seed", "link", "fsync-latency", "fsync-jitter"} {
			if f.Changed(n) {
				return fmt.Errorf("--%s is a simulated run's flag: add --sim", n)
			}
		}
		return nil
	}
	for _, n := range realOnly {
		if f.Changed(n) {
			return fmt.Errorf("--sim runs the workload in the simulator: it excludes --%s", n)
		}
	}
	return nil
}

// run runs w in the simulator and prints (or writes) its report.
func (s *simFlags) run(cmd *cobra.Command, w bench.Workload, brokers int, window time.Duration, outDir string, asJSON bool) error {
	start := time.Now()
	rep, err := bench.RunSim(w, brokers, s.model(), s.seed, window, func() time.Duration { return time.Since(start) })
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if outDir != "" {
		name := fmt.Sprintf("bench-%s-sim-seed%d-%d.json", w.Name, s.seed, time.Now().Unix())
		if err := bench.WriteJSON(outDir, name, rep); err != nil {
			return err
		}
		fmt.Fprintln(cmd.ErrOrStderr(), "result written to "+outDir+"/"+name)
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(out, "target %s; workload %s: %d topic(s) x %d partitions, %d B records, acks=%d, RF %d, flush %s, %d records/s\n",
		rep.Target, w.Name, w.Topics, w.PartitionsPerTopic, w.MessageSize, w.Acks, w.ReplicationFactor, w.Flush, w.ProducerRate)
	for _, win := range rep.Windows {
		fmt.Fprintf(out, "%6.1fs  publish %8.0f rec/s %7.1f MB/s  consume %8.0f rec/s  p99 %7.2f ms  e2e p99 %7.2f ms  errors %d\n",
			win.EndS, win.PublishRate, win.PublishMBps, win.ConsumeRate, win.PublishLatency.P99, win.EndToEndLatency.P99, win.Errors)
	}
	bench.WriteAggregate(out, rep)
	printSimInfo(out, rep.Sim)
	return nil
}

func printSimInfo(w io.Writer, si *bench.SimInfo) {
	if si == nil {
		return
	}
	var an []string
	for _, k := range sweep.SortedKeys(si.Anomalies) {
		an = append(an, fmt.Sprintf("%s=%d", k, si.Anomalies[k]))
	}
	check := "queue checker: pass"
	if len(an) > 0 {
		check = "queue checker: " + strings.Join(an, " ")
	}
	fmt.Fprintf(w, "simulator: seed %d, %d events, %.1f simulated s in %.2f wall s (%.0f events/s, %.0f simulated s per wall s), trace %s; %s\n",
		si.Seed, si.Events, si.SimSeconds, si.WallSeconds, si.EventsPerSecond, si.SimSecondsPerWallSecond, si.TraceHash, check)
}
