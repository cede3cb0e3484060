package client

import (
	"maps"
	"slices"
)

// Assignors of the classic consumer protocol. The leader member computes
// every member's assignment from their subscriptions; both are Kafka's
// (org.apache.kafka.clients.consumer.RangeAssignor and
// RoundRobinAssignor), so a group mixing loglab's client with Kafka's
// clients agrees on them.
const (
	AssignorRange      = "range"
	AssignorRoundRobin = "roundrobin"
)

// subscription is one member's subscribed topics.
type subscription struct {
	member string
	topics []string
}

// assignment maps member → topic → partitions (ascending).
type assignment map[string]map[string][]int32

func (a assignment) add(member, topic string, p int32) {
	if a[member] == nil {
		a[member] = map[string][]int32{}
	}
	a[member][topic] = append(a[member][topic], p)
}

// assignRange gives each topic's partitions, in order, to the topic's
// subscribers sorted by member id: n/m each, the first n%m one more.
func assignRange(subs []subscription, partitions map[string]int32) assignment {
	out := assignment{}
	byTopic := map[string][]string{}
	for _, s := range subs {
		for _, t := range s.topics {
			byTopic[t] = append(byTopic[t], s.member)
		}
	}
	for _, t := range slices.Sorted(maps.Keys(byTopic)) {
		ms := slices.Compact(slices.Sorted(slices.Values(byTopic[t])))
		n := partitions[t]
		per, extra := n/int32(len(ms)), n%int32(len(ms))
		next := int32(0)
		for i, m := range ms {
			k := per
			if int32(i) < extra {
				k++
			}
			for p := next; p < next+k; p++ {
				out.add(m, t, p)
			}
			next += k
		}
	}
	return out
}

// assignRoundRobin lays every subscribed partition, sorted by topic and
// partition, over the members sorted by id in turn, skipping members not
// subscribed to the partition's topic.
func assignRoundRobin(subs []subscription, partitions map[string]int32) assignment {
	out := assignment{}
	members := slices.Clone(subs)
	slices.SortFunc(members, func(a, b subscription) int {
		switch {
		case a.member < b.member:
			return -1
		case a.member > b.member:
			return 1
		}
		return 0
	})
	topics := map[string]bool{}
	for _, s := range members {
		for _, t := range s.topics {
			topics[t] = true
		}
	}
	i := 0
	for _, t := range slices.Sorted(maps.Keys(topics)) {
		for p := range partitions[t] {
			for range members {
				m := members[i%len(members)]
				i++
				if slices.Contains(m.topics, t) {
					out.add(m.member, t, p)
					break
				}
			}
		}
	}
	return out
}
