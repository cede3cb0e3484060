package bench

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// Profiler writes pprof profiles of the whole process (embedded brokers
// and load clients share it): a CPU profile from Start to Stop into CPU,
// and an allocation profile at Stop into Mem ("" for none).
type Profiler struct {
	CPU, Mem string
	cpuFile  *os.File
}

// Start begins the CPU profile; Stop must follow.
func (p *Profiler) Start() error {
	if p.CPU == "" {
		return nil
	}
	f, err := os.Create(p.CPU)
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

// Stop ends the CPU profile and writes the allocation profile.
func (p *Profiler) Stop() error {
	if p.cpuFile != nil {
		pprof.StopCPUProfile()
		err := p.cpuFile.Close()
		p.cpuFile = nil
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	if p.Mem == "" {
		return nil
	}
	f, err := os.Create(p.Mem)
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
