package bench

import (
	"errors"
	"slices"
	"testing"

	"github.com/loglab/loglab/history"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The recorder turns what the bench's clients saw into a history the
// queue checker judges: a faithful run passes, and a consumer that is
// handed a record twice at different offsets (a duplicate), a fetch that
// skips an acknowledged record (a gap) or an acknowledged record never
// read (a lost write, once the final reads are complete) fails with the
// anomaly named.
func TestRecorderFindsAnomalies(t *testing.T) {
	payload := make([]byte, 64)
	type sent struct {
		id   string
		part int32
		off  int64
	}
	run := func(t *testing.T, reads func(rec *recorder, s []sent), complete bool) HistoryCheck {
		rec := newRecorder(history.NewMemory())
		var s []sent
		for i := range 6 {
			id := procName("producer-0", i)
			v := idValue(id, payload)
			if got := valueID(v); got != id || len(v) != len(payload) {
				t.Fatalf("valueID(idValue(%q)) = %q, len %d", id, got, len(v))
			}
			done := rec.send("producer-0", int64(i), "t", nil, id)
			s = append(s, sent{id, int32(i % 2), int64(i / 2)})
			done(&kgo.Record{Topic: "t", Partition: int32(i % 2), Offset: int64(i / 2), Value: v}, nil)
		}
		// One send whose outcome is unknown, one never partitioned.
		rec.send("producer-0", 6, "t", nil, "producer-0-6")(&kgo.Record{Topic: "t", Partition: 1, Offset: -1}, errors.New("timed out"))
		rec.send("producer-0", 7, "t", nil, "producer-0-7")(&kgo.Record{Topic: "t", Partition: -1, Offset: -1}, errors.New("unknown topic"))
		reads(rec, s)
		hc, err := rec.check(complete)
		if err != nil {
			t.Fatal(err)
		}
		if hc.SendsOK != 6 || hc.SendsInfo != 1 || hc.SendsFail != 1 {
			t.Fatalf("sends %+v", hc)
		}
		return hc
	}
	recs := func(s []sent, part int32) []*kgo.Record {
		var out []*kgo.Record
		for _, x := range s {
			if x.part == part {
				out = append(out, &kgo.Record{Topic: "t", Partition: part, Offset: x.off, Value: idValue(x.id, payload)})
			}
		}
		return out
	}
	readAll := func(rec *recorder, s []sent) {
		rec.poll("consumer-0", 0, "t", 0, recs(s, 0)[:2])
		rec.poll("consumer-0", 1, "t", 0, recs(s, 0)[2:])
		rec.poll("consumer-0", 2, "t", 1, recs(s, 1))
	}
	if hc := run(t, readAll, true); hc.Verdict != "pass" || len(hc.Anomalies) != 0 || hc.RecordsRead != 6 {
		t.Fatalf("faithful history: %+v", hc)
	}
	// A rebalance: the new owner re-reads from an earlier offset (a seek,
	// recorded after reassigned) — not an anomaly.
	reread := func(rec *recorder, s []sent) {
		readAll(rec, s)
		rec.reassigned("consumer-0", []int32{0})
		rec.poll("consumer-0", 3, "t", 0, recs(s, 0)[1:])
	}
	if hc := run(t, reread, true); hc.Verdict != "pass" {
		t.Fatalf("re-read after a reassignment: %+v", hc)
	}
	for _, c := range []struct {
		kind  string
		reads func(rec *recorder, s []sent)
	}{
		{"duplicate", func(rec *recorder, s []sent) {
			readAll(rec, s)
			// Partition 1's first value read again at offset 7.
			r := recs(s, 1)[0]
			rec.poll("consumer-1", 0, "t", 1, []*kgo.Record{{Topic: "t", Partition: 1, Offset: 7, Value: r.Value}})
		}},
		{"gap", func(rec *recorder, s []sent) {
			p0 := recs(s, 0)
			rec.poll("consumer-0", 0, "t", 0, p0[:1])
			rec.poll("consumer-0", 1, "t", 0, p0[2:]) // offset 1 skipped
			rec.poll("consumer-0", 2, "t", 1, recs(s, 1))
			rec.poll("consumer-1", 0, "t", 0, p0[1:2]) // read by another: not lost
		}},
		{"lost-write", func(rec *recorder, s []sent) {
			rec.poll("consumer-0", 0, "t", 0, recs(s, 0))
			rec.poll("consumer-0", 1, "t", 1, recs(s, 1)[:2]) // offset 2 never read
		}},
	} {
		hc := run(t, c.reads, true)
		if hc.Verdict != "fail" || hc.Anomalies[c.kind] == 0 {
			t.Errorf("%s: %+v", c.kind, hc)
		}
		if k := slices.Sorted(func(yield func(string) bool) {
			for k := range hc.Anomalies {
				if !yield(k) {
					return
				}
			}
		}); len(k) != 1 {
			t.Errorf("%s: found %v", c.kind, k)
		}
	}
	// Without complete final reads the record never read is only unseen.
	hc := run(t, func(rec *recorder, s []sent) { rec.poll("consumer-0", 0, "t", 0, recs(s, 0)) }, false)
	if hc.Verdict != "pass" || hc.Unseen != 3 {
		t.Fatalf("incomplete final reads: %+v", hc)
	}
}
