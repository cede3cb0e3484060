package linearizable

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/history/histgen"
	"pgregory.net/rapid"
)

var R = histgen.R

// both runs Check with and without pruning; the verdicts must agree.
func both(t *testing.T, b *histgen.Builder, opts Options) Result {
	t.Helper()
	pairs := b.Pairs()
	res := Check(pairs, opts)
	opts.KeepUnreadInfoSends = true
	if full := Check(pairs, opts); full.Verdict != res.Verdict {
		t.Fatalf("pruned verdict %s, unpruned %s", res.Verdict, full.Verdict)
	}
	return res
}

func want(t *testing.T, res Result, v verdict.Verdict) {
	t.Helper()
	if res.Verdict != v {
		t.Fatalf("verdict %s, want %s: %+v", res.Verdict, v, res)
	}
}

func correct() *histgen.Builder {
	b := histgen.New()
	a := b.InvokeSend("p1", "t", 0, "a")
	c := b.InvokeSend("p2", "t", 0, "c")
	b.SendOK(c, 0, 0) // c and a were concurrent: either order is fine
	b.SendOK(a, 0, 1)
	p := b.InvokePoll("c1", "t", 0, 0)
	b.Send("p1", "t", 0, "d", 2) // concurrent with the poll, which may miss it
	b.PollOK(p, R(0, "c"), R(1, "a"))
	b.Poll("c1", "t", 0, 2, R(2, "d"))
	b.Poll("c1", "t", 0, 3)
	b.Send("p1", "t", 1, "x", 0) // another partition, its own log
	b.Poll("c2", "t", 1, 0, R(0, "x"))
	return b
}

func TestCorrectHistoryPasses(t *testing.T) {
	res := both(t, correct(), Options{})
	want(t, res, verdict.Pass)
	if len(res.Partitions) != 2 || res.Partitions[0].Operations != 6 || len(res.Anomalies) != 0 {
		t.Fatalf("%+v", res)
	}
}

func TestViolations(t *testing.T) {
	cases := map[string]func(b *histgen.Builder){
		"wrong value read": func(b *histgen.Builder) {
			b.Send("p", "t", 0, "a", 0)
			b.Poll("c", "t", 0, 0, R(0, "b"))
		},
		"offset skipped": func(b *histgen.Builder) {
			b.Send("p", "t", 0, "a", 1)
		},
		"offset acknowledged twice": func(b *histgen.Builder) {
			b.Send("p", "t", 0, "a", 0)
			b.Send("p", "t", 0, "b", 0)
		},
		"stale empty read": func(b *histgen.Builder) {
			b.Send("p", "t", 0, "a", 0)
			b.Poll("c", "t", 0, 0)
		},
		"poll not contiguous": func(b *histgen.Builder) {
			b.Send("p", "t", 0, "a", 0)
			b.Send("p", "t", 0, "b", 1)
			b.Poll("c", "t", 0, 0, R(1, "b"))
		},
		"read before the send": func(b *histgen.Builder) {
			b.Poll("c", "t", 0, 0, R(0, "a"))
			b.Send("p", "t", 0, "a", 0)
		},
		"failed send read": func(b *histgen.Builder) {
			b.SendFail(b.InvokeSend("p", "t", 0, "a"))
			b.Poll("c", "t", 0, 0, R(0, "a"))
		},
		"lost write": func(b *histgen.Builder) {
			b.Send("p", "t", 0, "a", 0)
			b.Send("p", "t", 0, "b", 1)
			b.Poll("c", "t", 0, 0, R(0, "x"), R(1, "b"))
		},
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			b := histgen.New()
			f(b)
			res := both(t, b, Options{})
			want(t, res, verdict.Fail)
			if len(res.Anomalies) != 1 || res.Anomalies[0].Kind != Kind || len(res.Anomalies[0].Ops) == 0 {
				t.Fatalf("anomalies %+v", res.Anomalies)
			}
		})
	}
}

func TestStaleReadsOption(t *testing.T) {
	b := histgen.New()
	b.Send("p", "t", 0, "a", 0)
	b.Poll("c", "t", 0, 0)
	want(t, both(t, b, Options{StaleReads: true}), verdict.Pass)
	want(t, both(t, b, Options{}), verdict.Fail)
}

