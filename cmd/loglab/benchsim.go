package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/loglab/loglab/bench"
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
	rep, err := bench.RunSimTimed(w, brokers, s.model(), s.seed, window, outDir, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(cmd.OutOrStdout(), rep)
	}
	bench.WriteSimReport(cmd.OutOrStdout(), rep)
	return nil
}
