package client

import (
	"errors"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire/batch"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Record is a Kafka record as produced or consumed.
type Record struct {
	Topic     string
	Partition int32
	// Offset is set on a produced record once acknowledged (-1 with
	// AcksNone) and on every consumed record.
	Offset  int64
	Key     []byte // nil: Kafka's null key
	Value   []byte
	Headers []batch.RecordHeader
	// Timestamp in ms since the epoch (CreateTime, from the host's Now).
	Timestamp int64
}

type topicPartition struct {
	topic     string
	partition int32
}

func (a topicPartition) less(b topicPartition) bool {
	if a.topic != b.topic {
		return a.topic < b.topic
	}
	return a.partition < b.partition
}

// Client is a Kafka producer and consumer running on a Host. All methods
// must be called on the host's loop (from Start or a callback); every
// callback it makes runs there too.
type Client struct {
	h      host.Host
	cfg    Config
	log    *slog.Logger
	closed bool

	conns   map[connKey]*brokerConn
	brokers map[int32]string // node id -> "host:port"

	topics       map[string]*topicMeta
	wantTopics   map[string]bool
	metaWanted   bool
	metaInFlight bool
	metaDone     bool
	metaLast     time.Duration
	metaTimer    host.Timer
	metaAge      host.Timer
	metaRotate   int

	pumpPosted bool
	nextOpID   int64

	// producer
	sticky    map[string]int32
	unrouted  []*pendingRecord // waiting for their topic's metadata
	producers map[topicPartition]*partProducer
	prodOrder []topicPartition // sorted keys of producers
	pending   int              // records produced and not yet completed
	flushers  []func()
	pid       producerID // Config.Idempotent

	// consumer
	assigned      map[topicPartition]*fetchPart
	fetchOrder    []topicPartition // sorted keys of assigned
	fetchInFlight map[string]bool  // by leader address

	// group is the consumer-group membership (group.go); nil without
	// Subscribe.
	group *groupMember
}

// New returns a client for h and starts fetching metadata from
// cfg.Bootstrap. Call it on the host's loop.
func New(h host.Host, cfg Config) *Client {
	cfg = cfg.withDefaults(h.Name())
	cl := &Client{
		h:             h,
		cfg:           cfg,
		log:           h.Logger().With("client", cfg.ClientID),
		conns:         map[connKey]*brokerConn{},
		brokers:       map[int32]string{},
		topics:        map[string]*topicMeta{},
		wantTopics:    map[string]bool{},
		sticky:        map[string]int32{},
		producers:     map[topicPartition]*partProducer{},
		assigned:      map[topicPartition]*fetchPart{},
		fetchInFlight: map[string]bool{},
	}
	cl.needMetadata()
	return cl
}

// Close fails every pending operation with ErrClosed and closes the
// connections. Records already sent complete as unknown (history info).
func (cl *Client) Close() {
	if cl.closed {
		return
	}
	cl.closed = true
	if cl.group != nil {
		cl.group.stopTimers()
	}
	for _, t := range []host.Timer{cl.metaTimer, cl.metaAge} {
		if t != nil {
			t.Stop()
		}
	}
	// Killing the connections fails in-flight requests, whose callbacks
	// complete their records; then whatever never left is failed.
	keys := slices.SortedFunc(maps.Keys(cl.conns), func(a, b connKey) int {
		if a.less(b) {
			return -1
		}
		if b.less(a) {
			return 1
		}
		return 0
	})
	for _, k := range keys {
		if bc := cl.conns[k]; bc != nil {
			bc.kill(ErrClosed)
		}
	}
	for _, r := range cl.unrouted {
		cl.complete(r, -1, ErrClosed, false)
	}
	cl.unrouted = nil
	for _, tp := range cl.prodOrder {
		pp := cl.producers[tp]
		for _, b := range pp.batches {
			cl.finishBatch(pp, b, ErrClosed)
		}
		pp.batches = nil
	}
	cl.runFlushers()
}

// Flush calls done once every record produced so far has completed. Batches
// waiting for their linger are sent at once.
func (cl *Client) Flush(done func()) {
	for _, tp := range cl.prodOrder {
		for _, b := range cl.producers[tp].batches {
			b.sealed = true
		}
	}
	cl.flushers = append(cl.flushers, done)
	cl.runFlushers()
	cl.schedulePump()
}

func (cl *Client) runFlushers() {
	if cl.pending > 0 || len(cl.flushers) == 0 {
		return
	}
	fs := cl.flushers
	cl.flushers = nil
	for _, f := range fs {
		f()
	}
}

// schedulePump runs pump once after the current callback: work produced by
// many calls in one callback (a burst of Produce) is sent together.
func (cl *Client) schedulePump() {
	if cl.pumpPosted || cl.closed {
		return
	}
	cl.pumpPosted = true
	cl.h.Post(func() {
		cl.pumpPosted = false
		if cl.closed {
			return
		}
		cl.sendBatches()
		cl.listOffsets()
		cl.fetch()
	})
}

func insertSorted(s []topicPartition, tp topicPartition) []topicPartition {
	i := len(s)
	for i > 0 && tp.less(s[i-1]) {
		i--
	}
	s = append(s, topicPartition{})
	copy(s[i+1:], s[i:])
	s[i] = tp
	return s
}

// record appends op to the history, stamping the time and process.
func (cl *Client) record(op history.Op) {
	if cl.cfg.History == nil {
		return
	}
	op.Time = int64(cl.h.Monotonic())
	op.Process = cl.cfg.ClientID
	cl.cfg.History.Append(op)
}

// errorText is how an error appears in the history: a Kafka error by its
// name, anything else by its message.
func errorText(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		if errors.Is(err, ErrDeliveryTimeout) || errors.Is(err, ErrUnknownOutcome) {
			return err.Error()
		}
		return ke.Message
	}
	return err.Error()
}

func (cl *Client) nextOp() int64 {
	cl.nextOpID++
	return cl.nextOpID
}
