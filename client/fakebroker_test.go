package client

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/wire"
	"github.com/loglab/loglab/wire/batch"
)

// fakeBroker is a one-node, in-memory Kafka written for these tests: it
// answers ApiVersions, Metadata, Produce, Fetch and ListOffsets, serves one
// request per connection at a time (as Kafka does), and lets a test inject
// faults into Produce.
type fakeBroker struct {
	name     string
	port     int32
	topics   map[string]int32      // partitions per topic
	logs     map[string][][][]byte // topic -> partition -> batches (offsets assigned)
	next     map[string][]int64    // next offset per partition
	h        host.Host
	versions map[int16][2]int16 // advertised; nil = everything kmsg knows, from 0

	// produceFault decides what happens to the n-th Produce request (1-based).
	produceFault func(n int) fault
	produces     int
	// produceAt records the monotonic time of each Produce request and the
	// record count of each batch in it.
	produceAt      []time.Duration
	produceBatches [][]int
	metadataCount  int
	// leaderEpoch, when set, is the leader epoch the n-th Metadata answer
	// (1-based) gives every partition (0 otherwise).
	leaderEpoch func(n int) int32
	// fetchEpochs records each fetched partition's CurrentLeaderEpoch.
	fetchEpochs []int32
	keys        []int16 // API keys in arrival order
	// producerIDs counts InitProducerId requests; each gets the next id.
	producerIDs int64
}

type fault struct {
	errorCode   int16 // answer every partition with this error, append nothing
	noResponse  bool  // append, never answer
	closeAfter  bool  // append, then close the connection without answering
	wrongCorrID bool  // answer with a wrong correlation id
}

func newFakeBroker(name string, topics map[string]int32) *fakeBroker {
	fb := &fakeBroker{name: name, port: 9092, topics: topics, logs: map[string][][][]byte{}, next: map[string][]int64{}}
	for t, n := range topics {
		fb.logs[t] = make([][][]byte, n)
		fb.next[t] = make([]int64, n)
	}
	return fb
}

func (fb *fakeBroker) addr() string { return fmt.Sprintf("%s:%d", fb.name, fb.port) }

// values returns the values in a partition's log, in offset order.
func (fb *fakeBroker) values(topic string, p int32) []string {
	var out []string
	for _, b := range fb.logs[topic][p] {
		recs, err := batch.Records(b)
		if err != nil {
			panic(err)
		}
		for _, r := range recs {
			out = append(out, string(r.Value))
		}
	}
	return out
}

// fakeConn serves one connection: requests are handled in order, and a
// held Fetch (long poll) blocks those behind it.
type fakeConn struct {
	fb      *fakeBroker
	c       host.Conn
	pending [][]byte
	busy    bool
	closed  bool
}

func (fb *fakeBroker) Start(h host.Host) {
	fb.h = h
	_, err := h.Net().Listen(fb.addr(), host.ListenOptions{}, func(c host.Conn) host.ConnHandler {
		return &fakeConn{fb: fb, c: c}
	})
	if err != nil {
		panic(err)
	}
}

func (fc *fakeConn) OnFrame(_ host.Conn, frame []byte) {
	fc.pending = append(fc.pending, frame)
	fc.serve()
}

func (fc *fakeConn) OnClose(host.Conn, error) { fc.closed = true }

func (fc *fakeConn) serve() {
	for !fc.busy && !fc.closed && len(fc.pending) > 0 {
		frame := fc.pending[0]
		fc.pending = fc.pending[1:]
		fc.handle(frame)
	}
}

func (fc *fakeConn) reply(req kmsg.Request, corr int32, resp kmsg.Response) {
	out := resp.AppendTo(wire.AppendResponseHeader(nil, req.Key(), corr, resp.IsFlexible()))
	if !fc.closed {
		fc.c.Send(out)
	}
}

func (fc *fakeConn) handle(frame []byte) {
	fb := fc.fb
	key, version, corr, err := wire.PeekRequestHeader(frame)
	if err != nil {
		panic(err)
	}
	fb.keys = append(fb.keys, key)
	req := kmsg.RequestForKey(key)
	if key == wire.ApiVersionsKey && version > fb.maxVersion(key) {
		// KIP-511: answer in v0 with UNSUPPORTED_VERSION and our ranges.
		resp := fb.apiVersions(0)
		resp.ErrorCode = 35
		req.SetVersion(0)
		fc.reply(req, corr, resp)
		return
	}
	req.SetVersion(version)
	_, body, err := wire.ParseRequestHeader(frame, req.IsFlexible())
	if err != nil {
		panic(err)
	}
	if err := req.ReadFrom(body); err != nil {
		panic(fmt.Sprintf("fake broker: decode %s v%d: %v", kmsg.NameForKey(key), version, err))
	}
	switch r := req.(type) {
	case *kmsg.ApiVersionsRequest:
		fc.reply(req, corr, fb.apiVersions(version))
	case *kmsg.MetadataRequest:
		fb.metadataCount++
		fc.reply(req, corr, fb.metadata(r))
	case *kmsg.ProduceRequest:
		fc.produce(r, corr)
	case *kmsg.ListOffsetsRequest:
		fc.reply(req, corr, fb.listOffsets(r))
	case *kmsg.FetchRequest:
		fc.fetch(r, corr)
	case *kmsg.InitProducerIDRequest:
		resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
		resp.ProducerID = 1000 + fb.producerIDs
		fb.producerIDs++
		fc.reply(req, corr, resp)
	default:
		panic("fake broker: unexpected " + kmsg.NameForKey(key))
	}
}

