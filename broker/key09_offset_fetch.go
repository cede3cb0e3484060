package broker

// OffsetFetch (key 9), served by the group coordinator.
// v0-7 ask for one group, v8+ for several (KIP-709); null topics (v2+)
// ask for every committed offset. RequireStable (v7+) changes nothing:
// there are no transactional offset commits to wait for.

import "github.com/twmb/franz-go/pkg/kmsg"

// Served versions 0-9.
func init() { register(keyOffsetFetch, 0, 9, (*Broker).handleOffsetFetch) }

func (b *Broker) handleOffsetFetch(r *request) {
	req := r.kreq.(*kmsg.OffsetFetchRequest)
	resp := b.groups.OffsetFetch(req)
	r.groupRefused(resp.ErrorCode, "group", req.Group)
	for _, g := range resp.Groups {
		r.groupRefused(g.ErrorCode, "group", g.Group)
	}
	r.respond(resp)
}
