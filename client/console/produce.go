package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/loglab/loglab/client"
	"github.com/loglab/loglab/client/admin"
	"github.com/loglab/loglab/host"
)

// maxProduceInFlight bounds records read but not yet completed, so a
// large input does not sit in memory all at once.
const maxProduceInFlight = 10000

// ParseAcks reads all (or -1), 1 or 0.
func ParseAcks(s string) (client.Acks, error) {
	switch s {
	case "all", "-1":
		return client.AcksAll, nil
	case "1":
		return client.AcksLeader, nil
	case "0":
		return client.AcksNone, nil
	}
	return 0, fmt.Errorf("--acks must be all, 1 or 0, got %q", s)
}

// ProduceConfig is one Produce.
type ProduceConfig struct {
	Topic string
	// Partition is where every record goes (-1: the default partitioner).
	Partition int32
	// KeySep, if set, splits each line into KEY KeySep VALUE at the first
	// separator; a line without it is not sent and counts as failed.
	KeySep          string
	Acks            client.Acks
	DeliveryTimeout time.Duration // delivery.timeout.ms
}

// ProduceResult counts the lines read and the records that failed.
type ProduceResult struct {
	Sent, Failed int
	FirstErr     error
}

// Produce sends every line of in as one record through the cluster c is
// connected to, and waits for every outcome. The topic (and partition)
// must exist. With acks 0 the broker does not answer, so every record
// counts as sent.
func Produce(c *admin.Client, in io.Reader, cfg ProduceConfig) (ProduceResult, error) {
	if _, err := Partitions(c, cfg.Topic, cfg.Partition); err != nil {
		return ProduceResult{}, err
	}
	var cl *client.Client
	rt := c.Runtime()
	if err := rt.Do(func(h host.Host) {
		cl = client.New(h, client.Config{ClientID: "loglab-produce", Bootstrap: []string{c.Bootstrap()}, Acks: cfg.Acks, DialTimeout: c.Timeout(),
			DeliveryTimeout: cfg.DeliveryTimeout})
	}); err != nil {
		return ProduceResult{}, err
	}
	defer rt.Do(func(host.Host) { cl.Close() })
	return produceLines(c, cl, in, cfg), nil
}

// produceLines sends every line of in and waits for all outcomes. It runs
// on the caller's goroutine and hands each record to the loop with Post.
func produceLines(c *admin.Client, cl *client.Client, in io.Reader, cfg ProduceConfig) ProduceResult {
	var nFailed atomic.Int64
	var first atomic.Value
	fail := func(err error) {
		nFailed.Add(1)
		first.CompareAndSwap(nil, err)
	}
	sem := make(chan struct{}, maxProduceInFlight)
	done := func(_ client.Record, err error) {
		<-sem
		if err != nil && !(cfg.Acks == client.AcksNone && errors.Is(err, client.ErrUnknownOutcome)) {
			fail(err)
		}
	}
	rt := c.Runtime()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var res ProduceResult
	for line := 1; sc.Scan(); line++ {
		res.Sent++
		r := client.Record{Topic: cfg.Topic, Partition: cfg.Partition, Value: []byte(sc.Text())}
		if cfg.KeySep != "" {
			k, v, ok := strings.Cut(sc.Text(), cfg.KeySep)
			if !ok {
				fail(fmt.Errorf("line %d has no key separator %q", line, cfg.KeySep))
				continue
			}
			r.Key, r.Value = []byte(k), []byte(v)
		}
		sem <- struct{}{}
		rt.Post(func(host.Host) {
			if cfg.Partition >= 0 {
				cl.ProduceTo(r, done)
			} else {
				cl.Produce(r, done)
			}
		})
	}
	if err := sc.Err(); err != nil {
		fail(fmt.Errorf("reading input: %w", err))
	}
	flushed := make(chan struct{})
	rt.Post(func(host.Host) { cl.Flush(func() { close(flushed) }) })
	select {
	case <-flushed:
	case <-rt.Done():
		fail(errors.New("client runtime stopped"))
	}
	if e := first.Load(); e != nil {
		res.FirstErr = e.(error)
	}
	res.Failed = int(nFailed.Load())
	return res
}

// Partitions returns topic's partitions, or just partition (>= 0), which
// must exist.
func Partitions(c *admin.Client, topic string, partition int32) ([]int32, error) {
	parts, err := c.Partitions(context.Background(), topic)
	if err != nil || partition < 0 {
		return parts, err
	}
	for _, p := range parts {
		if p == partition {
			return []int32{partition}, nil
		}
	}
	return nil, fmt.Errorf("topic %s has no partition %d (it has %d)", topic, partition, len(parts))
}
