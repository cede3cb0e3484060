package interop

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func kcatPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("kcat")
	if err != nil {
		need(t, "kcat is not installed (apt-get install -y kcat)")
	}
	return p
}

// TestKcat: kcat (librdkafka) lists the topic with -L, produces keyed records
// with a header to explicit partitions in every codec (acks=all), and reads
// each partition back from offset 0 with -C -o 0 -e.
func TestKcat(t *testing.T) {
	kcat := kcatPath(t)
	forEachTarget(t, func(t *testing.T, b *brokerProc) { testKcat(t, b, kcat) })
}

func testKcat(t *testing.T, b *brokerProc, kcat string) {
	const topic, parts, n = "kcat", 3, 30
	createTopic(t, b.Addr, topic, parts)

	out, errOut, code := runCmd(t, 30*time.Second, "", "", kcat, "-b", b.Addr, "-L", "-t", topic, "-m", "10")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("topic %q with %d partitions", topic, parts)) {
		t.Fatalf("kcat -L: exit %d\n%s%s", code, out, errOut)
	}
	checkKcatList(t, out, b, parts)

	// librdkafka sends a batch uncompressed when compressing it would not
	// make it smaller, as it would for a batch of one short record. Each
	// kcat run below must therefore send its partition's records as one
	// batch: linger.ms holds the first record until the rest (all already
	// on kcat's stdin) have joined it; kcat flushes at end of input.
	var produced []rec
	for _, codec := range allCodecs {
		perPart := map[int32][]rec{}
		for i, r := range wantRecords("kcat", codec, n) {
			r.Partition = int32(i % parts)
			perPart[r.Partition] = append(perPart[r.Partition], r)
		}
		for p := int32(0); p < parts; p++ {
			var in strings.Builder
			for _, r := range perPart[p] {
				fmt.Fprintf(&in, "%s|%s\n", r.Key, r.Value)
			}
			out, errOut, code := runCmd(t, 30*time.Second, "", in.String(), kcat, "-P", "-b", b.Addr, "-t", topic,
				"-p", strconv.Itoa(int(p)), "-z", codec, "-K", "|", "-H", "codec="+codec, "-X", "acks=all", "-X", "linger.ms=200", "-m", "10")
			if code != 0 {
				t.Fatalf("kcat -P -z %s -p %d: exit %d\n%s%s", codec, p, code, out, errOut)
			}
			produced = append(produced, perPart[p]...)
		}
	}
	sortStable(produced)

	read := map[int32][]rec{}
	for p, want := range countPerPartition(produced) {
		out, errOut, code := runCmd(t, 30*time.Second, "", "", kcat, "-C", "-b", b.Addr, "-t", topic, "-p", strconv.Itoa(int(p)),
			"-o", "0", "-c", strconv.Itoa(want), "-e", "-f", "%p|%o|%k|%s|%h\n", "-m", "10")
		if code != 0 {
			t.Fatalf("kcat -C partition %d: exit %d\n%s%s", p, code, out, errOut)
		}
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			f := strings.SplitN(line, "|", 5)
			if len(f) != 5 {
				t.Fatalf("kcat -C: bad line %q", line)
			}
			off, _ := strconv.ParseInt(f[1], 10, 64)
			read[p] = append(read[p], rec{p, off, f[2], f[3], strings.TrimPrefix(f[4], "codec=")})
		}
	}
	checkReadBack(t, produced, read)
	// librdkafka enables lz4 only when the broker advertises FindCoordinator
	// v0 (its RD_KAFKA_FEATURE_LZ4 depends on it, as a "broker >= 0.8.2"
	// marker); without it kcat silently sends lz4 batches uncompressed. The
	// broker advertises it for that reason, so every codec must be stored
	// as the producer chose it.
	if !advertises(t, b.Addr, 10) {
		t.Fatal("broker does not advertise FindCoordinator: librdkafka would send lz4 batches uncompressed")
	}
	checkStoredCodecs(t, b, topic, read)
}

// advertises reports whether the broker's ApiVersions lists key.
func advertises(t *testing.T, addr string, key int16) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("ApiVersions: %v", err)
	}
	for _, k := range resp.ApiKeys {
		if k.ApiKey == key && k.MinVersion == 0 {
			return true
		}
	}
	return false
}

// sortStable groups records by partition keeping production order within
// one (for producers that do not learn offsets).
func sortStable(rs []rec) {
	byP := byPartition(rs)
	out := rs[:0]
	for p := int32(0); len(out) < len(rs); p++ {
		out = append(out, byP[p]...)
	}
}

// checkKcatList: `kcat -L` shows every broker, and each partition with a
// leader among them and, on a cluster, all brokers as replicas and in sync
// (the topic was just created with replication factor = brokers).
func checkKcatList(t *testing.T, out string, b *brokerProc, parts int) {
	t.Helper()
	if !strings.Contains(out, fmt.Sprintf(" %d brokers:", len(b.Brokers))) {
		t.Errorf("kcat -L does not list %d brokers:\n%s", len(b.Brokers), out)
	}
	for _, a := range b.Brokers {
		if !strings.Contains(out, " at "+a) {
			t.Errorf("kcat -L does not list broker %s:\n%s", a, out)
		}
	}
	want := strings.TrimSuffix(strings.Repeat("x,", len(b.Brokers)), ",")
	n := 0
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "partition ") {
			continue
		}
		n++
		// "partition 0, leader 2, replicas: 2,3,1, isrs: 2,3,1"
		f := strings.Split(line, ", ")
		if len(f) != 4 || !strings.HasPrefix(f[1], "leader ") || strings.HasPrefix(f[1], "leader -1") {
			t.Errorf("kcat -L partition line %q: want a leader", line)
			continue
		}
		shape := func(s string) string { return regexpDigits.ReplaceAllString(s, "x") }
		if got := shape(strings.TrimPrefix(f[2], "replicas: ")); got != want {
			t.Errorf("kcat -L %q: replicas %s, want %d of them", line, f[2], len(b.Brokers))
		}
		if got := shape(strings.TrimPrefix(f[3], "isrs: ")); got != want {
			t.Errorf("kcat -L %q: ISR %s, want %d in sync", line, f[3], len(b.Brokers))
		}
	}
	if n != parts {
		t.Errorf("kcat -L shows %d partition lines, want %d:\n%s", n, parts, out)
	}
}

var regexpDigits = regexp.MustCompile(`[0-9]+`)
