package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/client/admin"
	"github.com/loglab/loglab/client/console"
)

// consumeHelp is `loglab consume --help`'s long text.
const consumeHelp = `consume reads --topic (every partition, or --partition) and prints each record.
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
stops with an error.`

// consumeOpts are the flags of newConsumeCmd.
type consumeOpts struct {
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
}

func newConsumeCmd() *cobra.Command {
	var o consumeOpts
	cmd := &cobra.Command{
		Use:   "consume",
		Short: "Print the records of a topic's partitions",
		Long:  consumeHelp,
		Example: "  loglab consume --bootstrap 127.0.0.1:9092 --topic events --from-beginning --count 10\n" +
			"  loglab consume --bootstrap 127.0.0.1:9092 --topic events --partition 0 --offset 5 --format '%p:%o %k=%v\\n'\n" +
			"  loglab consume --bootstrap 127.0.0.1:9092 --topic events --group billing --from-beginning --count 100",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	o.nf.add(cmd)
	f := cmd.Flags()
	f.StringVar(&o.topic, "topic", "", "topic to consume")
	f.Int32Var(&o.partition, "partition", -1, "only this partition (-1: every partition)")
	f.BoolVar(&o.fromBeginning, "from-beginning", false, "start at each partition's log start offset")
	f.Int64Var(&o.offset, "offset", 0, "start at this offset (use with --partition for one partition)")
	f.IntVar(&o.count, "count", 0, "exit after printing this many records (0: run until interrupted)")
	f.StringVar(&o.format, "format", "", "kcat-style output pattern (see --help)")
	f.BoolVar(&o.printKey, "print-key", false, "print the key before the value")
	f.BoolVar(&o.printOffset, "print-offset", false, "print the offset before the key and value")
	f.BoolVar(&o.printPart, "print-partition", false, "print the partition first")
	f.StringVar(&o.group, "group", "", "consume as a member of this consumer group (commits what it printed)")
	return cmd
}

func (o *consumeOpts) run(cmd *cobra.Command) error {
	if o.topic == "" {
		return errors.New("--topic is required")
	}
	if o.count < 0 {
		return fmt.Errorf("--count must not be negative, got %d", o.count)
	}
	var offset *int64
	if cmd.Flags().Changed("offset") {
		offset = &o.offset
	}
	if o.group != "" && (offset != nil || cmd.Flags().Changed("partition")) {
		return errors.New("--group takes partitions from the group's coordinator: it excludes --partition and --offset")
	}
	start, reset, err := console.StartFrom(o.fromBeginning, offset)
	if err != nil {
		return err
	}
	if o.format == "" {
		o.format = console.DefaultFormat(o.printPart, o.printOffset, o.printKey)
	}
	cfg := console.ConsumeConfig{Topic: o.topic, Partition: o.partition, Start: start, Reset: reset,
		Group: o.group, Count: o.count, Format: o.format, Warn: cmd.ErrOrStderr()}
	return o.nf.with(func(c *admin.Client) error {
		if o.count == 0 && cmd.Flags().Changed("count") {
			_, err := console.Partitions(c, o.topic, o.partition)
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return console.Consume(ctx, c, cmd.OutOrStdout(), cfg)
	})
}
