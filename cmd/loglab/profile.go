package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// profileFlags are bench's --cpuprofile and --memprofile: pprof profiles of
// the whole bench process (the embedded brokers and the load clients share
// it), for finding where a latency tail or a throughput limit comes from.
type profileFlags struct {
	cpu, mem string
	cpuFile  *os.File
}

func (p *profileFlags) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&p.cpu, "cpuprofile", "", "write a CPU profile of the bench process (brokers and load clients) to this file (go tool pprof)")
	f.StringVar(&p.mem, "memprofile", "", "write an allocation profile of the bench process to this file at the end (go tool pprof -sample_index=alloc_space)")
}

// wrap profiles c's run: the profiles are written however it ends, a run
// that exits 1 on an anomaly included.
func (p *profileFlags) wrap(c *cobra.Command) {
	run := c.RunE
	if run == nil {
		return
	}
	c.RunE = func(c *cobra.Command, args []string) error {
		if err := p.start(); err != nil {
			return err
		}
		err := run(c, args)
		if serr := p.stop(); err == nil {
			err = serr
		}
		return err
	}
}

// start begins the CPU profile; stop must follow.
func (p *profileFlags) start() error {
	if p.cpu == "" {
		return nil
	}
	f, err := os.Create(p.cpu)
	if err != nil {
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("--cpuprofile: %w", err)
	}
	p.cpuFile = f
	return nil
}

// stop ends the CPU profile and writes the allocation profile.
func (p *profileFlags) stop() error {
	if p.cpuFile != nil {
		pprof.StopCPUProfile()
		err := p.cpuFile.Close()
		p.cpuFile = nil
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	if p.mem == "" {
		return nil
	}
	f, err := os.Create(p.mem)
	if err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	runtime.GC() // up-to-date statistics
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("--memprofile: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("--memprofile: %w", err)
	}
	return nil
}

// brokerGCPercent is the garbage collector's target for processes that
// run brokers (broker, cluster, bench) unless GOGC is set. A broker's live
// heap is small (about 10 MB with three partitions) while it allocates a
// frame per request and response (about 200 MB/s at 40,000 1 KiB records/s
// with RF=3): at Go's default of 100 it collected 20 to 40 times a second,
// with a tenth of the CPU in mark workers and the assists and pauses in
// the latency tail. At 400 the heap stays under about 50 MB. Measured in
// docs/performance.md.
const brokerGCPercent = 400

// tuneGC applies brokerGCPercent unless the user chose with GOGC.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(brokerGCPercent)
	}
}
