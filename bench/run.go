package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/reports"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// RunOptions are how a workload runs, apart from the workload itself.
type RunOptions struct {
	// Seeds are the target's bootstrap brokers.
	Seeds []string
	// Target names the target in the report ("loglab", "kfake", an address).
	Target string
	// Window is the reporting window (10s).
	Window time.Duration
	// Trial is how long each step of the maximum-rate search runs (10s).
	Trial time.Duration
	// RateOfMax, with ProducerRate 0, runs at this fraction of the found
	// maximum sustainable rate (1: at the maximum).
	RateOfMax float64
	// Progress receives one line per window and search step (nil: none).
	Progress func(string)
	// Faults strike during the measured run (times from its start).
	Faults []Fault
	// History, if set, records every send and every read of the run
	// (history.go) into it, and the report carries the queue checker's
	// verdict on it (Report.Check). Records must be at least 24 bytes.
	History *history.Writer
	// DrainTimeout bounds how long, with History, the consumers may take
	// after the run to read every acknowledged record (30s).
	DrainTimeout time.Duration
	// Peer, if set, is the target instead of a Kafka-compatible cluster
	// (Seeds are not used): NATS JetStream or Redis Streams (peers.go).
	Peer Peer
	// Settle, if set, runs after each trial of the maximum-rate search,
	// once the trial's topics (deleted) were deleted, so that the next
	// trial and the measured run start from the state a run at its own
	// rate would (the embedded cluster: wait until the brokers removed their
	// files, gigabytes at the maximum rate, and write back the page cache).
	Settle func(deleted []string) error
}

// Fault is one fault of a bench run: Do at At, Undo UndoAfter later.
type Fault struct {
	Name      string
	At        time.Duration
	UndoAfter time.Duration
	Do, Undo  func() error
}

// FaultWindow is when a fault was in force, and what it cost: the lowest
// window's publish rate against the rate before it, and how long after
// the repair the publish rate was back to 90 % of that (-1: never).
type FaultWindow = reports.FaultWindow

// Percentiles and Window are the report types of package reports, which
// draws them (`loglab report`): the JSON a run writes is what it reads.
type (
	Percentiles = reports.Percentiles
	Window      = reports.Window
)

func percentiles(h *hdrhistogram.Histogram) Percentiles {
	ms := func(q float64) float64 { return float64(h.ValueAtQuantile(q)) / 1e6 }
	return Percentiles{P50: ms(50), P75: ms(75), P95: ms(95), P99: ms(99), P999: ms(99.9), P9999: ms(99.99),
		Max: float64(h.Max()) / 1e6, Count: h.TotalCount()}
}

// SearchStep is one trial of the maximum-rate search.
type SearchStep struct {
	TargetRate   float64 `json:"target_rate"` // 0: as fast as possible
	AchievedRate float64 `json:"achieved_rate"`
	Backlog      int64   `json:"backlog"`
	LagMs        float64 `json:"lag_ms"` // worst producer lag behind schedule
	P99Ms        float64 `json:"p99_ms"` // publish latency
	Sustained    bool    `json:"sustained"`
}

// Report is one benchmark run.
type Report struct {
	Workload Workload `json:"workload"`
	Target   string   `json:"target"`
	// Rate is the producer rate the measured run used (records/s, all
	// producers); MaxSustainableRate is the search's result (0 if none ran).
	Rate               float64      `json:"rate"`
	MaxSustainableRate float64      `json:"max_sustainable_rate,omitempty"`
	Search             []SearchStep `json:"search,omitempty"`
	// Held: with a search, whether the measured run at its rate passed
	// the trials' test too (sustained).
	Held *bool `json:"held,omitempty"`
	// SettleS is how long deleting each trial's topics and
	// RunOptions.Settle took over the whole search.
	SettleS   float64       `json:"settle_s,omitempty"`
	Windows   []Window      `json:"windows"`
	Aggregate Window        `json:"aggregate"`
	Faults    []FaultWindow `json:"faults,omitempty"`
	Check     *HistoryCheck `json:"check,omitempty"`
	// Sim describes a simulated run (RunSim).
	Sim *SimInfo `json:"sim,omitempty"`
}

// ErrUnreachable: the target's bootstrap brokers did not answer.
var ErrUnreachable = errors.New("bench: target unreachable")

