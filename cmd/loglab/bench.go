package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/loglab/loglab/bench"
)

// benchOpts are bench's flags.
type benchOpts struct {
	wf                            workloadFlags
	bootstrap, target, peer       string
	brokers                       int
	rateOfMax                     float64
	window, trial                 time.Duration
	asJSON, check                 bool
	killBroker, pauseBroker       int
	killAt, down, pauseAt, paused time.Duration
	outDir                        string
	compare                       []string
	sm                            simFlags
}

// benchHelp is `loglab bench --help`'s long text.
const benchHelp = `bench runs a workload — in the shape of an OpenMessaging Benchmark workload:
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
  bench sweep: one run per value of a parameter, for scaling curves.`

func newBenchCmd() *cobra.Command {
	var o benchOpts
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure throughput and latency of a workload against a cluster",
		Long:  benchHelp,
		Example: "  loglab bench --duration 20s --rate 0\n" +
			"  loglab bench --brokers 3 --replication-factor 3 --acks all --rate 50000\n" +
			"  loglab bench --target kfake --duration 10s\n" +
			"  loglab bench --bootstrap 127.0.0.1:9092 --workload my-workload.yaml --json",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := o.wf.workload(cmd.Flags())
			if err != nil {
				return err
			}
			if o.sm.on {
				if err := o.sm.check(cmd.Flags(), "bootstrap", "target", "peer", "compare", "kill-broker", "pause-broker", "check", "rate-of-max", "trial"); err != nil {
					return err
				}
				return o.sm.run(cmd, w, o.brokers, o.window, o.outDir, o.asJSON)
			}
			j, err := o.job(cmd.Flags(), w)
			if err != nil {
				return err
			}
			return o.run(cmd, j)
		},
	}
	o.register(cmd)
	return cmd
}

func (o *benchOpts) register(cmd *cobra.Command) {
	f := cmd.Flags()
	o.wf.register(f)
	f.StringVar(&o.bootstrap, "bootstrap", "", "benchmark a running Kafka-compatible cluster at HOST:PORT instead of an embedded one")
	f.StringVar(&o.target, "target", "loglab", "embedded target: loglab, kfake (franz-go's fake Kafka), nats (NATS JetStream) or redis (Redis Streams); the last two start their installed servers")
	o.sm.register(f)
	f.StringVar(&o.peer, "peer", "", "nats or redis: the same as --target nats|redis")
	f.StringSliceVar(&o.compare, "compare", nil, "after the run, run the same workload against these targets too (kfake, nats, redis, loglab) and print the ratios")
	f.IntVar(&o.brokers, "brokers", 1, "brokers of the embedded loglab cluster")
	f.Float64Var(&o.rateOfMax, "rate-of-max", 1, "with --rate 0: run at this fraction of the maximum found")
	f.DurationVar(&o.window, "window", 10*time.Second, "reporting window")
	f.DurationVar(&o.trial, "trial", 10*time.Second, "length of each trial of the maximum-rate search (each on fresh topics, deleted after it)")
	f.BoolVar(&o.asJSON, "json", false, "print the report as JSON (progress goes to stderr)")
	f.IntVar(&o.killBroker, "kill-broker", 0, "kill this broker of the embedded cluster (no clean shutdown) during the run")
	f.DurationVar(&o.killAt, "kill-at", 10*time.Second, "with --kill-broker: when, from the start of the measured run")
	f.DurationVar(&o.down, "down", 5*time.Second, "with --kill-broker: how long it stays down before it restarts")
	f.BoolVar(&o.check, "check", false, "record the run's history (every send and read) and check it for lost, duplicated, reordered and divergent records; exit 1 on any (with --out, the history is saved beside the result)")
	f.IntVar(&o.pauseBroker, "pause-broker", 0, "freeze this broker of the embedded cluster (as SIGSTOP would: sockets open, nothing handled) during the run")
	f.DurationVar(&o.pauseAt, "pause-at", 10*time.Second, "with --pause-broker: when, from the start of the measured run")
	f.DurationVar(&o.paused, "paused", 5*time.Second, "with --pause-broker: how long it stays frozen")
	f.StringVar(&o.outDir, "out", "", "also write the JSON report into this directory (for loglab report)")
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
}

