package broker_test

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
	"github.com/loglab/loglab/sim/disk"
	"github.com/loglab/loglab/wire"
)

// simClient is a test node that sends requests to the broker over netsim
// and keeps the answers by correlation id.
type simClient struct {
	h       host.Host
	conn    host.Conn
	corr    int32
	answers map[int32][]byte
	closed  error
}

func (c *simClient) Start(h host.Host) { c.h = h; c.answers = map[int32][]byte{} }
func (c *simClient) OnFrame(_ host.Conn, f []byte) {
	if corr, _, err := wire.ParseResponseHeader(f, false); err == nil {
		c.answers[corr] = f
	}
}
func (c *simClient) OnClose(_ host.Conn, err error) { c.closed = err; c.conn = nil }

func (c *simClient) send(req kmsg.Request) int32 {
	if c.conn == nil {
		c.conn = c.h.Net().Dial("broker-1:9092", host.DialOptions{}, c)
	}
	c.corr++
	c.conn.Send(frame(req, c.corr))
	return c.corr
}

// call sends req from the client node and runs the world until answered.
func call(t *testing.T, w *sim.World, c *simClient, req kmsg.Request) kmsg.Response {
	t.Helper()
	var corr int32
	w.Do("client", func(host.Host) { corr = c.send(req) })
	if err := w.RunUntil(func() bool { return c.answers[corr] != nil }, 1_000_000); err != nil {
		t.Fatalf("no answer to key %d: %v (conn err %v)", req.Key(), err, c.closed)
	}
	f := c.answers[corr]
	resp, err := wire.ReadResponse(f, req, corr)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// runSim creates a topic that syncs every batch, produces acked batches,
// crashes the broker's machine (losing everything unsynced), restarts it
// and reads everything back. It returns the trace hash.
func runSim(t *testing.T, seed uint64) uint64 {
	w := sim.NewWorld(sim.Config{Seed: seed})
	w.AddNode("broker-1", func() host.Node { return broker.New(broker.Config{Listen: "broker-1:9092"}) })
	c := &simClient{}
	w.AddNode("client", func() host.Node { return c })
	w.Start("broker-1")
	w.Start("client")
	if err := w.RunFor(10 * time.Millisecond); err != nil {
		t.Fatal(err)
	}

	ct := kmsg.NewPtrCreateTopicsRequest()
	ct.Version = 7
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "durable", 1, 1
	rt.Configs = []kmsg.CreateTopicsRequestTopicConfig{{Name: "flush.messages", Value: kmsg.StringPtr("1")}}
	ct.Topics = append(ct.Topics, rt)
	if r := call(t, w, c, ct).(*kmsg.CreateTopicsResponse); r.Topics[0].ErrorCode != 0 {
		t.Fatalf("create: %s", errName(r.Topics[0].ErrorCode))
	}
	for i := 0; i < 5; i++ {
		r := call(t, w, c, produceReq(12, -1, "durable", 0, records(3, "v", int64(i)))).(*kmsg.ProduceResponse)
		if p := r.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != int64(3*i) {
			t.Fatalf("produce %d: %s at %d", i, errName(p.ErrorCode), p.BaseOffset)
		}
	}
	w.Crash("broker-1", disk.LoseUnsynced)
	if err := w.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	w.Restart("broker-1")
	if err := w.RunFor(10 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	fr := call(t, w, c, fetchReq("durable", 0, 0, 0, 0)).(*kmsg.FetchResponse)
	p := fr.Topics[0].Partitions[0]
	if p.ErrorCode != 0 || p.HighWatermark != 15 || len(values(t, p.RecordBatches)) != 15 {
		t.Fatalf("after crash: %s hw %d, %d records; acked data lost", errName(p.ErrorCode), p.HighWatermark, len(values(t, p.RecordBatches)))
	}
	return w.TraceHash()
}

func TestSimCrashKeepsAckedDataAndIsDeterministic(t *testing.T) {
	a := runSim(t, 7)
	if b := runSim(t, 7); a != b {
		t.Fatalf("same seed, different trace hashes: %x %x", a, b)
	}
}