// stats accumulates one window's measurements.
type stats struct {
	mu                 sync.Mutex
	pub, e2e           *hdrhistogram.Histogram
	acked, consumed    int64
	errs               int64
	totalAck, totalCon int64
	// reading: consumers run (without them there is no backlog to report).
	reading bool
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, int64(10*time.Minute), 3) }

func (s *stats) reset() {
	s.mu.Lock()
	s.pub, s.e2e = newHist(), newHist()
	s.acked, s.consumed, s.errs = 0, 0, 0
	s.mu.Unlock()
}

// cut returns the window since the last cut and starts a new one.
func (s *stats) cut(start, end time.Time, origin time.Time, size int) (Window, *hdrhistogram.Histogram, *hdrhistogram.Histogram) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := end.Sub(start).Seconds()
	w := Window{StartS: start.Sub(origin).Seconds(), EndS: end.Sub(origin).Seconds(),
		PublishRate: float64(s.acked) / d, PublishMBps: float64(s.acked) * float64(size) / 1e6 / d,
		ConsumeRate: float64(s.consumed) / d, ConsumeMBps: float64(s.consumed) * float64(size) / 1e6 / d,
		Errors:         s.errs,
		PublishLatency: percentiles(s.pub), EndToEndLatency: percentiles(s.e2e)}
	if s.reading {
		w.Backlog = max(0, s.totalAck-s.totalCon)
	}
	pub, e2e := s.pub, s.e2e
	s.pub, s.e2e = newHist(), newHist()
	s.acked, s.consumed, s.errs = 0, 0, 0
	return w, pub, e2e
}

