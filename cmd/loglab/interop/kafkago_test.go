package interop

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	kafka "github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/compress"
)

func kafkagoCodec(codec string) kafka.Compression {
	switch codec {
	case "gzip":
		return compress.Gzip
	case "snappy":
		return compress.Snappy
	case "lz4":
		return compress.Lz4
	case "zstd":
		return compress.Zstd
	}
	return compress.None
}

// byKeyIndex places record i on partition i % partitions, so the test knows
// where each record went without offsets (kafka-go's Writer does not return
// them).
type byKeyIndex struct{}

func (byKeyIndex) Balance(msg kafka.Message, partitions ...int) int {
	k := string(msg.Key)
	i, _ := strconv.Atoi(k[strings.LastIndexByte(k, 'k')+1:])
	return partitions[i%len(partitions)]
}

// TestKafkaGo: segmentio/kafka-go's Writer (acks=all) sends keyed records with
// headers in every codec; a partition Reader (no group: kafka-go needs
// consumer groups only with GroupID) reads each partition from offset 0.
// kafka-go hard-codes its versions: Produce v3/v7, Fetch v10 here, ListOffsets
// v1, Metadata v1/v6.
func TestKafkaGo(t *testing.T) { forEachTarget(t, testKafkaGo) }

func testKafkaGo(t *testing.T, b *brokerProc) {
	const topic, parts, n = "kafkago", 3, 40
	createTopic(t, b.Addr, topic, parts)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var produced []rec
	for _, codec := range allCodecs {
		w := &kafka.Writer{
			Addr:         kafka.TCP(b.Addr),
			Topic:        topic,
			Balancer:     byKeyIndex{},
			RequiredAcks: kafka.RequireAll,
			Compression:  kafkagoCodec(codec),
			BatchTimeout: 5 * time.Millisecond,
			MaxAttempts:  3,
		}
		var msgs []kafka.Message
		for _, r := range wantRecords("kafkago", codec, n) {
			msgs = append(msgs, kafka.Message{Key: []byte(r.Key), Value: []byte(r.Value),
				Headers: []kafka.Header{{Key: "codec", Value: []byte(r.Header)}}})
			r.Partition = int32(byKeyIndex{}.Balance(msgs[len(msgs)-1], 0, 1, 2))
			produced = append(produced, r)
		}
		if err := w.WriteMessages(ctx, msgs...); err != nil {
			w.Close()
			t.Fatalf("kafka-go produce %s: %v", codec, err)
		}
		w.Close()
	}

	read := map[int32][]rec{}
	for p, want := range countPerPartition(produced) {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{b.Addr}, Topic: topic, Partition: int(p), MaxWait: 200 * time.Millisecond})
		if err := r.SetOffset(0); err != nil {
			t.Fatal(err)
		}
		for len(read[p]) < want {
			m, err := r.ReadMessage(ctx)
			if err != nil {
				r.Close()
				t.Fatalf("kafka-go partition %d after %d of %d records: %v", p, len(read[p]), want, err)
			}
			h := ""
			for _, hd := range m.Headers {
				if hd.Key == "codec" {
					h = string(hd.Value)
				}
			}
			read[p] = append(read[p], rec{int32(m.Partition), m.Offset, string(m.Key), string(m.Value), h})
		}
		r.Close()
	}
	checkReadBack(t, produced, read)
	checkStoredCodecs(t, b, topic, read)
}
