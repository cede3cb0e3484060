package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/loglab/loglab/client"
	"github.com/loglab/loglab/client/admin"
	"github.com/loglab/loglab/host"
)

// ConsumeConfig is one Consume.
type ConsumeConfig struct {
	Topic string
	// Partition is the one partition to read (-1: every partition).
	Partition int32
	// Start and Reset say where each partition starts (for a group: where
	// one without a committed offset starts).
	Start client.Offset
	Reset client.ResetPolicy
	// Group, if set, consumes as a member of this consumer group: its
	// coordinator assigns the partitions, each starts from the group's
	// committed offset, what was printed is committed, and the member
	// leaves the group at the end.
	Group string
	// Count stops after this many records (0: until ctx ends).
	Count int
	// Format is a kcat-style pattern (see Format).
	Format string
	// Warn receives what goes wrong while leaving a group (may be nil).
	Warn io.Writer
}

// ErrBadStart classifies a start position StartFrom refuses.
var ErrBadStart = errors.New("console: bad start position")

// StartFrom is where a console consumer starts, and where a partition
// without a committed offset starts: the end (the default), the log start
// (fromBeginning), or offset (non-nil; no reset: an offset out of range is
// an error). offset and fromBeginning exclude each other.
func StartFrom(fromBeginning bool, offset *int64) (client.Offset, client.ResetPolicy, error) {
	switch {
	case offset != nil && fromBeginning:
		return client.Offset{}, 0, fmt.Errorf("%w: an offset and from-beginning exclude each other", ErrBadStart)
	case offset != nil && *offset < 0:
		return client.Offset{}, 0, fmt.Errorf("%w: the offset must not be negative, got %d", ErrBadStart, *offset)
	case offset != nil:
		return client.At(*offset), client.ResetNone, nil
	case fromBeginning:
		return client.Earliest, client.ResetEarliest, nil
	}
	return client.Latest, client.ResetLatest, nil
}

// consumer is one Consume in progress; its fields are touched on the
// client's loop only, until the end.
type consumer struct {
	cfg         ConsumeConfig
	out         *bufio.Writer
	printed     int
	printedNext map[int32]int64 // partition → offset after the last printed record
	finished    chan error
}

func (co *consumer) finish(err error) {
	select {
	case co.finished <- err:
	default:
	}
}

func (co *consumer) onRecords(records []client.Record) {
	count := co.cfg.Count
	for _, r := range records {
		if count > 0 && co.printed >= count {
			break
		}
		Format(co.out, co.cfg.Format, r)
		co.printed++
		co.printedNext[r.Partition] = r.Offset + 1
	}
	co.out.Flush()
	if count > 0 && co.printed >= count {
		co.finish(nil)
	}
}

// Consume prints records to out until Count records were printed, a
// fetch fails, or ctx ends (which is not an error).
func Consume(ctx context.Context, c *admin.Client, out io.Writer, cfg ConsumeConfig) error {
	parts, err := Partitions(c, cfg.Topic, cfg.Partition)
	if err != nil {
		return err
	}
	co := &consumer{cfg: cfg, out: bufio.NewWriter(out), printedNext: map[int32]int64{}, finished: make(chan error, 1)}
	rt := c.Runtime()
	var cl *client.Client
	if err := rt.Do(func(h host.Host) {
		cl = client.New(h, client.Config{
			ClientID: "loglab-consume", Bootstrap: []string{c.Bootstrap()}, DialTimeout: c.Timeout(),
			OffsetReset: cfg.Reset, Group: cfg.Group, Topics: []string{cfg.Topic},
			// Without Count every fetched record is printed, so the
			// positions may be committed as they go; with it, only what
			// was printed is committed, at the end.
			AutoCommit:   cfg.Group != "" && cfg.Count == 0,
			OnRecords:    co.onRecords,
			OnFetchError: func(t string, p int32, err error) { co.finish(fmt.Errorf("%s/%d: %w", t, p, err)) },
		})
		if cfg.Group != "" {
			if err := cl.Subscribe(); err != nil {
				co.finish(err)
			}
			return
		}
		for _, p := range parts {
			cl.Assign(cfg.Topic, p, cfg.Start)
		}
	}); err != nil {
		return err
	}
	defer rt.Do(func(host.Host) { cl.Close() })
	if cfg.Group != "" {
		defer co.leaveGroup(rt, cl, c.Timeout())
	}
	select {
	case err := <-co.finished:
		return err
	case <-ctx.Done():
		return nil
	case <-rt.Done():
		return errors.New("client runtime stopped")
	}
}

// leaveGroup commits what was printed (with Count; otherwise the
// auto-commit on leaving does) and leaves the group, waiting at most
// timeout.
func (co *consumer) leaveGroup(rt interface{ Do(func(host.Host)) error }, cl *client.Client, timeout time.Duration) {
	warn := co.cfg.Warn
	if warn == nil {
		warn = io.Discard
	}
	done := make(chan struct{})
	rt.Do(func(host.Host) {
		leave := func() { cl.LeaveGroup(func() { close(done) }) }
		parts := slices.Sorted(maps.Keys(co.printedNext))
		if co.cfg.Count == 0 || len(parts) == 0 {
			leave()
			return
		}
		pending := len(parts)
		for _, p := range parts {
			cl.CommitOffset(co.cfg.Topic, p, co.printedNext[p], func(err error) {
				if err != nil {
					fmt.Fprintf(warn, "loglab consume: commit %s-%d: %v\n", co.cfg.Topic, p, err)
				}
				if pending--; pending == 0 {
					leave()
				}
			})
		}
	})
	select {
	case <-done:
	case <-time.After(timeout):
		fmt.Fprintln(warn, "loglab consume: leaving the group timed out")
	}
}
