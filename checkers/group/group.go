package group

import (
	"fmt"
	"slices"
	"sort"

	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
)

// Name is the checker's name.
const Name = "group"

// Anomaly kinds.
const (
	KindDoubleOwnership     = "double-ownership"
	KindSkipped             = "skipped"
	KindOffsetWentBack      = "offset-went-back"
	KindStaleCommitAccepted = "stale-commit-accepted"
)

// Options tune the check.
type Options struct {
	// ResetLatest: members start partitions without a committed offset at
	// the log end, so the first poll's position is not judged then.
	ResetLatest bool
}

// Result is the checker's verdict.
type Result struct {
	Verdict verdict.Verdict `json:"verdict"`
	// Groups, Assignments, Commits: what the history held.
	Groups      int               `json:"groups"`
	Assignments int               `json:"assignments"`
	Commits     int               `json:"commits"`
	Anomalies   []verdict.Anomaly `json:"anomalies"`
}

type gtp struct {
	group     string
	topic     string
	partition int32
}

// Check judges a paired history. Operations other than group operations
// and polls are used only as the acknowledged sends of the skipped check.
func Check(ops []history.Operation, opts Options) Result {
	res := Result{Verdict: verdict.Pass, Anomalies: []verdict.Anomaly{}}
	add := func(kind string, k gtp, offset int64, why string, refs ...history.Operation) {
		a := verdict.Anomaly{Kind: kind, Topic: k.topic, Partition: k.partition, Offset: offset,
			Explanation: fmt.Sprintf("group %s: %s", k.group, why)}
		for _, o := range refs {
			a.Ops = append(a.Ops, verdict.Ref(o))
		}
		res.Anomalies = append(res.Anomalies, a)
	}
	groups := map[string]bool{}
	type owner struct {
		member string
		op     history.Operation
	}
	owners := map[gtp]map[int32]owner{} // generation → owner
	var assigns, commits, fetches, polls []history.Operation
	acked := map[history.TopicPartition][]history.Operation{}
	for _, o := range ops {
		inv := o.Invoke
		switch inv.F {
		case history.Assign:
			if o.Outcome() == history.OK {
				assigns = append(assigns, o)
			}
		case history.Commit:
			commits = append(commits, o)
		case history.FetchOffset:
			fetches = append(fetches, o)
		case history.Poll:
			polls = append(polls, o)
		case history.Send:
			if o.Outcome() == history.OK {
				tp := history.TopicPartition{Topic: inv.Topic, Partition: o.Partition()}
				acked[tp] = append(acked[tp], o)
			}
		}
		if inv.Group != "" {
			groups[inv.Group] = true
		}
	}
	res.Groups, res.Assignments, res.Commits = len(groups), len(assigns), len(commits)

	// double-ownership
	for _, a := range assigns {
		for _, p := range a.Invoke.Partitions {
			k := gtp{a.Invoke.Group, a.Invoke.Topic, p}
			if owners[k] == nil {
				owners[k] = map[int32]owner{}
			}
			prev, ok := owners[k][a.Invoke.Generation]
			if ok && prev.member != a.Invoke.Member {
				add(KindDoubleOwnership, k, history.NoOffset, fmt.Sprintf("generation %d assigned the partition to %s and to %s",
					a.Invoke.Generation, prev.member, a.Invoke.Member), prev.op, a)
				continue
			}
			owners[k][a.Invoke.Generation] = owner{a.Invoke.Member, a}
		}
	}

	// skipped: the first poll after each assignment.
	commitsBy := map[gtp][]history.Operation{}
	for _, c := range commits {
		k := gtp{c.Invoke.Group, c.Invoke.Topic, c.Invoke.Partition}
		commitsBy[k] = append(commitsBy[k], c)
	}
	// byInvoke: per partition, the commits that may have happened (ok or
	// info) in invoke order, with the running maximum of their offsets.
	type maxAt struct {
		time   int64
		offset int64
		op     int // index into the slice the prefix was built from
	}
	prefixMax := func(cs []history.Operation, keep func(history.Operation) bool, at func(history.Operation) int64) []maxAt {
		idx := make([]int, 0, len(cs))
		for i, c := range cs {
			if keep(c) {
				idx = append(idx, i)
			}
		}
		slices.SortStableFunc(idx, func(a, b int) int { return cmpInt(at(cs[a]), at(cs[b])) })
		out := make([]maxAt, len(idx))
		for j, i := range idx {
			out[j] = maxAt{time: at(cs[i]), offset: cs[i].Invoke.Offset, op: i}
			if j > 0 && out[j-1].offset >= out[j].offset {
				out[j].offset, out[j].op = out[j-1].offset, out[j-1].op
			}
		}
		return out
	}
	// upTo returns the running maximum over entries with time <= t (ok
	// false if none).
	upTo := func(ps []maxAt, t int64, strict bool) (maxAt, bool) {
		n := sort.Search(len(ps), func(i int) bool {
			if strict {
				return ps[i].time >= t
			}
			return ps[i].time > t
		})
		if n == 0 {
			return maxAt{}, false
		}
		return ps[n-1], true
	}
	mayHaveCommitted := map[gtp][]maxAt{}
	for k, cs := range commitsBy { //detcheck:ordered builds a map
		mayHaveCommitted[k] = prefixMax(cs, func(c history.Operation) bool { return c.Outcome() != history.Fail },
			func(c history.Operation) int64 { return c.Invoke.Time })
	}
	earliestRead := map[history.TopicPartition]int64{}
	readAt := map[history.TopicPartition]map[int64]bool{}
	type pk struct {
		process, topic string
		partition      int32
	}
	pollsBy := map[pk][]history.Operation{} // in invoke order
	for _, p := range polls {
		tp := history.TopicPartition{Topic: p.Invoke.Topic, Partition: p.Invoke.Partition}
		if p.Outcome() == history.OK {
			for _, r := range p.Completion.Records {
				if e, ok := earliestRead[tp]; !ok || r.Offset < e {
					earliestRead[tp] = r.Offset
				}
				if readAt[tp] == nil {
					readAt[tp] = map[int64]bool{}
				}
				readAt[tp][r.Offset] = true
			}
		}
		if p.Invoke.Group != "" {
			k := pk{p.Invoke.Process, p.Invoke.Topic, p.Invoke.Partition}
			pollsBy[k] = append(pollsBy[k], p)
		}
	}
	for _, a := range assigns {
		for _, part := range a.Invoke.Partitions {
			k := gtp{a.Invoke.Group, a.Invoke.Topic, part}
			tp := history.TopicPartition{Topic: k.topic, Partition: part}
			ps := pollsBy[pk{a.Invoke.Process, k.topic, part}]
			var first *history.Operation
			for i := sort.Search(len(ps), func(i int) bool { return ps[i].Invoke.Time >= a.Completion.Time }); i < len(ps); i++ {
				if ps[i].Invoke.Generation == a.Invoke.Generation && ps[i].Invoke.Member == a.Invoke.Member {
					first = &ps[i]
					break
				}
				if ps[i].Invoke.Generation > a.Invoke.Generation {
					break
				}
			}
			if first == nil {
				continue
			}
			pos := first.Invoke.Offset
			best, any := upTo(mayHaveCommitted[k], a.Completion.Time, false)
			switch {
			case any && pos > best.offset:
				add(KindSkipped, k, pos, fmt.Sprintf("%s started at %d after its assignment in generation %d, but the highest commit it could resume from is %d",
					a.Invoke.Member, pos, a.Invoke.Generation, best.offset), a, commitsBy[k][best.op], *first)
			case !any && !opts.ResetLatest:
				if e, ok := earliestRead[tp]; ok && pos > e {
					add(KindSkipped, k, pos, fmt.Sprintf("%s started at %d with no commit to resume from, past the earliest record %d",
						a.Invoke.Member, pos, e), a, *first)
				}
			}
		}
	}
	// skipped: acknowledged records below the final committed offset that
	// nobody read.
	final := map[gtp]int64{}
	for k, cs := range commitsBy { //detcheck:ordered builds a map; anomalies come from sorted keys
		for _, c := range cs {
			if c.Outcome() == history.OK && c.Invoke.Offset > final[k] {
				final[k] = c.Invoke.Offset
			}
		}
	}
	for _, k := range sortedKeys(final) {
		tp := history.TopicPartition{Topic: k.topic, Partition: k.partition}
		for _, s := range acked[tp] {
			if off := s.Offset(); off < final[k] && !readAt[tp][off] {
				add(KindSkipped, k, off, fmt.Sprintf("record %q at offset %d is below the committed offset %d but no poll returned it",
					s.Invoke.Value, off, final[k]), s)
			}
		}
	}

	// offset-went-back: a fetch below the highest commit completed before it.
	committedBefore := map[gtp][]maxAt{}
	for k, cs := range commitsBy { //detcheck:ordered builds a map
		committedBefore[k] = prefixMax(cs, func(c history.Operation) bool { return c.Outcome() == history.OK && c.Invoke.Generation >= 0 },
			func(c history.Operation) int64 { return c.Completion.Time })
	}
	for _, f := range fetches {
		if f.Outcome() != history.OK {
			continue
		}
		k := gtp{f.Invoke.Group, f.Invoke.Topic, f.Invoke.Partition}
		got := f.Completion.Offset
		if best, ok := upTo(committedBefore[k], f.Invoke.Time, true); ok && got < best.offset {
			c := commitsBy[k][best.op]
			add(KindOffsetWentBack, k, got, fmt.Sprintf("fetched committed offset %d after a commit of %d had completed", got, c.Invoke.Offset), c, f)
		}
	}

	// stale-commit-accepted: an ok commit of generation g invoked after an
	// assignment of a newer generation had completed.
	type genAt struct {
		time int64
		gen  int32
		op   history.Operation
	}
	newest := map[string][]genAt{} // group → assignments by completion, running max generation
	for _, a := range assigns {
		newest[a.Invoke.Group] = append(newest[a.Invoke.Group], genAt{a.Completion.Time, a.Invoke.Generation, a})
	}
	for g, as := range newest { //detcheck:ordered sorts each group's own slice
		slices.SortStableFunc(as, func(x, y genAt) int { return cmpInt(x.time, y.time) })
		for i := 1; i < len(as); i++ {
			if as[i-1].gen > as[i].gen {
				as[i].gen, as[i].op = as[i-1].gen, as[i-1].op
			}
		}
		newest[g] = as
	}
	for _, c := range commits {
		if c.Outcome() != history.OK || c.Invoke.Generation < 0 {
			continue
		}
		as := newest[c.Invoke.Group]
		n := sort.Search(len(as), func(i int) bool { return as[i].time >= c.Invoke.Time })
		if n > 0 && as[n-1].gen > c.Invoke.Generation {
			k := gtp{c.Invoke.Group, c.Invoke.Topic, c.Invoke.Partition}
			add(KindStaleCommitAccepted, k, c.Invoke.Offset, fmt.Sprintf("%s's commit of generation %d was accepted after generation %d had been assigned",
				c.Invoke.Member, c.Invoke.Generation, as[n-1].gen), as[n-1].op, c)
		}
	}
	if len(res.Anomalies) > 0 {
		res.Verdict = verdict.Fail
	}
	verdict.Sort(res.Anomalies)
	return res
}

func sortedKeys(m map[gtp]int64) []gtp {
	ks := make([]gtp, 0, len(m))
	for k := range m { //detcheck:ordered sorted below
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b gtp) int {
		switch {
		case a.group != b.group:
			return cmpStr(a.group, b.group)
		case a.topic != b.topic:
			return cmpStr(a.topic, b.topic)
		}
		return int(a.partition - b.partition)
	})
	return ks
}

func cmpStr(a, b string) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
