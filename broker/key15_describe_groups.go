package broker

// DescribeGroups (key 15), versions 0-5, served by the group coordinator.
// Authorized operations (v3+) are not computed (no ACLs): they answer
// Kafka's "not requested" value.

import "github.com/twmb/franz-go/pkg/kmsg"

func (b *Broker) handleDescribeGroups(r *request) {
	r.respond(b.groups.DescribeGroups(r.kreq.(*kmsg.DescribeGroupsRequest)))
}
