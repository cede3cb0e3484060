package sim

// event is one entry of the world's queue. Events are stored by value in a
// binary heap to keep the hot path free of interface boxing.
type event struct {
	at   int64
	seq  uint64
	node *nodeRT // nil for world events
	inc  uint64  // node incarnation captured at scheduling time
	kind eventKind
	t    *timer // for timer events
	fn   func()
}

type eventKind uint8

const (
	evWorld eventKind = iota
	evStart
	evTimer
	evPost
	evEnv // scheduled by netsim or the disk through Env.At
)

func (k eventKind) String() string {
	switch k {
	case evWorld:
		return "world"
	case evStart:
		return "start"
	case evTimer:
		return "timer"
	case evPost:
		return "post"
	case evEnv:
		return "io"
	}
	return "?"
}

type eventQueue []event

func (q eventQueue) less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}

func (q *eventQueue) push(e event) {
	*q = append(*q, e)
	h := *q
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *eventQueue) pop() event {
	h := *q
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = event{}
	h = h[:n]
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	*q = h
	return top
}
