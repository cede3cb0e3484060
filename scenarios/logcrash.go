package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/loglab/loglab/broker/bugzoo"
	"github.com/loglab/loglab/broker/log"
	"github.com/loglab/loglab/checkers"
	"github.com/loglab/loglab/checkers/finalread"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
	"github.com/loglab/loglab/sim/disk"
	"github.com/loglab/loglab/wire/batch"
)

func init() {
	register(&Scenario{
		Name: "log-crash",
		Description: "a partition log appended under a seed-chosen flush policy is crashed in seed-chosen " +
			"modes and recovered: the recovered log is a prefix of what was appended, holds everything " +
			"acknowledged as synced, and no garbage",
		Expectation: "no anomalies",
		Run:         runLogCrash,
	})
}

// logCrashKnobs are everything a log-crash run derives from its seed.
type logCrashKnobs struct {
	Policy       string // "every-batch", "every-N-ms", "never"
	FlushMs      int64
	SegmentBytes int64
	Duration     time.Duration
	AppendEvery  time.Duration // mean gap between appends
	MaxRecords   int           // records per batch: 1..MaxRecords
	MaxValue     int           // value bytes: 1..MaxValue
	Crashes      []crashPlan
	Bugs         bugzoo.Set // deliberate bugs switched on in the log (Options.Bugs)
}

type crashPlan struct {
	At      time.Duration
	Mode    disk.CrashMode
	Restart time.Duration // down time before restart
}

func drawLogCrashKnobs(r *rand.Rand) logCrashKnobs {
	k := logCrashKnobs{Duration: 60 * time.Second}
	switch r.IntN(3) {
	case 0:
		k.Policy = "every-batch"
	case 1:
		k.FlushMs = []int64{5, 20, 100, 1000}[r.IntN(4)]
		k.Policy = "every-" + strconv.FormatInt(k.FlushMs, 10) + "-ms"
	default:
		k.Policy = "never"
	}
	k.SegmentBytes = []int64{16 << 10, 64 << 10, 1 << 20}[r.IntN(3)]
	k.AppendEvery = time.Duration(1+r.IntN(20)) * time.Millisecond
	k.MaxRecords = 1 + r.IntN(16)
	k.MaxValue = 16 << r.IntN(6) // 16..512
	modes := []disk.CrashMode{disk.LoseUnsynced, disk.KeepRandomPages, disk.TornLastSector, disk.KeepPageCache}
	n := 1 + r.IntN(4)
	at := time.Duration(0)
	for i := 0; i < n; i++ {
		at += time.Duration(1+r.Int64N(int64(k.Duration)/int64(n+1))) * time.Nanosecond
		k.Crashes = append(k.Crashes, crashPlan{
			At:      at,
			Mode:    modes[r.IntN(len(modes))],
			Restart: time.Duration(1+r.IntN(2000)) * time.Millisecond,
		})
		at += k.Crashes[i].Restart
	}
	return k
}

func (k logCrashKnobs) logConfig() log.Config {
	c := log.Config{SegmentBytes: k.SegmentBytes, Bugs: k.Bugs}
	switch {
	case k.Policy == "every-batch":
		c.FlushMessages = 1
	case k.FlushMs > 0:
		c.FlushMs = k.FlushMs
	}
	return c
}

func (k logCrashKnobs) lines() []string {
	out := []string{
		"flush_policy=" + k.Policy,
		"segment_bytes=" + strconv.FormatInt(k.SegmentBytes, 10),
		"duration=" + k.Duration.String(),
		"append_every=" + k.AppendEvery.String(),
		"max_records_per_batch=" + strconv.Itoa(k.MaxRecords),
		"max_value_bytes=" + strconv.Itoa(k.MaxValue),
	}
	for i, c := range k.Crashes {
		out = append(out, fmt.Sprintf("crash[%d]=at %v mode %s restart after %v", i, c.At, c.Mode, c.Restart))
	}
	return append(out, bugKnob(k.Bugs)...)
}

// logModel is the observer's record of the log: what each offset was
// appended with, and how far durability was acknowledged.
type logModel struct {
	values       [][]byte // values[offset]
	acked        int64    // every offset below was acknowledged durable
	appended     int64    // batches appended
	ackedCount   int64    // batches acknowledged durable
	recovered    int64    // recoveries checked
	lostTail     int64    // unacknowledged records lost by crashes (allowed)
	incarnations int      // writers started
	hist         *logHistory
}

// The log's directory, and the topic and partition its history names.
const (
	logCrashDir       = "topic-0"
	logCrashTopic     = "topic"
	logCrashPartition = 0
)

