package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/client/admin"
)

// netFlags are the flags every command that talks to a broker shares.
type netFlags struct {
	bootstrap string
	timeout   time.Duration
}

func (n *netFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&n.bootstrap, "bootstrap", "127.0.0.1:9092", "broker address HOST:PORT")
	cmd.Flags().DurationVar(&n.timeout, "timeout", 10*time.Second, "give up reaching the broker (and on each admin request) after this long")
}

// open connects an admin client to the bootstrap broker.
func (n netFlags) open() (*admin.Client, error) {
	if err := checkHostPort("--bootstrap", n.bootstrap); err != nil {
		return nil, err
	}
	if n.timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive, got %v", n.timeout)
	}
	return admin.Dial(n.bootstrap, admin.Options{Timeout: n.timeout, ClientID: "loglab-cli"})
}

func newTopicCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "topic",
		Short:   "Create, list, describe and delete topics on a broker",
		Example: "  loglab topic create --bootstrap 127.0.0.1:9092 --topic events --partitions 3\n  loglab topic list --bootstrap 127.0.0.1:9092",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return fmt.Errorf("missing subcommand (try: loglab topic list --bootstrap HOST:PORT)")
		},
	}
	cmd.AddCommand(newTopicCreateCmd(), newTopicListCmd(), newTopicDescribeCmd(), newTopicDeleteCmd())
	return cmd
}

func newTopicCreateCmd() *cobra.Command {
	var (
		nf      netFlags
		spec    admin.TopicSpec
		configs []string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a topic (CreateTopics)",
		Example: "  loglab topic create --bootstrap 127.0.0.1:9092 --topic events --partitions 3\n" +
			"  loglab topic create --bootstrap 127.0.0.1:9092 --topic audit --config retention.ms=86400000 --config segment.bytes=1048576",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if spec.Name == "" {
				return fmt.Errorf("--topic is required")
			}
			if spec.Partitions < 1 && spec.Partitions != -1 {
				return fmt.Errorf("--partitions must be at least 1 (or -1 for the broker's default), got %d", spec.Partitions)
			}
			for _, kv := range configs {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return fmt.Errorf("--config %q: want KEY=VALUE", kv)
				}
				spec.Configs = append(spec.Configs, admin.Config{Name: k, Value: kmsg.StringPtr(v)})
			}
			c, err := nf.open()
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.CreateTopic(context.Background(), spec); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created topic %s\n", spec.Name)
			return nil
		},
	}
	nf.add(cmd)
	cmd.Flags().StringVar(&spec.Name, "topic", "", "topic name")
	cmd.Flags().Int32Var(&spec.Partitions, "partitions", 1, "number of partitions (-1: the broker's num.partitions)")
	cmd.Flags().Int16Var(&spec.ReplicationFactor, "replication-factor", -1, "replicas per partition (-1: the broker's default)")
	cmd.Flags().StringArrayVar(&configs, "config", nil, "topic config KEY=VALUE (repeat the flag for more)")
	return cmd
}

func newTopicListCmd() *cobra.Command {
	var nf netFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the broker's topics, one per line, sorted",
		Example: "  loglab topic list --bootstrap 127.0.0.1:9092",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := nf.open()
			if err != nil {
				return err
			}
			defer c.Close()
			m, err := c.Metadata(context.Background(), nil)
			if err != nil {
				return err
			}
			for _, t := range m.Topics {
				fmt.Fprintln(cmd.OutOrStdout(), t.Name)
			}
			return nil
		},
	}
	nf.add(cmd)
	return cmd
}

func newTopicDescribeCmd() *cobra.Command {
	var (
		nf     netFlags
		topics []string
	)
	cmd := &cobra.Command{
		Use:   "describe",
		Short: "Describe topics: partitions, leaders, replicas, offsets and config overrides",
		Long: `describe prints, per topic, a header line (partition count and the configs set
on the topic) and one line per partition with its leader, replicas, in-sync
replicas, log start offset and high watermark. Without --topic it describes
every topic.`,
		Example: "  loglab topic describe --bootstrap 127.0.0.1:9092 --topic events",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := nf.open()
			if err != nil {
				return err
			}
			defer c.Close()
			return describeTopics(cmd.OutOrStdout(), c, topics)
		},
	}
	nf.add(cmd)
	cmd.Flags().StringArrayVar(&topics, "topic", nil, "topic to describe (repeat for more; default: all)")
	return cmd
}

func describeTopics(out io.Writer, c *admin.Client, names []string) error {
	ds, err := c.DescribeTopics(context.Background(), names)
	if err != nil {
		return err
	}
	for _, d := range ds {
		var overrides []string
		for _, cfg := range d.Overrides {
			overrides = append(overrides, cfg.Name+"="+cfg.String())
		}
		fmt.Fprintf(out, "Topic: %s\tPartitionCount: %d\tConfigs: %s\n", d.Name, len(d.Partitions), strings.Join(overrides, ","))
		for _, p := range d.Partitions {
			if p.Err != nil {
				fmt.Fprintf(out, "\tPartition: %d\tError: %v\n", p.Partition, p.Err)
				continue
			}
			fmt.Fprintf(out, "\tPartition: %d\tLeader: %d\tReplicas: %s\tIsr: %s\tLogStartOffset: %d\tHighWatermark: %d\n",
				p.Partition, p.Leader, joinInts(p.Replicas), joinInts(p.ISR), d.LogStartOffset[p.Partition], d.HighWatermark[p.Partition])
		}
	}
	return nil
}

func joinInts(v []int32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

func newTopicDeleteCmd() *cobra.Command {
	var (
		nf     netFlags
		topics []string
	)
	cmd := &cobra.Command{
		Use:     "delete",
		Short:   "Delete topics (DeleteTopics)",
		Example: "  loglab topic delete --bootstrap 127.0.0.1:9092 --topic events",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(topics) == 0 {
				return fmt.Errorf("--topic is required")
			}
			c, err := nf.open()
			if err != nil {
				return err
			}
			defer c.Close()
			results, err := c.DeleteTopics(context.Background(), topics...)
			if err != nil {
				return err
			}
			var failed []string
			for _, r := range results {
				if r.Err != nil {
					failed = append(failed, fmt.Sprintf("%s: %v", r.Topic, r.Err))
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted topic %s\n", r.Topic)
			}
			if len(failed) > 0 {
				return fmt.Errorf("delete topic %s", strings.Join(failed, "; "))
			}
			return nil
		},
	}
	nf.add(cmd)
	cmd.Flags().StringArrayVar(&topics, "topic", nil, "topic to delete (repeat for more)")
	return cmd
}
