package interop

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oneErrorLine asserts a failed CLI run: non-zero exit, one "loglab: " line.
func oneErrorLine(t *testing.T, what, stderr string, code int, contains string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code == 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "loglab: ") || !strings.Contains(lines[0], contains) {
		t.Errorf("%s: exit %d, stderr %q; want non-zero and one 'loglab: ...%s...' line", what, code, stderr, contains)
	}
}

// TestCLI drives the loglab CLI's topic, produce and consume commands against
// a broker process, and checks what they did with franz-go.
func TestCLI(t *testing.T) {
	b := startBroker(t, "--auto-create-topics=false")
	a := b.Addr

	out, errOut, code := runLoglab(t, "", "topic", "create", "--bootstrap", a, "--topic", "cli", "--partitions", "2", "--config", "retention.ms=3600000")
	if code != 0 || out != "created topic cli\n" {
		t.Fatalf("topic create: exit %d %q %q", code, out, errOut)
	}
	_, errOut, code = runLoglab(t, "", "topic", "create", "--bootstrap", a, "--topic", "cli")
	oneErrorLine(t, "create twice", errOut, code, "TOPIC_ALREADY_EXISTS")
	runLoglab(t, "", "topic", "create", "--bootstrap", a, "--topic", "other")
	if out, _, code = runLoglab(t, "", "topic", "list", "--bootstrap", a); code != 0 || out != "cli\nother\n" {
		t.Errorf("topic list: exit %d, %q", code, out)
	}

	// produce: keyed lines to partition 1, then unkeyed lines by the
	// default partitioner.
	var in strings.Builder
	for i := 0; i < 5; i++ {
		fmt.Fprintf(&in, "k%d=v%d\n", i, i)
	}
	if _, errOut, code = runLoglab(t, in.String(), "produce", "--bootstrap", a, "--topic", "cli", "--key", "=", "--partition", "1"); code != 0 {
		t.Fatalf("produce: exit %d: %s", code, errOut)
	}
	if _, errOut, code = runLoglab(t, "u1\nu2\n", "produce", "--bootstrap", a, "--topic", "cli", "--acks", "1"); code != 0 {
		t.Fatalf("produce --acks 1: exit %d: %s", code, errOut)
	}
	_, errOut, code = runLoglab(t, "a=1\nnosep\nb=2\n", "produce", "--bootstrap", a, "--topic", "cli", "--key", "=")
	oneErrorLine(t, "produce with a bad line", errOut, code, "1 of 3 records failed")

	// consume: partition 1 from offset 2, with a format.
	out, errOut, code = runLoglab(t, "", "consume", "--bootstrap", a, "--topic", "cli", "--partition", "1", "--offset", "2", "--count", "3",
		"--format", `%t/%p@%o %k=%v %K\n`)
	if want := "cli/1@2 k2=v2 2\ncli/1@3 k3=v3 2\ncli/1@4 k4=v4 2\n"; code != 0 || out != want {
		t.Errorf("consume --offset 2: exit %d\n got %q\nwant %q\n%s", code, out, want, errOut)
	}
	// consume every partition from the beginning: 5 + 2 + 2 records.
	out, errOut, code = runLoglab(t, "", "consume", "--bootstrap", a, "--topic", "cli", "--from-beginning", "--count", "9", "--print-key", "--print-partition", "--print-offset")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 9 {
		t.Fatalf("consume --from-beginning: exit %d, %d lines: %q %s", code, len(lines), out, errOut)
	}
	for _, want := range []string{"1\t0\tk0\tv0", "1\t4\tk4\tv4", "\t\tu1", "\t\tu2", "\ta\t1", "\tb\t2"} {
		if !strings.Contains(out, want) {
			t.Errorf("consume --from-beginning output lacks %q:\n%s", want, out)
		}
	}

	out, _, code = runLoglab(t, "", "topic", "describe", "--bootstrap", a, "--topic", "cli")
	for _, want := range []string{"Topic: cli\tPartitionCount: 2\tConfigs: retention.ms=3600000", "Partition: 1\tLeader: 1\tReplicas: 1\tIsr: 1\tLogStartOffset: 0\tHighWatermark: "} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("topic describe: exit %d, lacks %q:\n%s", code, want, out)
		}
	}
	// What the CLI produced, read by another client.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := readKgo(t, ctx, a, "cli", map[int32]int{1: 5})
	for i, r := range got[1][:5] {
		if r.Key != fmt.Sprint("k", i) || r.Value != fmt.Sprint("v", i) || r.Offset != int64(i) {
			t.Errorf("kgo read partition 1 offset %d: %v", i, r)
		}
	}

	if out, errOut, code = runLoglab(t, "", "topic", "delete", "--bootstrap", a, "--topic", "other"); code != 0 || out != "deleted topic other\n" {
		t.Errorf("topic delete: exit %d %q %q", code, out, errOut)
	}
	if out, _, _ = runLoglab(t, "", "topic", "list", "--bootstrap", a); out != "cli\n" {
		t.Errorf("topic list after delete: %q", out)
	}
	_, errOut, code = runLoglab(t, "", "topic", "delete", "--bootstrap", a, "--topic", "other")
	oneErrorLine(t, "delete a missing topic", errOut, code, "UNKNOWN_TOPIC_OR_PARTITION")
	_, errOut, code = runLoglab(t, "x\n", "produce", "--bootstrap", a, "--topic", "missing")
	oneErrorLine(t, "produce to a missing topic", errOut, code, "UNKNOWN_TOPIC_OR_PARTITION")
	_, errOut, code = runLoglab(t, "", "consume", "--bootstrap", a, "--topic", "cli", "--partition", "7")
	oneErrorLine(t, "consume a missing partition", errOut, code, "no partition 7")
}