// An info send is legal whether or not it took effect: each history below is
// explained by only one of the two.
func TestInfoSends(t *testing.T) {
	t.Run("only if it took effect: read", func(t *testing.T) {
		b := histgen.New()
		x := b.InvokeSend("p", "t", 0, "x")
		b.SendInfo(x)
		b.Send("p", "t", 0, "y", 1)
		b.Poll("c", "t", 0, 0, R(0, "x"), R(1, "y"))
		want(t, both(t, b, Options{}), verdict.Pass)
	})
	t.Run("only if it took effect: unread, fills the hole", func(t *testing.T) {
		b := histgen.New()
		x := b.InvokeSend("p", "t", 0, "x")
		b.Send("p", "t", 0, "y", 1)
		b.SendInfo(x)
		res := both(t, b, Options{})
		want(t, res, verdict.Pass)
		if res.Partitions[0].Pruned != 0 {
			t.Fatal("an info send needed for a hole was pruned")
		}
	})
	t.Run("only if it took effect: pending, read late", func(t *testing.T) {
		b := histgen.New()
		b.InvokeSend("p", "t", 0, "x") // never completes
		b.Send("q", "t", 0, "y", 0)
		b.Poll("c", "t", 0, 0, R(0, "y"))
		b.Poll("c", "t", 0, 1, R(1, "x"))
		want(t, both(t, b, Options{}), verdict.Pass)
	})
	t.Run("only if it did not take effect", func(t *testing.T) {
		b := histgen.New()
		x := b.InvokeSend("p", "t", 0, "x")
		b.Send("q", "t", 0, "y", 0)
		b.Poll("c", "t", 0, 0, R(0, "y"))
		b.Poll("c", "t", 0, 1) // empty: x is not in the log (yet)
		b.Send("q", "t", 0, "z", 1)
		b.SendInfo(x)
		res := both(t, b, Options{})
		want(t, res, verdict.Pass)
		if res.Partitions[0].Pruned != 1 {
			t.Fatalf("pruned %d, want 1", res.Partitions[0].Pruned)
		}
	})
	t.Run("took effect but too early", func(t *testing.T) {
		// x was read at offset 0 but y had already been acknowledged there.
		b := histgen.New()
		b.Send("q", "t", 0, "y", 0)
		x := b.InvokeSend("p", "t", 0, "x")
		b.SendInfo(x)
		b.Poll("c", "t", 0, 0, R(0, "x"))
		want(t, both(t, b, Options{}), verdict.Fail)
	})
	t.Run("partition never known", func(t *testing.T) {
		b := histgen.New()
		x := b.InvokeSend("p", "t", history.NoPartition, "x")
		b.SendInfo(x)
		b.Send("q", "t", 1, "y", 0)
		b.Poll("c", "t", 1, 0, R(0, "y"))
		b.Send("q", "t", 2, "z", 1) // offset 0 of partition 2: only x can be there
		want(t, both(t, b, Options{}), verdict.Pass)
	})
}

// hard builds a history porcupine cannot settle quickly: n concurrent info
// sends, each read at two offsets (one poll sees them in one order, the next
// in the reverse), so no offset can be pinned and every order of them is
// tried before the search gives up.
func hard(n int) *histgen.Builder {
	b := histgen.New()
	var refs []histgen.Ref
	var fwd, rev []history.Read
	for i := 0; i < n; i++ {
		v := fmt.Sprintf("x%d", i)
		refs = append(refs, b.InvokeSend(fmt.Sprintf("p%d", i), "t", 0, v))
		fwd = append(fwd, R(int64(i), v))
		rev = append(rev, R(int64(n-1-i), v))
	}
	b.Poll("c", "t", 0, 0, fwd...)
	b.Poll("c", "t", 0, 0, reverse(rev)...)
	for _, r := range refs {
		b.SendInfo(r)
	}
	return b
}

func reverse(rs []history.Read) []history.Read {
	out := make([]history.Read, len(rs))
	for i, r := range rs {
		out[len(rs)-1-i] = r
	}
	return out
}

