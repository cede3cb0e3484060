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
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/bench/embedded"
	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/broker/bugzoo"
	"github.com/loglab/loglab/broker/metrics"
)

// clusterReadyTimeout bounds the wait for every broker to register with
// the quorum before `loglab cluster` reports it ready (it keeps running
// either way).
const clusterReadyTimeout = 60 * time.Second

func newClusterCmd() *cobra.Command {
	var (
		brokers       int
		listen        string
		dataDir       string
		ctrlOffset    int
		rf            int16
		minISR        int64
		numPartitions int32
		autoCreate    bool
		bugs          []string
		logLevel      string
		metricsAddr   string
	)
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
			level, err := parseLogLevel(logLevel)
			if err != nil {
				return err
			}
			if brokers < 1 || brokers > 100 {
				return fmt.Errorf("--brokers must be between 1 and 100, got %d", brokers)
			}
			if dataDir == "" {
				return errors.New("--data-dir is required")
			}
			if err := checkHostPort("--listen", listen); err != nil {
				return err
			}
			hostPart, portStr, _ := net.SplitHostPort(listen)
			base, _ := strconv.Atoi(portStr)
			if base > 0 && (ctrlOffset > -brokers && ctrlOffset < brokers) {
				return fmt.Errorf("--controller-port-offset %d: the controller ports would overlap the %d broker ports", ctrlOffset, brokers)
			}
			if base > 0 && (base+brokers-1 > 65535 || base+ctrlOffset < 1 || base+ctrlOffset+min(3, brokers)-1 > 65535) {
				return fmt.Errorf("--listen %s with %d brokers and --controller-port-offset %d: ports out of range", listen, brokers, ctrlOffset)
			}
			if rf == 0 {
				rf = int16(min(3, brokers))
			}
			if rf < 1 || int(rf) > brokers {
				return fmt.Errorf("--default-replication-factor must be between 1 and --brokers (%d), got %d", brokers, rf)
			}
			if minISR < 1 || minISR > int64(rf) {
				return fmt.Errorf("--min-insync-replicas must be between 1 and the replication factor (%d), got %d", rf, minISR)
			}
			if numPartitions < 1 {
				return fmt.Errorf("--num-partitions must be at least 1, got %d", numPartitions)
			}
			zoo, err := bugzoo.Parse(bugs)
			if err != nil {
				return fmt.Errorf("--bug: %w", err)
			}
			if err := checkDataDir(dataDir); err != nil {
				return err
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			var perBroker func(int32) metrics.Recorder
			if metricsAddr != "" {
				prom, stop, err := startMetrics(cmd, "cluster", metricsAddr)
				if err != nil {
					return err
				}
				defer stop()
				perBroker = prom.forBroker
			}
			c, err := embedded.Start(embedded.Config{
				Metrics: perBroker,
				Brokers: brokers, Host: hostPart, BasePort: base, ControllerPortOffset: ctrlOffset,
				DataDir: dataDir, DefaultReplicationFactor: rf, MinInsyncReplicas: minISR,
				Broker: broker.Config{
					AutoCreateTopicsDisable: !autoCreate,
					NumPartitions:           numPartitions,
					Bugs:                    zoo,
				},
				Logger:      logger,
				StopTimeout: brokerStopTimeout,
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for k := 1; k <= brokers; k++ {
				if ca := c.ControllerAddr(k); ca != "" {
					fmt.Fprintf(out, "loglab cluster: broker %d listening on %s (controller %s)\n", k, c.Addr(k), ca)
				} else {
					fmt.Fprintf(out, "loglab cluster: broker %d listening on %s\n", k, c.Addr(k))
				}
			}
			fmt.Fprintf(out, "loglab cluster: bootstrap %s\n", strings.Join(c.Bootstrap(), ","))
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
		},
	}
	f := cmd.Flags()
	f.IntVar(&brokers, "brokers", 3, "number of brokers (node ids 1..N)")
	f.StringVar(&listen, "listen", "127.0.0.1:9092", "HOST:PORT of broker 1; broker k gets PORT+k-1 (port 0: all ports picked free)")
	f.StringVar(&dataDir, "data-dir", "", "directory holding broker-1 ... broker-N (created if missing)")
	f.IntVar(&ctrlOffset, "controller-port-offset", 100, "voter k listens on PORT+OFFSET+k-1")
	f.Int16Var(&rf, "default-replication-factor", 0, "default.replication.factor for auto-created topics and CreateTopics with -1 (0: min(3, --brokers))")
	f.Int64Var(&minISR, "min-insync-replicas", 1, "default min.insync.replicas of topics")
	f.Int32Var(&numPartitions, "num-partitions", 1, "partitions of auto-created topics (num.partitions)")
	f.BoolVar(&autoCreate, "auto-create-topics", true, "create unknown topics on Metadata requests that allow it (auto.create.topics.enable)")
	f.StringVar(&metricsAddr, "metrics", "", "serve Prometheus metrics of every broker (label broker) on HOST:PORT/metrics")
	f.StringArrayVar(&bugs, "bug", nil, "switch on a bug-zoo bug in every broker (repeatable; see docs/bugzoo.md); testing only")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}
