package queue

import (
	"fmt"
	"sort"

	"github.com/loglab/loglab/checkers/history"
	"github.com/loglab/loglab/checkers/verdict"
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
	polls := map[history.TopicPartition][]span{}
	lost := map[history.TopicPartition][]sendAt{}
	acked := map[history.TopicPartition][]int64{}
	var tps []history.TopicPartition
	for i := range c.ops {
		o := &c.ops[i]
		if o.Outcome() != history.OK {
			continue
		}
		tp := tpOf(o)
		if _, ok := polls[tp]; !ok {
			polls[tp] = nil
			tps = append(tps, tp)
		}
		switch {
		case o.Invoke.F == history.Poll && len(o.Completion.Records) > 0:
			recs := o.Completion.Records
			polls[tp] = append(polls[tp], span{o.Invoke.Index, o.Invoke.Offset, recs[len(recs)-1].Offset, int32(i)})
		case o.Invoke.F == history.Send:
			acked[tp] = append(acked[tp], o.Offset())
			if !c.values[o.Invoke.Value].read {
				lost[tp] = append(lost[tp], sendAt{o.Completion.Index, o.Offset(), int32(i)})
			}
		}
	}
	for _, tp := range tps {
		sends := lost[tp]
		if len(sends) == 0 {
			continue
		}
		offs := acked[tp]
		sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
		next := make([]int, len(offs)+1) // union-find: next unmarked index
		for i := range next {
			next[i] = i
		}
		var find func(i int) int
		find = func(i int) int {
			for next[i] != i {
				next[i] = next[next[i]]
				i = next[i]
			}
			return i
		}
		coveredBy := make([]int32, len(offs))
		sort.Slice(sends, func(i, j int) bool { return sends[i].completion > sends[j].completion })
		ps := polls[tp] // in invoke order; consumed from the end
		k := len(ps) - 1
		for _, s := range sends {
			for ; k >= 0 && ps[k].invoke > s.completion; k-- {
				p := ps[k]
				i := find(sort.Search(len(offs), func(i int) bool { return offs[i] >= p.from }))
				for i < len(offs) && offs[i] <= p.to {
					coveredBy[i] = p.op
					next[i] = i + 1
					i = find(i + 1)
				}
			}
			o := &c.ops[s.op]
			a := verdict.Anomaly{Kind: LostWrite, Topic: tp.Topic, Partition: tp.Partition, Offset: s.offset, Value: o.Invoke.Value,
				Ops: []verdict.OpRef{c.ref(s.op)}}
			idx := sort.Search(len(offs), func(i int) bool { return offs[i] >= s.offset })
			switch {
			case find(idx) != idx: // marked: a later poll covered the offset
				p := &c.ops[coveredBy[idx]]
				a.Ops = append(a.Ops, c.ref(coveredBy[idx]))
				a.Explanation = fmt.Sprintf("value %q was acknowledged at offset %d and never read, though %s later polled %s/%d from %d past it",
					o.Invoke.Value, s.offset, p.Invoke.Process, tp.Topic, tp.Partition, p.Invoke.Offset)
			case c.opts.FinalReadsComplete:
				a.Explanation = fmt.Sprintf("value %q was acknowledged at offset %d and never read, and the final reads were complete", o.Invoke.Value, s.offset)
			default:
				c.res.Stats.Unseen++
				continue
			}
			c.add(a)
		}
	}
}

type consumerKey struct {
	process string
	tp      history.TopicPartition
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
	at := map[consumerKey]*state{}
	for i := range c.ops {
		o := &c.ops[i]
		if o.Invoke.F != history.Poll || o.Outcome() != history.OK {
			continue
		}
		k := consumerKey{o.Invoke.Process, tpOf(o)}
		st := at[k]
		if st == nil {
			st = &state{expected: history.NoOffset, prev: -1}
			at[k] = st
		}
		pos := o.Invoke.Offset
		seek := pos != st.expected
		recs := o.Completion.Records
		evidence := []verdict.OpRef{c.ref(int32(i))}
		if !seek && st.prev >= 0 {
			evidence = append([]verdict.OpRef{c.ref(st.prev)}, evidence...)
		}
		if len(recs) > 0 && recs[0].Offset < pos {
			how := "after seeking to it"
			if !seek {
				how = "where the previous poll left the consumer"
			}
			c.add(verdict.Anomaly{Kind: NonMonotonic, Topic: k.tp.Topic, Partition: k.tp.Partition, Offset: recs[0].Offset,
				Value: recs[0].Value, Ops: evidence,
				Explanation: fmt.Sprintf("%s polled from position %d (%s) and got offset %d: its offsets went backwards without a seek",
					k.process, pos, how, recs[0].Offset)})
		}
		from := pos
		for _, r := range recs {
			if r.Offset > from {
				if n, first := c.known(k.tp, from, r.Offset); n > 0 {
					c.add(c.gap(k, from, r, n, first, evidence))
				}
			}
			from = max(from, r.Offset+1)
		}
		if len(recs) > 0 {
			st.expected = recs[len(recs)-1].Offset + 1
		} else {
			st.expected = pos
		}
		st.prev = int32(i)
	}
}

func (c *checker) gap(k consumerKey, from int64, r history.Read, n int, first int64, evidence []verdict.OpRef) verdict.Anomaly {
	ops := append([]verdict.OpRef(nil), evidence...)
	witness := sortedObs(c.atPos[tpo{k.tp, first}])[0]
	ops = append(ops, c.ref(witness.op))
	return verdict.Anomaly{Kind: Gap, Topic: k.tp.Topic, Partition: k.tp.Partition, Offset: from, Value: witness.value, Ops: ops,
		Explanation: fmt.Sprintf("%s read offset %d next after position %d, skipping %d offset(s) known to exist (offset %d holds %q)",
			k.process, r.Offset, from, n, first, witness.value)}
}

type sendMark struct {
	invoke, completion int64
	offset             int64
	op                 int32
}

// producers: for each producer and partition, a send invoked after another
// send of the same producer completed ok must get a higher offset.
func (c *checker) producers() {
	sends := map[consumerKey][]sendMark{}
	var keys []consumerKey
	for i := range c.ops {
		o := &c.ops[i]
		if o.Invoke.F != history.Send || o.Outcome() != history.OK {
			continue
		}
		k := consumerKey{o.Invoke.Process, tpOf(o)}
		if _, ok := sends[k]; !ok {
			keys = append(keys, k)
		}
		sends[k] = append(sends[k], sendMark{o.Invoke.Index, o.Completion.Index, o.Offset(), int32(i)})
	}
	for _, k := range keys {
		byInvoke := sends[k]
		byCompletion := append([]sendMark(nil), byInvoke...)
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
				c.add(verdict.Anomaly{Kind: Reorder, Topic: k.tp.Topic, Partition: k.tp.Partition, Offset: b.offset,
					Value: c.ops[b.op].Invoke.Value, Ops: []verdict.OpRef{c.ref(a.op), c.ref(b.op)},
					Explanation: fmt.Sprintf("%s sent %q after %q was acknowledged at offset %d, yet it got the lower offset %d",
						k.process, c.ops[b.op].Invoke.Value, c.ops[a.op].Invoke.Value, a.offset, b.offset)})
			}
		}
	}
}
