package broker

// FindCoordinator (key 10).
//
// A group's coordinator is the leader of its __consumer_offsets
// partition, abs(javaHashCode(group)) % partitions (groups.go); the first
// FindCoordinator creates the topic and answers COORDINATOR_NOT_AVAILABLE
// until it has leaders, as Kafka does. Transactions and share groups are
// not served: TRANSACTION keys answer COORDINATOR_NOT_AVAILABLE and other
// key types INVALID_REQUEST. v4+ batches keys (KIP-699) and answers per
// key in Coordinators; v0-3 carry one key and answer at the top level.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Served versions 0-4.
func init() { register(keyFindCoordinator, 0, 4, (*Broker).handleFindCoordinator) }

const (
	coordinatorKeyGroup       int8 = 0
	coordinatorKeyTransaction int8 = 1
)

func (b *Broker) handleFindCoordinator(r *request) {
	req := r.kreq.(*kmsg.FindCoordinatorRequest)
	resp := kmsg.NewPtrFindCoordinatorResponse()
	if req.Version >= 4 {
		for _, key := range req.CoordinatorKeys {
			c := kmsg.NewFindCoordinatorResponseCoordinator()
			c.Key = key
			var e *kerr.Error
			c.NodeID, c.Host, c.Port, e = b.coordinatorFor(req.CoordinatorType, key)
			if e != nil {
				c.ErrorCode = e.Code
				msg := e.Message
				c.ErrorMessage = &msg
			}
			resp.Coordinators = append(resp.Coordinators, c)
		}
		r.respond(resp)
		return
	}
	var e *kerr.Error
	resp.NodeID, resp.Host, resp.Port, e = b.coordinatorFor(req.CoordinatorType, req.CoordinatorKey)
	if e != nil {
		resp.ErrorCode = e.Code
		msg := e.Message
		resp.ErrorMessage = &msg
	}
	r.respond(resp)
}

// coordinatorFor locates the coordinator of a key: node id, host and
// port, or the error to answer (then -1, "", -1).
func (b *Broker) coordinatorFor(keyType int8, key string) (int32, string, int32, *kerr.Error) {
	switch keyType {
	case coordinatorKeyGroup:
		if key == "" {
			return -1, "", -1, kerr.InvalidGroupID
		}
		return b.coordinatorAddr(key)
	case coordinatorKeyTransaction:
		return -1, "", -1, kerr.CoordinatorNotAvailable
	default:
		return -1, "", -1, kerr.InvalidRequest
	}
}
