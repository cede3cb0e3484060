package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/host/realhost"
)

// Newest versions the admin commands were checked against (the broker may
// speak newer ones; the CLI does not need them).
const (
	maxMetadataV        = 12
	maxCreateTopicsV    = 7
	maxDeleteTopicsV    = 6
	maxDescribeConfigsV = 4
	maxListOffsetsV     = 7
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

// session is a CLI runtime plus an admin connection to the bootstrap broker.
type session struct {
	rt   *realhost.Runtime
	w    *wireConn
	opts netFlags
}

func (n netFlags) open() (*session, error) {
	if err := checkHostPort("--bootstrap", n.bootstrap); err != nil {
		return nil, err
	}
	if n.timeout <= 0 {
		return nil, fmt.Errorf("--timeout must be positive, got %v", n.timeout)
	}
	rt, err := cliRuntime()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.timeout)
	defer cancel()
	w, err := dialWire(ctx, rt, n.bootstrap)
	if err != nil {
		stopRuntime(rt)
		return nil, err
	}
	return &session{rt: rt, w: w, opts: n}, nil
}

func (s *session) do(req kmsg.Request, maxV int16) (kmsg.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.timeout)
	defer cancel()
	return s.w.Do(ctx, req, maxV)
}

func (s *session) close() {
	s.w.Close()
	stopRuntime(s.rt)
}

// metadata asks for topics (nil: every topic) without creating any.
func (s *session) metadata(topicNames []string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	if topicNames != nil {
		req.Topics = []kmsg.MetadataRequestTopic{}
		for _, t := range topicNames {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(t)
			req.Topics = append(req.Topics, rt)
		}
	}
	req.AllowAutoTopicCreation = false
	resp, err := s.do(req, maxMetadataV)
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	m := resp.(*kmsg.MetadataResponse)
	sort.Slice(m.Topics, func(i, j int) bool { return deref(m.Topics[i].Topic) < deref(m.Topics[j].Topic) })
	for i := range m.Topics {
		p := m.Topics[i].Partitions
		sort.Slice(p, func(a, b int) bool { return p[a].Partition < p[b].Partition })
	}
	return m, nil
}

// topicPartitions returns a topic's partition ids, or the topic's error.
func (s *session) topicPartitions(topic string) ([]int32, error) {
	m, err := s.metadata([]string{topic})
	if err != nil {
		return nil, err
	}
	for _, t := range m.Topics {
		if deref(t.Topic) != topic {
			continue
		}
		if t.ErrorCode != 0 {
			return nil, fmt.Errorf("topic %s: %w", topic, kerrFor(t.ErrorCode))
		}
		ps := make([]int32, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			ps = append(ps, p.Partition)
		}
		return ps, nil
	}
	return nil, fmt.Errorf("topic %s: not in the broker's answer", topic)
}

// partitionsOf is topicPartitions narrowed to partition (>= 0), which must
// exist.
func (s *session) partitionsOf(topic string, partition int32) ([]int32, error) {
	parts, err := s.topicPartitions(topic)
	if err != nil || partition < 0 {
		return parts, err
	}
	if !containsPartition(parts, partition) {
		return nil, fmt.Errorf("topic %s has no partition %d (it has %d)", topic, partition, len(parts))
	}
	return []int32{partition}, nil
}

func kerrFor(code int16) error {
	if err := kerr.ErrorForCode(code); err != nil {
		return err
	}
	return fmt.Errorf("error code %d", code)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

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
		nf         netFlags
		topic      string
		partitions int32
		rf         int16
		configs    []string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a topic (CreateTopics)",
		Example: "  loglab topic create --bootstrap 127.0.0.1:9092 --topic events --partitions 3\n" +
			"  loglab topic create --bootstrap 127.0.0.1:9092 --topic audit --config retention.ms=86400000 --config segment.bytes=1048576",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if topic == "" {
				return fmt.Errorf("--topic is required")
			}
			if partitions < 1 && partitions != -1 {
				return fmt.Errorf("--partitions must be at least 1 (or -1 for the broker's default), got %d", partitions)
			}
			req := kmsg.NewPtrCreateTopicsRequest()
			req.TimeoutMillis = int32(nf.timeout.Milliseconds())
			t := kmsg.NewCreateTopicsRequestTopic()
			t.Topic, t.NumPartitions, t.ReplicationFactor = topic, partitions, rf
			for _, kv := range configs {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return fmt.Errorf("--config %q: want KEY=VALUE", kv)
				}
				c := kmsg.NewCreateTopicsRequestTopicConfig()
				c.Name, c.Value = k, kmsg.StringPtr(v)
				t.Configs = append(t.Configs, c)
			}
			req.Topics = append(req.Topics, t)
			s, err := nf.open()
			if err != nil {
				return err
			}
			defer s.close()
			resp, err := s.do(req, maxCreateTopicsV)
			if err != nil {
				return fmt.Errorf("create topic %s: %w", topic, err)
			}
			for _, rt := range resp.(*kmsg.CreateTopicsResponse).Topics {
				if rt.ErrorCode != 0 {
					return fmt.Errorf("create topic %s: %w%s", topic, kerrFor(rt.ErrorCode), detail(rt.ErrorMessage))
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created topic %s\n", topic)
			return nil
		},
	}
	nf.add(cmd)
	cmd.Flags().StringVar(&topic, "topic", "", "topic name")
	cmd.Flags().Int32Var(&partitions, "partitions", 1, "number of partitions (-1: the broker's num.partitions)")
	cmd.Flags().Int16Var(&rf, "replication-factor", -1, "replicas per partition (-1: the broker's default)")
	cmd.Flags().StringArrayVar(&configs, "config", nil, "topic config KEY=VALUE (repeat the flag for more)")
	return cmd
}

