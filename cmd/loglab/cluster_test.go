package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestClusterCommand runs `loglab cluster --brokers 3` in a fresh process
// on free loopback ports: Metadata lists 3 brokers, a topic created with
// RF=3 gets 3 replicas and an ISR of 3, acks=all produce and consume work,
// and SIGINT stops it cleanly (exit 0).
func TestClusterCommand(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "cluster", "--brokers", "3", "--listen", "127.0.0.1:0", "--data-dir", dir, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "LOGLAB_AS_CLI=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var bootstrap []string
	var brokerLines int
	for ready := false; !ready; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("cluster exited before ready; stderr:\n%s", stderr.String())
			}
			switch {
			case strings.HasPrefix(l, "loglab cluster: broker "):
				brokerLines++
				if k := fmt.Sprint(brokerLines); !strings.HasPrefix(l, "loglab cluster: broker "+k+" listening on 127.0.0.1:") ||
					(brokerLines <= 3 && !strings.Contains(l, "(controller 127.0.0.1:")) {
					t.Fatalf("broker line %q", l)
				}
			case strings.HasPrefix(l, "loglab cluster: bootstrap "):
				bootstrap = strings.Split(strings.TrimPrefix(l, "loglab cluster: bootstrap "), ",")
			case l == "loglab cluster: ready":
				ready = true
			default:
				t.Fatalf("unexpected stdout line %q", l)
			}
		case <-ctx.Done():
			t.Fatalf("no ready line; stderr:\n%s", stderr.String())
		}
	}
	if brokerLines != 3 || len(bootstrap) != 3 {
		t.Fatalf("%d broker lines, bootstrap %v", brokerLines, bootstrap)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.DefaultProduceTopic("rf3"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	create := kmsg.NewPtrCreateTopicsRequest()
	ct := kmsg.NewCreateTopicsRequestTopic()
	ct.Topic, ct.NumPartitions, ct.ReplicationFactor = "rf3", 1, 3
	create.Topics = append(create.Topics, ct)
	create.TimeoutMillis = 30000
	cresp, err := create.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(cresp.Topics[0].ErrorCode); err != nil {
		t.Fatalf("create rf3: %v", err)
	}
	for {
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr("rf3")
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err == nil && len(resp.Brokers) == 3 && len(resp.Topics) == 1 && len(resp.Topics[0].Partitions) == 1 &&
			len(resp.Topics[0].Partitions[0].Replicas) == 3 && len(resp.Topics[0].Partitions[0].ISR) == 3 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("metadata never showed 3 brokers and an ISR of 3: %v %+v", err, resp)
		}
		time.Sleep(50 * time.Millisecond)
	}
	const n = 30
	for i := 0; i < n; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprint("v", i))}).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.ConsumeTopics("rf3"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var got []string
	for len(got) < n {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d", len(got), n)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	for i, v := range got {
		if v != fmt.Sprint("v", i) {
			t.Fatalf("record %d is %q", i, v)
		}
	}
	cons.Close()
	cl.Close()

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		killed = true
		if err != nil {
			t.Fatalf("exit after SIGINT: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(45 * time.Second):
		t.Fatalf("no exit 45s after SIGINT; stderr:\n%s", stderr.String())
	}
	for k := 1; k <= 3; k++ {
		if _, err := os.Stat(fmt.Sprintf("%s/broker-%d", dir, k)); err != nil {
			t.Errorf("data of broker %d: %v", k, err)
		}
	}
}

func TestClusterAndQuorumBadFlags(t *testing.T) {
	dir := t.TempDir()
	cases := [][]string{
		{"cluster", "--brokers", "0", "--data-dir", dir},
		{"cluster", "--brokers", "3"},
		{"cluster", "--brokers", "2", "--data-dir", dir, "--default-replication-factor", "3"},
		{"cluster", "--brokers", "3", "--data-dir", dir, "--min-insync-replicas", "4"},
		{"cluster", "--brokers", "3", "--data-dir", dir, "--listen", "127.0.0.1:9092", "--controller-port-offset", "1"},
		{"cluster", "--brokers", "3", "--data-dir", dir, "--listen", "nonsense"},
		{"cluster", "--brokers", "3", "--data-dir", dir, "--bug", "no-such-bug"},
		{"broker", "--data-dir", dir, "--controller-listen", "127.0.0.1:9093"},
		{"broker", "--data-dir", dir, "--voters", "1@127.0.0.1"},
		{"broker", "--data-dir", dir, "--voters", "0@127.0.0.1:9093"},
		{"broker", "--data-dir", dir, "--voters", "1@127.0.0.1:9093,1@127.0.0.1:9094"},
		{"broker", "--data-dir", dir, "--node-id", "2", "--voters", "1@127.0.0.1:9093", "--controller-listen", "127.0.0.1:9093"},
		{"broker", "--data-dir", dir, "--node-id", "1", "--voters", "1@127.0.0.1:9093", "--controller-listen", "127.0.0.1:9094"},
		{"broker", "--data-dir", dir, "--node-id", "0", "--controllers", "127.0.0.1:9093"},
		{"broker", "--data-dir", dir, "--controllers", "127.0.0.1"},
		{"broker", "--data-dir", dir, "--default-replication-factor", "0"},
	}
	for _, args := range cases {
		stdout, stderr, code := runCLI(t, args...)
		if code == 0 {
			t.Errorf("%v: exit 0", args)
		}
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "loglab: ") {
			t.Errorf("%v: want one 'loglab: ' line on stderr, got %q (stdout %q)", args, stderr, stdout)
		}
	}
}

