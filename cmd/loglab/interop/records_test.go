package interop

import (
	"bytes"
	"fmt"
	"sort"
	"sync"
	"testing"
)

type lockedWriter struct {
	mu  sync.Mutex
	buf *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

// rec is one record as produced or read back, in client-neutral form.
// Offset -1 means the producer did not learn it.
type rec struct {
	Partition int32
	Offset    int64
	Key       string
	Value     string
	Header    string // value of header "codec"
}

func (r rec) String() string {
	return fmt.Sprintf("p%d@%d %s=%s [codec=%s]", r.Partition, r.Offset, r.Key, r.Value, r.Header)
}

// codecs every client is asked for; a client that lacks one says so.
var allCodecs = []string{"none", "gzip", "snappy", "lz4", "zstd"}

// wantRecords is what a client produces for one codec: n records, keys and
// values naming the client and the codec, header codec=<codec>.
func wantRecords(client, codec string, n int) []rec {
	out := make([]rec, n)
	for i := range out {
		out[i] = rec{
			Partition: -1, Offset: -1,
			Key:    fmt.Sprintf("%s-%s-k%d", client, codec, i),
			Value:  fmt.Sprintf("%s-%s-value-%d-%s", client, codec, i, bytes.Repeat([]byte("x"), i%7*10)),
			Header: codec,
		}
	}
	return out
}

// byPartition groups records per partition, keeping their order.
func byPartition(rs []rec) map[int32][]rec {
	m := map[int32][]rec{}
	for _, r := range rs {
		m[r.Partition] = append(m[r.Partition], r)
	}
	return m
}

// checkReadBack compares what was read from each partition with what was
// produced to it: same records, same order, offsets 0,1,2,... and, where the
// producer learnt offsets, the same offsets.
func checkReadBack(t *testing.T, produced []rec, read map[int32][]rec) {
	t.Helper()
	want := byPartition(produced)
	parts := make([]int32, 0, len(want))
	for p := range want {
		parts = append(parts, p)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	for p := range read {
		if _, ok := want[p]; !ok && len(read[p]) > 0 {
			t.Errorf("partition %d: read %d records, none produced there (first %v)", p, len(read[p]), read[p][0])
		}
	}
	for _, p := range parts {
		w, g := want[p], read[p]
		if len(g) != len(w) {
			t.Errorf("partition %d: read %d records, produced %d", p, len(g), len(w))
		}
		for i := 0; i < len(w) && i < len(g); i++ {
			if g[i].Offset != int64(i) {
				t.Errorf("partition %d: record %d has offset %d, want %d", p, i, g[i].Offset, i)
			}
			if w[i].Offset >= 0 && w[i].Offset != g[i].Offset {
				t.Errorf("partition %d: producer was told offset %d for %v, read it at %d", p, w[i].Offset, w[i], g[i].Offset)
			}
			if g[i].Key != w[i].Key || g[i].Value != w[i].Value || g[i].Header != w[i].Header {
				t.Errorf("partition %d offset %d: read %v, want %v", p, g[i].Offset, g[i], w[i])
			}
		}
	}
}

// sortByOffset orders what a producer reported per partition by offset (acks
// may complete out of order across partitions, never within one).
func sortByOffset(rs []rec) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].Partition != rs[j].Partition {
			return rs[i].Partition < rs[j].Partition
		}
		return rs[i].Offset < rs[j].Offset
	})
}
