package broker

// SyncGroup (key 14), served by the group coordinator: the
// leader member's call carries every member's assignment, which is
// persisted to __consumer_offsets before anyone is answered; the others'
// calls wait for it. v5 checks the protocol type and name.

import "github.com/twmb/franz-go/pkg/kmsg"

// Served versions 0-5.
func init() { register(keySyncGroup, 0, 5, (*Broker).handleSyncGroup) }

func (b *Broker) handleSyncGroup(r *request) {
	req := r.kreq.(*kmsg.SyncGroupRequest)
	b.groups.SyncGroup(req, func(resp *kmsg.SyncGroupResponse) {
		r.groupRefused(resp.ErrorCode, "group", req.Group, "member", req.MemberID, "generation", req.Generation)
		r.respond(resp)
	})
}
