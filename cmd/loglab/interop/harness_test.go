package interop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loglabBin is the loglab binary TestMain builds.
var loglabBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "loglab-interop-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	loglabBin = filepath.Join(dir, "loglab")
	build := exec.Command("go", "build", "-o", loglabBin, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building loglab:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// inCI reports whether a missing client must fail rather than skip.
func inCI() bool { return os.Getenv("CI") == "true" }

// need skips (locally) or fails (in CI) when a client is unavailable.
func need(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if inCI() {
		t.Fatalf("CI=true and %s", msg)
	}
	t.Skip(msg)
}

// brokerProc is one `loglab broker` process, or one `loglab cluster`
// process running several brokers.
type brokerProc struct {
	// Addr is the (first) broker's address: clients bootstrap from it and
	// find the others through Metadata.
	Addr    string
	DataDir string
	// Brokers lists every broker's address; ReplicaDirs every broker's
	// data directory (one entry each for a single broker).
	Brokers     []string
	ReplicaDirs []string
	cmd         *exec.Cmd
	stderr      *bytes.Buffer
}

// targets are the deployments every client test runs against: one broker,
// and three brokers with replication factor 3 in one `loglab cluster`.
var targets = []string{"broker", "cluster"}

// forEachTarget runs test against each deployment, as subtests.
func forEachTarget(t *testing.T, test func(t *testing.T, b *brokerProc)) {
	for _, name := range targets {
		t.Run(name, func(t *testing.T) {
			var b *brokerProc
			if name == "cluster" {
				b = startCluster(t, 3)
			} else {
				b = startBroker(t)
			}
			test(t, b)
		})
	}
}

// startBroker runs `loglab broker --listen 127.0.0.1:0` on a fresh data dir
// and waits (bounded) for the line with its address. The process is stopped
// with SIGTERM (SIGKILL if it hangs) when the test ends, and its log is
// printed if the test failed (always with LOGLAB_INTEROP_LOG=1).
func startBroker(t *testing.T, extra ...string) *brokerProc {
	t.Helper()
	dataDir := t.TempDir()
	args := append([]string{"broker", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "debug"}, extra...)
	p := startProc(t, dataDir, args, func(p *brokerProc, line string) bool {
		const marker = " listening on "
		i := strings.Index(line, marker)
		if i < 0 {
			t.Fatalf("broker printed %q, want its address", line)
		}
		p.Addr = strings.TrimSpace(line[i+len(marker):])
		return true
	})
	p.Brokers, p.ReplicaDirs = []string{p.Addr}, []string{dataDir}
	return p
}

// startCluster runs `loglab cluster --brokers n` on free loopback ports
// and waits (bounded) until it reports every broker registered ("ready").
func startCluster(t *testing.T, n int, extra ...string) *brokerProc {
	t.Helper()
	dataDir := t.TempDir()
	args := append([]string{"cluster", "--brokers", fmt.Sprint(n), "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "debug"}, extra...)
	p := startProc(t, dataDir, args, func(p *brokerProc, line string) bool {
		const marker = " listening on "
		if i := strings.Index(line, marker); i >= 0 {
			addr, _, _ := strings.Cut(strings.TrimSpace(line[i+len(marker):]), " ")
			p.Brokers = append(p.Brokers, addr)
			p.ReplicaDirs = append(p.ReplicaDirs, filepath.Join(dataDir, fmt.Sprint("broker-", len(p.Brokers))))
		}
		return strings.HasSuffix(line, ": ready")
	})
	if len(p.Brokers) != n {
		t.Fatalf("cluster reported %d brokers, want %d", len(p.Brokers), n)
	}
	p.Addr = p.Brokers[0]
	return p
}

// startProc starts the loglab process and feeds its stdout lines to line
// until it returns true (within 30 s).
func startProc(t *testing.T, dataDir string, args []string, line func(p *brokerProc, line string) bool) *brokerProc {
	t.Helper()
	cmd := exec.Command(loglabBin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &brokerProc{DataDir: dataDir, cmd: cmd, stderr: &bytes.Buffer{}}
	cmd.Stderr = &lockedWriter{buf: p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	t.Cleanup(func() { p.stop(t) })
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l := <-lines:
			if line(p, l) {
				return p
			}
		case <-deadline:
			t.Fatalf("%s did not report ready in 30s; log:\n%s", args[0], p.log())
		}
	}
}

func (p *brokerProc) log() string {
	lw := p.cmd.Stderr.(*lockedWriter)
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return p.stderr.String()
}

func (p *brokerProc) stop(t *testing.T) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("broker exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		t.Errorf("broker did not stop within 15s of SIGTERM")
	}
	if t.Failed() || os.Getenv("LOGLAB_INTEROP_LOG") == "1" {
		t.Logf("broker log:\n%s", p.log())
	}
}

// run runs the loglab CLI with a deadline and returns its output.
func runLoglab(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runCmd(t, 30*time.Second, "", stdin, loglabBin, args...)
}

func runCmd(t *testing.T, timeout time.Duration, dir, stdin, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %v: no exit within %v\nstdout: %s\nstderr: %s", name, args, timeout, out.String(), errb.String())
	}
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out.String(), errb.String(), code
}

// createTopic creates a topic with the loglab CLI.
func createTopic(t *testing.T, addr, topic string, partitions int) {
	t.Helper()
	out, errOut, code := runLoglab(t, "", "topic", "create", "--bootstrap", addr, "--topic", topic, "--partitions", fmt.Sprint(partitions))
	if code != 0 {
		t.Fatalf("topic create: exit %d: %s%s", code, out, errOut)
	}
}
