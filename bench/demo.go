package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/loglab/loglab/history"
)

// DemoConfig is the demo's benchmark: Rate 1 KiB records/s for Duration
// after Warmup, reported per Window, with broker Kill (0: none) killed at
// KillAt and restarted Down later; KeepHistory saves the history too.
type DemoConfig struct {
	Rate                     int
	Duration, Warmup, Window time.Duration
	Kill                     int
	KillAt, Down             time.Duration
	KeepHistory              bool
}

// ErrDemoConfig classifies a DemoConfig that cannot run.
var ErrDemoConfig = errors.New("bench: bad demo config")

// Validate checks c: a positive rate, a broker of the three to kill (0:
// none), back before the run ends.
func (c DemoConfig) Validate() error {
	switch {
	case c.Rate < 1:
		return fmt.Errorf("%w: rate %d: want at least 1 record/s", ErrDemoConfig, c.Rate)
	case c.Kill < 0 || c.Kill > 3:
		return fmt.Errorf("%w: kill broker %d: want 1..3 (0: none)", ErrDemoConfig, c.Kill)
	case c.Kill > 0 && (c.KillAt < 0 || c.Down <= 0 || c.KillAt+c.Down >= c.Duration):
		return fmt.Errorf("%w: kill at %v, down %v: the broker must be back before the run ends (duration %v)", ErrDemoConfig, c.KillAt, c.Down, c.Duration)
	}
	return nil
}

// Demo runs the benchmark on an embedded 3-broker cluster (RF=3,
// acks=all) with a broker killed mid-run, records and checks its history,
// and writes the result (and with KeepHistory the history) into dir.
func Demo(ctx context.Context, out io.Writer, dir string, c DemoConfig) error {
	rate, duration, warmup, window, kill, killAt, down, keep := c.Rate, c.Duration, c.Warmup, c.Window, c.Kill, c.KillAt, c.Down, c.KeepHistory
	w := DefaultWorkload()
	w.Name, w.ReplicationFactor, w.Acks, w.ProducerRate = "demo", 3, -1, rate
	w.Duration, w.Warmup = Duration(duration), Duration(warmup)
	fmt.Fprintf(out, "\n2. benchmark: 3 embedded brokers, RF=3, acks=all, %d x %d B records/s for %v", rate, w.MessageSize, duration)
	if kill > 0 {
		fmt.Fprintf(out, "; broker %d killed at %v, restarted %v later", kill, killAt, down)
	}
	fmt.Fprintln(out)
	tg, err := StartEndpoint(ctx, TargetSpec{Kind: "loglab", Brokers: 3})
	if err != nil {
		return err
	}
	defer tg.Close()
	var faults []Fault
	if kill > 0 {
		faults = append(faults, KillFault(tg.Cluster, kill, killAt, down))
	}
	hist := history.NewMemory()
	var saved *SavedHistory
	if keep {
		if saved, err = CreateHistory(dir, "bench-demo.history.jsonl"); err != nil {
			return err
		}
		defer saved.Close()
		hist = saved.W
	}
	rep, err := Run(ctx, w, RunOptions{Seeds: tg.Seeds, Target: tg.Name, Window: window, Faults: faults,
		History: hist, Progress: func(line string) { fmt.Fprintln(out, "  "+line) }})
	if err != nil {
		if saved != nil {
			saved.Discard()
		}
		return err
	}
	if saved != nil {
		if err := saved.Finish(); err != nil {
			return err
		}
		rep.Check.History = saved.Name
	}
	if err := WriteJSON(dir, "bench-demo.json", rep); err != nil {
		return err
	}
	WriteAggregate(out, rep)
	return nil
}