func detail(msg *string) string {
	if msg == nil || *msg == "" {
		return ""
	}
	return " (" + *msg + ")"
}

func newTopicListCmd() *cobra.Command {
	var nf netFlags
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the broker's topics, one per line, sorted",
		Example: "  loglab topic list --bootstrap 127.0.0.1:9092",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := nf.open()
			if err != nil {
				return err
			}
			defer s.close()
			m, err := s.metadata(nil)
			if err != nil {
				return err
			}
			for _, t := range m.Topics {
				fmt.Fprintln(cmd.OutOrStdout(), deref(t.Topic))
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
			s, err := nf.open()
			if err != nil {
				return err
			}
			defer s.close()
			return describeTopics(cmd.OutOrStdout(), s, topics)
		},
	}
	nf.add(cmd)
	cmd.Flags().StringArrayVar(&topics, "topic", nil, "topic to describe (repeat for more; default: all)")
	return cmd
}

func describeTopics(out io.Writer, s *session, names []string) error {
	m, err := s.metadata(names)
	if err != nil {
		return err
	}
	tw := out
	for _, t := range m.Topics {
		name := deref(t.Topic)
		if t.ErrorCode != 0 {
			return fmt.Errorf("topic %s: %w", name, kerrFor(t.ErrorCode))
		}
		overrides, err := topicOverrides(s, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "Topic: %s\tPartitionCount: %d\tConfigs: %s\n", name, len(t.Partitions), strings.Join(overrides, ","))
		starts, ends, err := offsetsOf(s, name, t.Partitions)
		if err != nil {
			return err
		}
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				fmt.Fprintf(tw, "\tPartition: %d\tError: %v\n", p.Partition, kerrFor(p.ErrorCode))
				continue
			}
			fmt.Fprintf(tw, "\tPartition: %d\tLeader: %d\tReplicas: %s\tIsr: %s\tLogStartOffset: %d\tHighWatermark: %d\n",
				p.Partition, p.Leader, joinInts(p.Replicas), joinInts(p.ISR), starts[p.Partition], ends[p.Partition])
		}
	}
	return nil
}

// topicOverrides lists the configs set on a topic (DYNAMIC_TOPIC_CONFIG), sorted.
func topicOverrides(s *session, topic string) ([]string, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType, r.ResourceName = kmsg.ConfigResourceTypeTopic, topic
	req.Resources = append(req.Resources, r)
	resp, err := s.do(req, maxDescribeConfigsV)
	if err != nil {
		return nil, fmt.Errorf("describe configs of %s: %w", topic, err)
	}
	var out []string
	for _, res := range resp.(*kmsg.DescribeConfigsResponse).Resources {
		if res.ErrorCode != 0 {
			return nil, fmt.Errorf("describe configs of %s: %w%s", topic, kerrFor(res.ErrorCode), detail(res.ErrorMessage))
		}
		for _, c := range res.Configs {
			if c.Source == kmsg.ConfigSourceDynamicTopicConfig {
				out = append(out, c.Name+"="+deref(c.Value))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// offsetsOf returns each partition's log start offset and high watermark
// (ListOffsets with timestamps -2 and -1).
func offsetsOf(s *session, topic string, parts []kmsg.MetadataResponseTopicPartition) (starts, ends map[int32]int64, err error) {
	starts, ends = map[int32]int64{}, map[int32]int64{}
	for _, ts := range []int64{-2, -1} {
		req := kmsg.NewPtrListOffsetsRequest()
		req.ReplicaID = -1
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		for _, p := range parts {
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = p.Partition, ts, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
		resp, err := s.do(req, maxListOffsetsV)
		if err != nil {
			return nil, nil, fmt.Errorf("list offsets of %s: %w", topic, err)
		}
		for _, t := range resp.(*kmsg.ListOffsetsResponse).Topics {
			for _, p := range t.Partitions {
				off := p.Offset
				if p.ErrorCode != 0 {
					off = -1
				}
				if ts == -2 {
					starts[p.Partition] = off
				} else {
					ends[p.Partition] = off
				}
			}
		}
	}
	return starts, ends, nil
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
			req := kmsg.NewPtrDeleteTopicsRequest()
			req.TimeoutMillis = int32(nf.timeout.Milliseconds())
			req.TopicNames = topics
			for _, t := range topics {
				dt := kmsg.NewDeleteTopicsRequestTopic()
				dt.Topic = kmsg.StringPtr(t)
				req.Topics = append(req.Topics, dt)
			}
			s, err := nf.open()
			if err != nil {
				return err
			}
			defer s.close()
			resp, err := s.do(req, maxDeleteTopicsV)
			if err != nil {
				return fmt.Errorf("delete topics: %w", err)
			}
			var failed []string
			for _, rt := range resp.(*kmsg.DeleteTopicsResponse).Topics {
				if rt.ErrorCode != 0 {
					failed = append(failed, fmt.Sprintf("%s: %v%s", deref(rt.Topic), kerrFor(rt.ErrorCode), detail(rt.ErrorMessage)))
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted topic %s\n", deref(rt.Topic))
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
