package e2e

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/client"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
)

// TestProduceConsumeRealBroker drives the client against the real broker:
// keyed and unkeyed sends to an auto-created 3-partition topic, a consumer
// on every partition, and a history whose reads match the acknowledged
// sends exactly.
func TestProduceConsumeRealBroker(t *testing.T) {
	w := sim.NewWorld(sim.Config{Seed: 7})
	w.AddNode("broker-1", func() host.Node {
		return broker.New(broker.Config{Listen: "broker-1:9092", NumPartitions: 3})
	})
	var jsonl bytes.Buffer
	hist := history.NewWriter(&jsonl)
	var cl *client.Client
	var read []client.Record
	w.AddNode("client-1", func() host.Node {
		return sim.NodeFunc(func(h host.Host) {
			cl = client.New(h, client.Config{
				Bootstrap:              []string{"broker-1:9092"},
				AllowAutoTopicCreation: true,
				Linger:                 2 * time.Millisecond,
				History:                hist,
				OnRecords:              func(rs []client.Record) { read = append(read, rs...) },
			})
		})
	})
	w.Start("broker-1")
	w.Start("client-1")
	if err := w.RunFor(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	acked := map[string]client.Record{}
	const n = 60
	w.Do("client-1", func(host.Host) {
		for i := 0; i < n; i++ {
			r := client.Record{Topic: "e2e", Value: []byte(fmt.Sprintf("v%03d", i))}
			if i%2 == 0 {
				r.Key = []byte(fmt.Sprintf("k%d", i%7))
			}
			cl.Produce(r, func(r client.Record, err error) {
				if err != nil {
					t.Errorf("%s: %v", r.Value, err)
					return
				}
				acked[string(r.Value)] = r
			})
		}
	})
	if err := w.RunFor(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if len(acked) != n {
		t.Fatalf("%d of %d sends acknowledged", len(acked), n)
	}
	w.Do("client-1", func(host.Host) {
		for p := int32(0); p < 3; p++ {
			cl.Assign("e2e", p, client.Earliest)
		}
	})
	if err := w.RunFor(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if len(read) != n {
		t.Fatalf("read %d records, want %d", len(read), n)
	}
	for _, r := range read {
		a := acked[string(r.Value)]
		if a.Partition != r.Partition || a.Offset != r.Offset {
			t.Errorf("%s read at %d-%d, acknowledged at %d-%d", r.Value, r.Partition, r.Offset, a.Partition, a.Offset)
		}
		if r.Key != nil && a.Partition != client.KeyPartition(r.Key, 3) {
			t.Errorf("%s with key %s on partition %d", r.Value, r.Key, a.Partition)
		}
	}
	if err := hist.Err(); err != nil {
		t.Fatal(err)
	}
	ops, err := history.ParseBytes(jsonl.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := history.Pair(ops)
	if err != nil {
		t.Fatal(err)
	}
	sends, reads := 0, 0
	for _, p := range pairs {
		switch {
		case p.Invoke.F == history.Send && p.Outcome() == history.OK:
			sends++
		case p.Invoke.F == history.Poll && p.Outcome() == history.OK:
			reads += len(p.Completion.Records)
		case p.Invoke.F == history.Send:
			t.Errorf("send %s: %s %s", p.Invoke.Value, p.Outcome(), p.Completion.Error)
		}
	}
	if sends != n || reads != n {
		t.Errorf("history: %d ok sends, %d records read; want %d each", sends, reads, n)
	}
}
