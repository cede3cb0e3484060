package broker_test

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/broker/bugzoo"
	"github.com/loglab/loglab/broker/controller"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
	"github.com/loglab/loglab/wire"
)

// netClient is a test node that talks to any broker over netsim, one
// connection per address, answers kept by correlation id.
type netClient struct {
	h       host.Host
	conns   map[string]host.Conn
	corr    int32
	answers map[int32][]byte
	lost    map[int32]bool
	sentOn  map[int32]string
}

func (c *netClient) Start(h host.Host) {
	c.h = h
	c.conns, c.answers, c.lost, c.sentOn = map[string]host.Conn{}, map[int32][]byte{}, map[int32]bool{}, map[int32]string{}
}

type netClientConn struct {
	c    *netClient
	addr string
}

func (cc netClientConn) OnFrame(_ host.Conn, f []byte) {
	if corr, _, err := wire.ParseResponseHeader(f, false); err == nil {
		cc.c.answers[corr] = f
	}
}

func (cc netClientConn) OnClose(conn host.Conn, _ error) {
	if cc.c.conns[cc.addr] == conn {
		delete(cc.c.conns, cc.addr)
	}
	for corr, addr := range cc.c.sentOn {
		if addr == cc.addr && cc.c.answers[corr] == nil {
			cc.c.lost[corr] = true
		}
	}
}

func (c *netClient) send(addr string, req kmsg.Request) int32 {
	conn := c.conns[addr]
	if conn == nil {
		conn = c.h.Net().Dial(addr, host.DialOptions{Timeout: time.Second}, netClientConn{c, addr})
		c.conns[addr] = conn
	}
	c.corr++
	c.sentOn[c.corr] = addr
	conn.Send(frame(req, c.corr))
	return c.corr
}

// testCluster is n brokers in combined mode (the first min(3, n) run
// voters) plus a client node, in one simulated world.
type testCluster struct {
	t       *testing.T
	w       *sim.World
	n       int
	client  *netClient
	configs []broker.Config
}

func newTestCluster(t *testing.T, seed uint64, n int, bugs bugzoo.Set, mod func(*broker.Config)) *testCluster {
	t.Helper()
	restore := sim.InstallCryptoRand(seed)
	t.Cleanup(restore)
	scfg := sim.Config{Seed: seed}
	if os.Getenv("LOGLAB_TEST_LOG") != "" { // broker logs for debugging a test
		scfg.Log = os.Stderr
	}
	w := sim.NewWorld(scfg)
	tc := &testCluster{t: t, w: w, n: n, client: &netClient{}}
	var peers []controller.Peer
	var addrs []string
	for i := 1; i <= min(3, n); i++ {
		a := fmt.Sprintf("broker-%d:9093", i)
		peers = append(peers, controller.Peer{ID: uint64(i), Addr: a})
		addrs = append(addrs, a)
	}
	for i := 1; i <= n; i++ {
		cfg := broker.Config{
			NodeID: int32(i), Listen: fmt.Sprintf("broker-%d:9092", i), Controllers: addrs,
			DefaultReplicationFactor: int16(min(3, n)), ReplicaLagTimeMaxMs: 10_000,
			ReplicaFetchBackoffMs: 200, Bugs: bugs,
		}
		if i <= 3 {
			cfg.Voter = &controller.VoterConfig{ID: uint64(i), Voters: peers, LeaderImbalanceCheckInterval: -1}
		}
		if mod != nil {
			mod(&cfg)
		}
		tc.configs = append(tc.configs, cfg)
		name := fmt.Sprintf("broker-%d", i)
		w.AddNode(name, func() host.Node { return broker.New(cfg) })
	}
	w.AddNode("client", func() host.Node { return tc.client })
	for _, n := range w.Nodes() {
		w.Start(n)
	}
	tc.run(50 * time.Millisecond)
	tc.waitAllUnfenced()
	return tc
}

func bname(i int) string { return fmt.Sprintf("broker-%d", i) }

