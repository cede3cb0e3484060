package queue

// The reference: the checker as it was before it moved to integer ids and
// slices (maps keyed by value and by position, one struct per observation).
// It is the behaviour the fast checker must keep, finding for finding, so
// TestMatchesReference compares the two Results whole on random messy
// histories where every anomaly kind occurs.

import (
	"fmt"
	"reflect"
	"sort"
	"testing"

	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/history/histgen"
	"pgregory.net/rapid"
)

// offset maps a small drawn number to an offset: mostly 0..5, also two far
// beyond any dense index (so the checker's sparse positions are exercised)
// and, for acks, a negative one no valid history holds.
func offset(i int64) int64 {
	switch {
	case i < 0:
		return -3
	case i >= 6:
		return 1<<40 + i
	}
	return i
}

// messy draws a history over tiny domains — 3 processes, 2 partitions,
// offsets 0..5 and a few odd ones, values a..e — with operations overlapping at random, so
// acks collide, reads disagree, polls skip and go backwards: every anomaly
// kind, plus fail, info and pending operations and sends whose partition is
// chosen at completion.
func messy(t *rapid.T) []history.Operation {
	b := histgen.New()
	type open struct {
		ref       histgen.Ref
		poll      bool
		partition int32
	}
	var fly []open
	procs := []string{"p", "q", "r"}
	n := rapid.IntRange(0, 40).Draw(t, "steps")
	for range n {
		if len(fly) > 0 && rapid.Bool().Draw(t, "complete") {
			i := rapid.IntRange(0, len(fly)-1).Draw(t, "which")
			o := fly[i]
			fly = append(fly[:i], fly[i+1:]...)
			switch outcome := rapid.IntRange(0, 5).Draw(t, "outcome"); {
			case outcome == 0 && !o.poll:
				b.SendInfo(o.ref)
			case outcome == 1 && !o.poll:
				b.SendFail(o.ref)
			case outcome == 1:
				b.PollFail(o.ref)
			case o.poll:
				var recs []history.Read
				for off := int64(0); off < 8; off++ {
					if rapid.IntRange(0, 2).Draw(t, "read") == 0 {
						recs = append(recs, R(offset(off), string(rune('a'+rapid.IntRange(0, 4).Draw(t, "rvalue")))))
					}
				}
				b.PollOK(o.ref, recs...)
			default:
				p := o.partition
				if p == history.NoPartition {
					p = rapid.Int32Range(0, 1).Draw(t, "chosen")
				}
				b.SendOK(o.ref, p, offset(rapid.Int64Range(-1, 7).Draw(t, "offset")))
			}
			continue
		}
		proc := procs[rapid.IntRange(0, len(procs)-1).Draw(t, "process")]
		p := rapid.Int32Range(-1, 1).Draw(t, "partition")
		if rapid.Bool().Draw(t, "poll") {
			p = max(p, 0)
			fly = append(fly, open{b.InvokePoll(proc, "t", p, offset(rapid.Int64Range(0, 8).Draw(t, "position"))), true, p})
		} else {
			v := string(rune('a' + rapid.IntRange(0, 4).Draw(t, "value")))
			fly = append(fly, open{b.InvokeSend(proc, "t", p, v), false, p})
		}
	}
	return b.Pairs() // whatever is still open is pending
}

func TestMatchesReference(t *testing.T) {
	kinds := map[string]bool{}
	rapid.Check(t, func(t *rapid.T) {
		ops := messy(t)
		opts := Options{FinalReadsComplete: rapid.Bool().Draw(t, "final")}
		got, want := Check(ops, opts), refCheck(ops, opts)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got\n%+v\nwant\n%+v", got, want)
		}
		for _, a := range got.Anomalies {
			kinds[a.Kind] = true
		}
	})
	// The generator must reach every kind, or the comparison proves little.
	for _, k := range Kinds {
		if !kinds[k] {
			t.Errorf("no history had a %s anomaly", k)
		}
	}
}

// Correct histories, larger than messy's, agree too (counts, unseen).
func TestMatchesReferenceGenerated(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pairs, err := history.Pair(histgen.Generate(genConfig(t)))
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{FinalReadsComplete: rapid.Bool().Draw(t, "final")}
		if got, want := Check(pairs, opts), refCheck(pairs, opts); !reflect.DeepEqual(got, want) {
			t.Fatalf("got\n%+v\nwant\n%+v", got, want)
		}
	})
}

type refTpo struct {
	tp     history.TopicPartition
	offset int64
}

// refObs is the first operation that saw a value at a position.
type refObs struct {
	value string
	pos   refTpo
	op    int32 // index into ops
}

