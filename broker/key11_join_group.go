package broker

// JoinGroup (key 11), served by the group coordinator
// (package broker/group). The answer waits for the rebalance to complete
// (up to the group's rebalance timeout), so this handler answers later.
// v4+ unknown members first get MEMBER_ID_REQUIRED (KIP-394); v5+ carry
// group.instance.id (KIP-345). Advertised from v0 because librdkafka
// disables groups otherwise (PROTOCOL.md).

import "github.com/twmb/franz-go/pkg/kmsg"

// Served versions 0-9.
func init() { register(keyJoinGroup, 0, 9, (*Broker).handleJoinGroup) }

func (b *Broker) handleJoinGroup(r *request) {
	req := r.kreq.(*kmsg.JoinGroupRequest)
	clientID, clientHost := groupClient(r)
	b.groups.JoinGroup(req, clientID, clientHost, func(resp *kmsg.JoinGroupResponse) {
		if resp.ErrorCode != kerrMemberIDRequired {
			r.groupRefused(resp.ErrorCode, "group", req.Group, "member", req.MemberID)
		}
		r.respond(resp)
	})
}
