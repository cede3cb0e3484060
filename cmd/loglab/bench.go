package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/loglab/loglab/bench"
	"github.com/loglab/loglab/bench/embedded"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/host/realhost"
)

func newBenchCmd() *cobra.Command {
	var (
		wf                            workloadFlags
		bootstrap, target             string
		brokers                       int
		rateOfMax                     float64
		window, trial                 time.Duration
		asJSON                        bool
		killBroker, pauseBroker       int
		killAt, down, pauseAt, paused time.Duration
		outDir                        string
		check                         bool
		peer                          string
		compare                       []string
		sm                            simFlags
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput and latency of a workload against a cluster",
		Long: `bench runs a workload — in the shape of an OpenMessaging Benchmark workload:
topics, partitions per topic, message size, key distribution, producers per
topic, consumers per subscription (one consumer group per topic), producer
rate, warm-up and duration, plus Kafka's acks, compression, batch size,
linger, replication factor and flush policy — from a file (--workload) with
flags overriding it, against:

  the embedded cluster (default): --brokers N loglab brokers on loopback in
      this process, fresh data in a temporary directory;
  --bootstrap HOST:PORT: any Kafka-compatible cluster already running;
  --target kfake: franz-go's in-memory fake Kafka, the reference peer.

Producers run open-loop at --rate records/s in total: each record has a
scheduled send time, and publish latency runs from it to the
acknowledgement (coordinated-omission corrected: a stalled broker shows
its whole stall); end-to-end latency runs from the same scheduled time,
carried in the record timestamp (ms), to the consumer. --rate 0 first
searches for the maximum sustainable rate (a closed-loop trial, then
open-loop trials downward, each --trial long on topics of its own, deleted
after it) and measures at --rate-of-max of it; at the maximum, it says
whether the measured run held that rate.

It prints one line per --window (publish and consume rates, backlog,
errors, latency) and the aggregate with p50, p75, p95, p99, p99.9, p99.99
and max from HDR histograms; --json prints the whole report as JSON.

Also:
  --target nats|redis (--peer): NATS JetStream or Redis Streams, started
      from their installed servers on loopback; --compare LIST runs the
      same workload against other targets after this one and prints ratios;
  --kill-broker N / --pause-broker N: a fault during the run on the
      embedded cluster; the report gives the dip and the time to recover;
  --check: record every send and read as a history and check it (lost,
      duplicated, reordered, divergent records); exit 1 on any anomaly;
  --sim: run the workload in the simulator under a latency model (--link,
      --fsync-latency): modelled latencies and the simulator's speed;
  bench sweep: one run per value of a parameter, for scaling curves.`,
		Example: "  loglab bench --duration 20s --rate 0\n" +
			"  loglab bench --brokers 3 --replication-factor 3 --acks all --rate 50000\n" +
			"  loglab bench --target kfake --duration 10s\n" +
			"  loglab bench --bootstrap 127.0.0.1:9092 --workload my-workload.yaml --json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := wf.workload(cmd.Flags())
			if err != nil {
				return err
			}
			f := cmd.Flags()
			if sm.on {
				if err := sm.check(f, "bootstrap", "target", "peer", "compare", "kill-broker", "pause-broker", "check", "rate-of-max", "trial"); err != nil {
					return err
				}
				return sm.run(cmd, w, brokers, window, outDir, asJSON)
			}
			if err := sm.check(f); err != nil {
				return err
			}
			if err := checkTargetFlags(f, rateOfMax, bootstrap, brokers); err != nil {
				return err
			}
			if f.Changed("peer") {
				if f.Changed("target") {
					return errors.New("--peer names the target: it excludes --target")
				}
				if peer != "nats" && peer != "redis" {
					return fmt.Errorf("--peer %q: want nats or redis", peer)
				}
				target = peer
			}
			if bootstrap == "" {
				if err := checkTarget(target); err != nil {
					return err
				}
			}
			if check && (target == "nats" || target == "redis") {
				return fmt.Errorf("--check records a Kafka client's history: not with --target %s", target)
			}
			for _, c := range compare {
				if err := checkTarget(c); err != nil {
					return fmt.Errorf("--compare: %w", err)
				}
				if c == "kfake" && w.ProducerRate == 0 {
					return errors.New("--compare kfake needs a fixed --rate: kfake keeps every record in memory, so a search for its maximum rate grows until it runs out")
				}
			}
			if w.ReplicationFactor > brokers && bootstrap == "" && target == "loglab" {
				return fmt.Errorf("--replication-factor %d needs at least %d brokers (--brokers %d)", w.ReplicationFactor, w.ReplicationFactor, brokers)
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if killBroker != 0 && (bootstrap != "" || target != "loglab" || killBroker < 1 || killBroker > brokers) {
				return fmt.Errorf("--kill-broker %d: names a broker 1..%d of the embedded loglab cluster", killBroker, brokers)
			}
			if killBroker != 0 && (killAt < 0 || down <= 0 || killAt+down > time.Duration(w.Duration)) {
				return fmt.Errorf("--kill-at %v --down %v: the broker must be back before the run ends (--duration %v)", killAt, down, time.Duration(w.Duration))
			}
			if pauseBroker != 0 && (bootstrap != "" || target != "loglab" || pauseBroker < 1 || pauseBroker > brokers) {
				return fmt.Errorf("--pause-broker %d: names a broker 1..%d of the embedded loglab cluster", pauseBroker, brokers)
			}
			if pauseBroker != 0 && (pauseAt < 0 || paused <= 0 || pauseAt+paused > time.Duration(w.Duration)) {
				return fmt.Errorf("--pause-at %v --paused %v: the broker must run again before the run ends (--duration %v)", pauseAt, paused, time.Duration(w.Duration))
			}
			if pauseBroker != 0 && pauseBroker == killBroker {
				return fmt.Errorf("--pause-broker and --kill-broker name the same broker %d", pauseBroker)
			}
			tg, err := startTarget(ctx, bootstrap, target, brokers)
			if err != nil {
				return err
			}
			defer tg.cleanup()
			seeds, name, cluster := tg.seeds, tg.name, tg.cluster
			var faults []bench.Fault
			if killBroker != 0 {
				faults = append(faults, killFault(cluster, killBroker, killAt, down))
			}
			if pauseBroker != 0 {
				id := pauseBroker
				faults = append(faults, bench.Fault{Name: fmt.Sprintf("pause broker %d", id), At: pauseAt, UndoAfter: paused,
					Do: func() error { return cluster.Pause(id) }, Undo: func() error { return cluster.Resume(id) }})
			}
			var hist *history.Writer
			var saved *savedHistory
			stamp := fmt.Sprintf("bench-%s-%s-%d", w.Name, strings.Fields(name)[0], time.Now().Unix())
			if check {
				hist = history.NewMemory()
				if outDir != "" {
					if saved, err = createHistory(outDir, stamp+".history.jsonl"); err != nil {
						return err
					}
					defer saved.close()
					hist = saved.w
				}
			}
			out := cmd.OutOrStdout()
			progress := func(line string) { fmt.Fprintln(cmd.ErrOrStderr(), line) }
			if !asJSON {
				progress = func(line string) { fmt.Fprintln(out, line) }
				fmt.Fprintf(out, "target %s (%s); workload %s: %d topic(s) x %d partitions, %d B records, acks=%d, RF %d, flush %s\n",
					name, strings.Join(seeds, ","), w.Name, w.Topics, w.PartitionsPerTopic, w.MessageSize, w.Acks, w.ReplicationFactor, w.Flush)
			}
			rep, err := bench.Run(ctx, w, bench.RunOptions{Seeds: seeds, Target: name, Window: window, Trial: trial, RateOfMax: rateOfMax,
				Progress: progress, Faults: faults, History: hist, Peer: tg.peer, Settle: tg.settle})
			if err != nil {
				if saved != nil {
					saved.discard()
				}
				return err
			}
			if saved != nil {
				if err := saved.finish(); err != nil {
					return err
				}
				rep.Check.History = saved.name
			}
			if outDir != "" {
				if err := writeJSON(outDir, stamp+".json", rep); err != nil {
					return err
				}
				progress("result written to " + filepath.Join(outDir, stamp+".json"))
			}
			var others []bench.Report
			for _, c := range compare {
				if !asJSON {
					fmt.Fprintf(out, "\ncompare: the same workload against %s\n", c)
				}
				other, err := compareRun(ctx, w, c, brokers, bench.RunOptions{Window: window, Trial: trial, RateOfMax: rateOfMax, Progress: progress})
				if err != nil {
					return fmt.Errorf("--compare %s: %w", c, err)
				}
				if outDir != "" {
					if err := writeJSON(outDir, fmt.Sprintf("bench-%s-%s-%d.json", w.Name, c, time.Now().Unix()), other); err != nil {
						return err
					}
				}
				others = append(others, other)
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				var v any = rep
				if len(others) > 0 {
					v = append([]bench.Report{rep}, others...)
				}
				if err := enc.Encode(v); err != nil {
					return err
				}
			} else {
				printAggregate(out, rep)
				if len(others) > 0 {
					printComparison(out, rep, others)
				}
			}
			if rep.Check != nil && rep.Check.Verdict != "pass" {
				fmt.Fprintf(cmd.ErrOrStderr(), "the checkers' verdict on the run's history: %s %v\n", rep.Check.Verdict, rep.Check.Anomalies)
				return exitError{1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	wf.register(f)
	f.StringVar(&bootstrap, "bootstrap", "", "benchmark a running Kafka-compatible cluster at HOST:PORT instead of an embedded one")
	f.StringVar(&target, "target", "loglab", "embedded target: loglab, kfake (franz-go's fake Kafka), nats (NATS JetStream) or redis (Redis Streams); the last two start their installed servers")
	sm.register(f)
	f.StringVar(&peer, "peer", "", "nats or redis: the same as --target nats|redis")
	f.StringSliceVar(&compare, "compare", nil, "after the run, run the same workload against these targets too (kfake, nats, redis, loglab) and print the ratios")
	f.IntVar(&brokers, "brokers", 1, "brokers of the embedded loglab cluster")
	f.Float64Var(&rateOfMax, "rate-of-max", 1, "with --rate 0: run at this fraction of the maximum found")
	f.DurationVar(&window, "window", 10*time.Second, "reporting window")
	f.DurationVar(&trial, "trial", 10*time.Second, "length of each trial of the maximum-rate search (each on fresh topics, deleted after it)")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON (progress goes to stderr)")
	f.IntVar(&killBroker, "kill-broker", 0, "kill this broker of the embedded cluster (no clean shutdown) during the run")
	f.DurationVar(&killAt, "kill-at", 10*time.Second, "with --kill-broker: when, from the start of the measured run")
	f.DurationVar(&down, "down", 5*time.Second, "with --kill-broker: how long it stays down before it restarts")
	f.BoolVar(&check, "check", false, "record the run's history (every send and read) and check it for lost, duplicated, reordered and divergent records; exit 1 on any (with --out, the history is saved beside the result)")
	f.IntVar(&pauseBroker, "pause-broker", 0, "freeze this broker of the embedded cluster (as SIGSTOP would: sockets open, nothing handled) during the run")
	f.DurationVar(&pauseAt, "pause-at", 10*time.Second, "with --pause-broker: when, from the start of the measured run")
	f.DurationVar(&paused, "paused", 5*time.Second, "with --pause-broker: how long it stays frozen")
	f.StringVar(&outDir, "out", "", "also write the JSON report into this directory (for loglab report)")
	cmd.PersistentFlags().StringVar(&benchDataParent, "data-dir", "", "where the embedded cluster keeps its data: a fresh directory inside this one, removed afterwards (default: the system's temporary directory); e.g. a tmpfs to take the disk out of a measurement")
	cmd.PersistentFlags().StringVar(&benchBrokerLog, "broker-log", "", "write the embedded brokers' logs (info and above) to this file")
	cmd.PersistentPreRun = func(*cobra.Command, []string) { tuneGC() }
	cmd.AddCommand(newBenchSweepCmd())
	var prof profileFlags
	prof.register(cmd)
	prof.wrap(cmd)
	for _, sub := range cmd.Commands() {
		prof.wrap(sub)
	}
	return cmd
}

// benchBrokerLog is --broker-log: where the embedded brokers' logs go
// ("": nowhere).
var benchBrokerLog string

// benchDataParent is --data-dir: the parent of the embedded cluster's data
// directory ("" for os.TempDir()).
var benchDataParent string

// workloadFlags are the workload's flags, shared by bench and bench sweep.
type workloadFlags struct {
	file, acks, compression, flush             string
	messageSize, partitions, topics, producers int
	consumers, batchBytes, rf, rate            int
	duration, warmup, linger                   time.Duration
}

func (wf *workloadFlags) register(f *pflag.FlagSet) {
	f.StringVar(&wf.file, "workload", "", "workload file (YAML, OpenMessaging Benchmark field names); flags override it")
	f.IntVar(&wf.topics, "topics", 1, "topics")
	f.IntVar(&wf.partitions, "partitions", 3, "partitions per topic")
	f.IntVar(&wf.messageSize, "message-size", 1024, "record value size in bytes")
	f.IntVar(&wf.producers, "producers", 1, "producers per topic")
	f.IntVar(&wf.consumers, "consumers", 1, "consumers per topic (one group per topic; 0: none)")
	f.IntVar(&wf.rate, "rate", 0, "records per second over all producers (0: find the maximum sustainable rate)")
	f.DurationVar(&wf.duration, "duration", 20*time.Second, "measured duration")
	f.DurationVar(&wf.warmup, "warmup", 5*time.Second, "warm-up before measuring (thrown away)")
	f.StringVar(&wf.acks, "acks", "1", "all, 1 or 0")
	f.StringVar(&wf.compression, "compression", "none", "none, gzip, snappy, lz4 or zstd")
	f.IntVar(&wf.batchBytes, "batch-bytes", 1<<20, "producer batch size limit")
	f.DurationVar(&wf.linger, "linger", time.Millisecond, "producer linger")
	f.IntVar(&wf.rf, "replication-factor", 1, "replication factor of the topics")
	f.StringVar(&wf.flush, "flush", "never", "never (page cache) or every-batch (flush.messages=1)")
}

// workload is the workload file (or the default) with the flags given
// applied over it, validated.
func (wf *workloadFlags) workload(f *pflag.FlagSet) (bench.Workload, error) {
	w := bench.DefaultWorkload()
	if wf.file != "" {
		data, err := os.ReadFile(wf.file)
		if err != nil {
			return w, fmt.Errorf("--workload: %w", err)
		}
		if w, err = bench.ParseWorkload(wf.file, data); err != nil {
			return w, err
		}
	}
	set := func(name string, apply func()) {
		if f.Changed(name) {
			apply()
		}
	}
	set("topics", func() { w.Topics = wf.topics })
	set("partitions", func() { w.PartitionsPerTopic = wf.partitions })
	set("message-size", func() { w.MessageSize = wf.messageSize })
	set("producers", func() { w.ProducersPerTopic = wf.producers })
	set("consumers", func() { w.ConsumerPerSubscription = wf.consumers })
	set("rate", func() { w.ProducerRate = wf.rate })
	set("duration", func() { w.Duration = bench.Duration(wf.duration) })
	set("warmup", func() { w.Warmup = bench.Duration(wf.warmup) })
	set("compression", func() { w.Compression = wf.compression })
	set("batch-bytes", func() { w.BatchBytes = wf.batchBytes })
	set("linger", func() { w.Linger = bench.Duration(wf.linger) })
	set("replication-factor", func() { w.ReplicationFactor = wf.rf })
	set("flush", func() { w.Flush = wf.flush })
	if f.Changed("acks") {
		d, _, err := bench.DefaultWorkload().With("acks", wf.acks, 0)
		if err != nil {
			return w, fmt.Errorf("--acks %q: want all, 1 or 0", wf.acks)
		}
		w.Acks = d.Acks
	}
	return w, w.Validate()
}

// checkTargetFlags checks the target flags bench and bench sweep share.
func checkTargetFlags(f *pflag.FlagSet, rateOfMax float64, bootstrap string, brokers int) error {
	if rateOfMax <= 0 || rateOfMax > 1 {
		return fmt.Errorf("--rate-of-max %v: want a fraction in (0, 1]", rateOfMax)
	}
	if bootstrap != "" && (f.Changed("target") || f.Changed("brokers")) {
		return errors.New("--bootstrap names a running cluster: it excludes --target and --brokers")
	}
	if brokers < 1 || brokers > 9 {
		return fmt.Errorf("--brokers %d: want 1..9", brokers)
	}
	return nil
}

// benchTarget is a target a bench runs against.
type benchTarget struct {
	seeds   []string
	name    string
	cluster *embedded.Cluster // the embedded loglab cluster, if that is the target
	peer    bench.Peer        // a non-Kafka peer, if that is the target
	cleanup func()
	// settle writes back what a search left in the page cache (an
	// embedded cluster's data is on this machine: sync(2)); nil elsewhere.
	settle func(deleted []string) error
}

// targetNames are the --target values.
const targetNames = "loglab, kfake, nats or redis"

// checkTarget checks a --target value, and that a peer's server is
// installed, before anything starts.
func checkTarget(target string) error {
	switch target {
	case "loglab", "kfake":
		return nil
	case "nats", "redis":
		return bench.PeerInstalled(target)
	}
	return fmt.Errorf("--target %q: want %s (or --bootstrap for any cluster)", target, targetNames)
}

// startTarget starts (or names) the target.
func startTarget(ctx context.Context, bootstrap, target string, brokers int) (*benchTarget, error) {
	if bootstrap != "" {
		if err := checkHostPort("--bootstrap", bootstrap); err != nil {
			return nil, err
		}
		return &benchTarget{seeds: []string{bootstrap}, name: bootstrap, cleanup: func() {}}, nil
	}
	if err := checkTarget(target); err != nil {
		return nil, err
	}
	switch target {
	case "kfake":
		t, err := bench.StartKfake()
		if err != nil {
			return nil, err
		}
		return &benchTarget{seeds: []string{t.Addr}, name: "kfake", cleanup: func() { t.Stop() }}, nil
	case "nats", "redis":
		dir, err := os.MkdirTemp("", "loglab-bench-"+target+"-")
		if err != nil {
			return nil, err
		}
		p, err := bench.StartPeer(target, dir)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		return &benchTarget{name: p.Name(), peer: p, cleanup: func() {
			p.Stop()
			os.RemoveAll(dir)
		}}, nil
	}
	dir, err := os.MkdirTemp(benchDataParent, "loglab-bench-")
	if err != nil {
		return nil, err
	}
	logOut, closeLog := io.Writer(io.Discard), func() {}
	if benchBrokerLog != "" {
		f, err := os.Create(benchBrokerLog)
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("--broker-log: %w", err)
		}
		logOut, closeLog = f, func() { f.Close() }
	}
	c, err := embedded.Start(embedded.Config{Brokers: brokers, DataDir: dir, Logger: slog.New(slog.NewTextHandler(logOut, nil))})
	if err != nil {
		closeLog()
		os.RemoveAll(dir)
		return nil, err
	}
	cleanup := func() {
		c.Stop()
		closeLog()
		os.RemoveAll(dir)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := c.WaitReady(wctx); err != nil {
		cleanup()
		return nil, err
	}
	return &benchTarget{seeds: c.Bootstrap(), name: fmt.Sprintf("loglab (%d embedded brokers)", brokers), cluster: c, cleanup: cleanup,
		settle: func(deleted []string) error { return settleEmbedded(ctx, c, deleted) }}, nil
}

// settleEmbedded waits until every broker of the embedded cluster has
// removed the deleted topics' partition directories (TOPIC-N) from its
// disk and unlinked their files (gigabytes after a search), writes back the page cache (sync(2)), and waits until
// every broker is registered and unfenced again: an overloaded trial can
// delay a broker's heartbeats past its session, and the controller then
// fences it until it catches up.
func settleEmbedded(ctx context.Context, c *embedded.Cluster, deleted []string) error {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		left := 0
		for id := 1; id <= c.Brokers(); id++ {
			for _, t := range deleted {
				m, _ := filepath.Glob(filepath.Join(c.DataDir(id), t+"-*"))
				left += len(m)
			}
			// Removed files are unlinked off the brokers' loops: wait
			// for that too, or the measured run pays for it.
			trash, _ := os.ReadDir(filepath.Join(c.DataDir(id), realhost.TrashDir))
			left += len(trash)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the search's %d deleted partition directories and files were still on disk after 3 minutes", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
	syscall.Sync()
	ready, cancel := context.WithDeadline(ctx, deadline.Add(time.Minute))
	defer cancel()
	if err := c.WaitReady(ready); err != nil {
		return fmt.Errorf("after the search: %w", err)
	}
	return nil
}

// compareRun runs w against a fresh target of the named kind.
func compareRun(ctx context.Context, w bench.Workload, target string, brokers int, opts bench.RunOptions) (bench.Report, error) {
	if target == "loglab" {
		brokers = max(brokers, w.ReplicationFactor)
	}
	tg, err := startTarget(ctx, "", target, brokers)
	if err != nil {
		return bench.Report{}, err
	}
	defer tg.cleanup()
	opts.Seeds, opts.Target, opts.Peer = tg.seeds, tg.name, tg.peer
	return bench.Run(ctx, w, opts)
}

// writeJSON writes v, indented, to dir/name (creating dir): the result
// files loglab report reads.
func writeJSON(dir, name string, v any) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), append(data, '\n'), 0o644)
}

// killFault kills broker id of the embedded cluster at at, restarting it
// down later.
func killFault(c *embedded.Cluster, id int, at, down time.Duration) bench.Fault {
	return bench.Fault{Name: fmt.Sprintf("kill broker %d", id), At: at, UndoAfter: down,
		Do: func() error { return c.Kill(id) }, Undo: func() error { return c.Restart(id) }}
}

// savedHistory is a history kept in memory (for the checkers) and
// written to a file beside the results (for loglab check).
type savedHistory struct {
	name string // the file's base name
	f    *os.File
	buf  *bufio.Writer
	w    *history.Writer
}

func createHistory(dir, name string) (*savedHistory, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	buf := bufio.NewWriterSize(f, 1<<20)
	return &savedHistory{name: name, f: f, buf: buf, w: history.Tee(buf)}, nil
}

// finish writes out and syncs the file.
func (h *savedHistory) finish() error {
	if err := errors.Join(h.buf.Flush(), h.f.Sync()); err != nil {
		return fmt.Errorf("history: %w", err)
	}
	return nil
}

// discard removes a history whose run failed: nothing half-written stays.
func (h *savedHistory) discard() {
	h.f.Close()
	os.Remove(h.f.Name())
}

func (h *savedHistory) close() { h.f.Close() }

// printComparison prints the runs side by side, with each other target's
// throughput and latency as ratios to the first run's. After a search each
// row says whether its measured run held the rate found (HELD): a maximum
// that did not hold is a trial artefact, and its ratio says so next to it.
func printComparison(w io.Writer, first bench.Report, others []bench.Report) {
	fmt.Fprintf(w, "\nside by side (same client and workload %s; ratios are the first target over the other for throughput, the other over the first for latency: >1 means the first is better)\n", first.Workload.Name)
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	all := append([]bench.Report{first}, others...)
	searched := false
	for _, r := range all {
		searched = searched || r.Held != nil
	}
	head := "TARGET\tRATE\tMB/S\tP50_MS\tP99_MS\tP99.9_MS\tE2E_P99_MS\tERRORS\tTHROUGHPUT_RATIO\tP50_RATIO\tP99_RATIO"
	if searched {
		head += "\tHELD"
	}
	fmt.Fprintln(tw, head)
	ratio := func(a, b float64) string {
		if a <= 0 || b <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", a/b)
	}
	fa := first.Aggregate
	for i, r := range all {
		a := r.Aggregate
		thr, p50, p99 := "1", "1", "1"
		if i > 0 {
			thr = ratio(fa.PublishMBps, a.PublishMBps)
			p50 = ratio(a.PublishLatency.P50, fa.PublishLatency.P50)
			p99 = ratio(a.PublishLatency.P99, fa.PublishLatency.P99)
		}
		row := fmt.Sprintf("%s\t%.0f\t%.1f\t%.2f\t%.2f\t%.2f\t%.2f\t%d\t%s\t%s\t%s", r.Target, r.Rate, a.PublishMBps, a.PublishLatency.P50,
			a.PublishLatency.P99, a.PublishLatency.P999, a.EndToEndLatency.P99, a.Errors, thr, p50, p99)
		if searched {
			held := "-"
			if r.Held != nil {
				held = map[bool]string{true: "yes", false: "no"}[*r.Held]
			}
			row += "\t" + held
		}
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
}

func printAggregate(w io.Writer, r bench.Report) {
	a := r.Aggregate
	if c := r.Check; c != nil {
		reads := "the consumers read every acknowledged record after the run"
		if !c.FinalReadsComplete {
			reads = fmt.Sprintf("the consumers did not catch up after the run: %d acknowledged records unseen", c.Unseen)
		}
		fmt.Fprintf(w, "history: %d operations; sends %d ok, %d failed, %d unknown; %d records read; %s\n",
			c.Operations, c.SendsOK, c.SendsFail, c.SendsInfo, c.RecordsRead, reads)
		fmt.Fprintf(w, "checkers (%s): %s", strings.Join(c.Checkers, ", "), c.Verdict)
		for _, k := range sortedKeys(c.Anomalies) {
			fmt.Fprintf(w, "  %s %d", k, c.Anomalies[k])
		}
		fmt.Fprintln(w)
	}
	for _, f := range r.Faults {
		if f.Error != "" {
			fmt.Fprintf(w, "fault %s failed: %s\n", f.Name, f.Error)
			continue
		}
		rec := "not back to 90 % within the run"
		if f.RecoveryS >= 0 {
			rec = fmt.Sprintf("back to 90 %% %.1fs after the repair", f.RecoveryS)
		}
		fmt.Fprintf(w, "fault %s from %.1fs to %.1fs: publish rate %.0f rec/s before, %.0f at its lowest, %s\n",
			f.Name, f.StartS, f.EndS, f.BaselineRate, f.LowestRate, rec)
	}
	if r.MaxSustainableRate > 0 {
		fmt.Fprintf(w, "maximum sustainable rate %.0f records/s; measured at %.0f\n", r.MaxSustainableRate, r.Rate)
		if r.Held != nil && !*r.Held {
			fmt.Fprintf(w, "the measured run did not hold that rate (the trials' test: %s): the search's trials were too short for it; try a longer --trial\n", bench.SustainedTest)
		}
	}
	fmt.Fprintf(w, "aggregate over %.1fs: publish %.0f rec/s (%.1f MB/s), consume %.0f rec/s (%.1f MB/s), backlog %d, errors %d\n",
		a.EndS, a.PublishRate, a.PublishMBps, a.ConsumeRate, a.ConsumeMBps, a.Backlog, a.Errors)
	for _, l := range []struct {
		name string
		p    bench.Percentiles
	}{{"publish latency", a.PublishLatency}, {"end-to-end latency", a.EndToEndLatency}} {
		fmt.Fprintf(w, "%s ms: p50 %.2f  p75 %.2f  p95 %.2f  p99 %.2f  p99.9 %.2f  p99.99 %.2f  max %.2f  (%d records)\n",
			l.name, l.p.P50, l.p.P75, l.p.P95, l.p.P99, l.p.P999, l.p.P9999, l.p.Max, l.p.Count)
	}
}
