package broker_test

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/broker/internal/fakehost"
	"github.com/loglab/loglab/wire"
	"github.com/loglab/loglab/wire/batch"
)

// tb is what helpers need from *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// env is one broker on a fake host, and the disk it keeps across
// restarts.
type env struct {
	t    tb
	cfg  broker.Config
	disk *fakehost.Disk
	h    *fakehost.Host
	b    *broker.Broker
}

func newEnv(t tb, cfg broker.Config) *env {
	t.Helper()
	e := &env{t: t, cfg: cfg, disk: fakehost.NewDisk()}
	e.start()
	return e
}

func (e *env) start() {
	e.t.Helper()
	if e.cfg.Listen == "" {
		e.cfg.Listen = "broker-1:9092"
	}
	e.h = fakehost.New("broker-1", e.disk, nil)
	e.b = broker.New(e.cfg)
	e.b.Start(e.h)
	e.h.Run()
	if err := e.b.Err(); err != nil {
		e.t.Fatalf("start: %v", err)
	}
}

// restart stops the broker cleanly and starts a new one on the same disk.
func (e *env) restart() {
	e.t.Helper()
	stopped := false
	e.b.Stop(func() { stopped = true })
	e.h.Run()
	if !stopped {
		e.t.Fatal("Stop did not call done")
	}
	e.start()
}

type client struct {
	e    *env
	c    *fakehost.Conn
	corr int32
}

func (e *env) connect() *client {
	e.t.Helper()
	c := e.h.Network.Connect(e.b.Addr())
	if c == nil {
		e.t.Fatal("no listener")
	}
	return &client{e: e, c: c}
}

// frame encodes a request with header v1, or v2 when flexible.
func frame(req kmsg.Request, corr int32) []byte {
	return wire.AppendRequest(nil, req, corr, "test")
}

func (c *client) send(req kmsg.Request) int32 {
	c.corr++
	c.c.Deliver(frame(req, c.corr))
	return c.corr
}

// recv decodes the next response frame as a response to req.
func (c *client) recv(req kmsg.Request, corr int32) kmsg.Response {
	c.e.t.Helper()
	c.e.h.Run()
	if len(c.c.Sent) == 0 {
		c.e.t.Fatalf("no response to key %d (closed=%v)", req.Key(), c.c.Closed())
	}
	f := c.c.Sent[0]
	c.c.Sent = c.c.Sent[1:]
	resp, err := wire.ReadResponse(f, req, corr)
	if err != nil {
		c.e.t.Fatalf("response to key %d v%d: %v", req.Key(), req.GetVersion(), err)
	}
	return resp
}

func (c *client) do(req kmsg.Request) kmsg.Response {
	c.e.t.Helper()
	return c.recv(req, c.send(req))
}

func (c *client) createTopic(name string, partitions int32, configs map[string]string) *kmsg.CreateTopicsResponseTopic {
	c.e.t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Version = 7
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, partitions, -1
	for k, v := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		v := v
		c.Name, c.Value = k, &v
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	resp := c.do(req).(*kmsg.CreateTopicsResponse)
	return &resp.Topics[0]
}

func mustCreate(t tb, c *client, name string, partitions int32, configs map[string]string) {
	t.Helper()
	if rt := c.createTopic(name, partitions, configs); rt.ErrorCode != 0 {
		t.Fatalf("create %s: %v", name, kerr.ErrorForCode(rt.ErrorCode))
	}
}

// records builds one batch of n records with values "<prefix><i>" and
// timestamps ts, ts+1, ...
func records(n int, prefix string, ts int64) []byte {
	rs := make([]batch.Record, n)
	for i := range rs {
		rs[i] = batch.Record{Value: []byte(prefix + string(rune('a'+i%26))), TimestampDelta: int64(i)}
	}
	return batch.Build(nil, rs, batch.BuildOptions{BaseTimestamp: ts})
}

func produceReq(version int16, acks int16, topic string, partition int32, recs []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = version, acks, 1000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, recs
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// produce sends one batch with acks=all at v12 and returns the partition
// answer.
func (c *client) produce(topic string, partition int32, recs []byte) kmsg.ProduceResponseTopicPartition {
	c.e.t.Helper()
	resp := c.do(produceReq(12, -1, topic, partition, recs)).(*kmsg.ProduceResponse)
	return resp.Topics[0].Partitions[0]
}

func fetchReq(topic string, partition int32, offset int64, maxWaitMs, minBytes int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.Version, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 12, maxWaitMs, minBytes, 1<<20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = partition, offset, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func (c *client) fetch(topic string, partition int32, offset int64) kmsg.FetchResponseTopicPartition {
	c.e.t.Helper()
	resp := c.do(fetchReq(topic, partition, offset, 0, 0)).(*kmsg.FetchResponse)
	return resp.Topics[0].Partitions[0]
}

// values decodes every record in fetched batches as offset → value.
func values(t tb, data []byte) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	it := batch.Iterate(data)
	for it.Next() {
		rs, err := batch.Records(it.Batch())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			out[it.Header().BaseOffset+int64(r.OffsetDelta)] = string(r.Value)
		}
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	return out
}

func errName(code int16) string {
	if code == 0 {
		return "none"
	}
	return kerr.ErrorForCode(code).Error()
}