// Compressed batches are stored as produced; loglab consume cannot decode
// them yet (its client has no codecs) and must say so and exit non-zero
// rather than hang or print garbage.
func TestCLIConsumeCompressedFailsClearly(t *testing.T) {
	b := startBroker(t)
	createTopic(t, b.Addr, "gz", 1)
	produceKgoGzip(t, b.Addr, "gz")
	_, errOut, code := runLoglab(t, "", "consume", "--bootstrap", b.Addr, "--topic", "gz", "--from-beginning", "--count", "1")
	oneErrorLine(t, "consume gzip", errOut, code, "gz/0")
}

// Unreachable bootstrap: one line, non-zero, within --timeout (plus slack).
func TestCLIUnreachable(t *testing.T) {
	for _, args := range [][]string{
		{"topic", "list"},
		{"topic", "create", "--topic", "x"},
		{"produce", "--topic", "x"},
		{"consume", "--topic", "x"},
	} {
		start := time.Now()
		_, errOut, code := runLoglab(t, "x\n", append(args, "--bootstrap", "127.0.0.1:1", "--timeout", "2s")...)
		oneErrorLine(t, strings.Join(args, " "), errOut, code, "cannot reach broker 127.0.0.1:1")
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%v: took %v with --timeout 2s", args, d)
		}
	}
}

// The broker command's own bad input: one line, non-zero.
func TestCLIBrokerBadInput(t *testing.T) {
	file := t.TempDir() + "/file"
	runCmd(t, 5*time.Second, "", "", "sh", "-c", "echo x > "+file)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data-dir", file, "--listen", "127.0.0.1:0"}, "not a directory"},
		{[]string{"--listen", "127.0.0.1:0"}, "--data-dir is required"},
		{[]string{"--data-dir", t.TempDir(), "--listen", "nope"}, "--listen"},
		{[]string{"--data-dir", t.TempDir(), "--log-level", "loud"}, "--log-level"},
	} {
		_, errOut, code := runLoglab(t, "", append([]string{"broker"}, c.args...)...)
		oneErrorLine(t, fmt.Sprint(c.args), errOut, code, c.want)
	}
}

// TestCLIBenchAndReport: a short paced bench against an embedded loglab
// broker and against kfake, side by side in one results directory, then
// one HTML report with every plot inline and a Markdown summary.
func TestCLIBenchAndReport(t *testing.T) {
	dir := t.TempDir()
	for _, target := range []string{"loglab", "kfake"} {
		out, errOut, code := runCmd(t, 2*time.Minute, "", "", loglabBin, "bench", "--target", target, "--duration", "2s", "--warmup", "0s",
			"--rate", "2000", "--window", "1s", "--message-size", "256", "--out", dir)
		if code != 0 || !strings.Contains(out, "aggregate over") || !strings.Contains(out, "errors 0") {
			t.Fatalf("bench --target %s: exit %d\n%s%s", target, code, out, errOut)
		}
	}
	out, errOut, code := runLoglab(t, "", "report", dir, "-o", filepath.Join(dir, "report.html"))
	if code != 0 {
		t.Fatalf("report: exit %d\n%s%s", code, out, errOut)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(html), "data:image/svg+xml;base64,"); n != 4 {
		t.Fatalf("%d inline plots, want 4", n)
	}
	md, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil || !strings.Contains(string(md), "| kfake default |") || !strings.Contains(string(md), "| loglab (1 embedded brokers) default |") {
		t.Fatalf("summary.md: %v\n%s", err, md)
	}
}

// TestCLIClusterMetrics: `loglab cluster --metrics` serves Prometheus
// text with every broker's series: produce and consume through it move
// the byte counters, each partition has a leader election, and the gauges
// are published.
func TestCLIClusterMetrics(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	maddr := l.Addr().String()
	l.Close()
	b := startCluster(t, 3, "--metrics", maddr)
	createTopic(t, b.Addr, "metered", 3)
	out, errOut, code := runLoglab(t, "a\nb\nc\n", "produce", "--bootstrap", b.Addr, "--topic", "metered")
	if code != 0 {
		t.Fatalf("produce: %d %s%s", code, out, errOut)
	}
	if out, errOut, code := runLoglab(t, "", "consume", "--bootstrap", b.Addr, "--topic", "metered", "--from-beginning", "--count", "3"); code != 0 {
		t.Fatalf("consume: %d %s%s", code, out, errOut)
	}
	want := []string{`loglab_broker_bytes_in_total{broker=`, `loglab_broker_bytes_out_total{broker=`, `loglab_broker_messages_in_total{broker=`,
		`loglab_broker_requests_total{api="Produce",broker=`, `loglab_broker_request_duration_seconds_bucket{api="Fetch",broker=`,
		`loglab_broker_leader_elections_total{broker="1"}`, `loglab_broker_under_replicated_partitions{broker="2"} 0`,
		`loglab_broker_log_size_bytes{broker="3",partition="0",topic="metered"}`}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + maddr + "/metrics")
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		missing := ""
		for _, w := range want {
			if !strings.Contains(string(body), w) {
				missing = w
				break
			}
		}
		if err == nil && missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics: %v; missing %q in:\n%s", err, missing, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