type refValueInfo struct {
	at   []refObs // distinct positions, first observer of each
	read bool
}

type refChecker struct {
	ops     []history.Operation
	opts    Options
	res     Result
	atPos   map[refTpo][]refObs // distinct values at a position
	values  map[string]*refValueInfo
	offsets map[history.TopicPartition][]int64 // sorted, distinct: offsets known to exist
}

// Check looks for queue and durability anomalies in a paired history
// (history.Pair). It runs in O(n log n) for n operations and records read,
// the log factor from sorting offsets.
func refCheck(ops []history.Operation, opts Options) Result {
	c := &refChecker{
		ops: ops, opts: opts,
		atPos:  map[refTpo][]refObs{},
		values: map[string]*refValueInfo{},
	}
	c.res.Anomalies = []verdict.Anomaly{}
	c.observe()
	c.knownOffsets()
	c.divergentAndDuplicate()
	c.lostWrites()
	c.consumers()
	c.producers()
	verdict.Sort(c.res.Anomalies)
	c.res.Counts = verdict.Count(c.res.Anomalies)
	c.res.Verdict = verdict.Pass
	if len(c.res.Anomalies) > 0 {
		c.res.Verdict = verdict.Fail
	}
	return c.res
}

func (c *refChecker) add(a verdict.Anomaly) { c.res.Anomalies = append(c.res.Anomalies, a) }

func (c *refChecker) ref(i int32) verdict.OpRef { return verdict.Ref(c.ops[i]) }

func refTpOf(o *history.Operation) history.TopicPartition {
	return history.TopicPartition{Topic: o.Invoke.Topic, Partition: o.Partition()}
}

// observe records every acknowledged and every read (position, value) and
// counts the history.
func (c *refChecker) observe() {
	s := &c.res.Stats
	sent := map[string]bool{}
	readVals := 0
	for i := range c.ops {
		o := &c.ops[i]
		switch o.Invoke.F {
		case history.Send:
			sent[o.Invoke.Value] = true
			switch o.Outcome() {
			case history.OK:
				s.SendsOK++
				c.see(int32(i), refTpo{refTpOf(o), o.Offset()}, o.Invoke.Value, false)
			case history.Fail:
				s.SendsFail++
			default:
				s.SendsInfo++
			}
		case history.Poll:
			switch o.Outcome() {
			case history.OK:
				s.PollsOK++
				for _, r := range o.Completion.Records {
					s.RecordsRead++
					v := c.see(int32(i), refTpo{refTpOf(o), r.Offset}, r.Value, true)
					if !v.read {
						v.read = true
						readVals++
					}
				}
			case history.Fail:
				s.PollsFail++
			default:
				s.PollsInfo++
			}
		}
	}
	s.UniqueValuesSent, s.UniqueValuesRead = len(sent), readVals
}

func (c *refChecker) see(op int32, pos refTpo, value string, read bool) *refValueInfo {
	at := c.atPos[pos]
	found := false
	for _, x := range at {
		if x.value == value {
			found = true
			break
		}
	}
	if !found {
		c.atPos[pos] = append(at, refObs{value, pos, op})
	}
	v := c.values[value]
	if v == nil {
		v = &refValueInfo{}
		c.values[value] = v
	}
	found = false
	for _, x := range v.at {
		if x.pos == pos {
			found = true
			break
		}
	}
	if !found {
		v.at = append(v.at, refObs{value, pos, op})
	}
	return v
}

// knownOffsets builds, per partition, the sorted offsets some operation
// proved to exist (acknowledged or read).
func (c *refChecker) knownOffsets() {
	c.offsets = map[history.TopicPartition][]int64{}
	for pos := range c.atPos { //detcheck:ordered each slice is sorted right after the loop
		c.offsets[pos.tp] = append(c.offsets[pos.tp], pos.offset)
	}
	for tp, offs := range c.offsets { //detcheck:ordered each key's slice is sorted independently
		sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
		c.offsets[tp] = offs
	}
}

// known returns how many offsets in [from, to) are known to exist in tp, and
// the first of them.
func (c *refChecker) known(tp history.TopicPartition, from, to int64) (int, int64) {
	offs := c.offsets[tp]
	i := sort.Search(len(offs), func(i int) bool { return offs[i] >= from })
	j := sort.Search(len(offs), func(i int) bool { return offs[i] >= to })
	if i >= j {
		return 0, history.NoOffset
	}
	return j - i, offs[i]
}

