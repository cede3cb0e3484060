package broker

// DescribeGroups (key 15), served by the group coordinator.
// Authorized operations (v3+) are not computed (no ACLs): they answer
// Kafka's "not requested" value.

import "github.com/twmb/franz-go/pkg/kmsg"

// Served versions 0-5.
func init() { register(keyDescribeGroups, 0, 5, (*Broker).handleDescribeGroups) }

func (b *Broker) handleDescribeGroups(r *request) {
	r.respond(b.groups.DescribeGroups(r.kreq.(*kmsg.DescribeGroupsRequest)))
}
