package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/client"
	"github.com/loglab/loglab/host"
)

func newConsumeCmd() *cobra.Command {
	var (
		nf            netFlags
		topic         string
		partition     int32
		fromBeginning bool
		offset        int64
		count         int
		format        string
		printKey      bool
		printOffset   bool
		printPart     bool
		group         string
	)
	cmd := &cobra.Command{
		Use:   "consume",
		Short: "Print the records of a topic's partitions",
		Long: `consume reads --topic (every partition, or --partition) and prints each record.
It starts at the end of each partition, at the beginning with --from-beginning,
or at --offset N. With --count N it exits after printing N records; without it,
it runs until SIGINT or SIGTERM.

Output: one line per record, the value by default. --print-partition,
--print-offset and --print-key put those fields first, tab-separated. --format
takes a kcat-style pattern instead: %t topic, %p partition, %o offset, %k key,
%v (or %s) value, %T timestamp (ms), %h headers (k=v,...), %K key length, %S value
length, %% a percent sign, \n and \t; it adds no newline of its own.

With --group G it consumes as a member of consumer group G: the group's
coordinator assigns it partitions (shared with the group's other members),
it starts each from the group's committed offset (without one: the end, or
the beginning with --from-beginning), commits what it printed, and leaves
the group when it exits.

Compressed batches cannot be decoded by loglab's client yet: consuming one
stops with an error.`,
		Example: "  loglab consume --bootstrap 127.0.0.1:9092 --topic events --from-beginning --count 10\n" +
			"  loglab consume --bootstrap 127.0.0.1:9092 --topic events --partition 0 --offset 5 --format '%p:%o %k=%v\\n'\n" +
			"  loglab consume --bootstrap 127.0.0.1:9092 --topic events --group billing --from-beginning --count 100",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if topic == "" {
				return errors.New("--topic is required")
			}
			if count < 0 {
				return fmt.Errorf("--count must not be negative, got %d", count)
			}
			offsetSet := cmd.Flags().Changed("offset")
			if offsetSet && fromBeginning {
				return errors.New("--offset and --from-beginning exclude each other")
			}
			if offsetSet && offset < 0 {
				return fmt.Errorf("--offset must not be negative, got %d", offset)
			}
			if group != "" && (offsetSet || cmd.Flags().Changed("partition")) {
				return errors.New("--group takes partitions from the group's coordinator: it excludes --partition and --offset")
			}
			if format == "" {
				format = defaultFormat(printPart, printOffset, printKey)
			}
			start, reset := client.Latest, client.ResetLatest
			switch {
			case offsetSet:
				start, reset = client.At(offset), client.ResetNone
			case fromBeginning:
				start, reset = client.Earliest, client.ResetEarliest
			}
			s, err := nf.open()
			if err != nil {
				return err
			}
			defer s.close()
			parts, err := s.partitionsOf(topic, partition)
			if err != nil {
				return err
			}

			out := bufio.NewWriter(cmd.OutOrStdout())
			finished := make(chan error, 1)
			finish := func(err error) {
				select {
				case finished <- err:
				default:
				}
			}
			printed := 0
			printedNext := map[int32]int64{} // partition → offset after the last printed record
			var cl *client.Client
			if err := s.rt.Do(func(h host.Host) {
				cl = client.New(h, client.Config{
					ClientID:    "loglab-consume",
					Bootstrap:   []string{nf.bootstrap},
					DialTimeout: nf.timeout,
					OffsetReset: reset,
					Group:       group,
					Topics:      []string{topic},
					// Without --count every fetched record is printed, so
					// the positions may be committed as they go; with it,
					// only what was printed is committed, at exit.
					AutoCommit: group != "" && count == 0,
					OnRecords: func(records []client.Record) {
						for _, r := range records {
							if count > 0 && printed >= count {
								break
							}
							writeRecord(out, format, r)
							printed++
							printedNext[r.Partition] = r.Offset + 1
						}
						out.Flush()
						if count > 0 && printed >= count {
							finish(nil)
						}
					},
					OnFetchError: func(t string, p int32, err error) {
						finish(fmt.Errorf("%s/%d: %w", t, p, err))
					},
				})
				if group != "" {
					if err := cl.Subscribe(); err != nil {
						finish(err)
					}
					return
				}
				for _, p := range parts {
					cl.Assign(topic, p, start)
				}
			}); err != nil {
				return err
			}
			defer s.rt.Do(func(host.Host) { cl.Close() })
			if group != "" {
				defer leaveGroup(s, cl, topic, printedNext, count > 0, nf.timeout)
			}
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
			defer signal.Stop(sigs)
			if count == 0 && cmd.Flags().Changed("count") {
				return nil
			}
			select {
			case err := <-finished:
				return err
			case <-sigs:
				return nil
			case <-s.rt.Done():
				return errors.New("client runtime stopped")
			}
		},
	}
	nf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&topic, "topic", "", "topic to consume")
	f.Int32Var(&partition, "partition", -1, "only this partition (-1: every partition)")
	f.BoolVar(&fromBeginning, "from-beginning", false, "start at each partition's log start offset")
	f.Int64Var(&offset, "offset", 0, "start at this offset (use with --partition for one partition)")
	f.IntVar(&count, "count", 0, "exit after printing this many records (0: run until interrupted)")
	f.StringVar(&format, "format", "", "kcat-style output pattern (see --help)")
	f.BoolVar(&printKey, "print-key", false, "print the key before the value")
	f.BoolVar(&printOffset, "print-offset", false, "print the offset before the key and value")
	f.BoolVar(&printPart, "print-partition", false, "print the partition first")
	f.StringVar(&group, "group", "", "consume as a member of this consumer group (commits what it printed)")
	return cmd
}

