package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// WriteSimReport prints a simulated run for people: the workload, one line
// per window, the aggregate and the simulator's own figures.
func WriteSimReport(out io.Writer, rep Report) {
	w := rep.Workload
	fmt.Fprintf(out, "target %s; workload %s: %d topic(s) x %d partitions, %d B records, acks=%d, RF %d, flush %s, %d records/s\n",
		rep.Target, w.Name, w.Topics, w.PartitionsPerTopic, w.MessageSize, w.Acks, w.ReplicationFactor, w.Flush, w.ProducerRate)
	for _, win := range rep.Windows {
		fmt.Fprintf(out, "%6.1fs  publish %8.0f rec/s %7.1f MB/s  consume %8.0f rec/s  p99 %7.2f ms  e2e p99 %7.2f ms  errors %d\n",
			win.EndS, win.PublishRate, win.PublishMBps, win.ConsumeRate, win.PublishLatency.P99, win.EndToEndLatency.P99, win.Errors)
	}
	WriteAggregate(out, rep)
	writeSimInfo(out, rep.Sim)
}

func writeSimInfo(w io.Writer, si *SimInfo) {
	if si == nil {
		return
	}
	var an []string
	for _, k := range slices.Sorted(maps.Keys(si.Anomalies)) {
		an = append(an, fmt.Sprintf("%s=%d", k, si.Anomalies[k]))
	}
	check := "queue checker: pass"
	if len(an) > 0 {
		check = "queue checker: " + strings.Join(an, " ")
	}
	fmt.Fprintf(w, "simulator: seed %d, %d events, %.1f simulated s in %.2f wall s (%.0f events/s, %.0f simulated s per wall s), trace %s; %s\n",
		si.Seed, si.Events, si.SimSeconds, si.WallSeconds, si.EventsPerSecond, si.SimSecondsPerWallSecond, si.TraceHash, check)
}
