package broker

// ListGroups (key 16), versions 0-4: the groups this broker coordinates
// (a client asks every broker), filtered by state from v4 (KIP-518).

import "github.com/twmb/franz-go/pkg/kmsg"

func (b *Broker) handleListGroups(r *request) {
	r.respond(b.groups.ListGroups(r.kreq.(*kmsg.ListGroupsRequest)))
}
