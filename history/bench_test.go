package history_test

import (
	"testing"

	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/history/histgen"
)

// BenchmarkPair1M pairs the history of the queue checker's benchmark:
// 1,000,000 operations, ~2 M records.
func BenchmarkPair1M(b *testing.B) {
	ops := histgen.Generate(histgen.Config{Seed: 1, Ops: 1_000_000, Partitions: 8, Producers: 8, InFlight: 8,
		Consumers: 4, InfoPercent: 1, FailPercent: 1, PollPercent: 40, MaxRecords: 8})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := history.Pair(ops); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(ops)), "records")
}
