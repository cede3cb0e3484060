package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/loglab/loglab/broker/server"
	"github.com/loglab/loglab/client/admin"
	"github.com/loglab/loglab/client/console"
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

// with connects an admin client to the bootstrap broker, runs f with it
// and closes it.
func (n netFlags) with(f func(*admin.Client) error) error {
	c, err := n.open()
	if err != nil {
		return err
	}
	defer c.Close()
	return f(c)
}

// open connects an admin client to the bootstrap broker.
func (n netFlags) open() (*admin.Client, error) {
	if err := server.CheckHostPort("--bootstrap", n.bootstrap); err != nil {
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
		RunE:    missingSubcommand("loglab topic list --bootstrap HOST:PORT"),
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
			if err := spec.Validate(); err != nil {
				return err
			}
			var err error
			if spec.Configs, err = console.ParseConfigs(configs); err != nil {
				return fmt.Errorf("--%w", err)
			}
			return nf.with(func(c *admin.Client) error {
				if err := c.CreateTopic(context.Background(), spec); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created topic %s\n", spec.Name)
				return nil
			})
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
			return nf.with(func(c *admin.Client) error { return console.ListTopics(context.Background(), c, cmd.OutOrStdout()) })
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
			return nf.with(func(c *admin.Client) error {
				return console.DescribeTopics(context.Background(), c, cmd.OutOrStdout(), topics)
			})
		},
	}
	nf.add(cmd)
	cmd.Flags().StringArrayVar(&topics, "topic", nil, "topic to describe (repeat for more; default: all)")
	return cmd
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
			return nf.with(func(c *admin.Client) error {
				return console.DeleteTopics(context.Background(), c, cmd.OutOrStdout(), topics)
			})
		},
	}
	nf.add(cmd)
	cmd.Flags().StringArrayVar(&topics, "topic", nil, "topic to delete (repeat for more)")
	return cmd
}
