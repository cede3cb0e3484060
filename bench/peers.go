package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/redis/go-redis/v9"
)

// Peers: the same workload, paced and measured by the same code, against
// a system that is not Kafka-compatible, started by the bench on loopback
// from its installed server binary:
//
//   - NATS JetStream (nats-server -js): a topic partition is a stream with
//     one subject, file storage, one replica; a producer publishes
//     asynchronously and a record counts as acknowledged at its PubAck;
//     a consumer is an ordered consumer of each stream. JetStream's file
//     store syncs every 2 minutes by default, as loglab's flush=never
//     leaves it to the page cache.
//   - Redis Streams (redis-server): a topic partition is a stream key; a
//     producer pipelines XADDs (the pipeline flushes every Linger or 1000
//     records) and a record counts as acknowledged at XADD's reply; a
//     consumer XREADs each key. Redis runs with the append-only file on
//     and appendfsync no (the page cache decides), the nearest to
//     flush=never.
//
// The scheduled send time travels with each record (a NATS header, a
// Redis field) for end-to-end latency. Records of a topic go to its
// partitions round-robin per producer. There are no consumer groups: each
// topic's ConsumerPerSubscription is 0 or 1 reader. acks, compression and
// replication factor are Kafka's and do not apply; a history (--check) is
// Kafka-only. A search deletes each trial's partitions after the trial, as
// on a Kafka target, and a server that exits during a run ends the run
// with ErrPeerExited (no result).

// ErrPeerNotInstalled: the peer's server binary is not on PATH.
var ErrPeerNotInstalled = errors.New("bench: peer is not installed")

// ErrPeerExited: the peer's server process ended while the bench used it
// (killed for memory, crashed). A run against it has no result.
var ErrPeerExited = errors.New("bench: peer server exited")

// PeerNames are the peers StartPeer knows.
var PeerNames = []string{"nats", "redis"}

// Peer is a running non-Kafka target.
type Peer interface {
	Name() string
	// CreateTopic makes the topic's partitions.
	CreateTopic(ctx context.Context, topic string, partitions int) error
	// DeleteTopic removes the topic's partitions and their records, as a
	// search does after each trial.
	DeleteTopic(ctx context.Context, topic string, partitions int) error
	NewProducer(topic string, partitions int, linger time.Duration) (PeerProducer, error)
	// Consume reads every partition of topic from the start, calling got
	// with each record's scheduled send time, until ctx ends.
	Consume(ctx context.Context, topic string, partitions int, got func(at time.Time)) error
	// Done is closed once the server process has ended; Err then says
	// how (ErrPeerExited). Before Stop, that is a failure of the run.
	Done() <-chan struct{}
	Err() error
	Stop() error
}

// PeerProducer sends records of one topic.
type PeerProducer interface {
	// Send sends value to partition, scheduled at at; done runs once it is
	// acknowledged or failed (on another goroutine).
	Send(ctx context.Context, partition int, value []byte, at time.Time, done func(error))
	Close()
}

// PeerInstalled reports whether the named peer's server is installed
// (ErrPeerNotInstalled, naming the package, if not).
func PeerInstalled(name string) error {
	bin, ok := peerServers[name]
	if !ok {
		return fmt.Errorf("bench: unknown peer %q (want nats or redis)", name)
	}
	if _, err := exec.LookPath(bin); err != nil {
		return fmt.Errorf("%w: --target %s needs %s on PATH (apt-get install %s)", ErrPeerNotInstalled, name, bin, bin)
	}
	return nil
}

var peerServers = map[string]string{"nats": "nats-server", "redis": "redis-server"}

// StartPeer starts the named peer's server on a free loopback port with
// its data under dir.
func StartPeer(name, dir string) (Peer, error) {
	switch name {
	case "nats":
		return startNATS(dir)
	case "redis":
		return startRedis(dir)
	}
	return nil, fmt.Errorf("bench: unknown peer %q (want nats or redis)", name)
}

