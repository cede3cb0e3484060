package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/broker/controller"
	"github.com/loglab/loglab/broker/metrics"
	"github.com/loglab/loglab/broker/server"
	"github.com/loglab/loglab/host"
)

// brokerOpts are broker's flags.
type brokerOpts struct {
	serveFlags
	nodeID                      int32
	listen, dataDir, advertised string
	maxFrameBytes               int
	controllers, ctrlListen     string
	voters, rack                string
	rf                          int16
}

// serveFlags are the flags broker and cluster share.
type serveFlags struct {
	autoCreate            bool
	numPartitions         int32
	logLevel, metricsAddr string
}

func (s *serveFlags) register(f *pflag.FlagSet, metricsHelp string) {
	f.BoolVar(&s.autoCreate, "auto-create-topics", true, "create unknown topics on Metadata requests that allow it (auto.create.topics.enable)")
	f.Int32Var(&s.numPartitions, "num-partitions", 1, "partitions of auto-created topics (num.partitions)")
	f.StringVar(&s.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&s.metricsAddr, "metrics", "", metricsHelp)
}

// logger checks --num-partitions and returns a text logger to stderr at
// --log-level.
func (s *serveFlags) logger(cmd *cobra.Command) (*slog.Logger, error) {
	if s.numPartitions < 1 {
		return nil, fmt.Errorf("--num-partitions must be at least 1, got %d", s.numPartitions)
	}
	level, err := parseLogLevel(s.logLevel)
	if err != nil {
		return nil, err
	}
	return slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level})), nil
}

func newBrokerCmd() *cobra.Command {
	var o brokerOpts
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run one Kafka-compatible broker on real sockets and files",
		Long: `broker runs one loglab broker on this machine: a Kafka listener, topics and
partition logs under --data-dir. When it is ready to serve it prints one line
on stdout, "loglab broker: node N listening on HOST:PORT" (with --listen
127.0.0.1:0 that is the port the system chose). SIGINT or SIGTERM stops it
cleanly: logs are flushed and closed before the process exits. Logs go to
stderr.

Without quorum flags it is a standalone single broker. With --controllers
(or --voters) it joins a cluster: it registers with the controller quorum and
takes topics, leaders and ISRs from its metadata log. --voters lists the whole
quorum as id@host:port; --controller-listen also runs this node's voter there
(combined mode; its id is --node-id and its address must be the one --voters
gives it). --controllers defaults to the voters' addresses.`,
		Example: "  loglab broker --node-id 1 --listen 127.0.0.1:9092 --data-dir /var/lib/loglab\n" +
			"  loglab broker --listen 127.0.0.1:0 --data-dir ./data --auto-create-topics=false --log-level debug\n" +
			"  loglab broker --node-id 1 --listen 10.0.0.1:9092 --data-dir /var/lib/loglab \\\n" +
			"      --controller-listen 10.0.0.1:9093 --voters 1@10.0.0.1:9093,2@10.0.0.2:9093,3@10.0.0.3:9093 \\\n" +
			"      --default-replication-factor 3\n" +
			"  loglab broker --node-id 4 --listen 10.0.0.4:9092 --data-dir /var/lib/loglab \\\n" +
			"      --controllers 10.0.0.1:9093,10.0.0.2:9093,10.0.0.3:9093",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tuneGC()
			logger, err := o.logger(cmd)
			if err != nil {
				return err
			}
			q, err := o.validate()
			if err != nil {
				return err
			}
			return o.run(cmd, logger, q)
		},
	}
	f := cmd.Flags()
	f.Int32Var(&o.nodeID, "node-id", 1, "broker id (node.id)")
	f.StringVar(&o.listen, "listen", "127.0.0.1:9092", "listener address HOST:PORT (port 0: the system chooses)")
	f.StringVar(&o.dataDir, "data-dir", "", "directory for the topic catalogue and partition logs (created if missing)")
	f.StringVar(&o.advertised, "advertised-addr", "", "HOST:PORT that Metadata gives clients (advertised.listeners); default: the listener's address")
	f.IntVar(&o.maxFrameBytes, "max-frame-bytes", host.DefaultMaxFrameBytes, "largest request accepted (socket.request.max.bytes)")
	f.StringVar(&o.controllers, "controllers", "", "controller quorum addresses host:port,... (cluster mode; default: the --voters addresses)")
	f.StringVar(&o.ctrlListen, "controller-listen", "", "also run a controller voter on host:port (combined mode; needs --voters)")
	f.StringVar(&o.voters, "voters", "", "the whole controller quorum, id@host:port,... (controller.quorum.voters)")
	f.StringVar(&o.rack, "rack", "", "broker.rack (cluster mode)")
	o.serveFlags.register(f, "serve Prometheus metrics on HOST:PORT/metrics")
	f.Int16Var(&o.rf, "default-replication-factor", 1, "default.replication.factor for auto-created topics and CreateTopics with -1")
	return cmd
}

// validate checks the flags server.Run does not (it checks the rest, and
// the data directory, before anything starts).
func (o *brokerOpts) validate() (controller.Quorum, error) {
	if o.dataDir == "" {
		return controller.Quorum{}, errors.New("--data-dir is required")
	}
	if err := server.CheckHostPort("--listen", o.listen); err != nil {
		return controller.Quorum{}, err
	}
	if o.rf < 1 {
		return controller.Quorum{}, fmt.Errorf("--default-replication-factor must be at least 1, got %d", o.rf)
	}
	return controller.ParseQuorum(o.nodeID, o.controllers, o.ctrlListen, o.voters)
}

// run starts the broker, says where it listens and runs until a signal.
func (o *brokerOpts) run(cmd *cobra.Command, logger *slog.Logger, q controller.Quorum) error {
	var rec metrics.Recorder
	var gauges time.Duration
	if o.metricsAddr != "" {
		reg, stop, err := startMetrics(cmd, "broker", o.metricsAddr)
		if err != nil {
			return err
		}
		defer stop()
		rec, gauges = reg.ForBroker(o.nodeID), time.Second
	}
	cfg := broker.Config{
		Metrics: rec, MetricsGaugeInterval: gauges, NodeID: o.nodeID, Listen: o.listen, AdvertisedAddr: o.advertised,
		MaxFrameBytes: o.maxFrameBytes, AutoCreateTopicsDisable: !o.autoCreate, NumPartitions: o.numPartitions,
		Controllers: q.Controllers, Voter: q.Voter, Rack: o.rack, DefaultReplicationFactor: o.rf,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return server.Run(ctx, cfg, o.dataDir, logger, func(addr string) {
		fmt.Fprintf(cmd.OutOrStdout(), "loglab broker: node %d listening on %s\n", o.nodeID, addr)
		if q.Voter != nil {
			logger.Info("controller voter running (combined mode)", "controller_listen", o.ctrlListen, "voters", o.voters)
		}
	})
}

// parseLogLevel is --log-level: debug, info, warn or error (slog's names).
func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level must be debug, info, warn or error, got %q", s)
	}
	return l, nil
}
