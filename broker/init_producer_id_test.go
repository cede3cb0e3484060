package broker_test

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
)

func initProducerID(t *testing.T, do func(kmsg.Request) kmsg.Response) int64 {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version = 4
	req.TransactionTimeoutMillis = 60000
	req.ProducerID, req.ProducerEpoch = -1, -1
	resp := do(req).(*kmsg.InitProducerIDResponse)
	if resp.ErrorCode != 0 || resp.ProducerID < 0 || resp.ProducerEpoch != 0 {
		t.Fatalf("InitProducerId: %s id %d epoch %d", errName(resp.ErrorCode), resp.ProducerID, resp.ProducerEpoch)
	}
	return resp.ProducerID
}

// A standalone broker never hands out a producer id twice, across
// restarts too (the next block is synced before its first id is used),
// and refuses transactional ids.
func TestInitProducerIDStandaloneUnique(t *testing.T) {
	e := newEnv(t, broker.Config{})
	seen := map[int64]bool{}
	for round := range 3 {
		c := e.connect()
		for range 1200 / (round + 1) {
			id := initProducerID(t, c.do)
			if seen[id] {
				t.Fatalf("round %d: producer id %d handed out twice", round, id)
			}
			seen[id] = true
		}
		e.restart()
	}
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID = kmsg.StringPtr("txn")
	if resp := e.connect().do(req).(*kmsg.InitProducerIDResponse); resp.ErrorCode != kerr.TransactionalIDAuthorizationFailed.Code {
		t.Fatalf("transactional id: %s", errName(resp.ErrorCode))
	}
}

// In a cluster every broker takes its blocks from the controller quorum:
// ids are unique across brokers.
func TestInitProducerIDClusterUnique(t *testing.T) {
	tc := newTestCluster(t, 3, 3, 0, nil)
	seen := map[int64]int{}
	for round := range 2 {
		for i := 1; i <= 3; i++ {
			for range 600 {
				id := initProducerID(t, func(r kmsg.Request) kmsg.Response { return tc.mustCall(i, r) })
				if b, ok := seen[id]; ok {
					t.Fatalf("round %d: id %d from broker %d was already handed out by broker %d", round, id, i, b)
				}
				seen[id] = i
			}
		}
	}
}
