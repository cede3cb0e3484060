package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/loglab/loglab/bench/embedded"
	"github.com/loglab/loglab/host/realhost"
)

// TargetKinds are the targets StartEndpoint starts itself.
const TargetKinds = "loglab, kfake, nats or redis"

// TargetSpec names what a bench runs against: a running cluster
// (Bootstrap), or a target it starts: Kind "loglab" (Brokers embedded
// brokers, data in a fresh directory under DataParent, logs to BrokerLog),
// "kfake", "nats" or "redis".
type TargetSpec struct {
	Bootstrap  string
	Kind       string
	Brokers    int
	DataParent string // "" for os.TempDir()
	BrokerLog  string // "" for nowhere
}

// Endpoint is a started (or named) target.
type Endpoint struct {
	Seeds   []string
	Name    string
	Cluster *embedded.Cluster // the embedded loglab cluster, if that is the target
	Peer    Peer              // a non-Kafka peer, if that is the target
	// Settle writes back what a search left in the page cache (an
	// embedded cluster's data is on this machine: sync(2)); nil elsewhere.
	Settle  func(deleted []string) error
	cleanup func()
}

// Close stops what StartEndpoint started and removes its data.
func (e *Endpoint) Close() { e.cleanup() }

// CheckTarget checks a target kind, and that a peer's server is
// installed, before anything starts.
func CheckTarget(kind string) error {
	switch kind {
	case "loglab", "kfake":
		return nil
	case "nats", "redis":
		return PeerInstalled(kind)
	}
	return fmt.Errorf("--target %q: want %s (or --bootstrap for any cluster)", kind, TargetKinds)
}

// StartEndpoint starts (or names) the target of spec.
func StartEndpoint(ctx context.Context, spec TargetSpec) (*Endpoint, error) {
	if spec.Bootstrap != "" {
		if _, _, err := net.SplitHostPort(spec.Bootstrap); err != nil {
			return nil, fmt.Errorf("--bootstrap %q: want HOST:PORT", spec.Bootstrap)
		}
		return &Endpoint{Seeds: []string{spec.Bootstrap}, Name: spec.Bootstrap, cleanup: func() {}}, nil
	}
	if err := CheckTarget(spec.Kind); err != nil {
		return nil, err
	}
	switch spec.Kind {
	case "kfake":
		t, err := StartKfake()
		if err != nil {
			return nil, err
		}
		return &Endpoint{Seeds: []string{t.Addr}, Name: "kfake", cleanup: func() { t.Stop() }}, nil
	case "nats", "redis":
		dir, err := os.MkdirTemp("", "loglab-bench-"+spec.Kind+"-")
		if err != nil {
			return nil, err
		}
		p, err := StartPeer(spec.Kind, dir)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		return &Endpoint{Name: p.Name(), Peer: p, cleanup: func() {
			p.Stop()
			os.RemoveAll(dir)
		}}, nil
	}
	return startEmbedded(ctx, spec)
}

func startEmbedded(ctx context.Context, spec TargetSpec) (*Endpoint, error) {
	dir, err := os.MkdirTemp(spec.DataParent, "loglab-bench-")
	if err != nil {
		return nil, err
	}
	logOut, closeLog := io.Writer(io.Discard), func() {}
	if spec.BrokerLog != "" {
		f, err := os.Create(spec.BrokerLog)
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("--broker-log: %w", err)
		}
		logOut, closeLog = f, func() { f.Close() }
	}
	c, err := embedded.Start(embedded.Config{Brokers: spec.Brokers, DataDir: dir, Logger: slog.New(slog.NewTextHandler(logOut, nil))})
	if err != nil {
		closeLog()
		os.RemoveAll(dir)
		return nil, err
	}
	cleanup := func() {
		c.Stop()
		closeLog()
		os.RemoveAll(dir)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := c.WaitReady(wctx); err != nil {
		cleanup()
		return nil, err
	}
	return &Endpoint{Seeds: c.Bootstrap(), Name: fmt.Sprintf("loglab (%d embedded brokers)", spec.Brokers), Cluster: c, cleanup: cleanup,
		Settle: func(deleted []string) error { return settleEmbedded(ctx, c, deleted) }}, nil
}

// settleEmbedded waits until every broker of the embedded cluster has
// removed the deleted topics' partition directories (TOPIC-N) from its
// disk and unlinked their files (gigabytes after a search), writes back the page cache (sync(2)), and waits until
// every broker is registered and unfenced again: an overloaded trial can
// delay a broker's heartbeats past its session, and the controller then
// fences it until it catches up.
func settleEmbedded(ctx context.Context, c *embedded.Cluster, deleted []string) error {
	deadline := time.Now().Add(3 * time.Minute)
	for {
		left := 0
		for id := 1; id <= c.Brokers(); id++ {
			for _, t := range deleted {
				m, _ := filepath.Glob(filepath.Join(c.DataDir(id), t+"-*"))
				left += len(m)
			}
			// Removed files are unlinked off the brokers' loops: wait
			// for that too, or the measured run pays for it.
			trash, _ := os.ReadDir(filepath.Join(c.DataDir(id), realhost.TrashDir))
			left += len(trash)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the search's %d deleted partition directories and files were still on disk after 3 minutes", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
	syscall.Sync()
	ready, cancel := context.WithDeadline(ctx, deadline.Add(time.Minute))
	defer cancel()
	if err := c.WaitReady(ready); err != nil {
		return fmt.Errorf("after the search: %w", err)
	}
	return nil
}

// CompareRun runs w against a fresh target of the kind spec names.
func CompareRun(ctx context.Context, w Workload, spec TargetSpec, opts RunOptions) (Report, error) {
	if spec.Kind == "loglab" {
		spec.Brokers = max(spec.Brokers, w.ReplicationFactor)
	}
	tg, err := StartEndpoint(ctx, spec)
	if err != nil {
		return Report{}, err
	}
	defer tg.Close()
	opts.Seeds, opts.Target, opts.Peer = tg.Seeds, tg.Name, tg.Peer
	return Run(ctx, w, opts)
}

// KillFault kills broker id of the embedded cluster at at, restarting it
// down later.
func KillFault(c *embedded.Cluster, id int, at, down time.Duration) Fault {
	return Fault{Name: fmt.Sprintf("kill broker %d", id), At: at, UndoAfter: down,
		Do: func() error { return c.Kill(id) }, Undo: func() error { return c.Restart(id) }}
}

// PauseFault freezes broker id of the embedded cluster at at for paused.
func PauseFault(c *embedded.Cluster, id int, at, paused time.Duration) Fault {
	return Fault{Name: fmt.Sprintf("pause broker %d", id), At: at, UndoAfter: paused,
		Do: func() error { return c.Pause(id) }, Undo: func() error { return c.Resume(id) }}
}
