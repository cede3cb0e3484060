package broker

// FindCoordinator (key 10), versions 0-4.
//
// A single broker coordinates every group: it answers itself for key type
// GROUP (0). Transactions and share groups are not served: TRANSACTION
// keys answer COORDINATOR_NOT_AVAILABLE and other key types
// INVALID_REQUEST. v4+ batches keys (KIP-699) and answers per key in
// Coordinators; v0-3 carry one key and answer at the top level.
//
// Why now, before consumer groups (issue 6): librdkafka turns lz4 on only
// when FindCoordinator v0 is advertised (its LZ4 feature depends on it) and
// otherwise sends lz4 batches uncompressed. Group APIs themselves (JoinGroup
// and the rest) are not advertised until they are implemented; with
// replication the coordinator will be the leader of the group's
// __consumer_offsets partition.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

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
			c.NodeID, c.Host, c.Port = -1, "", -1
			if e := b.coordinatorFor(req.CoordinatorType, key); e != nil {
				c.ErrorCode = e.Code
				msg := e.Message
				c.ErrorMessage = &msg
			} else {
				c.NodeID, c.Host, c.Port = b.cfg.NodeID, b.advHost, b.advPort
			}
			resp.Coordinators = append(resp.Coordinators, c)
		}
		r.respond(resp)
		return
	}
	resp.NodeID, resp.Host, resp.Port = -1, "", -1
	if e := b.coordinatorFor(req.CoordinatorType, req.CoordinatorKey); e != nil {
		resp.ErrorCode = e.Code
		msg := e.Message
		resp.ErrorMessage = &msg
	} else {
		resp.NodeID, resp.Host, resp.Port = b.cfg.NodeID, b.advHost, b.advPort
	}
	r.respond(resp)
}

// coordinatorFor returns the error for a key this broker cannot
// coordinate, nil when it is the coordinator.
func (b *Broker) coordinatorFor(keyType int8, key string) *kerr.Error {
	switch keyType {
	case coordinatorKeyGroup:
		if key == "" {
			return kerr.InvalidGroupID
		}
		return nil
	case coordinatorKeyTransaction:
		return kerr.CoordinatorNotAvailable
	default:
		return kerr.InvalidRequest
	}
}
