package group

import (
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeGroups handles a DescribeGroups request (v0-5). An unknown
// group is answered as Kafka does: state Dead, no error.
func (c *Coordinator) DescribeGroups(req *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse {
	resp := kmsg.NewPtrDescribeGroupsResponse()
	for _, id := range req.Groups {
		dg := kmsg.NewDescribeGroupsResponseGroup()
		dg.Group = id
		dg.AuthorizedOperations = -2147483648
		g, e := c.lookup(id)
		switch {
		case e != nil:
			dg.ErrorCode = e.Code
			dg.State = string(Dead)
		case g == nil:
			dg.State = string(Dead)
		default:
			dg.State, dg.ProtocolType = string(g.state), g.protocolType
			if g.state == Stable || g.state == CompletingRebalance {
				dg.Protocol = g.protocol
			}
			for _, m := range g.members {
				dm := kmsg.NewDescribeGroupsResponseGroupMember()
				dm.MemberID, dm.ClientID, dm.ClientHost = m.id, m.clientID, m.clientHost
				if m.instanceID != "" {
					id := m.instanceID
					dm.InstanceID = &id
				}
				if g.state == Stable || g.state == CompletingRebalance {
					dm.ProtocolMetadata = m.metadataFor(g.protocol)
				}
				dm.MemberAssignment = m.assignment
				dg.Members = append(dg.Members, dm)
			}
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

// ListGroups handles a ListGroups request (v0-4): every group of every
// loaded shard, filtered by state (v4+). While a shard loads the answer
// is COORDINATOR_LOAD_IN_PROGRESS with the groups known so far.
func (c *Coordinator) ListGroups(req *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse {
	resp := kmsg.NewPtrListGroupsResponse()
	for _, i := range slices.Sorted(maps.Keys(c.shards)) {
		if c.shards[i].loading {
			resp.ErrorCode = kerr.CoordinatorLoadInProgress.Code
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.groups)) {
		g := c.groups[id]
		if g.shard.loading {
			continue
		}
		if len(req.StatesFilter) > 0 && !slices.Contains(req.StatesFilter, string(g.state)) {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState = id, g.protocolType, string(g.state)
		resp.Groups = append(resp.Groups, lg)
	}
	return resp
}
