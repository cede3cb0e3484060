package linearizable

import (
	"fmt"
	"testing"

	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/history/histgen"
)

// BenchmarkPartition10k: one partition, 10,000 operations — 4 producers
// with 4 sends in flight each, 2 consumers, 30 % polls, 1 % of sends fail
// and info% end info.
func BenchmarkPartition10k(b *testing.B) {
	for _, info := range []int{1, 5} {
		b.Run(fmt.Sprintf("info=%d%%", info), func(b *testing.B) {
			ops := histgen.Generate(histgen.Config{Seed: 1, Ops: 10_000, Partitions: 1, Producers: 4, InFlight: 4,
				Consumers: 2, InfoPercent: info, FailPercent: 1, PollPercent: 30, MaxRecords: 8})
			pairs, err := history.Pair(ops)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if res := Check(pairs, Options{Timeout: NoTimeout}); res.Verdict != verdict.Pass {
					b.Fatalf("%+v", res)
				}
			}
			b.ReportMetric(float64(len(pairs)), "ops")
		})
	}
}
