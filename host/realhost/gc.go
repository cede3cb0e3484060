package realhost

import (
	"os"
	"runtime/debug"
)

// BrokerGCPercent is the garbage collector's target for processes that
// run brokers (broker, cluster, bench) unless GOGC is set. A broker's live
// heap is small (about 10 MB with three partitions) while it allocates a
// frame per request and response (about 200 MB/s at 40,000 1 KiB records/s
// with RF=3): at Go's default of 100 it collected 20 to 40 times a second,
// with a tenth of the CPU in mark workers and the assists and pauses in
// the latency tail. At 400 the heap stays under about 50 MB. Measured in
// docs/performance.md.
const BrokerGCPercent = 400

// TuneGC applies BrokerGCPercent unless the user chose with GOGC.
func TuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(BrokerGCPercent)
	}
}
