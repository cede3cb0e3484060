package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/loglab/loglab/history"
)

// Job is one `loglab bench` run: a workload against a target, with
// optional faults on an embedded cluster, a recorded and checked
// history, and comparison runs against other targets.
type Job struct {
	Workload Workload
	Target   TargetSpec
	// Compare lists other target kinds to run the same workload against.
	Compare []string
	// Check records every send and read and checks the history.
	Check bool
	// OutDir receives the report (and with Check the history) as files.
	OutDir string
	// KillBroker (1-based, 0: none) is killed at KillAt for Down;
	// PauseBroker is frozen at PauseAt for Paused.
	KillBroker, PauseBroker       int
	KillAt, Down, PauseAt, Paused time.Duration
	Window, Trial                 time.Duration
	RateOfMax                     float64
}

// Validate checks the job before anything starts.
func (j Job) Validate() error {
	t := j.Target
	if t.Bootstrap == "" {
		if err := CheckTarget(t.Kind); err != nil {
			return err
		}
	}
	if j.Check && (t.Kind == "nats" || t.Kind == "redis") {
		return fmt.Errorf("--check records a Kafka client's history: not with --target %s", t.Kind)
	}
	for _, c := range j.Compare {
		if err := CheckTarget(c); err != nil {
			return fmt.Errorf("--compare: %w", err)
		}
		if c == "kfake" && j.Workload.ProducerRate == 0 {
			return errors.New("--compare kfake needs a fixed --rate: kfake keeps every record in memory, so a search for its maximum rate grows until it runs out")
		}
	}
	embeddedLoglab := t.Bootstrap == "" && t.Kind == "loglab"
	if j.Workload.ReplicationFactor > t.Brokers && embeddedLoglab {
		return fmt.Errorf("--replication-factor %d needs at least %d brokers (--brokers %d)", j.Workload.ReplicationFactor, j.Workload.ReplicationFactor, t.Brokers)
	}
	return j.validateFaults(embeddedLoglab)
}

func (j Job) validateFaults(embeddedLoglab bool) error {
	duration, brokers := time.Duration(j.Workload.Duration), j.Target.Brokers
	if j.KillBroker != 0 && (!embeddedLoglab || j.KillBroker < 1 || j.KillBroker > brokers) {
		return fmt.Errorf("--kill-broker %d: names a broker 1..%d of the embedded loglab cluster", j.KillBroker, brokers)
	}
	if j.KillBroker != 0 && (j.KillAt < 0 || j.Down <= 0 || j.KillAt+j.Down > duration) {
		return fmt.Errorf("--kill-at %v --down %v: the broker must be back before the run ends (--duration %v)", j.KillAt, j.Down, duration)
	}
	if j.PauseBroker != 0 && (!embeddedLoglab || j.PauseBroker < 1 || j.PauseBroker > brokers) {
		return fmt.Errorf("--pause-broker %d: names a broker 1..%d of the embedded loglab cluster", j.PauseBroker, brokers)
	}
	if j.PauseBroker != 0 && (j.PauseAt < 0 || j.Paused <= 0 || j.PauseAt+j.Paused > duration) {
		return fmt.Errorf("--pause-at %v --paused %v: the broker must run again before the run ends (--duration %v)", j.PauseAt, j.Paused, duration)
	}
	if j.PauseBroker != 0 && j.PauseBroker == j.KillBroker {
		return fmt.Errorf("--pause-broker and --kill-broker name the same broker %d", j.PauseBroker)
	}
	return nil
}

// Measure runs the workload on tg with the job's faults and history, and
// writes the result (and history) into OutDir.
func (j Job) Measure(ctx context.Context, tg *Endpoint, progress func(string)) (Report, error) {
	w := j.Workload
	var faults []Fault
	if j.KillBroker != 0 {
		faults = append(faults, KillFault(tg.Cluster, j.KillBroker, j.KillAt, j.Down))
	}
	if j.PauseBroker != 0 {
		faults = append(faults, PauseFault(tg.Cluster, j.PauseBroker, j.PauseAt, j.Paused))
	}
	var hist *history.Writer
	var saved *SavedHistory
	stamp := fmt.Sprintf("bench-%s-%s-%d", w.Name, strings.Fields(tg.Name)[0], time.Now().Unix())
	if j.Check {
		hist = history.NewMemory()
		if j.OutDir != "" {
			var err error
			if saved, err = CreateHistory(j.OutDir, stamp+".history.jsonl"); err != nil {
				return Report{}, err
			}
			defer saved.Close()
			hist = saved.W
		}
	}
	rep, err := Run(ctx, w, RunOptions{Seeds: tg.Seeds, Target: tg.Name, Window: j.Window, Trial: j.Trial, RateOfMax: j.RateOfMax,
		Progress: progress, Faults: faults, History: hist, Peer: tg.Peer, Settle: tg.Settle})
	if err != nil {
		if saved != nil {
			saved.Discard()
		}
		return rep, err
	}
	if saved != nil {
		if err := saved.Finish(); err != nil {
			return rep, err
		}
		rep.Check.History = saved.Name
	}
	if j.OutDir != "" {
		if err := WriteJSON(j.OutDir, stamp+".json", rep); err != nil {
			return rep, err
		}
		progress("result written to " + filepath.Join(j.OutDir, stamp+".json"))
	}
	return rep, nil
}

// Comparisons runs the workload against each of the Compare targets,
// fresh, writing each report into OutDir; announce is told each target
// before its run.
func (j Job) Comparisons(ctx context.Context, progress func(string), announce func(kind string)) ([]Report, error) {
	var others []Report
	for _, c := range j.Compare {
		announce(c)
		spec := j.Target
		spec.Bootstrap, spec.Kind = "", c
		other, err := CompareRun(ctx, j.Workload, spec, RunOptions{Window: j.Window, Trial: j.Trial, RateOfMax: j.RateOfMax, Progress: progress})
		if err != nil {
			return nil, fmt.Errorf("--compare %s: %w", c, err)
		}
		if j.OutDir != "" {
			if err := WriteJSON(j.OutDir, fmt.Sprintf("bench-%s-%s-%d.json", j.Workload.Name, c, time.Now().Unix()), other); err != nil {
				return nil, err
			}
		}
		others = append(others, other)
	}
	return others, nil
}
