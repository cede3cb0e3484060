package linearizable

import (
	"fmt"
	"strings"

	"github.com/anishathalye/porcupine"
	"github.com/loglab/loglab/history"
)

// unknownOffset marks a send whose offset the history does not tell (an info
// or pending send whose value no poll read).
const unknownOffset int64 = -1

// call is one operation as the model sees it; porcupine gets the same
// pointer as input and output, since everything the model needs is known
// when the history is built.
type call struct {
	send bool
	// send: the value, its hash, and the offset it must take (unknownOffset:
	// any, i.e. the next one when porcupine linearizes it).
	value  string
	vhash  uint64
	offset int64
	// filler: an info send no poll read, whose value therefore never
	// matters, only its place (package doc); rank is its position among the
	// partition's fillers in invoke order, and it may only be placed when
	// rank fillers are already in the log.
	filler bool
	rank   int
	// claimed holds the partition's offsets pinned by an ok send, an info
	// send read at one offset, or a read: a filler may only fill a hole.
	claimed map[int64]bool
	// poll: the fetch position and the records read (ok polls only).
	position int64
	records  []history.Read
	// emptyAlwaysLegal: an empty poll says nothing (Options.StaleReads).
	emptyAlwaysLegal bool
	// ref is the history operation, for evidence and the visualization.
	ref *history.Operation
}

// logState is a partition's log: the values at offsets 0..n-1, kept in
// b.vals[:n], with h a hash of that sequence and fillers the number of
// fillers (unread info sends) among them.
//
// States share one append-only backing array. Why it is safe: a state
// (b, n) reads only b.vals[:n], and an entry of b.vals is never changed once
// written — appendValue either appends at the end (when len(b.vals) == n),
// reuses an entry already equal to the value being appended, or copies the
// prefix into a new backing. So every state keeps seeing the log it was
// created with, while the common case (porcupine walking forward) costs
// O(1) and no copy. Each Init makes a fresh backing, so two checks (or a
// check and its visualization) never share one.
type logState struct {
	b       *backing
	n       int
	h       uint64
	fillers int
}

type backing struct{ vals []slot }

// slot is one offset's content: a value, or a filler, which no read
// matches.
type slot struct {
	value  string
	filler bool
}

// fillerHash stands for every filler in the rolling hash.
const fillerHash = 0x5bd1e9955bd1e995

const prime = 0x100000001b3

func hashValue(v string) uint64 {
	h := uint64(0xcbf29ce484222325) // FNV-1a
	for i := 0; i < len(v); i++ {
		h ^= uint64(v[i])
		h *= prime
	}
	return h
}

func mix(h, v uint64) uint64 {
	h = (h ^ v) * 0xff51afd7ed558ccd
	return h ^ h>>32
}

func (s *logState) appendSlot(v slot, vh uint64) *logState {
	b := s.b
	switch {
	case len(b.vals) == s.n:
		b.vals = append(b.vals, v)
	case b.vals[s.n] == v:
		// This prefix was extended by the same slot before: share it.
	default:
		nb := &backing{vals: make([]slot, s.n, s.n+s.n/4+8)}
		copy(nb.vals, b.vals[:s.n])
		nb.vals = append(nb.vals, v)
		b = nb
	}
	next := &logState{b: b, n: s.n + 1, h: mix(s.h, vh), fillers: s.fillers}
	if v.filler {
		next.fillers++
	}
	return next
}

func initState() interface{} { return &logState{b: &backing{}} }

func step(state, in, _ interface{}) (bool, interface{}) {
	s := state.(*logState)
	c := in.(*call)
	n := int64(s.n)
	if c.send {
		if c.filler {
			if c.rank != s.fillers || c.claimed[n] {
				return false, s
			}
			return true, s.appendSlot(slot{filler: true}, fillerHash)
		}
		if c.offset != unknownOffset && c.offset != n {
			return false, s
		}
		return true, s.appendSlot(slot{value: c.value}, c.vhash)
	}
	if len(c.records) == 0 {
		return c.emptyAlwaysLegal || n <= c.position, s
	}
	for i, r := range c.records {
		o := c.position + int64(i)
		if r.Offset != o || o >= n || s.b.vals[o] != (slot{value: r.Value}) {
			return false, s
		}
	}
	return true, s
}

func equal(a, b interface{}) bool {
	x, y := a.(*logState), b.(*logState)
	if x.n != y.n || x.h != y.h || x.fillers != y.fillers {
		return false
	}
	if x.b == y.b {
		return true
	}
	for i := 0; i < x.n; i++ {
		if x.b.vals[i] != y.b.vals[i] {
			return false
		}
	}
	return true
}

func hash(s interface{}) uint64 {
	x := s.(*logState)
	return x.h ^ uint64(x.n)*0x9e3779b97f4a7c15
}

// describeLimit bounds the text of one state or operation in the HTML.
const describeLimit = 8

func describeOperation(in, _ interface{}) string {
	c := in.(*call)
	if c.send {
		if c.filler {
			return fmt.Sprintf("send(%q) -> ? (unread)", c.value)
		}
		if c.offset == unknownOffset {
			return fmt.Sprintf("send(%q) -> ?", c.value)
		}
		return fmt.Sprintf("send(%q) -> %d", c.value, c.offset)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "poll(%d) -> [", c.position)
	for i, r := range c.records {
		if i == describeLimit {
			fmt.Fprintf(&b, " ...%d more", len(c.records)-i)
			break
		}
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%d:%q", r.Offset, r.Value)
	}
	b.WriteString("]")
	return b.String()
}

func describeState(state interface{}) string {
	s := state.(*logState)
	var b strings.Builder
	fmt.Fprintf(&b, "log end %d: [", s.n)
	from := 0
	if s.n > describeLimit {
		from = s.n - describeLimit
		b.WriteString("... ")
	}
	for i := from; i < s.n; i++ {
		if i > from {
			b.WriteString(" ")
		}
		if v := s.b.vals[i]; v.filler {
			fmt.Fprintf(&b, "%d:?", i)
		} else {
			fmt.Fprintf(&b, "%d:%q", i, v.value)
		}
	}
	b.WriteString("]")
	return b.String()
}

// model is the porcupine model of one partition's log (see the package doc);
// its inputs are the *call values Check builds.
func model() porcupine.Model {
	return porcupine.Model{
		Init:              initState,
		Step:              step,
		Equal:             equal,
		Hash:              hash,
		DescribeOperation: describeOperation,
		DescribeState:     describeState,
	}
}