// server is a peer's server process.
type server struct {
	bin    string
	cmd    *exec.Cmd
	addr   string
	log    *os.File
	exited chan struct{} // closed once the process is gone
	err    error         // its exit status, after exited
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer runs bin (install names the package that provides it) with
// args built for a free port, and waits until the port accepts.
func startServer(bin, install, dir string, args func(port int) []string) (*server, error) {
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("%w: %s not found on PATH (apt-get install %s)", ErrPeerNotInstalled, bin, install)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(dir, bin+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args(port)...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = log, log, dir
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrTargetStart, bin, err)
	}
	s := &server{bin: bin, cmd: cmd, addr: "127.0.0.1:" + strconv.Itoa(port), log: log, exited: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.exited)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return s, nil
		}
		select {
		case <-s.exited:
			log.Close()
			return nil, fmt.Errorf("%w: %s exited: %v (see %s)", ErrTargetStart, bin, s.err, log.Name())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("%w: %s did not listen on %s within 15s", ErrTargetStart, bin, s.addr)
		}
	}
}

func (s *server) Done() <-chan struct{} { return s.exited }

// Err says how the server ended (nil while it runs), with the last line
// of its log: the log lives in a directory the bench removes.
func (s *server) Err() error {
	select {
	case <-s.exited:
	default:
		return nil
	}
	last := "(empty)"
	if data, err := os.ReadFile(s.log.Name()); err == nil {
		if lines := strings.Split(strings.TrimSpace(string(data)), "\n"); lines[len(lines)-1] != "" {
			last = strings.TrimSpace(lines[len(lines)-1])
		}
	}
	return fmt.Errorf("%w: %s: %v (the last line of its log: %s)", ErrPeerExited, s.bin, s.err, last)
}

func (s *server) stop() error {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	return s.log.Close()
}

// --- NATS JetStream ---

type natsPeer struct {
	*server
	nc *nats.Conn
	js jetstream.JetStream
}

func startNATS(dir string) (Peer, error) {
	srv, err := startServer("nats-server", "nats-server", dir, func(port int) []string {
		return []string{"-js", "-a", "127.0.0.1", "-p", strconv.Itoa(port), "-sd", filepath.Join(dir, "jetstream")}
	})
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect("nats://" + srv.addr)
	if err != nil {
		srv.stop()
		return nil, fmt.Errorf("%w: nats: %w", ErrTargetStart, err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(1<<14))
	if err != nil {
		nc.Close()
		srv.stop()
		return nil, fmt.Errorf("%w: nats: %w", ErrTargetStart, err)
	}
	return &natsPeer{server: srv, nc: nc, js: js}, nil
}

func (p *natsPeer) Name() string { return "nats-jetstream" }

func natsStream(topic string, part int) string { return topicSafe(topic) + "-" + strconv.Itoa(part) }

func (p *natsPeer) CreateTopic(ctx context.Context, topic string, partitions int) error {
	for i := range partitions {
		s := natsStream(topic, i)
		if _, err := p.js.CreateStream(ctx, jetstream.StreamConfig{Name: s, Subjects: []string{s}, Storage: jetstream.FileStorage,
			Replicas: 1}); err != nil {
			return fmt.Errorf("bench: nats: create stream %s: %w", s, err)
		}
	}
	return nil
}

func (p *natsPeer) DeleteTopic(ctx context.Context, topic string, partitions int) error {
	for i := range partitions {
		s := natsStream(topic, i)
		if err := p.js.DeleteStream(ctx, s); err != nil {
			return fmt.Errorf("bench: nats: delete stream %s: %w", s, err)
		}
	}
	return nil
}

type natsProducer struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	topic string
	acks  chan natsPending
	done  chan struct{}
	gone  <-chan struct{} // the server's Done
}