// Run runs w against the target: creates its topics, starts consumers
// (one group per topic) and producers, warms up, then measures Duration
// in windows. With ProducerRate 0 it first searches for the maximum
// sustainable rate (trials of opts.Trial each) and measures at
// opts.RateOfMax of it.
//
// Latency: publish latency runs from each record's scheduled send time
// (open loop: the schedule does not wait for the broker) to its
// acknowledgement, so a stalled broker shows its stall in full (no
// coordinated omission); end-to-end latency from the scheduled time,
// carried in the record timestamp (millisecond resolution), to the
// consumer receiving it.
//
// A peer whose server ends during the run ends the run with its
// ErrPeerExited: what was measured up to then is not a result.
func Run(ctx context.Context, w Workload, opts RunOptions) (Report, error) {
	if opts.Peer == nil {
		return run(ctx, w, opts)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-opts.Peer.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	rep, err := run(ctx, w, opts)
	if perr := opts.Peer.Err(); perr != nil {
		return Report{}, perr
	}
	return rep, err
}

func run(ctx context.Context, w Workload, opts RunOptions) (Report, error) {
	if err := w.Validate(); err != nil {
		return Report{}, err
	}
	if opts.Window <= 0 {
		opts.Window = 10 * time.Second
	}
	if opts.Trial <= 0 {
		opts.Trial = 10 * time.Second
	}
	if opts.RateOfMax <= 0 {
		opts.RateOfMax = 1
	}
	progress := func(format string, args ...any) {
		if opts.Progress != nil {
			opts.Progress(fmt.Sprintf(format, args...))
		}
	}
	var rec *recorder
	if opts.History != nil {
		if w.MessageSize < 24 {
			return Report{}, fmt.Errorf("bench: recording a history needs records of at least 24 bytes (messageSize %d)", w.MessageSize)
		}
		if opts.DrainTimeout <= 0 {
			opts.DrainTimeout = 30 * time.Second
		}
		rec = newRecorder(opts.History)
	}
	if opts.Peer != nil && rec != nil {
		return Report{}, errors.New("bench: a history (--check) needs a Kafka-compatible target, not a peer")
	}
	if opts.Peer == nil {
		if err := ping(ctx, opts.Seeds); err != nil {
			return Report{}, err
		}
	}
	run := fmt.Sprintf("%s-%d", topicSafe(w.Name), time.Now().UnixNano()%1_000_000)
	rep := Report{Workload: w, Target: opts.Target}
	rate := float64(w.ProducerRate)
	if rate == 0 {
		// Each trial of the search writes to topics of its own, deleted
		// (and settled) before the next trial and before the measured
		// run: at the maximum rate a trial writes gigabytes, and neither
		// the next trial nor the run must start with a disk and page
		// cache full of them (stalls that belong to an earlier trial),
		// nor may the search fill the disk.
		n := 0
		var settle time.Duration
		try := func(r float64) (SearchStep, error) {
			ph, err := setupPhase(ctx, w, opts, fmt.Sprintf("%s-search%d", run, n), nil)
			n++
			if err != nil {
				return SearchStep{}, err
			}
			step, err := trialStep(ctx, ph, w, r, opts.Trial)
			ph.close()
			if err != nil {
				return step, err
			}
			t0 := time.Now()
			if err := ph.delete(ctx, w); err != nil {
				return step, err
			}
			if opts.Settle != nil {
				if err := opts.Settle(ph.topics); err != nil {
					return step, fmt.Errorf("bench: settle after a search trial: %w", err)
				}
			}
			settle += time.Since(t0)
			return step, nil
		}
		max, steps, err := searchMaxRate(try, progress)
		if err != nil {
			return Report{}, err
		}
		rep.Search, rep.MaxSustainableRate = steps, max
		rate = max * opts.RateOfMax
		rep.SettleS = settle.Seconds()
		progress("each trial's topics deleted and settled: %.1fs in all", rep.SettleS)
	}
	ph, err := setupPhase(ctx, w, opts, run, rec)
	if err != nil {
		return Report{}, err
	}
	defer ph.close()
	prods, st := ph.prods, ph.st
	rep.Rate = rate
	if w.Warmup > 0 {
		progress("warm-up %v at %.0f records/s", time.Duration(w.Warmup), rate)
		if _, err := drive(ctx, prods, st, rate, time.Duration(w.Warmup)); err != nil {
			return Report{}, err
		}
	}
	st.reset()
	origin := time.Now()
	all := struct{ pub, e2e *hdrhistogram.Histogram }{newHist(), newHist()}
	var total Window
	done := make(chan error, 1)
	var lag time.Duration // written before done is sent
	go func() {
		var err error
		lag, err = drive(ctx, prods, st, rate, time.Duration(w.Duration))
		done <- err
	}()
	faultDone := make(chan FaultWindow, len(opts.Faults))
	for _, f := range opts.Faults {
		go func() {
			fw := FaultWindow{Name: f.Name, StartS: -1, EndS: -1, RecoveryS: -1}
			defer func() { faultDone <- fw }()
			if !sleepCtx(ctx, time.Until(origin.Add(f.At))) {
				return
			}
			if err := f.Do(); err != nil {
				fw.Error = err.Error()
				return
			}
			fw.StartS = time.Since(origin).Seconds()
			progress("fault %s at %.1fs", f.Name, fw.StartS)
			sleepCtx(ctx, f.UndoAfter)
			if err := f.Undo(); err != nil {
				fw.Error = err.Error()
			}
			fw.EndS = time.Since(origin).Seconds()
			progress("fault %s repaired at %.1fs", f.Name, fw.EndS)
		}()
	}
	last := origin
	tick := time.NewTicker(opts.Window)
	defer tick.Stop()
	for running := true; running; {
		var end time.Time
		select {
		case end = <-tick.C:
		case err := <-done:
			if err != nil {
				return Report{}, err
			}
			end, running = time.Now(), false
		}
		win, pub, e2e := st.cut(last, end, origin, w.MessageSize)
		all.pub.Merge(pub)
		all.e2e.Merge(e2e)
		total.Errors += win.Errors
		total.PublishRate += win.PublishRate * (win.EndS - win.StartS)
		total.ConsumeRate += win.ConsumeRate * (win.EndS - win.StartS)
		total.Backlog = win.Backlog
		last = end
		if win.EndS-win.StartS < opts.Window.Seconds()/5 && len(rep.Windows) > 0 {
			// The run ended shortly after a window: its last
			// acknowledgements (the tail the producers waited for) count in
			// the aggregate, not as a window of their own, whose rate over
			// a sliver of time would mean nothing.
			continue
		}
		rep.Windows = append(rep.Windows, win)
		progress("%6.1fs  publish %8.0f rec/s %7.1f MB/s  consume %8.0f rec/s  backlog %6d  p99 %6.2f ms  e2e p99 %6.1f ms  errors %d",
			win.EndS, win.PublishRate, win.PublishMBps, win.ConsumeRate, win.Backlog, win.PublishLatency.P99, win.EndToEndLatency.P99, win.Errors)
	}
	secs := last.Sub(origin).Seconds()
	total.StartS, total.EndS = 0, secs
	total.PublishRate /= secs
	total.ConsumeRate /= secs
	total.PublishMBps = total.PublishRate * float64(w.MessageSize) / 1e6
	total.ConsumeMBps = total.ConsumeRate * float64(w.MessageSize) / 1e6
	total.PublishLatency, total.EndToEndLatency = percentiles(all.pub), percentiles(all.e2e)
	rep.Aggregate = total
	if rep.MaxSustainableRate > 0 {
		// Did the rate the search found hold for the whole measured run
		// (a search trial's test, on the aggregate)? A search trial is
		// short; a maximum that does not hold for the run is reported as
		// such, not as sustainable.
		held := sustained(w, rate, total.PublishRate, lag, time.Duration(total.PublishLatency.P99*1e6), total.Backlog)
		rep.Held = &held
	}
	for range opts.Faults {
		fw := <-faultDone
		faultImpact(&fw, rep.Windows)
		rep.Faults = append(rep.Faults, fw)
	}
	if rec != nil {
		complete := w.ConsumerPerSubscription > 0 && drainUntil(ctx, rec.drained, opts.DrainTimeout)
		progress("checking the history (%d records) with the queue checker", rec.w.Len())
		hc, err := rec.check(complete)
		if err != nil {
			return Report{}, err
		}
		rep.Check = &hc
	}
	return rep, nil
}

// topicSafe keeps the characters Kafka allows in a topic name
// ([a-zA-Z0-9._-]) and turns the others into '-'.
func topicSafe(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '-'
		}
	}
	return string(b)
}