func (tc *testCluster) broker(i int) *broker.Broker {
	b, _ := tc.w.Node(bname(i)).(*broker.Broker)
	return b
}

// eventually runs the world in 10ms steps until cond holds.
func (tc *testCluster) eventually(limit time.Duration, what string, cond func() bool) {
	tc.t.Helper()
	end := tc.w.Elapsed() + limit
	for !cond() {
		if tc.w.Elapsed() >= end {
			tc.t.Fatalf("after %v of virtual time: not %s", limit, what)
		}
		if err := tc.w.RunFor(10 * time.Millisecond); err != nil {
			tc.t.Fatal(err)
		}
	}
}

func (tc *testCluster) run(d time.Duration) {
	tc.t.Helper()
	if err := tc.w.RunFor(d); err != nil {
		tc.t.Fatal(err)
	}
}

// waitAllUnfenced waits until every running broker sees every running
// broker registered and unfenced.
func (tc *testCluster) waitAllUnfenced() {
	tc.t.Helper()
	tc.eventually(30*time.Second, "all brokers unfenced", func() bool {
		for i := 1; i <= tc.n; i++ {
			if !tc.w.Up(bname(i)) {
				continue
			}
			img := tc.broker(i).Image()
			if img == nil {
				return false
			}
			for j := 1; j <= tc.n; j++ {
				if tc.w.Up(bname(j)) && !img.Usable(int32(j)) {
					return false
				}
			}
		}
		return true
	})
}

// call sends req to broker i and runs the world until it is answered
// (ok false if the connection was lost or nothing came within limit).
func (tc *testCluster) call(i int, req kmsg.Request, limit time.Duration) (kmsg.Response, bool) {
	tc.t.Helper()
	var corr int32
	tc.w.Do("client", func(host.Host) { corr = tc.client.send(bname(i)+":9092", req) })
	end := tc.w.Elapsed() + limit
	for tc.client.answers[corr] == nil && !tc.client.lost[corr] && tc.w.Elapsed() < end {
		if err := tc.w.RunFor(5 * time.Millisecond); err != nil {
			tc.t.Fatal(err)
		}
	}
	f := tc.client.answers[corr]
	if f == nil {
		return nil, false
	}
	resp, err := wire.ReadResponse(f, req, corr)
	if err != nil {
		tc.t.Fatal(err)
	}
	return resp, true
}

func (tc *testCluster) mustCall(i int, req kmsg.Request) kmsg.Response {
	tc.t.Helper()
	resp, ok := tc.call(i, req, 30*time.Second)
	if !ok {
		tc.t.Fatalf("no answer from broker %d to key %d", i, req.Key())
	}
	return resp
}

