package queue

import (
	"testing"

	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/history/histgen"
)

// BenchmarkQueue1M: 1,000,000 operations over 8 partitions, 8 producers
// with 8 sends in flight, 4 consumers, 40 % polls of up to 8 records.
func BenchmarkQueue1M(b *testing.B) { bench1M(b, Check) }

// BenchmarkQueue1MReference runs the reference (the checker before it moved
// to integer ids, reference_test.go) on the same history, so the speed-up
// is measured under the same load.
func BenchmarkQueue1MReference(b *testing.B) { bench1M(b, refCheck) }

func bench1M(b *testing.B, check func([]history.Operation, Options) Result) {
	ops := histgen.Generate(histgen.Config{Seed: 1, Ops: 1_000_000, Partitions: 8, Producers: 8, InFlight: 8,
		Consumers: 4, InfoPercent: 1, FailPercent: 1, PollPercent: 40, MaxRecords: 8})
	pairs, err := history.Pair(ops)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := check(pairs, Options{}); res.Verdict != verdict.Pass {
			b.Fatalf("%+v", res.Counts)
		}
	}
	b.ReportMetric(float64(len(pairs)), "ops")
}
