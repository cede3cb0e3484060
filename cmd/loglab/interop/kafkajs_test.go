package interop

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestKafkajs runs kafkajs/test.mjs (kafkajs 2.2.4, installed by `npm ci` in
// that directory): its admin client creates the topic and lists it, its
// producer sends keyed records with a header uncompressed and with gzip (the
// codecs kafkajs has without extra packages) to each partition with acks=-1,
// and kafkajs's own Fetch decoder reads each partition back from offset 0
// (its group consumer is tested by TestGroupKafkajs).
// The data is then read a second time with franz-go, and the stored batches'
// codecs are checked.
func TestKafkajs(t *testing.T) {
	node, dir := kafkajs(t)
	forEachTarget(t, func(t *testing.T, b *brokerProc) { testKafkajs(t, b, node, dir) })
}

// kafkajs returns node and the kafkajs directory, or skips (fails in CI)
// when either is not installed.
func kafkajs(t *testing.T) (node, dir string) {
	node, err := exec.LookPath("node")
	if err != nil {
		need(t, "node is not installed")
	}
	dir, err = filepath.Abs("kafkajs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "kafkajs", "package.json")); err != nil {
		need(t, "kafkajs is not installed (run: npm ci --prefix %s)", dir)
	}
	return node, dir
}

func testKafkajs(t *testing.T, b *brokerProc, node, dir string) {
	const topic, parts, n = "kafkajs", 3, 30
	out, errOut, code := runCmd(t, 90*time.Second, dir, "", node, "test.mjs", b.Addr, topic, strconv.Itoa(parts), strconv.Itoa(n))
	if code != 0 {
		t.Fatalf("node test.mjs: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	var res struct {
		Produced []rec
		Read     map[int32][]rec `json:"read"`
		Offsets  []struct {
			Partition int32
			Offset    string
			High      string
			Low       string
		} `json:"offsets"`
		Topics []string `json:"topics"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("kafkajs output: %v\n%s", err, out)
	}
	if !slices.Contains(res.Topics, topic) {
		t.Errorf("kafkajs admin.listTopics() = %v, want %s in it", res.Topics, topic)
	}
	if len(res.Produced) != 2*n {
		t.Fatalf("kafkajs produced %d records, want %d", len(res.Produced), 2*n)
	}
	sortByOffset(res.Produced)
	counts := countPerPartition(res.Produced)
	for _, o := range res.Offsets {
		if o.High != strconv.Itoa(counts[o.Partition]) || o.Low != "0" {
			t.Errorf("kafkajs fetchTopicOffsets partition %d: low %s high %s, want 0 and %d", o.Partition, o.Low, o.High, counts[o.Partition])
		}
	}
	t.Log("read back with kafkajs's Fetch decoder")
	checkReadBack(t, res.Produced, res.Read)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	t.Log("read back with franz-go")
	read := readKgo(t, ctx, b.Addr, topic, counts)
	checkReadBack(t, res.Produced, read)
	checkStoredCodecs(t, b, topic, read)
}