// natsAckTimeout bounds the wait for a PubAck from a server that lives but
// does not answer; a server that exits fails the pending records at once.
const natsAckTimeout = time.Minute

type natsPending struct {
	f    jetstream.PubAckFuture
	err  error
	done func(error)
}

func (p *natsPeer) NewProducer(topic string, partitions int, _ time.Duration) (PeerProducer, error) {
	// Its own connection, as each Kafka producer has its own client.
	nc, err := nats.Connect("nats://" + p.server.addr)
	if err != nil {
		return nil, fmt.Errorf("bench: nats producer: %w", err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(1<<14), jetstream.WithPublishAsyncTimeout(natsAckTimeout))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("bench: nats producer: %w", err)
	}
	pr := &natsProducer{nc: nc, js: js, topic: topic, acks: make(chan natsPending, 1<<14), done: make(chan struct{}), gone: p.Done()}
	go func() {
		// Acknowledgements, in publish order.
		defer close(pr.done)
		for a := range pr.acks {
			if a.err != nil {
				a.done(a.err)
				continue
			}
			select {
			case <-a.f.Ok():
				a.done(nil)
			case err := <-a.f.Err():
				a.done(err)
			case <-pr.gone:
				a.done(ErrPeerExited)
			}
		}
	}()
	return pr, nil
}

func (pr *natsProducer) Send(_ context.Context, partition int, value []byte, at time.Time, done func(error)) {
	m := nats.NewMsg(natsStream(pr.topic, partition))
	m.Data = value
	m.Header.Set("ts", strconv.FormatInt(at.UnixNano(), 10))
	f, err := pr.js.PublishMsgAsync(m)
	pr.acks <- natsPending{f: f, err: err, done: done}
}

func (pr *natsProducer) Close() {
	close(pr.acks)
	<-pr.done
	pr.nc.Close()
}

func (p *natsPeer) Consume(ctx context.Context, topic string, partitions int, got func(time.Time)) error {
	var ccs []jetstream.ConsumeContext
	for i := range partitions {
		c, err := p.js.OrderedConsumer(ctx, natsStream(topic, i), jetstream.OrderedConsumerConfig{})
		if err != nil {
			return fmt.Errorf("bench: nats consumer: %w", err)
		}
		cc, err := c.Consume(func(m jetstream.Msg) {
			ns, _ := strconv.ParseInt(m.Headers().Get("ts"), 10, 64)
			got(time.Unix(0, ns))
		})
		if err != nil {
			return fmt.Errorf("bench: nats consumer: %w", err)
		}
		ccs = append(ccs, cc)
	}
	go func() {
		<-ctx.Done()
		for _, cc := range ccs {
			cc.Stop()
		}
	}()
	return nil
}

func (p *natsPeer) Stop() error {
	p.nc.Close()
	return p.server.stop()
}

// --- Redis Streams ---

type redisPeer struct {
	*server
	cl *redis.Client // administration (DEL)
}

func startRedis(dir string) (Peer, error) {
	srv, err := startServer("redis-server", "redis-server", dir, func(port int) []string {
		return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "",
			"--appendonly", "yes", "--appendfsync", "no", "--protected-mode", "no"}
	})
	if err != nil {
		return nil, err
	}
	cl := redis.NewClient(&redis.Options{Addr: srv.addr})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for cl.Ping(ctx).Err() != nil {
		if ctx.Err() != nil {
			cl.Close()
			srv.stop()
			return nil, fmt.Errorf("%w: redis did not answer PING", ErrTargetStart)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &redisPeer{server: srv, cl: cl}, nil
}

func (p *redisPeer) Name() string { return "redis-streams" }

func redisKey(topic string, part int) string { return topic + "-" + strconv.Itoa(part) }

// CreateTopic: XADD creates a stream; nothing to do ahead.
func (p *redisPeer) CreateTopic(context.Context, string, int) error { return nil }

// DeleteTopic deletes the partitions' stream keys (DEL frees their memory
// before it returns: Redis keeps every record in memory).
func (p *redisPeer) DeleteTopic(ctx context.Context, topic string, partitions int) error {
	keys := make([]string, partitions)
	for i := range keys {
		keys[i] = redisKey(topic, i)
	}
	if err := p.cl.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("bench: redis: delete %s: %w", topic, err)
	}
	return nil
}