// logHistory records a log-crash run as a client history (package
// history), so that the final-read checker (`loglab check --history
// FILE --checkers final-read`) reproduces the run's durability anomalies
// from the file. Each writer incarnation is a process: log-1, then log-1.2,
// log-1.3, ... after each restart, so a crashed writer's unfinished sends
// stay pending (unknown). Every appended record is a send, ok at its offset
// once the log reports it durable, info if its append or its sync failed.
// Every recovery's read of the log is polls of the incarnation that
// recovered; the last recovery's, after the final power loss, are the
// polls of process final-reader: the final read. The history ends there:
// what is appended after the final read is not recorded.
//
// It is kept only with Options.RecordTrace (what `sim run --out` uses): a
// run appends up to half a million records, and holding them all as
// history made a sweep four times slower (seeds 1-100: 11 s, 46 s). The verdict is the log's own checks
// either way, so a seed's verdict never depends on --out; a nil
// *logHistory records nothing.
type logHistory struct {
	w   *history.Writer
	now func() time.Duration // the world's virtual time
	ids map[string]int64
	// final: the next recovery is the final read; done: it was recorded.
	final, done bool
}

// logOp is one recorded operation awaiting its completion (zero: not
// recorded).
type logOp struct{ inv history.Op }

func (h *logHistory) invoke(op history.Op) logOp {
	if h == nil || h.done {
		return logOp{}
	}
	h.ids[op.Process]++
	op.ID, op.Type, op.Time, op.Topic = h.ids[op.Process], history.Invoke, int64(h.now()), logCrashTopic
	h.w.Append(op)
	return logOp{op}
}

func (h *logHistory) invokeSend(process string, value []byte) logOp {
	return h.invoke(history.Op{Process: process, F: history.Send, Partition: logCrashPartition, Value: string(value), Offset: history.NoOffset})
}

func (h *logHistory) invokePoll(process string, at int64) logOp {
	return h.invoke(history.Op{Process: process, F: history.Poll, Partition: logCrashPartition, Offset: at})
}

// complete records o's outcome: ok (a send's offset, a poll's records),
// or info/fail with the error.
func (h *logHistory) complete(o logOp, t history.Type, offset int64, recs []history.Read, err error) {
	if h == nil || o.inv.Process == "" {
		return
	}
	c := o.inv
	c.Type, c.Time = t, int64(h.now())
	switch {
	case c.F == history.Send && t == history.OK:
		c.Offset = offset
	case c.F == history.Poll && t == history.OK:
		c.Records = recs
	}
	if err != nil {
		c.Error = err.Error()
	}
	h.w.Append(c)
}

// logCrashBugs are deliberate faults in the scenario's own acknowledgement
// path, used by tests to show the check catches what it claims to.
type logCrashBugs struct {
	// ackOnAppend acknowledges a batch as durable when it is appended,
	// without waiting for the flush (the classic lying-ack bug).
	ackOnAppend bool
}

func runLogCrash(opts Options) (*Result, error) { return runLogCrashWith(opts, logCrashBugs{}) }

func runLogCrashWith(opts Options, bugs logCrashBugs) (*Result, error) {
	k := drawLogCrashKnobs(sim.Stream(opts.Seed, "scenario"))
	var err error
	if k.Bugs, err = opts.bugSet(); err != nil {
		return nil, err
	}
	w := sim.NewWorld(sim.Config{Seed: opts.Seed, RecordTrace: opts.RecordTrace, Log: opts.NodeLog, LogLevel: opts.NodeLogLevel})
	res := &Result{Scenario: "log-crash", Seed: opts.Seed, Repro: ReproCommand("log-crash", opts.Seed)}
	res.Knobs = append(w.Knobs(), k.lines()...)
	for _, l := range res.Knobs {
		opts.logf("knob %s", l)
	}

	var hist *logHistory
	if opts.RecordTrace {
		hist = &logHistory{w: history.NewMemory(), now: w.Elapsed, ids: map[string]int64{}}
	}
	m := &logModel{hist: hist}
	var fatal error
	const node = "log-1"
	w.AddNode(node, func() host.Node {
		return &logWriter{knobs: k, bugs: bugs, model: m, res: res, fatal: &fatal}
	})
	w.Start(node)
	for _, c := range k.Crashes {
		c := c
		w.Schedule(c.At, func() {
			w.Crash(node, c.Mode)
			w.Schedule(c.Restart, func() { w.Restart(node) })
		})
	}
	if err := w.RunFor(k.Duration); err != nil {
		return nil, err
	}
	// End every run with a power loss and one more checked recovery: the
	// history's final read.
	if hist != nil {
		hist.final = true
	}
	w.Crash(node, disk.LoseUnsynced)
	w.Restart(node)
	if err := w.RunFor(time.Second); err != nil {
		return nil, err
	}
	if fatal != nil {
		return nil, fatal
	}
	if err := recordEvidence(res, hist); err != nil {
		return nil, err
	}
	res.TraceHash = fmt.Sprintf("%016x", w.TraceHash())
	res.Events = w.Events()
	res.SimSeconds = w.Elapsed().Seconds()
	st := w.Disk(node).Stats()
	res.Stats = map[string]int64{
		"crashes":               int64(len(k.Crashes)) + 1,
		"batches_appended":      m.appended,
		"batches_acked_durable": m.ackedCount,
		"recoveries_checked":    m.recovered,
		"unacked_records_lost":  m.lostTail,
		"disk_syncs_requested":  st.SyncsRequested,
		"disk_flushes":          st.Flushes,
	}
	if opts.RecordTrace {
		res.Trace = w.TraceLines()
	}
	res.Judge()
	return res, nil
}

