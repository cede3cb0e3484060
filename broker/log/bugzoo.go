package log

// Deliberate bugs for the bug zoo (package bugzoo), test-only. Each is
// reached from one branch guarded by cfg.Bugs.Has(...); with the zero
// Config.Bugs none of this runs.

// floorOffByOne is floor with the classic binary-search slip: it returns
// the first index entry past offset instead of the last one at or before
// it, so the read starts one entry too far and skips the batches between
// (bugzoo.IndexOffByOne). At the segment's tail, where no entry lies past
// offset, it behaves like floor.
func (s *segment) floorOffByOne(offset int64) (pos int64, base int64) {
	rel := offset - s.base
	for _, e := range s.idx {
		if int64(e.rel) > rel {
			return int64(e.pos), s.base + int64(e.rel)
		}
	}
	return s.floor(offset)
}