// phase is a set of topics with the workload's producers and consumers.
type phase struct {
	topics []string
	prods  []*loadProducer
	st     *stats
	closes []func()
	seeds  []string
	peer   Peer
}

// setupPhase creates w's topics (named after run) and starts their
// consumers (waiting for every group to be assigned) and producers.
func setupPhase(ctx context.Context, w Workload, opts RunOptions, run string, rec *recorder) (*phase, error) {
	ph := &phase{st: &stats{reading: w.ConsumerPerSubscription > 0}, seeds: opts.Seeds, peer: opts.Peer}
	ph.st.reset()
	configs := map[string]string{}
	if w.Flush == "every-batch" {
		configs["flush.messages"] = "1"
	}
	for i := range w.Topics {
		t := fmt.Sprintf("bench-%s-%d", run, i)
		if opts.Peer != nil {
			if err := opts.Peer.CreateTopic(ctx, t, w.PartitionsPerTopic); err != nil {
				return nil, err
			}
			ph.topics = append(ph.topics, t)
			continue
		}
		// A cluster still removing a deleted topic's files may time out:
		// try again for a minute.
		var err error
		for try := 0; try < 12; try++ {
			err = CreateReplicatedTopic(ctx, opts.Seeds, t, int32(w.PartitionsPerTopic), int16(w.ReplicationFactor), configs)
			if try > 0 && errors.Is(err, kerr.TopicAlreadyExists) {
				err = nil // the timed-out attempt went through
			}
			if !errors.Is(err, kerr.RequestTimedOut) {
				break
			}
		}
		if err != nil {
			return nil, fmt.Errorf("bench: create topic %s: %w", t, err)
		}
		if w.ReplicationFactor > 1 {
			if err := WaitInSync(ctx, opts.Seeds, t, w.ReplicationFactor); err != nil {
				return nil, err
			}
		}
		ph.topics = append(ph.topics, t)
	}
	var err error
	if opts.Peer != nil {
		cctx, cancel := context.WithCancel(ctx)
		ph.closes = append(ph.closes, cancel)
		if err := startPeerConsumers(cctx, opts.Peer, w, ph.topics, ph.st); err != nil {
			ph.close()
			return nil, err
		}
		if ph.prods, err = newPeerProducers(opts.Peer, w, ph.topics); err != nil {
			ph.close()
			return nil, err
		}
		return ph, nil
	}
	cons, err := startConsumers(ctx, w, opts.Seeds, ph.topics, ph.st, rec)
	if err != nil {
		return nil, err
	}
	for _, c := range cons {
		ph.closes = append(ph.closes, c.Close)
	}
	if ph.prods, err = newLoadProducers(w, opts.Seeds, ph.topics, rec); err != nil {
		ph.close()
		return nil, err
	}
	return ph, nil
}