// job checks the flags against each other and makes them a bench.Job.
func (o *benchOpts) job(f *pflag.FlagSet, w bench.Workload) (bench.Job, error) {
	if err := o.sm.check(f); err != nil {
		return bench.Job{}, err
	}
	if err := checkTargetFlags(f, o.rateOfMax, o.bootstrap, o.brokers); err != nil {
		return bench.Job{}, err
	}
	if f.Changed("peer") {
		if f.Changed("target") {
			return bench.Job{}, errors.New("--peer names the target: it excludes --target")
		}
		if o.peer != "nats" && o.peer != "redis" {
			return bench.Job{}, fmt.Errorf("--peer %q: want nats or redis", o.peer)
		}
		o.target = o.peer
	}
	j := bench.Job{Workload: w, Compare: o.compare, Check: o.check, OutDir: o.outDir,
		Target:     bench.TargetSpec{Bootstrap: o.bootstrap, Kind: o.target, Brokers: o.brokers, DataParent: benchDataParent, BrokerLog: benchBrokerLog},
		KillBroker: o.killBroker, KillAt: o.killAt, Down: o.down, PauseBroker: o.pauseBroker, PauseAt: o.pauseAt, Paused: o.paused,
		Window: o.window, Trial: o.trial, RateOfMax: o.rateOfMax}
	return j, j.Validate()
}

// run starts the target, runs the job (and its comparisons) and prints
// the report.
func (o *benchOpts) run(cmd *cobra.Command, j bench.Job) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tg, err := bench.StartEndpoint(ctx, j.Target)
	if err != nil {
		return err
	}
	defer tg.Close()
	out, w := cmd.OutOrStdout(), j.Workload
	progress := func(line string) { fmt.Fprintln(cmd.ErrOrStderr(), line) }
	if !o.asJSON {
		progress = func(line string) { fmt.Fprintln(out, line) }
		fmt.Fprintf(out, "target %s (%s); workload %s: %d topic(s) x %d partitions, %d B records, acks=%d, RF %d, flush %s\n",
			tg.Name, strings.Join(tg.Seeds, ","), w.Name, w.Topics, w.PartitionsPerTopic, w.MessageSize, w.Acks, w.ReplicationFactor, w.Flush)
	}
	rep, err := j.Measure(ctx, tg, progress)
	if err != nil {
		return err
	}
	others, err := j.Comparisons(ctx, progress, func(kind string) {
		if !o.asJSON {
			fmt.Fprintf(out, "\ncompare: the same workload against %s\n", kind)
		}
	})
	if err != nil {
		return err
	}
	if err := bench.WriteReports(out, o.asJSON, rep, others); err != nil {
		return err
	}
	if rep.Check != nil && rep.Check.Verdict != "pass" {
		fmt.Fprintf(cmd.ErrOrStderr(), "the checkers' verdict on the run's history: %s %v\n", rep.Check.Verdict, rep.Check.Anomalies)
		return exitError{1}
	}
	return nil
}

// benchBrokerLog is --broker-log: where the embedded brokers' logs go
// ("": nowhere).
var benchBrokerLog string

// benchDataParent is --data-dir: the parent of the embedded cluster's data
// directory ("" for os.TempDir()).
var benchDataParent string

// workloadFlags are the workload's flags, shared by bench and bench
// sweep: --workload, and one flag per bench.WorkloadParams entry, read
// back by name.
type workloadFlags struct{ file string }

func (wf *workloadFlags) register(f *pflag.FlagSet) {
	f.StringVar(&wf.file, "workload", "", "workload file (YAML, OpenMessaging Benchmark field names); flags override it")
	f.Int("topics", 1, "topics")
	f.Int("partitions", 3, "partitions per topic")
	f.Int("message-size", 1024, "record value size in bytes")
	f.Int("producers", 1, "producers per topic")
	f.Int("consumers", 1, "consumers per topic (one group per topic; 0: none)")
	f.Int("rate", 0, "records per second over all producers (0: find the maximum sustainable rate)")
	f.Duration("duration", 20*time.Second, "measured duration")
	f.Duration("warmup", 5*time.Second, "warm-up before measuring (thrown away)")
	f.String("acks", "1", "all, 1 or 0")
	f.String("compression", "none", "none, gzip, snappy, lz4 or zstd")
	f.Int("batch-bytes", 1<<20, "producer batch size limit")
	f.Duration("linger", time.Millisecond, "producer linger")
	f.Int("replication-factor", 1, "replication factor of the topics")
	f.String("flush", "never", "never (page cache) or every-batch (flush.messages=1)")
}

// workload is the workload file (or the default) with the flags given
// applied over it, validated.
func (wf *workloadFlags) workload(f *pflag.FlagSet) (bench.Workload, error) {
	w, err := bench.LoadWorkload(wf.file)
	if err != nil {
		return w, fmt.Errorf("--workload: %w", err)
	}
	for _, name := range bench.WorkloadParams {
		if fl := f.Lookup(name); fl != nil && fl.Changed {
			if w, err = w.Set(name, fl.Value.String()); err != nil {
				return w, fmt.Errorf("--%s: %w", name, err)
			}
		}
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
