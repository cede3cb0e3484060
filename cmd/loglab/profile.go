package main

import (
	"github.com/spf13/cobra"

	"github.com/loglab/loglab/bench"
	"github.com/loglab/loglab/host/realhost"
)

// profileFlags are bench's --cpuprofile and --memprofile: pprof profiles of
// the whole bench process (the embedded brokers and the load clients share
// it), for finding where a latency tail or a throughput limit comes from.
type profileFlags struct{ p bench.Profiler }

func (p *profileFlags) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&p.p.CPU, "cpuprofile", "", "write a CPU profile of the bench process (brokers and load clients) to this file (go tool pprof)")
	f.StringVar(&p.p.Mem, "memprofile", "", "write an allocation profile of the bench process to this file at the end (go tool pprof -sample_index=alloc_space)")
}

// wrap profiles c's run: the profiles are written however it ends, a run
// that exits 1 on an anomaly included.
func (p *profileFlags) wrap(c *cobra.Command) {
	run := c.RunE
	if run == nil {
		return
	}
	c.RunE = func(c *cobra.Command, args []string) error {
		if err := p.p.Start(); err != nil {
			return err
		}
		err := run(c, args)
		if serr := p.p.Stop(); err == nil {
			err = serr
		}
		return err
	}
}

// tuneGC applies realhost.BrokerGCPercent unless the user chose with GOGC.
func tuneGC() { realhost.TuneGC() }