// recordEvidence sets the run's history and the final-read checker's report
// on it (verdicts.json), when the history was kept. The report is
// evidence: the verdict stays the log's own checks. A recovery that read
// records nobody was promised, which a later crash took back, shows there
// as unstable-read: the log allows it.
func recordEvidence(res *Result, hist *logHistory) error {
	if hist == nil {
		return nil
	}
	if err := hist.w.Err(); err != nil {
		return fmt.Errorf("log-crash: history: %w", err)
	}
	res.History = hist.w.Ops()
	rep, err := checkers.Check(res.History, checkers.Options{Checkers: []string{finalread.Name}})
	if err != nil {
		return fmt.Errorf("log-crash: check: %w", err)
	}
	res.Report = &rep
	return nil
}

// logWriter is the node: it recovers the log, checks it against the model,
// then appends batches at a seed-chosen pace and acknowledges each once
// the log reports it durable.
type logWriter struct {
	knobs logCrashKnobs
	bugs  logCrashBugs
	model *logModel
	res   *Result
	fatal *error
	h     host.Host
	l     *log.Log
	seq   int
	buf   []byte
	// proc is this incarnation's history process; reader the process its
	// recovery's reads are recorded as (final-reader for the final read).
	proc, reader string
}

func (n *logWriter) Start(h host.Host) {
	n.h = h
	m := n.model
	m.incarnations++
	n.proc, n.reader = h.Name(), h.Name()
	if m.incarnations > 1 {
		n.proc += "." + strconv.Itoa(m.incarnations)
		n.reader = n.proc
	}
	if m.hist != nil && m.hist.final {
		n.reader = finalReaderName
		defer func() { m.hist.done = true }()
	}
	l, err := log.Open(h, logCrashDir, n.knobs.logConfig())
	if err != nil {
		n.res.AddFinding("recovery-failed", "at %v: open: %v", h.Monotonic(), err)
		return
	}
	n.l = l
	n.checkRecovered()
	n.scheduleAppend()
}

// readResult says how checkRecovered goes on after a read.
type readResult int

const (
	readMore  readResult = iota // the read checked out
	readStop                    // stop reading; the log ends where it was read to
	readAbort                   // the log is wrong: stop checking this recovery
)

// checkRecovered compares the recovered log with the model: every
// acknowledged offset is present with its value, nothing past what was
// appended exists, and every batch reads back intact.
func (n *logWriter) checkRecovered() {
	m := n.model
	m.recovered++
	leo := n.l.LogEndOffset()
	if leo < m.acked {
		n.res.AddFinding("lost-write", "recovered log end offset %d below acknowledged durable offset %d", leo, m.acked)
	}
	if leo > int64(len(m.values)) {
		n.res.AddFinding("phantom", "recovered log end offset %d beyond the %d offsets ever appended", leo, len(m.values))
	}
	next := n.l.LogStartOffset()
	if next >= leo {
		// Nothing to read: the history shows an empty read.
		m.hist.complete(m.hist.invokePoll(n.reader, next), history.OK, 0, nil, nil)
	}
	for next < leo {
		var r readResult
		next, r = n.readChunk(next)
		if r == readAbort {
			return
		}
		if r == readStop {
			break
		}
	}
	if leo < int64(len(m.values)) {
		m.lostTail += int64(len(m.values)) - leo
		m.values = m.values[:leo]
	}
}

