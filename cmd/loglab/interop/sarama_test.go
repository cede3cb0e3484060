package interop

import (
	"testing"
	"time"

	"github.com/IBM/sarama"
)

func saramaCodec(codec string) sarama.CompressionCodec {
	switch codec {
	case "gzip":
		return sarama.CompressionGZIP
	case "snappy":
		return sarama.CompressionSnappy
	case "lz4":
		return sarama.CompressionLZ4
	case "zstd":
		return sarama.CompressionZSTD
	}
	return sarama.CompressionNone
}

func saramaConfig(codec string) *sarama.Config {
	cfg := sarama.NewConfig() // its default protocol version (2.1.0 in v1.61)
	cfg.ClientID = "interop-sarama"
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Compression = saramaCodec(codec)
	cfg.Producer.Partitioner = sarama.NewHashPartitioner
	cfg.Net.DialTimeout = 5 * time.Second
	cfg.Net.ReadTimeout = 10 * time.Second
	cfg.Net.WriteTimeout = 10 * time.Second
	cfg.Metadata.Retry.Max = 3
	cfg.Consumer.Return.Errors = true
	return cfg
}

// TestSarama: IBM/sarama's SyncProducer sends keyed records with headers in
// every codec; its partition consumer reads each partition from offset 0.
func TestSarama(t *testing.T) { forEachTarget(t, testSarama) }

func testSarama(t *testing.T, b *brokerProc) {
	const topic, parts, n = "sarama", 3, 40
	createTopic(t, b.Addr, topic, parts)

	var produced []rec
	for _, codec := range allCodecs {
		p, err := sarama.NewSyncProducer([]string{b.Addr}, saramaConfig(codec))
		if err != nil {
			t.Fatalf("sarama producer (%s): %v", codec, err)
		}
		var msgs []*sarama.ProducerMessage
		for _, w := range wantRecords("sarama", codec, n) {
			msgs = append(msgs, &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(w.Key), Value: sarama.StringEncoder(w.Value),
				Headers: []sarama.RecordHeader{{Key: []byte("codec"), Value: []byte(w.Header)}}})
		}
		if err := p.SendMessages(msgs); err != nil {
			p.Close()
			t.Fatalf("sarama produce %s: %v", codec, err)
		}
		p.Close()
		for _, m := range msgs {
			k, _ := m.Key.Encode()
			v, _ := m.Value.Encode()
			produced = append(produced, rec{m.Partition, m.Offset, string(k), string(v), string(m.Headers[0].Value)})
		}
	}
	sortByOffset(produced)

	c, err := sarama.NewConsumer([]string{b.Addr}, saramaConfig("none"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	read := map[int32][]rec{}
	deadline := time.After(60 * time.Second)
	for p, want := range countPerPartition(produced) {
		pc, err := c.ConsumePartition(topic, p, 0)
		if err != nil {
			t.Fatalf("sarama consume partition %d: %v", p, err)
		}
		for len(read[p]) < want {
			select {
			case m := <-pc.Messages():
				h := ""
				for _, hd := range m.Headers {
					if string(hd.Key) == "codec" {
						h = string(hd.Value)
					}
				}
				read[p] = append(read[p], rec{m.Partition, m.Offset, string(m.Key), string(m.Value), h})
			case err := <-pc.Errors():
				t.Fatalf("sarama partition %d: %v", p, err)
			case <-deadline:
				t.Fatalf("sarama partition %d: read %d of %d records in 60s", p, len(read[p]), want)
			}
		}
		pc.Close()
	}
	checkReadBack(t, produced, read)
	checkStoredCodecs(t, b, topic, read)
}