// TestBrokerQuorumFlags runs three `loglab broker` processes forming one
// cluster with the quorum flags (combined mode on every node): Metadata
// lists three brokers and an RF=3 topic gets an ISR of 3; SIGINT stops each
// cleanly.
func TestBrokerQuorumFlags(t *testing.T) {
	ports := freeTestPorts(t, 6)
	var voters []string
	for k := 1; k <= 3; k++ {
		voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", k, ports[2+k]))
	}
	type proc struct {
		cmd    *exec.Cmd
		exited chan error
		stderr *strings.Builder
	}
	var procs []*proc
	defer func() {
		for _, p := range procs {
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var bootstrap []string
	for k := 1; k <= 3; k++ {
		addr := fmt.Sprintf("127.0.0.1:%d", ports[k-1])
		bootstrap = append(bootstrap, addr)
		cmd := exec.Command(os.Args[0], "broker", "--node-id", fmt.Sprint(k), "--listen", addr,
			"--data-dir", t.TempDir(), "--controller-listen", fmt.Sprintf("127.0.0.1:%d", ports[2+k]),
			"--voters", strings.Join(voters, ","), "--default-replication-factor", "3", "--rack", fmt.Sprint("r", k), "--log-level", "warn")
		cmd.Env = append(os.Environ(), "LOGLAB_AS_CLI=1")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		p := &proc{cmd: cmd, exited: make(chan error, 1), stderr: &strings.Builder{}}
		cmd.Stderr = p.stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
		line := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				select {
				case line <- sc.Text():
				default:
				}
			}
			p.exited <- cmd.Wait()
		}()
		select {
		case l := <-line:
			if want := fmt.Sprintf("loglab broker: node %d listening on %s", k, addr); l != want {
				t.Fatalf("broker %d printed %q, want %q", k, l, want)
			}
		case <-ctx.Done():
			t.Fatalf("broker %d did not start: %s", k, p.stderr.String())
		}
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for {
		create := kmsg.NewPtrCreateTopicsRequest()
		ct := kmsg.NewCreateTopicsRequestTopic()
		ct.Topic, ct.NumPartitions, ct.ReplicationFactor = "q3", 2, -1 // the default: 3
		create.Topics = append(create.Topics, ct)
		create.TimeoutMillis = 30000
		resp, err := create.RequestWith(ctx, cl)
		if err == nil && (resp.Topics[0].ErrorCode == 0 || resp.Topics[0].ErrorCode == kerr.TopicAlreadyExists.Code) {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("create q3: %v %+v", err, resp)
		}
		time.Sleep(100 * time.Millisecond) // brokers still registering: INVALID_REPLICATION_FACTOR
	}
	for {
		req := kmsg.NewPtrMetadataRequest()
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr("q3")
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		full := err == nil && len(resp.Brokers) == 3 && len(resp.Topics) == 1 && len(resp.Topics[0].Partitions) == 2
		for _, b := range resp.Brokers {
			full = full && b.Rack != nil && *b.Rack == fmt.Sprint("r", b.NodeID)
		}
		if full {
			for _, p := range resp.Topics[0].Partitions {
				full = full && len(p.Replicas) == 3 && len(p.ISR) == 3
			}
		}
		if full {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("metadata never showed 3 racked brokers and full ISRs: %v %+v", err, resp)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cl.Close()
	for k, p := range procs {
		if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-p.exited:
			p.exited <- err // for the deferred cleanup
			if err != nil {
				t.Errorf("broker %d exit after SIGINT: %v; stderr:\n%s", k+1, err, p.stderr.String())
			}
		case <-time.After(45 * time.Second):
			t.Fatalf("broker %d: no exit 45s after SIGINT", k+1)
		}
	}
}

// freeTestPorts returns n loopback ports free right now.
func freeTestPorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		l.Close()
	}
	return ports
}
