package queue

import (
	"fmt"
	"slices"
	"sort"

	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
)

// lostWrites: an acknowledged value that no poll ever returned is lost when
// an ok poll of its partition, invoked after the send completed, covered its
// offset (fetch position <= offset <= last offset returned: the consumer went
// past it), or, with FinalReadsComplete, always; otherwise it is unseen.
//
// Per partition, sends are visited by completion index descending while
// polls invoked later are added by invoke index descending; each poll marks
// the acknowledged offsets in its range through a "next unmarked" union-find,
// so every offset is marked once: O(n log n) overall.
func (c *checker) lostWrites() {
	type span struct {
		invoke, from, to int64
		op               int32
	}
	type sendAt struct {
		completion, offset int64
		op                 int32
	}
	// Group by partition with a counting sort (each group in op order, as
	// the walk below needs), in one allocation per kind. Partitions are
	// visited by id: anomalies of different partitions never tie in
	// verdict.Sort, so the order of the walk cannot show.
	nPolls, nAcked, nLost := make([]int, len(c.tps)+1), make([]int, len(c.tps)+1), make([]int, len(c.tps)+1)
	for _, i := range c.okPolls {
		if len(c.ops[i].Completion.Records) > 0 {
			nPolls[c.opTP[i]+1]++
		}
	}
	for _, i := range c.okSends {
		tp := c.opTP[i]
		nAcked[tp+1]++
		if !c.values[c.opVal[i]].read {
			nLost[tp+1]++
		}
	}
	for tp := range c.tps {
		nPolls[tp+1] += nPolls[tp]
		nAcked[tp+1] += nAcked[tp]
		nLost[tp+1] += nLost[tp]
	}
	if nLost[len(c.tps)] == 0 {
		return
	}
	polls := make([]span, nPolls[len(c.tps)])
	acked := make([]int64, nAcked[len(c.tps)])
	lost := make([]sendAt, nLost[len(c.tps)])
	fillPolls, fillAcked, fillLost := slices.Clone(nPolls), slices.Clone(nAcked), slices.Clone(nLost)
	for _, i := range c.okPolls {
		o := &c.ops[i]
		if recs := o.Completion.Records; len(recs) > 0 {
			tp := c.opTP[i]
			polls[fillPolls[tp]] = span{o.Invoke.Index, o.Invoke.Offset, recs[len(recs)-1].Offset, i}
			fillPolls[tp]++
		}
	}
	for _, i := range c.okSends {
		o := &c.ops[i]
		tp := c.opTP[i]
		acked[fillAcked[tp]] = o.Completion.Offset
		fillAcked[tp]++
		if !c.values[c.opVal[i]].read {
			lost[fillLost[tp]] = sendAt{o.Completion.Index, o.Completion.Offset, i}
			fillLost[tp]++
		}
	}
	for id := range c.tps {
		sends := lost[nLost[id]:nLost[id+1]]
		if len(sends) == 0 {
			continue
		}
		tp := c.tps[id]
		offs := acked[nAcked[id]:nAcked[id+1]]
		slices.Sort(offs)
		next := make([]int, len(offs)+1) // union-find: next unmarked index
		for i := range next {
			next[i] = i
		}
		find := func(i int) int {
			for next[i] != i {
				next[i] = next[next[i]]
				i = next[i]
			}
			return i
		}
		coveredBy := make([]int32, len(offs))
		sort.Slice(sends, func(i, j int) bool { return sends[i].completion > sends[j].completion })
		ps := polls[nPolls[id]:nPolls[id+1]] // in op (invoke) order; consumed from the end
		k := len(ps) - 1
		for _, s := range sends {
			for ; k >= 0 && ps[k].invoke > s.completion; k-- {
				p := ps[k]
				i, _ := slices.BinarySearch(offs, p.from)
				for i = find(i); i < len(offs) && offs[i] <= p.to; i = find(i + 1) {
					coveredBy[i] = p.op
					next[i] = i + 1
				}
			}
			o := &c.ops[s.op]
			idx, _ := slices.BinarySearch(offs, s.offset)
			covered := find(idx) != idx // marked: a later poll covered the offset
			if !covered && !c.opts.FinalReadsComplete {
				c.res.Stats.Unseen++
				continue
			}
			a := verdict.Anomaly{Kind: LostWrite, Topic: tp.Topic, Partition: tp.Partition, Offset: s.offset, Value: o.Invoke.Value,
				Ops: []verdict.OpRef{c.ref(s.op)}}
			if covered {
				p := &c.ops[coveredBy[idx]]
				a.Ops = append(a.Ops, c.ref(coveredBy[idx]))
				a.Explanation = fmt.Sprintf("value %q was acknowledged at offset %d and never read, though %s later polled %s/%d from %d past it",
					o.Invoke.Value, s.offset, p.Invoke.Process, tp.Topic, tp.Partition, p.Invoke.Offset)
			} else {
				a.Explanation = fmt.Sprintf("value %q was acknowledged at offset %d and never read, and the final reads were complete", o.Invoke.Value, s.offset)
			}
			c.add(a)
		}
	}
}

// consumerKey names one process's view of one partition (by id).
type consumerKey struct {
	process string
	tp      int32
}

// keys interns (process, partition) pairs in order of first appearance.
type keys struct {
	id   map[consumerKey]int32
	list []consumerKey
}

func (k *keys) of(process string, tp int32) int32 {
	key := consumerKey{process, tp}
	id, ok := k.id[key]
	if !ok {
		id = int32(len(k.list))
		k.id[key] = id
		k.list = append(k.list, key)
	}
	return id
}

