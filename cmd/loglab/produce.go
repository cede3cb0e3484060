package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/client"
	"github.com/loglab/loglab/host"
)

// maxProduceInFlight bounds records read from stdin but not yet completed,
// so a large input does not sit in memory all at once.
const maxProduceInFlight = 10000

func parseAcks(s string) (client.Acks, error) {
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

func newProduceCmd() *cobra.Command {
	var (
		nf              netFlags
		topic           string
		acksFlag        string
		keySep          string
		partition       int32
		deliveryTimeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "produce",
		Short: "Produce one record per stdin line and wait for every acknowledgement",
		Long: `produce reads stdin line by line and sends each line as one record to --topic
(the topic must exist). With --key SEP a line is KEY SEP VALUE (split at the
first SEP); a line without SEP is not sent and counts as failed. Records go to
the partition Kafka's default partitioner picks, or to --partition.
It exits 0 once every record is acknowledged, and non-zero, printing how many
failed, if any did. With --acks 0 the broker does not answer, so every record
counts as sent.`,
		Example: "  printf 'a\\nb\\n' | loglab produce --bootstrap 127.0.0.1:9092 --topic events\n" +
			"  printf 'user1:clicked\\n' | loglab produce --bootstrap 127.0.0.1:9092 --topic events --key : --acks 1",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if topic == "" {
				return errors.New("--topic is required")
			}
			acks, err := parseAcks(acksFlag)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("key") && keySep == "" {
				return errors.New("--key needs a non-empty separator")
			}
			s, err := nf.open()
			if err != nil {
				return err
			}
			defer s.close()
			if _, err := s.partitionsOf(topic, partition); err != nil {
				return err
			}
			var cl *client.Client
			if err := s.rt.Do(func(h host.Host) {
				cl = client.New(h, client.Config{
					ClientID:        "loglab-produce",
					Bootstrap:       []string{nf.bootstrap},
					Acks:            acks,
					DialTimeout:     nf.timeout,
					DeliveryTimeout: deliveryTimeout,
				})
			}); err != nil {
				return err
			}
			defer s.rt.Do(func(host.Host) { cl.Close() })
			sent, failed, firstErr := produceLines(cmd.InOrStdin(), s, cl, topic, partition, keySep, acks)
			if failed > 0 {
				return fmt.Errorf("%d of %d records failed (first: %v)", failed, sent, firstErr)
			}
			return nil
		},
	}
	nf.add(cmd)
	cmd.Flags().StringVar(&topic, "topic", "", "topic to produce to")
	cmd.Flags().StringVar(&acksFlag, "acks", "all", "acknowledgement: all, 1 or 0")
	cmd.Flags().StringVar(&keySep, "key", "", "each line is KEY SEP VALUE with this separator")
	cmd.Flags().Int32Var(&partition, "partition", -1, "produce every record to this partition (-1: the default partitioner)")
	cmd.Flags().DurationVar(&deliveryTimeout, "delivery-timeout", 30*time.Second, "give up on a record not acknowledged after this long (delivery.timeout.ms)")
	return cmd
}

func containsPartition(parts []int32, p int32) bool {
	for _, x := range parts {
		if x == p {
			return true
		}
	}
	return false
}

// produceLines sends every line of in and waits for all outcomes. It runs on
// the command's goroutine and hands each record to the loop with Post.
func produceLines(in io.Reader, s *session, cl *client.Client, topic string, partition int32, keySep string, acks client.Acks) (sent, failed int, firstErr error) {
	var nFailed atomic.Int64
	var first atomic.Value
	fail := func(err error) {
		nFailed.Add(1)
		first.CompareAndSwap(nil, err)
	}
	sem := make(chan struct{}, maxProduceInFlight)
	done := func(_ client.Record, err error) {
		<-sem
		if err != nil && !(acks == client.AcksNone && errors.Is(err, client.ErrUnknownOutcome)) {
			fail(err)
		}
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		sent++
		r := client.Record{Topic: topic, Partition: partition, Value: []byte(sc.Text())}
		if keySep != "" {
			k, v, ok := strings.Cut(sc.Text(), keySep)
			if !ok {
				fail(fmt.Errorf("line %d has no key separator %q", line, keySep))
				continue
			}
			r.Key, r.Value = []byte(k), []byte(v)
		}
		sem <- struct{}{}
		s.rt.Post(func(host.Host) {
			if partition >= 0 {
				cl.ProduceTo(r, done)
			} else {
				cl.Produce(r, done)
			}
		})
	}
	if err := sc.Err(); err != nil {
		fail(fmt.Errorf("reading stdin: %w", err))
	}
	flushed := make(chan struct{})
	s.rt.Post(func(host.Host) { cl.Flush(func() { close(flushed) }) })
	select {
	case <-flushed:
	case <-s.rt.Done():
		fail(errors.New("client runtime stopped"))
	}
	if e := first.Load(); e != nil {
		firstErr = e.(error)
	}
	return sent, int(nFailed.Load()), firstErr
}
