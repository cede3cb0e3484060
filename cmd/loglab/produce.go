package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/client/admin"
	"github.com/loglab/loglab/client/console"
)

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
			acks, err := console.ParseAcks(acksFlag)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("key") && keySep == "" {
				return errors.New("--key needs a non-empty separator")
			}
			return nf.with(func(s *admin.Client) error {
				res, err := console.Produce(s, cmd.InOrStdin(), console.ProduceConfig{Topic: topic, Partition: partition, KeySep: keySep,
					Acks: acks, DeliveryTimeout: deliveryTimeout})
				if err != nil {
					return err
				}
				if res.Failed > 0 {
					return fmt.Errorf("%d of %d records failed (first: %v)", res.Failed, res.Sent, res.FirstErr)
				}
				return nil
			})
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
