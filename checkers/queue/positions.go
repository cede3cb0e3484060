package queue

// positions maps (partition id, offset) to slots. Offsets of a partition are
// mostly dense from 0, so each partition has a slice indexed by offset; an
// offset that is negative or would grow the slices past a budget linear in
// the history's size goes to a map instead, so memory stays O(n) whatever
// offsets a (buggy) history holds.
type positions struct {
	slots  []slot
	dense  [][]int32 // by partition id, by offset: slot id, -1 for none
	cells  int       // total length of dense
	budget int       // bound on cells
	sparse map[posKey]int32
}

type posKey struct {
	offset int64
	tp     int32
}

func (p *positions) init(ops, sends int) {
	p.budget = 4*ops + 1<<16
	p.slots = make([]slot, 0, sends)
	p.sparse = map[posKey]int32{}
}

func (p *positions) addPartition() { p.dense = append(p.dense, nil) }

// lookup returns the slot of (tp, offset), -1 if none.
func (p *positions) lookup(tp int32, offset int64) int32 {
	if d := p.dense[tp]; offset >= 0 && offset < int64(len(d)) && d[offset] >= 0 {
		return d[offset]
	}
	if len(p.sparse) == 0 {
		return -1
	}
	if sl, ok := p.sparse[posKey{offset, tp}]; ok {
		return sl
	}
	return -1
}

// slot returns the slot of (tp, offset), creating it if needed.
func (p *positions) slot(tp int32, offset int64) int32 {
	if sl := p.lookup(tp, offset); sl >= 0 {
		return sl
	}
	sl := int32(len(p.slots))
	p.slots = append(p.slots, slot{offset: offset, tp: tp, first: -1})
	if p.grow(tp, offset) {
		p.dense[tp][offset] = sl
	} else {
		p.sparse[posKey{offset, tp}] = sl
	}
	return sl
}

// grow makes dense[tp] cover offset if the budget allows (doubling, so
// appends are amortised O(1)). An offset already in sparse stays there:
// lookup checks both.
func (p *positions) grow(tp int32, offset int64) bool {
	d := p.dense[tp]
	if offset < 0 {
		return false
	}
	if offset < int64(len(d)) {
		return true
	}
	n := max(2*int64(len(d)), offset+1, 1024)
	if int64(p.cells-len(d))+n > int64(p.budget) {
		n = offset + 1
		if int64(p.cells-len(d))+n > int64(p.budget) {
			return false
		}
	}
	nd := make([]int32, n)
	copy(nd, d)
	for i := len(d); i < len(nd); i++ {
		nd[i] = -1
	}
	p.cells += len(nd) - len(d)
	p.dense[tp] = nd
	return true
}