type redisRecord struct {
	key   string
	value []byte
	at    time.Time
	done  func(error)
}

type redisProducer struct {
	cl    *redis.Client
	topic string
	in    chan redisRecord
	done  chan struct{}
}

func (p *redisPeer) NewProducer(topic string, partitions int, linger time.Duration) (PeerProducer, error) {
	pr := &redisProducer{cl: redis.NewClient(&redis.Options{Addr: p.server.addr}), topic: topic, in: make(chan redisRecord, 1<<14), done: make(chan struct{})}
	linger = max(linger, 100*time.Microsecond)
	go func() {
		// Pipelines: everything queued within linger, up to 1000 records.
		defer close(pr.done)
		var batch []redisRecord
		flush := func() {
			if len(batch) == 0 {
				return
			}
			pipe := pr.cl.Pipeline()
			cmds := make([]*redis.StringCmd, len(batch))
			for i, r := range batch {
				cmds[i] = pipe.XAdd(context.Background(), &redis.XAddArgs{Stream: r.key,
					Values: []any{"ts", strconv.FormatInt(r.at.UnixNano(), 10), "v", r.value}})
			}
			pipe.Exec(context.Background())
			for i, r := range batch {
				r.done(cmds[i].Err())
			}
			batch = batch[:0]
		}
		timer := time.NewTimer(time.Hour)
		for {
			select {
			case r, ok := <-pr.in:
				if !ok {
					flush()
					return
				}
				if len(batch) == 0 {
					timer.Reset(linger)
				}
				batch = append(batch, r)
				if len(batch) >= 1000 {
					flush()
				}
			case <-timer.C:
				flush()
			}
		}
	}()
	return pr, nil
}

func (pr *redisProducer) Send(_ context.Context, partition int, value []byte, at time.Time, done func(error)) {
	pr.in <- redisRecord{key: redisKey(pr.topic, partition), value: value, at: at, done: done}
}

func (pr *redisProducer) Close() {
	close(pr.in)
	<-pr.done
	pr.cl.Close()
}

func (p *redisPeer) Consume(ctx context.Context, topic string, partitions int, got func(time.Time)) error {
	cl := redis.NewClient(&redis.Options{Addr: p.server.addr, ReadTimeout: -1})
	streams := make([]string, 0, 2*partitions)
	for i := range partitions {
		streams = append(streams, redisKey(topic, i))
	}
	ids := make([]string, partitions)
	for i := range ids {
		ids[i] = "0"
	}
	go func() {
		defer cl.Close()
		for ctx.Err() == nil {
			res, err := cl.XRead(ctx, &redis.XReadArgs{Streams: append(append([]string(nil), streams...), ids...), Count: 1000,
				Block: 100 * time.Millisecond}).Result()
			if errors.Is(err, redis.Nil) {
				continue // nothing new within the block time
			}
			if err != nil {
				// A server gone or failing: try again, not in a tight loop.
				time.Sleep(100 * time.Millisecond)
				continue
			}
			for _, s := range res {
				for i, k := range streams {
					if k == s.Stream && len(s.Messages) > 0 {
						ids[i] = s.Messages[len(s.Messages)-1].ID
					}
				}
				for _, m := range s.Messages {
					ts, _ := m.Values["ts"].(string)
					ns, _ := strconv.ParseInt(ts, 10, 64)
					got(time.Unix(0, ns))
				}
			}
		}
	}()
	return nil
}

func (p *redisPeer) Stop() error {
	p.cl.Close()
	return p.server.stop()
}
