package interop

import (
	"context"
	"testing"
	"time"

	"github.com/loglab/loglab/bench"
	"github.com/twmb/franz-go/pkg/kgo"
)

func kgoCodec(codec string) kgo.CompressionCodec { return bench.Codec(codec) }

// TestKgo: franz-go produces keyed records with headers in every codec
// (acks=all, its defaults otherwise) and reads every partition back from
// offset 0.
func TestKgo(t *testing.T) { forEachTarget(t, testKgo) }

func testKgo(t *testing.T, b *brokerProc) {
	const topic, parts, n = "kgo", 3, 40
	createTopic(t, b.Addr, topic, parts)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// franz-go, like librdkafka, sends a batch uncompressed when compressing
	// would not shrink it (a batch of one short record); the linger keeps
	// each partition's records in one batch, so the stored codec is the
	// chosen one.
	var produced []rec
	for _, codec := range allCodecs {
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ProducerBatchCompression(kgoCodec(codec)), kgo.ProducerLinger(100*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		var recs []*kgo.Record
		for _, w := range wantRecords("kgo", codec, n) {
			recs = append(recs, &kgo.Record{Topic: topic, Key: []byte(w.Key), Value: []byte(w.Value),
				Headers: []kgo.RecordHeader{{Key: "codec", Value: []byte(w.Header)}}})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			cl.Close()
			t.Fatalf("kgo produce %s: %v", codec, err)
		}
		cl.Close()
		for _, r := range recs {
			produced = append(produced, rec{r.Partition, r.Offset, string(r.Key), string(r.Value), string(r.Headers[0].Value)})
		}
	}
	sortByOffset(produced)
	read := readKgo(t, ctx, b.Addr, topic, countPerPartition(produced))
	checkReadBack(t, produced, read)
	checkStoredCodecs(t, b, topic, read)
}

func countPerPartition(rs []rec) map[int32]int {
	m := map[int32]int{}
	for _, r := range rs {
		m[r.Partition]++
	}
	return m
}

// readKgo reads want[p] records from each partition p from offset 0 with
// franz-go (which decompresses every codec).
func readKgo(t *testing.T, ctx context.Context, addr, topic string, want map[int32]int) map[int32][]rec {
	t.Helper()
	offsets := map[int32]kgo.Offset{}
	total := 0
	for p, n := range want {
		offsets[p] = kgo.NewOffset().At(0)
		total += n
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := map[int32][]rec{}
	n := 0
	for n < total {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("kgo read %d of %d records: %v", n, total, ctx.Err())
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("kgo fetch %s/%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			h := ""
			for _, hd := range r.Headers {
				if hd.Key == "codec" {
					h = string(hd.Value)
				}
			}
			got[r.Partition] = append(got[r.Partition], rec{r.Partition, r.Offset, string(r.Key), string(r.Value), h})
			n++
		})
	}
	return got
}

// produceKgoGzip writes three gzip-compressed records to partition 0.
func produceKgoGzip(t *testing.T, addr, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerBatchCompression(kgo.GzipCompression()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := 0; i < 3; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte("gzipped value, gzipped value, gzipped value")})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}
