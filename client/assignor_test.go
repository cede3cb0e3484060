package client

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// Both assignors give every partition of a subscribed topic to exactly
// one member subscribed to it; round-robin over members with the same
// subscription is balanced within one partition; range follows Kafka's
// layout (sorted members, the first n%m one extra, contiguous ranges).
func TestAssignorsProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		topics := []string{"a", "b", "c"}
		counts := map[string]int32{}
		for _, tp := range topics {
			counts[tp] = int32(rapid.IntRange(0, 12).Draw(t, "partitions-"+tp))
		}
		nm := rapid.IntRange(1, 6).Draw(t, "members")
		same := rapid.Bool().Draw(t, "same subscription")
		var subs []subscription
		for i := range nm {
			s := subscription{member: fmt.Sprintf("m-%d", rapid.IntRange(0, 1000).Draw(t, "id")*10+i)}
			for _, tp := range topics {
				if same || rapid.Bool().Draw(t, "sub") {
					s.topics = append(s.topics, tp)
				}
			}
			subs = append(subs, s)
		}
		for name, a := range map[string]assignment{"range": assignRange(subs, counts), "roundrobin": assignRoundRobin(subs, counts)} {
			owner := map[string]string{}
			for _, s := range subs {
				for tp, ps := range a[s.member] {
					if !slices.Contains(s.topics, tp) {
						t.Fatalf("%s: %s got %s without subscribing", name, s.member, tp)
					}
					for _, p := range ps {
						k := fmt.Sprint(tp, p)
						if o, dup := owner[k]; dup {
							t.Fatalf("%s: %s-%d to %s and %s", name, tp, p, o, s.member)
						}
						owner[k] = s.member
					}
				}
			}
			for _, tp := range topics {
				subscribed := slices.ContainsFunc(subs, func(s subscription) bool { return slices.Contains(s.topics, tp) })
				for p := range counts[tp] {
					if _, ok := owner[fmt.Sprint(tp, p)]; subscribed && !ok {
						t.Fatalf("%s: %s-%d unassigned", name, tp, p)
					}
				}
			}
			if name == "roundrobin" && same {
				lo, hi := 1<<30, 0
				for _, s := range subs {
					n := 0
					for _, ps := range a[s.member] {
						n += len(ps)
					}
					lo, hi = min(lo, n), max(hi, n)
				}
				if hi-lo > 1 {
					t.Fatalf("roundrobin unbalanced: %d..%d", lo, hi)
				}
			}
		}
	})
}

func TestRangeLayoutIsKafkas(t *testing.T) {
	a := assignRange([]subscription{{"c", []string{"t"}}, {"a", []string{"t"}}, {"b", []string{"t"}}}, map[string]int32{"t": 7})
	want := map[string][]int32{"a": {0, 1, 2}, "b": {3, 4}, "c": {5, 6}}
	for m, ps := range want {
		if !slices.Equal(a[m]["t"], ps) {
			t.Fatalf("%s got %v, want %v", m, a[m]["t"], ps)
		}
	}
}
