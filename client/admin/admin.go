package admin

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/host/realhost"
)

// Newest versions each request was checked against (a broker may speak
// newer ones; this client does not need them).
const (
	maxMetadataV        = 12
	maxCreateTopicsV    = 7
	maxDeleteTopicsV    = 6
	maxDescribeConfigsV = 4
	maxListOffsetsV     = 7
	maxListGroupsV      = 4
	maxDescribeGroupsV  = 5
	maxFindCoordinatorV = 3
	maxOffsetFetchV     = 7
	maxOffsetCommitV    = 8
)

// Options configure a Client. Zero values select the defaults noted.
type Options struct {
	// Timeout bounds the dial and each request (default 10 s).
	Timeout time.Duration
	// ClientID is sent in every request header (default "loglab-admin").
	ClientID string
}

// Client is an admin connection to a cluster through one bootstrap broker.
type Client struct {
	rt        *realhost.Runtime
	bootstrap string
	opts      Options
	boot      *conn
}

// idleNode is the client's node: it only lends its loop to connections.
type idleNode struct{}

func (idleNode) Start(host.Host) {}

// Dial starts a loop of its own and connects to bootstrap (HOST:PORT).
func Dial(bootstrap string, opts Options) (*Client, error) {
	if _, port, err := net.SplitHostPort(bootstrap); err != nil {
		return nil, fmt.Errorf("bootstrap %q: want HOST:PORT", bootstrap)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return nil, fmt.Errorf("bootstrap %q: bad port", bootstrap)
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("timeout must be positive, got %v", opts.Timeout)
	}
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.ClientID == "" {
		opts.ClientID = "loglab-admin"
	}
	rt, err := realhost.Run(idleNode{}, realhost.Config{Name: opts.ClientID, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	c := &Client{rt: rt, bootstrap: bootstrap, opts: opts}
	ctx, cancel := context.WithTimeout(context.Background(), opts.Timeout)
	defer cancel()
	if c.boot, err = dial(ctx, rt, bootstrap, opts.ClientID); err != nil {
		c.stop()
		return nil, err
	}
	return c, nil
}

// Runtime is the loop the client runs on, for other clients to share.
func (c *Client) Runtime() *realhost.Runtime { return c.rt }

// Bootstrap is the address the client was dialled with.
func (c *Client) Bootstrap() string { return c.bootstrap }

// Close closes the connection and stops the loop.
func (c *Client) Close() {
	c.boot.close()
	c.stop()
}

func (c *Client) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.rt.Stop(ctx)
}

// do sends req to the bootstrap broker.
func (c *Client) do(ctx context.Context, req kmsg.Request, maxV int16) (kmsg.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	return c.boot.do(ctx, req, maxV)
}

// doAt sends req to addr, on a connection of its own unless addr is the
// bootstrap.
func (c *Client) doAt(ctx context.Context, addr string, req kmsg.Request, maxV int16) (kmsg.Response, error) {
	if addr == c.bootstrap {
		return c.do(ctx, req, maxV)
	}
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	w, err := dial(ctx, c.rt, addr, c.opts.ClientID)
	if err != nil {
		return nil, err
	}
	defer w.close()
	return w.do(ctx, req, maxV)
}

// codeErr is the Go error for a Kafka error code (nil for 0).
func codeErr(code int16) error {
	if code == 0 {
		return nil
	}
	if err := kerr.ErrorForCode(code); err != nil {
		return err
	}
	return fmt.Errorf("error code %d", code)
}

// withMessage wraps err with the broker's error message, if it sent one.
func withMessage(err error, msg *string) error {
	if err == nil || msg == nil || *msg == "" {
		return err
	}
	return fmt.Errorf("%w (%s)", err, *msg)
}

// Broker is one broker of the cluster as Metadata names it.
type Broker struct {
	NodeID int32
	Host   string
	Port   int32
	Rack   *string
}

// Addr is the broker's HOST:PORT.
func (b Broker) Addr() string { return net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port))) }

// Partition is one partition in a Metadata answer.
type Partition struct {
	Partition   int32
	Leader      int32
	LeaderEpoch int32
	Replicas    []int32
	ISR         []int32
	Err         error // the partition's error code, nil when none
}

// Topic is one topic in a Metadata answer, partitions sorted by id.
type Topic struct {
	Name       string
	Partitions []Partition
	Err        error // the topic's error code (UNKNOWN_TOPIC_OR_PARTITION, ...)
}

// Metadata is the cluster as one broker sees it.
type Metadata struct {
	ClusterID    *string
	ControllerID int32
	Brokers      []Broker // sorted by node id
	Topics       []Topic  // sorted by name
}

// Metadata asks the bootstrap broker for topics: nil means every topic,
// an empty slice none (brokers only). It never creates a topic.
func (c *Client) Metadata(ctx context.Context, topics []string) (Metadata, error) {
	req := kmsg.NewPtrMetadataRequest()
	if topics != nil {
		req.Topics = []kmsg.MetadataRequestTopic{}
		for _, t := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(t)
			req.Topics = append(req.Topics, rt)
		}
	}
	req.AllowAutoTopicCreation = false
	resp, err := c.do(ctx, req, maxMetadataV)
	if err != nil {
		return Metadata{}, fmt.Errorf("metadata: %w", err)
	}
	m := resp.(*kmsg.MetadataResponse)
	out := Metadata{ClusterID: m.ClusterID, ControllerID: m.ControllerID}
	for _, b := range m.Brokers {
		out.Brokers = append(out.Brokers, Broker{NodeID: b.NodeID, Host: b.Host, Port: b.Port, Rack: b.Rack})
	}
	sort.Slice(out.Brokers, func(i, j int) bool { return out.Brokers[i].NodeID < out.Brokers[j].NodeID })
	for _, t := range m.Topics {
		tt := Topic{Err: codeErr(t.ErrorCode)}
		if t.Topic != nil {
			tt.Name = *t.Topic
		}
		for _, p := range t.Partitions {
			tt.Partitions = append(tt.Partitions, Partition{Partition: p.Partition, Leader: p.Leader,
				LeaderEpoch: p.LeaderEpoch, Replicas: p.Replicas, ISR: p.ISR, Err: codeErr(p.ErrorCode)})
		}
		sort.Slice(tt.Partitions, func(i, j int) bool { return tt.Partitions[i].Partition < tt.Partitions[j].Partition })
		out.Topics = append(out.Topics, tt)
	}
	sort.Slice(out.Topics, func(i, j int) bool { return out.Topics[i].Name < out.Topics[j].Name })
	return out, nil
}

// Broker returns the broker with node id id.
func (m Metadata) Broker(id int32) (Broker, bool) {
	for _, b := range m.Brokers {
		if b.NodeID == id {
			return b, true
		}
	}
	return Broker{}, false
}

// Topic returns the named topic's entry, or an error: the topic's own
// error code, or that the broker did not answer for it.
func (m Metadata) Topic(name string) (Topic, error) {
	for _, t := range m.Topics {
		if t.Name != name {
			continue
		}
		if t.Err != nil {
			return t, fmt.Errorf("topic %s: %w", name, t.Err)
		}
		return t, nil
	}
	return Topic{}, fmt.Errorf("topic %s: not in the broker's answer", name)
}

// Timeout is the client's per-request timeout.
func (c *Client) Timeout() time.Duration { return c.opts.Timeout }
