package broker

// Heartbeat (key 12), served by the group coordinator: it
// keeps a member's session alive and tells it of a rebalance
// (REBALANCE_IN_PROGRESS) or of its fencing (ILLEGAL_GENERATION,
// UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID).

import "github.com/twmb/franz-go/pkg/kmsg"

// Served versions 0-4.
func init() { register(keyHeartbeat, 0, 4, (*Broker).handleHeartbeat) }

func (b *Broker) handleHeartbeat(r *request) {
	req := r.kreq.(*kmsg.HeartbeatRequest)
	resp := b.groups.Heartbeat(req)
	if resp.ErrorCode != kerrRebalanceInProgress {
		r.groupRefused(resp.ErrorCode, "group", req.Group, "member", req.MemberID, "generation", req.Generation)
	}
	r.respond(resp)
}
