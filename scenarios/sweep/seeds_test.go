package sweep_test

import (
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/loglab/loglab/scenarios/sweep"
)

func TestParseSeedsAndShard(t *testing.T) {
	good := map[string]sweep.Range{"1-200": {First: 1, Last: 200}, "7": {First: 7, Last: 7}, "0-0": {}, " 3-5 ": {First: 3, Last: 5}}
	for in, want := range good {
		if got, err := sweep.ParseRange(in); err != nil || got != want {
			t.Errorf("sweep.ParseRange(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "a-b", "5-1", "-3", "1-", "1-2-3", "1..5"} {
		if _, err := sweep.ParseRange(in); err == nil || !strings.Contains(err.Error(), "want A-B") {
			t.Errorf("sweep.ParseRange(%q): err = %v, want a one-line 'want A-B' error", in, err)
		}
	}
	if s, err := sweep.ParseShard("3/4"); err != nil || s != (sweep.Shard{Index: 3, Count: 4}) {
		t.Errorf("sweep.ParseShard(3/4) = %v, %v", s, err)
	}
	for _, in := range []string{"4/4", "0/0", "1", "a/b", "-1/4", "1/-4"} {
		if _, err := sweep.ParseShard(in); err == nil {
			t.Errorf("sweep.ParseShard(%q) accepted", in)
		}
	}
}

// The shards of a range partition it: every seed in exactly one shard, in
// order, and shard I holds the seeds with (seed-A) % N == I.
func TestShardsPartitionTheRange(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		first := rapid.Uint64Range(0, 1<<20).Draw(t, "first")
		if rapid.Bool().Draw(t, "near-max") {
			first = ^uint64(0) - rapid.Uint64Range(0, 300).Draw(t, "back")
		}
		last := first + rapid.Uint64Range(0, min(300, ^uint64(0)-first)).Draw(t, "span")
		n := rapid.Uint64Range(1, 20).Draw(t, "n")
		r := sweep.Range{First: first, Last: last}
		seen := map[uint64]uint64{}
		for i := uint64(0); i < n; i++ {
			for _, s := range (sweep.Shard{Index: i, Count: n}).Seeds(r) {
				if s < first || s > last || (s-first)%n != i {
					t.Fatalf("shard %d/%d of %v holds seed %d", i, n, r, s)
				}
				if _, dup := seen[s]; dup {
					t.Fatalf("seed %d in two shards", s)
				}
				seen[s] = i
			}
		}
		if uint64(len(seen)) != last-first+1 {
			t.Fatalf("%d seeds covered of %v", len(seen), r)
		}
	})
}
