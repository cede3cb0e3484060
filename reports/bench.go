package reports

import (
	"errors"
	"fmt"
)

// ErrNoResults: a report directory holds no result file.
var ErrNoResults = errors.New("reports: no results")

// ErrBadResult: a file is not a result.
var ErrBadResult = errors.New("reports: not a result")

// Percentiles are latency percentiles in milliseconds.
type Percentiles struct {
	P50   float64 `json:"p50"`
	P75   float64 `json:"p75"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99.9"`
	P9999 float64 `json:"p99.99"`
	Max   float64 `json:"max"`
	Count int64   `json:"count"`
}

// Window is one reporting window of a bench run.
type Window struct {
	StartS          float64     `json:"start_s"`
	EndS            float64     `json:"end_s"`
	PublishRate     float64     `json:"publish_rate"`
	PublishMBps     float64     `json:"publish_mb_s"`
	ConsumeRate     float64     `json:"consume_rate"`
	ConsumeMBps     float64     `json:"consume_mb_s"`
	Backlog         int64       `json:"backlog"`
	Errors          int64       `json:"errors"`
	PublishLatency  Percentiles `json:"publish_latency_ms"`
	EndToEndLatency Percentiles `json:"end_to_end_latency_ms"`
}

// FaultWindow is a fault of a bench run: when it was in force and what it
// cost (publish rate before, lowest during, seconds from repair to 90 % of
// the rate before; -1: not measured).
type FaultWindow struct {
	Name         string  `json:"name"`
	StartS       float64 `json:"start_s"`
	EndS         float64 `json:"end_s"`
	BaselineRate float64 `json:"baseline_rate"`
	LowestRate   float64 `json:"lowest_rate"`
	RecoveryS    float64 `json:"recovery_s"`
	Error        string  `json:"error,omitempty"`
}

// HistoryCheck is the checkers' verdict on the history a bench run
// recorded (`loglab bench --check`): what was sent and read, and the
// anomalies found by kind.
type HistoryCheck struct {
	Verdict    string   `json:"verdict"`
	Checkers   []string `json:"checkers"`
	Operations int      `json:"operations"`
	SendsOK    int      `json:"sends_ok"`
	SendsFail  int      `json:"sends_fail"`
	// SendsInfo counts sends whose outcome is unknown (an error after the
	// client may have sent them).
	SendsInfo   int `json:"sends_info"`
	RecordsRead int `json:"records_read"`
	// Unseen counts acknowledged records never read where no read proves
	// them lost; with FinalReadsComplete (the consumers drained every
	// partition after the run) there are none: they are lost writes.
	Unseen             int            `json:"unseen"`
	FinalReadsComplete bool           `json:"final_reads_complete"`
	Anomalies          map[string]int `json:"anomalies"`
	// History is the file the history was written to, if any.
	History string `json:"history,omitempty"`
}

// SimInfo is a simulated bench run's model, seed and the simulator's own
// speed (`loglab bench --sim`).
type SimInfo struct {
	Seed         uint64 `json:"seed"`
	Link         string `json:"link"`
	FsyncLatency string `json:"fsync_latency"`
	FsyncJitter  string `json:"fsync_jitter,omitempty"`
	// Events, SimSeconds and WallSeconds: the run's simulator events, its
	// virtual duration and the wall time it took; the speeds derive from
	// them.
	Events                  uint64         `json:"events"`
	SimSeconds              float64        `json:"sim_seconds"`
	WallSeconds             float64        `json:"wall_seconds"`
	EventsPerSecond         float64        `json:"events_per_second"`
	SimSecondsPerWallSecond float64        `json:"sim_seconds_per_wall_second"`
	TraceHash               string         `json:"trace_hash"`
	Anomalies               map[string]int `json:"anomalies,omitempty"`
	Repro                   string         `json:"repro"`
}

// BenchResult is a `loglab bench` report (its JSON form).
type BenchResult struct {
	Workload struct {
		Name              string `json:"name"`
		MessageSize       int    `json:"messageSize"`
		Acks              int    `json:"acks"`
		ReplicationFactor int    `json:"replicationFactor"`
	} `json:"workload"`
	Target             string        `json:"target"`
	Rate               float64       `json:"rate"`
	MaxSustainableRate float64       `json:"max_sustainable_rate"`
	Windows            []Window      `json:"windows"`
	Aggregate          Window        `json:"aggregate"`
	Faults             []FaultWindow `json:"faults"`
	Check              *HistoryCheck `json:"check,omitempty"`
	Sim                *SimInfo      `json:"sim,omitempty"`
	// File is where it was read from (not part of the JSON).
	File string `json:"-"`
}

// Label names a result in legends and tables.
func (r BenchResult) Label() string {
	return fmt.Sprintf("%s %s", r.Target, r.Workload.Name)
}