// evidence is a poll's evidence: the previous poll that set its position
// (prev, -1 if none or after a seek), then the poll itself.
func (c *checker) evidence(prev, poll int32) []verdict.OpRef {
	if prev >= 0 {
		return []verdict.OpRef{c.ref(prev), c.ref(poll)}
	}
	return []verdict.OpRef{c.ref(poll)}
}

// consumers walks each consumer's polls of each partition in invoke order.
// A poll whose position is not where the consumer's previous ok poll left
// it (last offset read + 1, or the same position after an empty read) is a
// seek. Records below the poll's own position are non-monotonic: without a
// seek the position is the previous end, so the consumer went backwards.
// Records that jump over offsets known to exist — from the position to the
// first record, or between two records — are a gap.
func (c *checker) consumers() {
	type state struct {
		expected int64
		prev     int32 // the ok poll that set expected, -1 if none
	}
	ks := keys{id: map[consumerKey]int32{}}
	var at []state
	for _, i := range c.okPolls {
		o := &c.ops[i]
		id := ks.of(o.Invoke.Process, c.opTP[i])
		if int(id) == len(at) {
			at = append(at, state{expected: history.NoOffset, prev: -1})
		}
		st := &at[id]
		pos := o.Invoke.Offset
		seek := pos != st.expected
		recs := o.Completion.Records
		prev := int32(-1)
		if !seek && st.prev >= 0 {
			prev = st.prev
		}
		if len(recs) > 0 && recs[0].Offset < pos {
			how := "after seeking to it"
			if !seek {
				how = "where the previous poll left the consumer"
			}
			tp := c.tps[c.opTP[i]]
			c.add(verdict.Anomaly{Kind: NonMonotonic, Topic: tp.Topic, Partition: tp.Partition, Offset: recs[0].Offset,
				Value: recs[0].Value, Ops: c.evidence(prev, i),
				Explanation: fmt.Sprintf("%s polled from position %d (%s) and got offset %d: its offsets went backwards without a seek",
					o.Invoke.Process, pos, how, recs[0].Offset)})
		}
		from := pos
		for _, r := range recs {
			if r.Offset > from {
				if n, first := c.known(c.opTP[i], from, r.Offset); n > 0 {
					c.add(c.gap(o.Invoke.Process, c.opTP[i], from, r, n, first, c.evidence(prev, i)))
				}
			}
			from = max(from, r.Offset+1)
		}
		if len(recs) > 0 {
			st.expected = recs[len(recs)-1].Offset + 1
		} else {
			st.expected = pos
		}
		st.prev = i
	}
}

func (c *checker) gap(process string, tp int32, from int64, r history.Read, n int, first int64, ops []verdict.OpRef) verdict.Anomaly {
	witness := c.atSlot(c.lookup(tp, first))[0]
	ops = append(ops, c.ref(witness.op))
	p := c.tps[tp]
	return verdict.Anomaly{Kind: Gap, Topic: p.Topic, Partition: p.Partition, Offset: from, Value: witness.value, Ops: ops,
		Explanation: fmt.Sprintf("%s read offset %d next after position %d, skipping %d offset(s) known to exist (offset %d holds %q)",
			process, r.Offset, from, n, first, witness.value)}
}

type sendMark struct {
	invoke, completion int64
	offset             int64
	op                 int32
}

// producers: for each producer and partition, a send invoked after another
// send of the same producer completed ok must get a higher offset. Sends
// are grouped by (producer, partition) with a counting sort: each group in
// invoke order, groups in order of first send.
func (c *checker) producers() {
	ks := keys{id: map[consumerKey]int32{}}
	group := make([]int32, len(c.okSends)) // by position in okSends
	var size []int
	for j, i := range c.okSends {
		g := ks.of(c.ops[i].Invoke.Process, c.opTP[i])
		if int(g) == len(size) {
			size = append(size, 0)
		}
		group[j] = g
		size[g]++
	}
	start := make([]int, len(size)+1)
	for g, n := range size {
		start[g+1] = start[g] + n
	}
	marks := make([]sendMark, start[len(size)])
	fill := append([]int(nil), start[:len(size)]...)
	for j, g := range group {
		i := c.okSends[j]
		o := &c.ops[i]
		marks[fill[g]] = sendMark{o.Invoke.Index, o.Completion.Index, o.Completion.Offset, i}
		fill[g]++
	}
	var byCompletion []sendMark
	for g, k := range ks.list {
		byInvoke := marks[start[g]:start[g+1]]
		byCompletion = append(byCompletion[:0], byInvoke...)
		sort.Slice(byCompletion, func(i, j int) bool { return byCompletion[i].completion < byCompletion[j].completion })
		j, top := 0, -1 // top: the completed send with the highest offset so far
		for _, b := range byInvoke {
			for j < len(byCompletion) && byCompletion[j].completion < b.invoke {
				if top < 0 || byCompletion[j].offset > byCompletion[top].offset {
					top = j
				}
				j++
			}
			if top >= 0 && byCompletion[top].offset > b.offset {
				a := byCompletion[top]
				tp := c.tps[k.tp]
				c.add(verdict.Anomaly{Kind: Reorder, Topic: tp.Topic, Partition: tp.Partition, Offset: b.offset,
					Value: c.ops[b.op].Invoke.Value, Ops: []verdict.OpRef{c.ref(a.op), c.ref(b.op)},
					Explanation: fmt.Sprintf("%s sent %q after %q was acknowledged at offset %d, yet it got the lower offset %d",
						k.process, c.ops[b.op].Invoke.Value, c.ops[a.op].Invoke.Value, a.offset, b.offset)})
			}
		}
	}
}
