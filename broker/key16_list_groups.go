package broker

// ListGroups (key 16): the groups this broker coordinates
// (a client asks every broker), filtered by state from v4 (KIP-518).

import "github.com/twmb/franz-go/pkg/kmsg"

// Served versions 0-4.
func init() { register(keyListGroups, 0, 4, (*Broker).handleListGroups) }

func (b *Broker) handleListGroups(r *request) {
	r.respond(b.groups.ListGroups(r.kreq.(*kmsg.ListGroupsRequest)))
}
