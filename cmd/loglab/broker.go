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

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/host/realhost"
)

// brokerStopTimeout bounds a clean shutdown: the broker flushes and closes
// its logs, then the runtime closes sockets and files.
const brokerStopTimeout = 30 * time.Second

func newBrokerCmd() *cobra.Command {
	var (
		nodeID        int32
		listen        string
		dataDir       string
		advertised    string
		maxFrameBytes int
		autoCreate    bool
		numPartitions int32
		logLevel      string
	)
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run one Kafka-compatible broker on real sockets and files",
		Long: `broker runs one loglab broker on this machine: a Kafka listener, topics and
partition logs under --data-dir. When it is ready to serve it prints one line
on stdout, "loglab broker: node N listening on HOST:PORT" (with --listen
127.0.0.1:0 that is the port the system chose). SIGINT or SIGTERM stops it
cleanly: logs are flushed and closed before the process exits. Logs go to
stderr.`,
		Example: "  loglab broker --node-id 1 --listen 127.0.0.1:9092 --data-dir /var/lib/loglab\n" +
			"  loglab broker --listen 127.0.0.1:0 --data-dir ./data --auto-create-topics=false --log-level debug",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			level, err := parseLogLevel(logLevel)
			if err != nil {
				return err
			}
			if dataDir == "" {
				return errors.New("--data-dir is required")
			}
			if err := checkHostPort("--listen", listen); err != nil {
				return err
			}
			if advertised != "" {
				if err := checkHostPort("--advertised-addr", advertised); err != nil {
					return err
				}
			}
			if maxFrameBytes < 0 {
				return fmt.Errorf("--max-frame-bytes must be positive, got %d", maxFrameBytes)
			}
			if numPartitions < 1 {
				return fmt.Errorf("--num-partitions must be at least 1, got %d", numPartitions)
			}
			if err := checkDataDir(dataDir); err != nil {
				return err
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			name := "broker-" + strconv.Itoa(int(nodeID))
			b := broker.New(broker.Config{
				NodeID:                  nodeID,
				Listen:                  listen,
				AdvertisedAddr:          advertised,
				MaxFrameBytes:           maxFrameBytes,
				AutoCreateTopicsDisable: !autoCreate,
				NumPartitions:           numPartitions,
			})
			rt, err := realhost.Run(b, realhost.Config{Name: name, DataDir: dataDir, Logger: logger.With("node", name)})
			if err != nil {
				return err
			}
			var addr string
			var startErr error
			if err := rt.Do(func(host.Host) { addr, startErr = b.Addr(), b.Err() }); err != nil {
				return fmt.Errorf("broker stopped while starting: %w", err)
			}
			if startErr != nil || addr == "" {
				stopRuntime(rt)
				if startErr == nil {
					startErr = errors.New("no listener")
				}
				return fmt.Errorf("broker did not start: %w", startErr)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "loglab broker: node %d listening on %s\n", nodeID, addr)

			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sigs)
			select {
			case s := <-sigs:
				logger.Info("stopping", "signal", s.String())
			case <-rt.Done():
				return errors.New("broker runtime stopped unexpectedly")
			}
			if err := stopRuntime(rt); err != nil {
				return fmt.Errorf("clean shutdown: %w", err)
			}
			logger.Info("stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.Int32Var(&nodeID, "node-id", 1, "broker id (node.id)")
	f.StringVar(&listen, "listen", "127.0.0.1:9092", "listener address HOST:PORT (port 0: the system chooses)")
	f.StringVar(&dataDir, "data-dir", "", "directory for the topic catalogue and partition logs (created if missing)")
	f.StringVar(&advertised, "advertised-addr", "", "HOST:PORT that Metadata gives clients (advertised.listeners); default: the listener's address")
	f.IntVar(&maxFrameBytes, "max-frame-bytes", host.DefaultMaxFrameBytes, "largest request accepted (socket.request.max.bytes)")
	f.BoolVar(&autoCreate, "auto-create-topics", true, "create unknown topics on Metadata requests that allow it (auto.create.topics.enable)")
	f.Int32Var(&numPartitions, "num-partitions", 1, "partitions of auto-created topics (num.partitions)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	return cmd
}

func stopRuntime(rt *realhost.Runtime) error {
	ctx, cancel := context.WithTimeout(context.Background(), brokerStopTimeout)
	defer cancel()
	return rt.Stop(ctx)
}

func parseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("--log-level must be debug, info, warn or error, got %q", s)
}

// checkHostPort rejects an address that is not HOST:PORT with a numeric
// port, before anything is started.
func checkHostPort(flag, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: want HOST:PORT", flag, addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%s %q: bad port", flag, addr)
	}
	return nil
}

// checkDataDir fails early, with one clear line, on a data dir that is a file
// or cannot be created or written.
func checkDataDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("--data-dir %s: not a directory", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--data-dir: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".loglab-probe-*")
	if err != nil {
		return fmt.Errorf("--data-dir %s is not writable: %w", dir, err)
	}
	name := probe.Name()
	probe.Close()
	return os.Remove(name)
}
