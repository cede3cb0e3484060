package broker_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/broker/controller"
	"github.com/loglab/loglab/host/realhost"
)

// freePorts returns n loopback ports free right now.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}

// TestKgoClusterRF3 runs three combined-mode brokers on real sockets and
// has franz-go produce with acks=all to an auto-created RF=3 topic and
// read everything back; Metadata shows three brokers and full ISRs.
func TestKgoClusterRF3(t *testing.T) {
	ports := freePorts(t, 6)
	var peers []controller.Peer
	var ctrl []string
	for k := 0; k < 3; k++ {
		a := fmt.Sprintf("127.0.0.1:%d", ports[3+k])
		peers = append(peers, controller.Peer{ID: uint64(k + 1), Addr: a})
		ctrl = append(ctrl, a)
	}
	var rts []*realhost.Runtime
	defer func() {
		for _, rt := range rts {
			stopReal(t, rt)
		}
	}()
	for k := 0; k < 3; k++ {
		cfg := broker.Config{
			NodeID: int32(k + 1), Listen: fmt.Sprintf("127.0.0.1:%d", ports[k]), Controllers: ctrl,
			Voter:                    &controller.VoterConfig{ID: uint64(k + 1), Voters: peers},
			DefaultReplicationFactor: 3, NumPartitions: 2,
		}
		rt, err := realhost.Run(broker.New(cfg), realhost.Config{Name: fmt.Sprintf("broker-%d", k+1), DataDir: t.TempDir(), Seed: uint64(k + 1)})
		if err != nil {
			t.Fatal(err)
		}
		rts = append(rts, rt)
	}
	seed := fmt.Sprintf("127.0.0.1:%d", ports[0])
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seed), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("rf3"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 50
	for i := 0; i < n; i++ {
		r := &kgo.Record{Value: []byte(fmt.Sprint("v", i)), Partition: 0}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("rf3")
	req.Topics = append(req.Topics, rt)
	for {
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		full := len(resp.Brokers) == 3 && len(resp.Topics) == 1 && len(resp.Topics[0].Partitions) == 2
		for _, p := range resp.Topics[0].Partitions {
			full = full && len(p.Replicas) == 3 && len(p.ISR) == 3
		}
		if full {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("metadata never showed 3 brokers and full ISRs: %+v", resp)
		}
		time.Sleep(50 * time.Millisecond)
	}
	consumeAll(t, ctx, seed, "rf3", n)
}
