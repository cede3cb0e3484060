// Package server runs one broker as a process does: on a host/realhost
// Runtime (real sockets, files, fsync) until its context ends, then stops
// it cleanly (logs flushed and closed before Run returns). It is `loglab
// broker` without the flags.
//
// Ownership and imports: it owns the runtime it starts. It imports broker,
// host and host/realhost. Real mode only: nothing that runs in simulation
// imports it.
//
//detcheck:exempt starts a realhost runtime and waits on channels; never runs in simulation
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/host/realhost"
)

// StopTimeout bounds a clean shutdown: the broker flushes and closes its
// logs, then the runtime closes sockets and files.
const StopTimeout = 30 * time.Second

// Run starts a broker with cfg, its data in dataDir, and calls ready with
// the address it listens on once it serves. It runs until ctx ends (a
// clean stop, nil) or the runtime stops on its own (an error).
func Run(ctx context.Context, cfg broker.Config, dataDir string, logger *slog.Logger, ready func(addr string)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if err := CheckDataDir(dataDir); err != nil {
		return err
	}
	b := broker.New(cfg)
	name := "broker-" + strconv.Itoa(int(cfg.NodeID))
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
		stop(rt)
		if startErr == nil {
			startErr = errors.New("no listener")
		}
		return fmt.Errorf("broker did not start: %w", startErr)
	}
	ready(addr)
	select {
	case <-ctx.Done():
		logger.Info("stopping", "why", context.Cause(ctx).Error())
	case <-rt.Done():
		return errors.New("broker runtime stopped unexpectedly")
	}
	if err := stop(rt); err != nil {
		return fmt.Errorf("clean shutdown: %w", err)
	}
	logger.Info("stopped")
	return nil
}

func stop(rt *realhost.Runtime) error {
	ctx, cancel := context.WithTimeout(context.Background(), StopTimeout)
	defer cancel()
	return rt.Stop(ctx)
}