// close stops the phase's producers and consumers (once).
func (ph *phase) close() {
	for _, p := range ph.prods {
		p.close()
	}
	for _, c := range ph.closes {
		c()
	}
	ph.prods, ph.closes = nil, nil
}

// delete deletes the phase's topics.
func (ph *phase) delete(ctx context.Context, w Workload) error {
	if ph.peer != nil {
		for _, t := range ph.topics {
			if err := ph.peer.DeleteTopic(ctx, t, w.PartitionsPerTopic); err != nil {
				return err
			}
		}
		return nil
	}
	for _, t := range ph.topics {
		if err := DeleteTopic(ctx, ph.seeds, t); err != nil {
			return err
		}
	}
	return nil
}

// drainUntil waits until done (at most d) and reports whether it came.
func drainUntil(ctx context.Context, done func() bool, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		if done() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	select {
	case <-time.After(d):
		return true
	case <-ctx.Done():
		return false
	}
}

// faultImpact fills a fault window's dip and recovery from the windows:
// the baseline is the mean publish rate of the windows that ended before
// the fault struck.
func faultImpact(fw *FaultWindow, ws []Window) {
	if fw.StartS < 0 || fw.EndS < 0 {
		return
	}
	var base float64
	n := 0
	for _, w := range ws {
		if w.EndS <= fw.StartS {
			base += w.PublishRate
			n++
		}
	}
	if n == 0 {
		return
	}
	base /= float64(n)
	fw.BaselineRate = base
	lowest := base
	for _, w := range ws {
		if w.EndS > fw.StartS && w.StartS < fw.EndS+5 {
			lowest = min(lowest, w.PublishRate)
		}
	}
	fw.LowestRate = lowest
	for _, w := range ws {
		if w.StartS >= fw.EndS && w.PublishRate >= 0.9*base {
			fw.RecoveryS = w.EndS - fw.EndS
			return
		}
	}
}

// ping checks that a bootstrap broker answers at all, so an unreachable
// target fails in seconds with one clear error.
func ping(ctx context.Context, seeds []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DialTimeout(3*time.Second), kgo.RequestRetries(1))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		return fmt.Errorf("%w: %v: %w", ErrUnreachable, seeds, err)
	}
	return nil
}

// loadProducer is one producer client of the workload.
type loadProducer struct {
	cl     *kgo.Client
	topic  string
	values [][]byte
	keys   string
	next   int
	size   int
	rec    *recorder // nil: no history
	proc   string
	// peer, if set, sends instead of cl, round-robin over partitions.
	peer       PeerProducer
	partitions int
}

// close closes the producer's client.
func (p *loadProducer) close() {
	if p.peer != nil {
		p.peer.Close()
		return
	}
	p.cl.Close()
}

func newLoadProducers(w Workload, seeds []string, topics []string, rec *recorder) ([]*loadProducer, error) {
	acks := kgo.LeaderAck()
	switch w.Acks {
	case -1:
		acks = kgo.AllISRAcks()
	case 0:
		acks = kgo.NoAck()
	}
	var out []*loadProducer
	values := payloads(w.MessageSize)
	for _, t := range topics {
		for range w.ProducersPerTopic {
			opts := []kgo.Opt{kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic(t), kgo.RequiredAcks(acks), kgo.MetadataMinAge(metadataMinAge),
				kgo.ProducerBatchCompression(Codec(w.Compression)), kgo.ProducerBatchMaxBytes(int32(w.BatchBytes)),
				kgo.ProducerLinger(time.Duration(w.Linger)), kgo.MaxBufferedRecords(1 << 16),
				kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil))}
			if w.Acks != -1 {
				opts = append(opts, kgo.DisableIdempotentWrite())
			}
			cl, err := kgo.NewClient(opts...)
			if err != nil {
				for _, p := range out {
					p.close()
				}
				return nil, fmt.Errorf("bench: producer: %w", err)
			}
			out = append(out, &loadProducer{cl: cl, topic: t, values: values, keys: w.KeyDistributor, size: w.MessageSize,
				rec: rec, proc: procName("producer", len(out))})
		}
	}
	return out, nil
}