func TestTimeoutIsUnknown(t *testing.T) {
	res := Check(hard(16).Pairs(), Options{Timeout: 50 * time.Millisecond})
	want(t, res, verdict.Unknown)
	if p := res.Partitions[0]; p.Verdict != verdict.Unknown || !strings.Contains(p.Note, "50ms") {
		t.Fatalf("%+v", p)
	}
	// The same shape, small enough to decide, is illegal.
	want(t, Check(hard(4).Pairs(), Options{Timeout: NoTimeout}), verdict.Fail)
}

func TestVisualizationWrittenOnFailure(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) error { return os.WriteFile(filepath.Join(dir, name), data, 0o644) }
	b := histgen.New()
	b.Send("p", "t/x", 3, "a", 0)
	b.Poll("c", "t/x", 3, 0, R(0, "b"))
	res := Check(b.Pairs(), Options{WriteFile: write})
	want(t, res, verdict.Fail)
	name := res.Partitions[0].Visualization
	if name != "linearizable-t_x-3.html" {
		t.Fatalf("visualization %q", name)
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil || !strings.Contains(string(data), "<html") || !strings.Contains(string(data), `poll(0)`) {
		t.Fatalf("html (%d bytes): %v", len(data), err)
	}
	if !strings.Contains(res.Anomalies[0].Explanation, name) {
		t.Errorf("explanation %q does not point at the file", res.Anomalies[0].Explanation)
	}
	// Passing partitions write nothing; a failing write is a note, not a panic.
	Check(correct().Pairs(), Options{WriteFile: func(string, []byte) error { t.Fatal("wrote"); return nil }})
	res = Check(b.Pairs(), Options{WriteFile: func(string, []byte) error { return os.ErrPermission }})
	if res.Partitions[0].Visualization != "" || !strings.Contains(res.Partitions[0].Note, "permission") {
		t.Fatalf("%+v", res.Partitions[0])
	}
}

func genConfig(t *rapid.T) histgen.Config {
	return histgen.Config{
		Seed:        rapid.Uint64().Draw(t, "seed"),
		Ops:         rapid.IntRange(1, 60).Draw(t, "ops"),
		Partitions:  rapid.Int32Range(1, 3).Draw(t, "partitions"),
		Producers:   rapid.IntRange(1, 4).Draw(t, "producers"),
		InFlight:    rapid.IntRange(1, 4).Draw(t, "inflight"),
		Consumers:   rapid.IntRange(1, 3).Draw(t, "consumers"),
		InfoPercent: rapid.IntRange(0, 30).Draw(t, "info"),
		FailPercent: rapid.IntRange(0, 20).Draw(t, "fail"),
		PollPercent: rapid.IntRange(10, 60).Draw(t, "polls"),
		MaxRecords:  rapid.IntRange(1, 5).Draw(t, "maxrecords"),
	}
}

// Histories recorded from a correct log are linearizable, with and without
// pruning; changing one value read makes them not.
func TestGeneratedHistories(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ops := histgen.Generate(genConfig(t))
		pairs, err := history.Pair(ops)
		if err != nil {
			t.Fatal(err)
		}
		for _, keep := range []bool{false, true} {
			if res := Check(pairs, Options{KeepUnreadInfoSends: keep, Timeout: 30 * time.Second}); res.Verdict != verdict.Pass {
				t.Fatalf("keep=%v: %+v", keep, res)
			}
		}
		var reads []int
		for i, op := range ops {
			if op.Type == history.OK && len(op.Records) > 0 {
				reads = append(reads, i)
			}
		}
		if len(reads) == 0 {
			return
		}
		i := reads[rapid.IntRange(0, len(reads)-1).Draw(t, "mutate")]
		op := ops[i]
		op.Records = append([]history.Read(nil), op.Records...)
		j := rapid.IntRange(0, len(op.Records)-1).Draw(t, "record")
		op.Records[j].Value = "mutated"
		ops[i] = op
		pairs, _ = history.Pair(ops)
		if res := Check(pairs, Options{Timeout: 30 * time.Second}); res.Verdict != verdict.Fail {
			t.Fatalf("mutated read not detected: %+v", res)
		}
	})
}
