package broker

// LeaveGroup (key 13), served by the group coordinator:
// v0-2 name one member, v3+ a batch by member id or group.instance.id
// (KIP-345), answered per member.

import "github.com/twmb/franz-go/pkg/kmsg"

// Served versions 0-5.
func init() { register(keyLeaveGroup, 0, 5, (*Broker).handleLeaveGroup) }

func (b *Broker) handleLeaveGroup(r *request) {
	req := r.kreq.(*kmsg.LeaveGroupRequest)
	resp := b.groups.LeaveGroup(req)
	r.groupRefused(resp.ErrorCode, "group", req.Group, "member", req.MemberID)
	r.respond(resp)
}