func (fb *fakeBroker) maxVersion(key int16) int16 {
	if v, ok := fb.versions[key]; ok {
		return v[1]
	}
	if fb.versions != nil {
		return -1
	}
	return kmsg.RequestForKey(key).MaxVersion()
}

func (fb *fakeBroker) apiVersions(version int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(version)
	for _, k := range []int16{0, 1, 2, 3, 18, 22} {
		if fb.maxVersion(k) < 0 {
			continue
		}
		ak := kmsg.NewApiVersionsResponseApiKey()
		ak.ApiKey, ak.MinVersion, ak.MaxVersion = k, 0, fb.maxVersion(k)
		resp.ApiKeys = append(resp.ApiKeys, ak)
	}
	return resp
}

func (fb *fakeBroker) metadata(r *kmsg.MetadataRequest) *kmsg.MetadataResponse {
	resp := r.ResponseKind().(*kmsg.MetadataResponse)
	b := kmsg.NewMetadataResponseBroker()
	b.NodeID, b.Host, b.Port = 1, fb.name, fb.port
	resp.Brokers = []kmsg.MetadataResponseBroker{b}
	resp.ControllerID = 1
	for _, rt := range r.Topics {
		t := kmsg.NewMetadataResponseTopic()
		t.Topic = rt.Topic
		n, ok := fb.topics[*rt.Topic]
		if !ok {
			t.ErrorCode = 3 // UNKNOWN_TOPIC_OR_PARTITION
		}
		for p := int32(0); p < n; p++ {
			mp := kmsg.NewMetadataResponseTopicPartition()
			mp.Partition, mp.Leader, mp.LeaderEpoch = p, 1, 0
			if fb.leaderEpoch != nil {
				mp.LeaderEpoch = fb.leaderEpoch(fb.metadataCount)
			}
			mp.Replicas, mp.ISR = []int32{1}, []int32{1}
			t.Partitions = append(t.Partitions, mp)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

func (fc *fakeConn) produce(r *kmsg.ProduceRequest, corr int32) {
	fb := fc.fb
	fb.produces++
	fb.produceAt = append(fb.produceAt, fb.h.Monotonic())
	var f fault
	if fb.produceFault != nil {
		f = fb.produceFault(fb.produces)
	}
	resp := r.ResponseKind().(*kmsg.ProduceResponse)
	var counts []int
	for _, t := range r.Topics {
		rt := kmsg.NewProduceResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewProduceResponseTopicPartition()
			rp.Partition = p.Partition
			h, err := batch.Validate(p.Records)
			if err != nil {
				panic(err)
			}
			counts = append(counts, int(h.RecordCount))
			if f.errorCode != 0 {
				rp.ErrorCode = f.errorCode
			} else {
				b := append([]byte(nil), p.Records[:h.Size()]...)
				rp.BaseOffset = fb.next[t.Topic][p.Partition]
				batch.SetBaseOffset(b, rp.BaseOffset)
				fb.logs[t.Topic][p.Partition] = append(fb.logs[t.Topic][p.Partition], b)
				fb.next[t.Topic][p.Partition] += int64(h.RecordCount)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	fb.produceBatches = append(fb.produceBatches, counts)
	switch {
	case r.Acks == 0 || f.noResponse:
	case f.closeAfter:
		fc.c.Close()
		fc.closed = true
	case f.wrongCorrID:
		fc.reply(r, corr+100, resp)
	default:
		fc.reply(r, corr, resp)
	}
}

func (fb *fakeBroker) listOffsets(r *kmsg.ListOffsetsRequest) *kmsg.ListOffsetsResponse {
	resp := r.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewListOffsetsResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewListOffsetsResponseTopicPartition()
			rp.Partition = p.Partition
			rp.Offset = 0 // earliest: nothing is ever deleted here
			if p.Timestamp == -1 {
				rp.Offset = fb.next[t.Topic][p.Partition]
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

// fetch answers at once if any partition has data, else after MaxWait.
func (fc *fakeConn) fetch(r *kmsg.FetchRequest, corr int32) {
	fb := fc.fb
	for _, t := range r.Topics {
		for _, p := range t.Partitions {
			fb.fetchEpochs = append(fb.fetchEpochs, p.CurrentLeaderEpoch)
		}
	}
	build := func() (*kmsg.FetchResponse, bool) {
		resp := r.ResponseKind().(*kmsg.FetchResponse)
		any := false
		for _, t := range r.Topics {
			rt := kmsg.NewFetchResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewFetchResponseTopicPartition()
				rp.Partition = p.Partition
				end := fb.next[t.Topic][p.Partition]
				rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = end, end, 0
				if p.FetchOffset > end {
					rp.ErrorCode = 1 // OFFSET_OUT_OF_RANGE
				} else {
					for _, b := range fb.logs[t.Topic][p.Partition] {
						h, _ := batch.ParseHeader(b)
						if h.NextOffset() > p.FetchOffset && (len(rp.RecordBatches) == 0 || len(rp.RecordBatches)+len(b) <= int(p.PartitionMaxBytes)) {
							rp.RecordBatches = append(rp.RecordBatches, b...)
						}
					}
				}
				any = any || len(rp.RecordBatches) > 0 || rp.ErrorCode != 0
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return resp, any
	}
	if resp, ok := build(); ok || r.MaxWaitMillis <= 0 {
		fc.reply(r, corr, resp)
		return
	}
	fc.busy = true
	fb.h.AfterFunc(time.Duration(r.MaxWaitMillis)*time.Millisecond, func() {
		resp, _ := build()
		fc.reply(r, corr, resp)
		fc.busy = false
		fc.serve()
	})
}