// readChunk reads the log from next, checks what it returned against the
// model and records the read as one poll. It returns the offset after the
// last whole batch read.
func (n *logWriter) readChunk(next int64) (int64, readResult) {
	m := n.model
	poll := m.hist.invokePoll(n.reader, next)
	chunk, err := n.l.Read(next, 1<<20)
	if err != nil {
		m.hist.complete(poll, history.Fail, 0, nil, err)
		n.res.AddFinding("unreadable", "read at offset %d after recovery: %v", next, err)
		return next, readStop
	}
	var read []history.Read
	defer func() { m.hist.complete(poll, history.OK, 0, read, nil) }()
	it := batch.Iterate(chunk)
	advanced := false
	for it.Next() {
		b := it.Batch()
		recs, err := batch.Records(b)
		if err != nil {
			n.res.AddFinding("garbage", "batch at offset %d: %v", next, err)
			return next, readAbort
		}
		h, _ := batch.ParseHeader(b)
		if !advanced && (h.BaseOffset > next || h.LastOffset() < next) {
			// A read must start with the batch holding the offset asked
			// for; one that starts elsewhere hides or repeats records.
			n.res.AddFinding("wrong-batch", "read at offset %d returned a first batch holding %d-%d", next, h.BaseOffset, h.LastOffset())
			return next, readAbort
		}
		for i, r := range recs {
			off := h.BaseOffset + int64(i)
			if off < next {
				continue
			}
			if k := len(read); m.hist != nil && (k == 0 || off > read[k-1].Offset) {
				read = append(read, history.Read{Offset: off, Value: string(r.Value)})
			}
			if off >= int64(len(m.values)) || !bytes.Equal(m.values[off], r.Value) {
				n.res.AddFinding("divergent-offset", "offset %d holds %q, appended %q", off, short(r.Value), short(valueAt(m.values, off)))
				return next, readAbort
			}
		}
		next = h.BaseOffset + int64(h.LastOffsetDelta) + 1
		advanced = true
	}
	if !advanced {
		n.res.AddFinding("unreadable", "read at offset %d returned no whole batch", next)
		return next, readStop
	}
	return next, readMore
}

func valueAt(vs [][]byte, off int64) []byte {
	if off < 0 || off >= int64(len(vs)) {
		return nil
	}
	return vs[off]
}

func short(b []byte) string {
	if len(b) > 24 {
		return string(b[:24]) + "..."
	}
	return string(b)
}

func (n *logWriter) scheduleAppend() {
	r := n.h.Rand()
	gap := time.Duration(r.Int64N(2*int64(n.knobs.AppendEvery))) + 1
	n.h.AfterFunc(gap, n.appendOne)
}

func (n *logWriter) appendOne() {
	r := n.h.Rand()
	nrec := 1 + r.IntN(n.knobs.MaxRecords)
	recs := make([]batch.Record, nrec)
	inc := n.h.Name() + "@" + strconv.FormatInt(int64(n.h.Monotonic()), 10)
	for i := range recs {
		n.seq++
		v := make([]byte, 0, n.knobs.MaxValue)
		v = append(v, inc+"/"+strconv.Itoa(n.seq)+"/"...)
		for len(v) < 1+r.IntN(n.knobs.MaxValue) {
			v = append(v, byte('a'+r.IntN(26)))
		}
		recs[i] = batch.Record{Value: v}
	}
	n.buf = batch.Build(n.buf[:0], recs, batch.BuildOptions{BaseTimestamp: n.h.Now().UnixMilli()})
	b := append([]byte(nil), n.buf...)
	m := n.model
	var sends []logOp // one per record, when the history is kept
	for _, rec := range recs {
		if m.hist != nil {
			sends = append(sends, m.hist.invokeSend(n.proc, rec.Value))
		}
	}
	outcome := func(t history.Type, first int64, err error) {
		for i, o := range sends {
			m.hist.complete(o, t, first+int64(i), nil, err)
		}
	}
	info, err := n.l.Append(b)
	if err != nil {
		outcome(history.Info, 0, err)
		if errors.Is(err, log.ErrLogFailed) {
			return // a failed log stops appending, as Kafka halts the log dir
		}
		n.res.AddFinding("append-failed", "append at %v: %v", n.h.Monotonic(), err)
		return
	}
	if info.FirstOffset != int64(len(m.values)) {
		n.res.AddFinding("divergent-offset", "append assigned base offset %d, expected %d", info.FirstOffset, len(m.values))
		return
	}
	for _, rec := range recs {
		m.values = append(m.values, rec.Value)
	}
	m.appended++
	end := info.LastOffset + 1
	ack := func(err error) {
		if err != nil {
			// Not acknowledged: a failed sync promises nothing.
			outcome(history.Info, 0, fmt.Errorf("sync failed: %w", err))
			return
		}
		outcome(history.OK, info.FirstOffset, nil)
		m.ackedCount++
		if end > m.acked {
			m.acked = end
		}
	}
	if n.bugs.ackOnAppend {
		ack(nil)
	} else {
		n.l.WhenDurable(end, ack)
	}
	n.scheduleAppend()
}