// metadataMinAge is how soon the load clients may refresh metadata after
// a leader moved. franz-go's default, 5s, would stall every partition
// whose leader changed (a failover, and the preferred-leader election
// that follows a broker's return) for up to 5s whatever the broker does:
// the bench measures the broker, so its clients refresh as soon as the
// Java client does after NOT_LEADER_OR_FOLLOWER (retry.backoff.ms, 100ms,
// here a little more).
const metadataMinAge = 250 * time.Millisecond

// payloads are 64 random record values of size bytes (random: they do
// not compress).
func payloads(size int) [][]byte {
	rng := rand.New(rand.NewPCG(7, 11))
	values := make([][]byte, 64)
	for i := range values {
		v := make([]byte, size)
		for j := range v {
			v[j] = byte(rng.Uint32())
		}
		values[i] = v
	}
	return values
}

// Codec is franz-go's compression codec for a name (none, gzip, snappy,
// lz4, zstd; anything else is none).
func Codec(name string) kgo.CompressionCodec {
	switch name {
	case "gzip":
		return kgo.GzipCompression()
	case "snappy":
		return kgo.SnappyCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	}
	return kgo.NoCompression()
}

// drive runs every producer for d at rate records/s in total (open loop;
// 0: as fast as the buffer allows) and waits for their acknowledgements.
// It returns how far behind its schedule a producer fell at worst (a
// producer blocked by a full buffer sends late: the rate is not
// sustained).
func drive(ctx context.Context, prods []*loadProducer, st *stats, rate float64, d time.Duration) (time.Duration, error) {
	var wg, inflight sync.WaitGroup
	var firstErr atomic.Pointer[error]
	var maxLag atomic.Int64
	per := rate / float64(len(prods))
	start := time.Now()
	for _, p := range prods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Paced: every 200µs, send every record whose scheduled time
			// has come (cheap at high rates: no sleep per record); each
			// keeps its own scheduled time for its latencies.
			due := func(i int) (time.Time, bool) {
				if per <= 0 {
					now := time.Now()
					return now, now.Sub(start) < d
				}
				at := start.Add(time.Duration(float64(i) / per * float64(time.Second)))
				return at, at.Sub(start) < d
			}
			for i := 0; ctx.Err() == nil; i++ {
				at, ok := due(i)
				if !ok {
					return
				}
				if per > 0 && time.Until(at) > 0 {
					time.Sleep(max(time.Until(at), 200*time.Microsecond))
				}
				if lag := time.Since(at); per > 0 && int64(lag) > maxLag.Load() {
					maxLag.Store(int64(lag))
				}
				r := &kgo.Record{Value: p.values[p.next%len(p.values)], Timestamp: at}
				switch p.keys {
				case "KEY_ROUND_ROBIN":
					r.Key = []byte(strconv.Itoa(p.next))
				case "RANDOM_NANO":
					r.Key = []byte(strconv.FormatInt(time.Now().UnixNano(), 10))
				}
				var recorded func(*kgo.Record, error)
				if p.rec != nil {
					id := p.proc + "-" + strconv.Itoa(p.next)
					r.Value = idValue(id, r.Value)
					recorded = p.rec.send(p.proc, int64(p.next), p.topic, r.Key, id)
				}
				p.next++
				inflight.Add(1)
				acked := func(r *kgo.Record, err error) {
					lat := time.Since(at)
					if recorded != nil {
						recorded(r, err)
					}
					st.mu.Lock()
					if err != nil {
						st.errs++
						if firstErr.Load() == nil {
							firstErr.Store(&err)
						}
					} else {
						st.acked++
						st.totalAck++
						st.pub.RecordValue(int64(lat))
					}
					st.mu.Unlock()
					inflight.Done()
				}
				if p.peer != nil {
					p.peer.Send(ctx, p.next%p.partitions, r.Value, at, func(err error) { acked(r, err) })
				} else {
					p.cl.Produce(ctx, r, acked)
				}
			}
		}()
	}
	wg.Wait()
	waited := make(chan struct{})
	go func() { inflight.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(2 * time.Minute):
		return 0, errors.New("bench: produce acknowledgements did not arrive within 2 minutes")
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return time.Duration(maxLag.Load()), nil
}

