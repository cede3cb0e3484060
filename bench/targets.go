package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/host/realhost"
	"github.com/twmb/franz-go/pkg/kfake"
)

// ErrTargetStart reports a target that did not come up.
var ErrTargetStart = errors.New("bench: target did not start")

// Target is a running broker to benchmark.
type Target struct {
	// Name identifies the target in results ("loglab", "kfake").
	Name string
	// Addr is its bootstrap address, host:port.
	Addr string
	stop func() error
}

// Stop shuts the target down and releases its sockets and files.
func (t *Target) Stop() error { return t.stop() }

// StartLoglab runs one loglab broker on realhost at 127.0.0.1 on a free
// port with its data under dataDir and the default broker config: topic
// defaults are Kafka's, so flush.messages and flush.ms are "never" (the
// page cache decides). logger may be nil (warnings to slog.Default()).
func StartLoglab(dataDir string, logger *slog.Logger) (*Target, error) {
	if logger == nil {
		logger = slog.Default()
	}
	b := broker.New(broker.Config{Listen: "127.0.0.1:0"})
	rt, err := realhost.Run(b, realhost.Config{Name: "bench-broker", DataDir: dataDir, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("%w: loglab: %w", ErrTargetStart, err)
	}
	stop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return rt.Stop(ctx)
	}
	var addr string
	var startErr error
	if err := rt.Do(func(host.Host) { addr, startErr = b.Addr(), b.Err() }); err != nil {
		startErr = err
	}
	if startErr != nil || addr == "" {
		stop()
		return nil, fmt.Errorf("%w: loglab: %v", ErrTargetStart, startErr)
	}
	return &Target{Name: "loglab", Addr: addr, stop: stop}, nil
}

// StartKfake runs franz-go's in-memory fake Kafka (one broker) as the
// reference target. It keeps every record in memory and never touches a
// disk, so it is a bound on what the protocol path alone costs, not a
// storage peer.
func StartKfake() (*Target, error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		return nil, fmt.Errorf("%w: kfake: %w", ErrTargetStart, err)
	}
	addrs := c.ListenAddrs()
	if len(addrs) != 1 {
		c.Close()
		return nil, fmt.Errorf("%w: kfake: %d listen addresses, want 1", ErrTargetStart, len(addrs))
	}
	return &Target{Name: "kfake", Addr: addrs[0], stop: func() error { c.Close(); return nil }}, nil
}
