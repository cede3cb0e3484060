package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/client"
	"github.com/loglab/loglab/client/console"
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
				format = console.DefaultFormat(printPart, printOffset, printKey)
			}
			cfg := console.ConsumeConfig{Topic: topic, Partition: partition, Start: client.Latest, Reset: client.ResetLatest,
				Group: group, Count: count, Format: format, Warn: cmd.ErrOrStderr()}
			switch {
			case offsetSet:
				cfg.Start, cfg.Reset = client.At(offset), client.ResetNone
			case fromBeginning:
				cfg.Start, cfg.Reset = client.Earliest, client.ResetEarliest
			}
			c, err := nf.open()
			if err != nil {
				return err
			}
			defer c.Close()
			if count == 0 && cmd.Flags().Changed("count") {
				_, err := console.Partitions(c, topic, partition)
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return console.Consume(ctx, c, cmd.OutOrStdout(), cfg)
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
