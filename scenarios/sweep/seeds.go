package sweep

import (
	"fmt"
	"strconv"
	"strings"
)

// Range is an inclusive range of seeds.
type Range struct{ First, Last uint64 }

func (r Range) String() string {
	return strconv.FormatUint(r.First, 10) + "-" + strconv.FormatUint(r.Last, 10)
}

// ParseRange reads "A-B" (or a single seed "A").
func ParseRange(s string) (Range, error) {
	bad := func(why string) (Range, error) {
		return Range{}, fmt.Errorf("--seeds %q: %s (want A-B, e.g. --seeds 1-200)", s, why)
	}
	a, b, isRange := strings.Cut(strings.TrimSpace(s), "-")
	first, err := strconv.ParseUint(a, 10, 64)
	if err != nil {
		return bad("first seed is not a non-negative integer")
	}
	last := first
	if isRange {
		if last, err = strconv.ParseUint(b, 10, 64); err != nil {
			return bad("last seed is not a non-negative integer")
		}
	}
	if last < first {
		return bad("last seed is below the first")
	}
	if last-first >= 1<<32 {
		return bad("more than 2^32 seeds")
	}
	return Range{first, last}, nil
}

// Shard is shard Index of Count.
type Shard struct{ Index, Count uint64 }

// Whole is the one shard of an unsharded sweep.
var Whole = Shard{0, 1}

func (s Shard) String() string {
	return strconv.FormatUint(s.Index, 10) + "/" + strconv.FormatUint(s.Count, 10)
}

// ParseShard reads "I/N" with 0 <= I < N.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(strings.TrimSpace(s), "/")
	index, err1 := strconv.ParseUint(i, 10, 64)
	count, err2 := strconv.ParseUint(n, 10, 64)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("--shard %q: want I/N, e.g. --shard 0/4", s)
	}
	if count == 0 || index >= count {
		return Shard{}, fmt.Errorf("--shard %q: want 0 <= I < N", s)
	}
	return Shard{index, count}, nil
}

// Seeds lists the range's seeds that belong to the shard.
func (s Shard) Seeds(r Range) []uint64 {
	var out []uint64
	span := r.Last - r.First
	for i := s.Index; i <= span; i += s.Count {
		out = append(out, r.First+i)
		if s.Count > span-i {
			break // the next one is past the range (and would overflow)
		}
	}
	return out
}