// createTopic creates a topic through broker i and waits until every
// replica serves its role and every ISR is full.
func (tc *testCluster) createTopic(i int, name string, parts int32, rf int16, configs map[string]string) {
	tc.t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Version = 7
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, parts, rf
	for _, k := range sortedKeys(configs) {
		v := configs[k]
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, &v
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	tc.mustCreate(i, req)
	tc.waitReplicated(name, parts)
}

// mustCreate sends a CreateTopics request, retrying retriable errors as
// clients do; TOPIC_ALREADY_EXISTS after a retry counts as created.
func (tc *testCluster) mustCreate(i int, req *kmsg.CreateTopicsRequest) {
	tc.t.Helper()
	for try := 0; ; try++ {
		c := tc.mustCall(i, req).(*kmsg.CreateTopicsResponse).Topics[0].ErrorCode
		switch {
		case c == 0, c == kerr.TopicAlreadyExists.Code && try > 0:
			return
		case try < 20 && kerr.IsRetriable(kerr.ErrorForCode(c)):
			tc.run(200 * time.Millisecond)
		default:
			tc.t.Fatalf("create %s: %s", req.Topics[0].Topic, errName(c))
		}
	}
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// waitReplicated waits until each partition's leader leads it, its ISR is
// all its replicas and every replica has the same log end offset and high
// watermark.
func (tc *testCluster) waitReplicated(name string, parts int32) {
	tc.t.Helper()
	tc.eventually(60*time.Second, name+" fully replicated", func() bool {
		for p := int32(0); p < parts; p++ {
			if !tc.inSync(name, p) {
				return false
			}
		}
		return true
	})
}

func (tc *testCluster) inSync(name string, p int32) bool {
	l := tc.leader(name, p)
	if l < 0 {
		return false
	}
	ls, ok := tc.broker(l).Partition(name, p)
	if !ok || !ls.IsLeader {
		return false
	}
	img := tc.broker(l).Image()
	ip := img.Partition(name, p)
	if len(ip.ISR) != len(ip.Replicas) {
		return false
	}
	for _, r := range ip.Replicas {
		if !tc.w.Up(bname(int(r))) {
			return false
		}
		rs, ok := tc.broker(int(r)).Partition(name, p)
		if !ok || rs.LogEndOffset != ls.LogEndOffset || rs.HighWatermark != ls.HighWatermark || rs.LeaderEpoch != ls.LeaderEpoch {
			return false
		}
	}
	return true
}

// leader is the partition's leader per the image of the first running
// broker that has the partition (-1 if none).
func (tc *testCluster) leader(name string, p int32) int {
	for i := 1; i <= tc.n; i++ {
		if !tc.w.Up(bname(i)) || tc.broker(i).Image() == nil {
			continue
		}
		if ip := tc.broker(i).Image().Partition(name, p); ip != nil {
			return int(ip.Leader)
		}
	}
	return -1
}

func (tc *testCluster) produce(i int, acks int16, name string, p int32, recs []byte, timeoutMs int32) (kmsg.ProduceResponseTopicPartition, bool) {
	tc.t.Helper()
	req := produceReq(12, acks, name, p, recs)
	req.TimeoutMillis = timeoutMs
	resp, ok := tc.call(i, req, time.Duration(timeoutMs)*time.Millisecond+5*time.Second)
	if !ok {
		return kmsg.ProduceResponseTopicPartition{}, false
	}
	return resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0], true
}

// fetchAll reads the whole partition (below the high watermark) from
// broker i.
// produceBatches produces n batches of two records to partition 0 of
// name through broker i with acks=all; any failure fails the test.
func (tc *testCluster) produceBatches(i int, name string, n int) {
	tc.t.Helper()
	for k := 0; k < n; k++ {
		if pr, ok := tc.produce(i, -1, name, 0, records(2, "v", int64(k)), 5000); !ok || pr.ErrorCode != 0 {
			tc.t.Fatalf("produce: %s", errName(pr.ErrorCode))
		}
	}
}

func (tc *testCluster) fetchAll(i int, name string, p int32) (map[int64]string, int64, int16) {
	tc.t.Helper()
	out := map[int64]string{}
	var hw int64
	for off := int64(0); ; {
		resp := tc.mustCall(i, fetchReq(name, p, off, 0, 0)).(*kmsg.FetchResponse)
		fp := resp.Topics[0].Partitions[0]
		if fp.ErrorCode != 0 {
			return out, fp.HighWatermark, fp.ErrorCode
		}
		hw = fp.HighWatermark
		vs := values(tc.t, fp.RecordBatches)
		if len(vs) == 0 {
			return out, hw, 0
		}
		for o, v := range vs {
			out[o] = v
			off = max(off, o+1)
		}
	}
}

// createAssigned creates a one-partition topic on the given replicas (the
// first is the preferred leader) and waits until it is fully replicated.
func (tc *testCluster) createAssigned(i int, name string, configs map[string]string, replicas ...int32) {
	tc.t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Version = 7
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, -1, -1
	ra := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	ra.Partition, ra.Replicas = 0, replicas
	rt.ReplicaAssignment = append(rt.ReplicaAssignment, ra)
	for _, k := range sortedKeys(configs) {
		v := configs[k]
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = k, &v
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	tc.mustCreate(i, req)
	tc.waitReplicated(name, 1)
}
