package good

import (
	"fmt"
	"io/fs"
	"maps"
	mrand "math/rand"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"time"
)

// Seeded randomness: generators built from an explicit seed.
func Seeded(seed uint64) int {
	r := rand.New(rand.NewPCG(seed, 2))
	c := rand.New(rand.NewChaCha8([32]byte{1}))
	z := rand.NewZipf(r, 1.5, 1, 10)
	old := mrand.New(mrand.NewSource(int64(seed)))
	r.Shuffle(3, func(i, j int) {})
	return r.IntN(10) + c.IntN(10) + int(z.Uint64()) + old.Intn(4)
}

// Durations and times as values: no clock is read.
func Deadline(start time.Time, timeout time.Duration) (time.Time, bool) {
	d := 3*time.Second + timeout/2 + time.Duration(7)*time.Millisecond
	end := time.Unix(0, start.UnixNano()).Add(d).UTC()
	return end, end.After(start) && end.Sub(start) > time.Millisecond
}

// Keys in sorted order, three ways.
func Keys(m map[string]int) ([]string, []string, []string) {
	a := slices.Sorted(maps.Keys(m))

	var b []string
	//detcheck:ordered keys are sorted right after the loop
	for k := range m {
		b = append(b, k)
	}
	sort.Strings(b)

	var c []string
	for k := range m { //detcheck:ordered collected then sorted
		c = append(c, k)
	}
	slices.Sort(c)
	return a, b, c
}

// Sum does not depend on order.
func Sum(m map[string]int) (total int) {
	for _, v := range m { //detcheck:ordered addition is commutative
		total += v
	}
	return total
}

// Describe formats values without pointers.
func Describe(p *int, addr netip.Addr, mode fs.FileMode) string {
	return fmt.Sprintf("%d %v %s %% %v", *p, addr, mode, []int{1})
}

// Measure reads the wall clock on purpose, with its reason written down.
func Measure() time.Time {
	//detcheck:allow wallclock example of a justified exception
	return time.Now()
}

// Slices and arrays range in index order.
func Ranges(xs []int, s string) (n int) {
	for i := range xs {
		n += i
	}
	for range s {
		n++
	}
	for i := range 3 {
		n += i
	}
	return n
}