func (c *refChecker) divergentAndDuplicate() {
	for pos, at := range c.atPos { //detcheck:ordered anomalies are sorted by (kind, position) in Check
		if len(at) < 2 {
			continue
		}
		a := verdict.Anomaly{Kind: DivergentOffset, Topic: pos.tp.Topic, Partition: pos.tp.Partition, Offset: pos.offset}
		vals := ""
		for i, x := range refSortedObs(at) {
			a.Ops = append(a.Ops, c.ref(x.op))
			if i > 0 {
				vals += ", "
			}
			vals += fmt.Sprintf("%q", x.value)
		}
		a.Explanation = fmt.Sprintf("offset %d of %s/%d holds different values: %s", pos.offset, pos.tp.Topic, pos.tp.Partition, vals)
		c.add(a)
	}
	for value, v := range c.values { //detcheck:ordered anomalies are sorted by (kind, position, value) in Check
		if len(v.at) < 2 {
			continue
		}
		at := refSortedObs(v.at)
		a := verdict.Anomaly{Kind: Duplicate, Topic: at[0].pos.tp.Topic, Partition: at[0].pos.tp.Partition, Offset: at[0].pos.offset, Value: value}
		where := ""
		for i, x := range at {
			a.Ops = append(a.Ops, c.ref(x.op))
			if i > 0 {
				where += ", "
			}
			where += fmt.Sprintf("%s/%d@%d", x.pos.tp.Topic, x.pos.tp.Partition, x.pos.offset)
		}
		a.Explanation = fmt.Sprintf("value %q is at %d positions: %s", value, len(at), where)
		c.add(a)
	}
}

// refSortedObs orders observations by position then value, so evidence does
// not depend on the order a map was walked in.
func refSortedObs(at []refObs) []refObs {
	out := append([]refObs(nil), at...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.pos.tp.Topic != b.pos.tp.Topic:
			return a.pos.tp.Topic < b.pos.tp.Topic
		case a.pos.tp.Partition != b.pos.tp.Partition:
			return a.pos.tp.Partition < b.pos.tp.Partition
		case a.pos.offset != b.pos.offset:
			return a.pos.offset < b.pos.offset
		}
		return a.value < b.value
	})
	return out
}

// lostWrites: an acknowledged value that no poll ever returned is lost when
// an ok poll of its partition, invoked after the send completed, covered its
// offset (fetch position <= offset <= last offset returned: the consumer went
// past it), or, with FinalReadsComplete, always; otherwise it is unseen.
//
// Per partition, sends are visited by completion index descending while
// polls invoked later are added by invoke index descending; each poll marks
// the acknowledged offsets in its range through a "next unmarked" union-find,
// so every offset is marked once: O(n log n) overall.
func (c *refChecker) lostWrites() {
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
		tp := refTpOf(o)
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

type refConsumerKey struct {
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
func (c *refChecker) consumers() {
	type state struct {
		expected int64
		prev     int32 // the ok poll that set expected, -1 if none
	}
	at := map[refConsumerKey]*state{}
	for i := range c.ops {
		o := &c.ops[i]
		if o.Invoke.F != history.Poll || o.Outcome() != history.OK {
			continue
		}
		k := refConsumerKey{o.Invoke.Process, refTpOf(o)}
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

func (c *refChecker) gap(k refConsumerKey, from int64, r history.Read, n int, first int64, evidence []verdict.OpRef) verdict.Anomaly {
	ops := append([]verdict.OpRef(nil), evidence...)
	witness := refSortedObs(c.atPos[refTpo{k.tp, first}])[0]
	ops = append(ops, c.ref(witness.op))
	return verdict.Anomaly{Kind: Gap, Topic: k.tp.Topic, Partition: k.tp.Partition, Offset: from, Value: witness.value, Ops: ops,
		Explanation: fmt.Sprintf("%s read offset %d next after position %d, skipping %d offset(s) known to exist (offset %d holds %q)",
			k.process, r.Offset, from, n, first, witness.value)}
}

type refSendMark struct {
	invoke, completion int64
	offset             int64
	op                 int32
}

// producers: for each producer and partition, a send invoked after another
// send of the same producer completed ok must get a higher offset.
func (c *refChecker) producers() {
	sends := map[refConsumerKey][]refSendMark{}
	var keys []refConsumerKey
	for i := range c.ops {
		o := &c.ops[i]
		if o.Invoke.F != history.Send || o.Outcome() != history.OK {
			continue
		}
		k := refConsumerKey{o.Invoke.Process, refTpOf(o)}
		if _, ok := sends[k]; !ok {
			keys = append(keys, k)
		}
		sends[k] = append(sends[k], refSendMark{o.Invoke.Index, o.Completion.Index, o.Offset(), int32(i)})
	}
	for _, k := range keys {
		byInvoke := sends[k]
		byCompletion := append([]refSendMark(nil), byInvoke...)
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
