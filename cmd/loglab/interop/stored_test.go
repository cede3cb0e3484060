package interop

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/loglab/loglab/wire/batch"
)

// The broker stores record batches as the producer sent them (it rewrites
// the base offset, never the records), so the codec in each stored batch's
// attributes is the codec the client really used. That catches a client
// that silently sends uncompressed data (librdkafka did, KAFKA-18659).

// codecNames are Kafka's compression types (attributes bits 0-2).
var codecNames = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// storedCodecs reads partition p's segment files (<data-dir>/<topic>-<p>/*.log,
// Kafka's layout) and returns the codec of the batch holding each offset.
func storedCodecs(t *testing.T, dataDir, topic string, p int32) map[int64]string {
	t.Helper()
	dir := filepath.Join(dataDir, topic+"-"+itoa(int64(p)))
	names, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no segment files in %s (%v)", dir, err)
	}
	sort.Strings(names)
	out := map[int64]string{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		// Iterate stops at a preallocated or torn tail.
		for it := batch.Iterate(b); it.Next(); {
			h := it.Header()
			codec := "unknown"
			if c := h.Compression(); c < len(codecNames) {
				codec = codecNames[c]
			}
			for o := h.BaseOffset; o <= h.LastOffset(); o++ {
				out[o] = codec
			}
		}
	}
	return out
}

func itoa(v int64) string {
	var s []byte
	if v == 0 {
		return "0"
	}
	for ; v > 0; v /= 10 {
		s = append([]byte{byte('0' + v%10)}, s...)
	}
	return string(s)
}

// checkStoredCodecs: every record read back sits in a batch compressed with
// the codec named in its "codec" header — on every replica: followers
// store the leader's batches byte for byte, so each replica must hold the
// same codecs at the same offsets. Followers may still be catching up when
// the read ends, so each replica gets a bounded wait to hold every offset.
func checkStoredCodecs(t *testing.T, b *brokerProc, topic string, read map[int32][]rec) {
	t.Helper()
	seen := map[string]bool{}
	for _, dir := range b.ReplicaDirs {
		for p, rs := range read {
			if !hasPartition(dir, topic, p) {
				continue // not a replica of this partition
			}
			var stored map[int64]string
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				stored = storedCodecs(t, dir, topic, p)
				if len(rs) == 0 || stored[rs[len(rs)-1].Offset] != "" || time.Now().After(deadline) {
					break
				}
			}
			for _, r := range rs {
				if got := stored[r.Offset]; got != r.Header {
					t.Errorf("%s partition %d offset %d: produced with %s, stored batch says %q", dir, p, r.Offset, r.Header, got)
				}
				seen[r.Header] = true
			}
		}
	}
	if len(b.ReplicaDirs) > 1 {
		for p := range read {
			n := 0
			for _, dir := range b.ReplicaDirs {
				if hasPartition(dir, topic, p) {
					n++
				}
			}
			if n != len(b.ReplicaDirs) {
				t.Errorf("partition %d is stored on %d of %d brokers, want every one (replication factor %d)", p, n, len(b.ReplicaDirs), len(b.ReplicaDirs))
			}
		}
	}
	var codecs []string
	for c := range seen {
		codecs = append(codecs, c)
	}
	sort.Strings(codecs)
	t.Logf("stored batches on %d replica(s) carry the producer's codec: %s", len(b.ReplicaDirs), strings.Join(codecs, ", "))
}

func hasPartition(dataDir, topic string, p int32) bool {
	_, err := os.Stat(filepath.Join(dataDir, topic+"-"+itoa(int64(p))))
	return err == nil
}