// leaveGroup commits what was printed (with --count; otherwise the
// auto-commit on leaving does) and leaves the group, waiting at most
// timeout.
func leaveGroup(s *session, cl *client.Client, topic string, printedNext map[int32]int64, commit bool, timeout time.Duration) {
	done := make(chan struct{})
	s.rt.Do(func(host.Host) {
		leave := func() { cl.LeaveGroup(func() { close(done) }) }
		parts := slices.Sorted(maps.Keys(printedNext))
		if !commit || len(parts) == 0 {
			leave()
			return
		}
		pending := len(parts)
		for _, p := range parts {
			cl.CommitOffset(topic, p, printedNext[p], func(err error) {
				if err != nil {
					fmt.Fprintf(os.Stderr, "loglab consume: commit %s-%d: %v\n", topic, p, err)
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
		fmt.Fprintln(os.Stderr, "loglab consume: leaving the group timed out")
	}
}

func defaultFormat(part, offset, key bool) string {
	var fields []string
	if part {
		fields = append(fields, "%p")
	}
	if offset {
		fields = append(fields, "%o")
	}
	if key {
		fields = append(fields, "%k")
	}
	return strings.Join(append(fields, "%v"), "\t") + "\n"
}

// writeRecord expands a kcat-style format for one record.
func writeRecord(w io.Writer, format string, r client.Record) {
	var b []byte
	for i := 0; i < len(format); i++ {
		c := format[i]
		if (c != '%' && c != '\\') || i+1 == len(format) {
			b = append(b, c)
			continue
		}
		i++
		if c == '\\' {
			switch format[i] {
			case 'n':
				b = append(b, '\n')
			case 't':
				b = append(b, '\t')
			case '\\':
				b = append(b, '\\')
			default:
				b = append(b, '\\', format[i])
			}
			continue
		}
		switch format[i] {
		case 't':
			b = append(b, r.Topic...)
		case 'p':
			b = strconv.AppendInt(b, int64(r.Partition), 10)
		case 'o':
			b = strconv.AppendInt(b, r.Offset, 10)
		case 'k':
			b = append(b, r.Key...)
		case 'v', 's': // %s is kcat's spelling
			b = append(b, r.Value...)
		case 'T':
			b = strconv.AppendInt(b, r.Timestamp, 10)
		case 'K':
			b = strconv.AppendInt(b, lenOrNull(r.Key), 10)
		case 'S':
			b = strconv.AppendInt(b, lenOrNull(r.Value), 10)
		case 'h':
			for j, h := range r.Headers {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, h.Key...)
				b = append(b, '=')
				b = append(b, h.Value...)
			}
		case '%':
			b = append(b, '%')
		default:
			b = append(b, '%', format[i])
		}
	}
	w.Write(b)
}

// lenOrNull is kcat's length: -1 for a null key or value.
func lenOrNull(b []byte) int64 {
	if b == nil {
		return -1
	}
	return int64(len(b))
}