// startPeerConsumers starts one reader per topic of a peer (a peer has
// no consumer groups: more than one consumer per topic is an error).
func startPeerConsumers(ctx context.Context, peer Peer, w Workload, topics []string, st *stats) error {
	if w.ConsumerPerSubscription > 1 {
		return fmt.Errorf("bench: %s: one consumer per topic at most (no consumer groups), not %d", peer.Name(), w.ConsumerPerSubscription)
	}
	if w.ConsumerPerSubscription == 0 {
		return nil
	}
	for _, t := range topics {
		err := peer.Consume(ctx, t, w.PartitionsPerTopic, func(at time.Time) {
			lat := time.Since(at)
			st.mu.Lock()
			st.consumed++
			st.totalCon++
			st.e2e.RecordValue(max(int64(lat), 1))
			st.mu.Unlock()
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// newPeerProducers makes ProducersPerTopic producers per topic of a peer.
func newPeerProducers(peer Peer, w Workload, topics []string) ([]*loadProducer, error) {
	values := payloads(w.MessageSize)
	var out []*loadProducer
	for _, t := range topics {
		for range w.ProducersPerTopic {
			pp, err := peer.NewProducer(t, w.PartitionsPerTopic, time.Duration(w.Linger))
			if err != nil {
				for _, p := range out {
					p.close()
				}
				return nil, err
			}
			out = append(out, &loadProducer{topic: t, values: values, keys: w.KeyDistributor, size: w.MessageSize,
				proc: procName("producer", len(out)), peer: pp, partitions: w.PartitionsPerTopic})
		}
	}
	return out, nil
}

// startConsumers starts ConsumerPerSubscription members of one group per
// topic, reading from the start, recording end-to-end latency.
// It returns once every group has assigned every partition (at most a
// minute), so measurement never includes a group forming.
func startConsumers(ctx context.Context, w Workload, seeds []string, topics []string, st *stats, rec *recorder) ([]*kgo.Client, error) {
	var out []*kgo.Client
	var assigned atomic.Int64
	for _, t := range topics {
		for range w.ConsumerPerSubscription {
			proc := procName("consumer", len(out))
			changed := func(m map[string][]int32) {
				if rec != nil {
					rec.reassigned(proc, m[t])
				}
			}
			cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumerGroup("bench-"+t), kgo.ConsumeTopics(t), kgo.MetadataMinAge(metadataMinAge),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond),
				kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
					changed(m)
					assigned.Add(int64(len(m[t])))
				}),
				kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
					changed(m)
					assigned.Add(-int64(len(m[t])))
				}),
				kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
					changed(m)
					assigned.Add(-int64(len(m[t])))
				}))
			if err != nil {
				for _, c := range out {
					c.Close()
				}
				return nil, fmt.Errorf("bench: consumer: %w", err)
			}
			out = append(out, cl)
			go func() {
				var polls int64
				for {
					fs := cl.PollFetches(ctx)
					if fs.IsClientClosed() || ctx.Err() != nil {
						return
					}
					if rec != nil {
						fs.EachPartition(func(p kgo.FetchTopicPartition) {
							rec.poll(proc, polls, p.Topic, p.Partition, p.Records)
							polls++
						})
					}
					now := time.Now()
					st.mu.Lock()
					fs.EachRecord(func(r *kgo.Record) {
						st.consumed++
						st.totalCon++
						if lat := now.Sub(r.Timestamp); lat > 0 {
							st.e2e.RecordValue(int64(lat))
						} else {
							st.e2e.RecordValue(1)
						}
					})
					st.mu.Unlock()
				}
			}()
		}
	}
	want := int64(len(topics) * w.PartitionsPerTopic)
	deadline := time.Now().Add(time.Minute)
	for w.ConsumerPerSubscription > 0 && assigned.Load() < want {
		if time.Now().After(deadline) || ctx.Err() != nil {
			for _, c := range out {
				c.Close()
			}
			return nil, fmt.Errorf("bench: consumer groups did not assign all %d partitions within a minute", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return out, nil
}

// The thresholds of sustained.
const (
	sustainedAcked    = 0.97                   // share of the target rate acknowledged
	sustainedLag      = 100 * time.Millisecond // a producer behind its schedule
	sustainedP99      = 200 * time.Millisecond // publish latency: no queue building up
	sustainedBacklogS = 0.25                   // seconds of traffic unread, with consumers
)

// SustainedTest is sustained in words, for reports that say a rate did
// not hold.
var SustainedTest = fmt.Sprintf("%.0f %% acknowledged, producers under %v behind, p99 under %v, with consumers a backlog under %g s of traffic",
	sustainedAcked*100, sustainedLag, sustainedP99, sustainedBacklogS)

// sustained is the test of a rate (0: closed loop, never sustained): at
// least sustainedAcked of the target acknowledged, no producer
// sustainedLag behind its schedule, p99 publish latency under
// sustainedP99, and with consumers a backlog under sustainedBacklogS of
// traffic.
func sustained(w Workload, rate, achieved float64, lag, p99 time.Duration, backlog int64) bool {
	return rate > 0 && achieved >= sustainedAcked*rate && lag < sustainedLag && p99 < sustainedP99 &&
		(w.ConsumerPerSubscription == 0 || float64(backlog) < rate*sustainedBacklogS)
}

// trialStep drives ph's producers at rate (0: closed loop) for d and
// judges the trial (sustained).
func trialStep(ctx context.Context, ph *phase, w Workload, rate float64, d time.Duration) (SearchStep, error) {
	st := ph.st
	st.reset()
	st.mu.Lock()
	ack0 := st.totalAck
	st.mu.Unlock()
	start := time.Now()
	lag, err := drive(ctx, ph.prods, st, rate, d)
	if err != nil {
		return SearchStep{}, err
	}
	el := time.Since(start).Seconds()
	st.mu.Lock()
	acked := st.totalAck - ack0
	backlog := st.totalAck - st.totalCon
	p99 := time.Duration(st.pub.ValueAtQuantile(99))
	st.mu.Unlock()
	s := SearchStep{TargetRate: rate, AchievedRate: float64(acked) / el, Backlog: backlog, LagMs: float64(lag) / 1e6, P99Ms: float64(p99) / 1e6}
	s.Sustained = sustained(w, rate, s.AchievedRate, lag, p99, backlog)
	return s, nil
}

// searchMaxRate finds the maximum sustainable rate with trials run by try
// (a fresh set of topics each): a closed-loop trial (rate 0) gives the
// ceiling; then open-loop trials from it downward in 10 % steps until one
// is sustained, then two bisection trials between that step and the
// failed one above it.
func searchMaxRate(try func(rate float64) (SearchStep, error), progress func(string, ...any)) (float64, []SearchStep, error) {
	var steps []SearchStep
	measure := func(rate float64) (SearchStep, error) {
		s, err := try(rate)
		if err != nil {
			return s, err
		}
		steps = append(steps, s)
		progress("search: target %8.0f rec/s  achieved %8.0f rec/s  lag %7.1f ms  p99 %7.1f ms  backlog %7d  sustained %v",
			rate, s.AchievedRate, s.LagMs, s.P99Ms, s.Backlog, s.Sustained)
		return s, nil
	}
	ceil, err := measure(0)
	if err != nil {
		return 0, nil, err
	}
	for f := 1.0; f > 0.05; f -= 0.1 {
		s, err := measure(ceil.AchievedRate * f)
		if err != nil {
			return 0, nil, err
		}
		if !s.Sustained {
			continue
		}
		// Refine between the sustained step and the failed one above it
		// (two bisection trials: within 2.5 % of the closed-loop rate).
		lo, hi := s.TargetRate, ceil.AchievedRate*(f+0.1)
		for range 2 {
			mid := (lo + hi) / 2
			r, err := measure(mid)
			if err != nil {
				return 0, nil, err
			}
			if r.Sustained {
				lo = mid
			} else {
				hi = mid
			}
		}
		return lo, steps, nil
	}
	return 0, steps, errors.New("bench: no sustainable rate found down to 10% of the closed-loop maximum")
}
