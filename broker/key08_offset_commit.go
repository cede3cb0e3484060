package broker

// OffsetCommit (key 8), served by the group coordinator
// (package broker/group, groups.go): the request is checked against the
// group's generation and member and answered once its records are
// committed to __consumer_offsets. v1's per-partition timestamps and
// v2-4's retention time are accepted and ignored (offsets never expire in
// loglab). Leader epochs are kept from v6.

import "github.com/twmb/franz-go/pkg/kmsg"

// Served versions 0-9.
func init() { register(keyOffsetCommit, 0, 9, (*Broker).handleOffsetCommit) }

func (b *Broker) handleOffsetCommit(r *request) {
	req := r.kreq.(*kmsg.OffsetCommitRequest)
	b.groups.OffsetCommit(req, func(resp *kmsg.OffsetCommitResponse) {
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 {
					r.groupRefused(p.ErrorCode, "group", req.Group, "member", req.MemberID, "generation", req.Generation, "topic", t.Topic, "partition", p.Partition)
					break
				}
			}
		}
		r.respond(resp)
	})
}
