package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/bench/embedded"
	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/broker/bugzoo"
	"github.com/loglab/loglab/broker/metrics/prom"
	"github.com/loglab/loglab/broker/server"
)

// clusterReadyTimeout bounds the wait for every broker to register with
// the quorum before `loglab cluster` reports it ready (it keeps running
// either way).
const clusterReadyTimeout = 60 * time.Second

// clusterOpts are cluster's flags.
type clusterOpts struct {
	serveFlags
	brokers, ctrlOffset int
	listen, dataDir     string
	rf                  int16
	minISR              int64
	bugs                []string
}

func newClusterCmd() *cobra.Command {
	var o clusterOpts
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Run a cluster of N brokers with their controller quorum in this process",
		Long: `cluster runs N loglab brokers in one process on real sockets and files, in
combined mode: the first min(3, N) brokers also run the controller quorum's
voters (KRaft's process.roles=broker,controller). Broker k (node.id k) listens
on HOST:PORT+k-1, its voter on HOST:PORT+OFFSET+k-1 (--controller-port-offset),
its data is in DIR/broker-k. With --listen HOST:0 every port is picked free.

It prints one line per broker, "loglab cluster: broker K listening on ADDR
(controller CADDR)", then "loglab cluster: bootstrap ADDR,ADDR,...", and
"loglab cluster: ready" once Metadata lists every broker. SIGINT or SIGTERM
stops every broker cleanly. Logs go to stderr.`,
		Example: "  loglab cluster --brokers 3 --listen 127.0.0.1:9092 --data-dir ./cluster\n" +
			"  kcat -L -b 127.0.0.1:9092",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tuneGC()
			logger, err := o.logger(cmd)
			if err != nil {
				return err
			}
			zoo, err := bugzoo.Parse(o.bugs)
			if err != nil {
				return fmt.Errorf("--bug: %w", err)
			}
			cfg, err := o.config(logger, zoo)
			if err != nil {
				return err
			}
			return o.run(cmd, cfg)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.brokers, "brokers", 3, "number of brokers (node ids 1..N)")
	f.StringVar(&o.listen, "listen", "127.0.0.1:9092", "HOST:PORT of broker 1; broker k gets PORT+k-1 (port 0: all ports picked free)")
	f.StringVar(&o.dataDir, "data-dir", "", "directory holding broker-1 ... broker-N (created if missing)")
	f.IntVar(&o.ctrlOffset, "controller-port-offset", 100, "voter k listens on PORT+OFFSET+k-1")
	f.Int16Var(&o.rf, "default-replication-factor", 0, "default.replication.factor for auto-created topics and CreateTopics with -1 (0: min(3, --brokers))")
	f.Int64Var(&o.minISR, "min-insync-replicas", 1, "default min.insync.replicas of topics")
	o.serveFlags.register(f, "serve Prometheus metrics of every broker (label broker) on HOST:PORT/metrics")
	f.StringArrayVar(&o.bugs, "bug", nil, "switch on a bug-zoo bug in every broker (repeatable; see docs/bugzoo.md); testing only")
	return cmd
}

// config is the embedded cluster the flags describe, validated, with its
// data directory created.
func (o *clusterOpts) config(logger *slog.Logger, zoo bugzoo.Set) (embedded.Config, error) {
	if o.dataDir == "" {
		return embedded.Config{}, errors.New("--data-dir is required")
	}
	if err := server.CheckHostPort("--listen", o.listen); err != nil {
		return embedded.Config{}, err
	}
	hostPart, portStr, _ := net.SplitHostPort(o.listen)
	base, _ := strconv.Atoi(portStr)
	cfg := embedded.Config{
		Brokers: o.brokers, Host: hostPart, BasePort: base, ControllerPortOffset: o.ctrlOffset,
		DataDir: o.dataDir, DefaultReplicationFactor: o.rf, MinInsyncReplicas: o.minISR,
		Broker: broker.Config{AutoCreateTopicsDisable: !o.autoCreate, NumPartitions: o.numPartitions, Bugs: zoo},
		Logger: logger, StopTimeout: server.StopTimeout,
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	if err := server.CheckDataDir(o.dataDir); err != nil {
		return cfg, fmt.Errorf("--data-dir: %w", err)
	}
	return cfg, nil
}

// run starts the cluster, says where it listens, and runs until a signal.
func (o *clusterOpts) run(cmd *cobra.Command, cfg embedded.Config) error {
	if o.metricsAddr != "" {
		reg, stop, err := startMetrics(cmd, "cluster", o.metricsAddr)
		if err != nil {
			return err
		}
		defer stop()
		cfg.Metrics = reg.ForBroker
	}
	c, err := embedded.Start(cfg)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	c.WriteListeners(out, "loglab cluster")
	logger, zoo := cfg.Logger, cfg.Broker.Bugs
	if !zoo.Empty() {
		logger.Warn("bug-zoo switches on: this cluster is deliberately broken", "bugs", zoo.String())
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	readyCtx, cancel := context.WithTimeout(ctx, clusterReadyTimeout)
	err = c.WaitReady(readyCtx)
	cancel()
	switch {
	case err == nil:
		fmt.Fprintln(out, "loglab cluster: ready")
	case ctx.Err() == nil:
		logger.Warn("not every broker registered yet; running anyway", "err", err)
	}
	<-ctx.Done()
	logger.Info("stopping")
	if err := c.Stop(); err != nil {
		return fmt.Errorf("clean shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// startMetrics serves a new Prometheus registry on addr and says where.
func startMetrics(cmd *cobra.Command, who, addr string) (*prom.Registry, func(), error) {
	if err := server.CheckHostPort("--metrics", addr); err != nil {
		return nil, nil, err
	}
	reg := prom.New()
	maddr, stop, err := reg.Serve(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("--%w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "loglab %s: metrics on http://%s/metrics\n", who, maddr)
	return reg, stop, nil
}
