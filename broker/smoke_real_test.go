package broker_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loglab/loglab/broker"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/host/realhost"
)

// startReal runs a broker on real sockets at 127.0.0.1:0 and returns its
// address.
func startReal(t *testing.T, dir string, cfg broker.Config) (*realhost.Runtime, *broker.Broker, string) {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	b := broker.New(cfg)
	rt, err := realhost.Run(b, realhost.Config{Name: "broker-1", DataDir: dir, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var addr string
	var startErr error
	if err := rt.Do(func(host.Host) { addr, startErr = b.Addr(), b.Err() }); err != nil {
		t.Fatal(err)
	}
	if startErr != nil || addr == "" {
		t.Fatalf("broker did not start: %v", startErr)
	}
	return rt, b, addr
}

func stopReal(t *testing.T, rt *realhost.Runtime) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rt.Stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// TestKgoProduceConsume is the real-client smoke test: franz-go on its
// default settings (acks=all, newest versions it and the broker share)
// produces to an auto-created topic and consumes the records back, and
// after a restart the records are still there.
func TestKgoProduceConsume(t *testing.T) {
	dir := t.TempDir()
	rt, _, addr := startReal(t, dir, broker.Config{})
	const n = 20
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		r := &kgo.Record{Topic: "smoke", Key: []byte(fmt.Sprint("k", i)), Value: []byte(fmt.Sprint("v", i))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
		if r.Offset != int64(i) {
			t.Fatalf("record %d got offset %d", i, r.Offset)
		}
	}
	cl.Close()
	consumeAll(t, ctx, addr, "smoke", n)
	stopReal(t, rt)

	rt, _, addr = startReal(t, dir, broker.Config{})
	defer stopReal(t, rt)
	consumeAll(t, ctx, addr, "smoke", n)
}

func consumeAll(t *testing.T, ctx context.Context, addr, topic string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got := 0
	for got < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", got, n, err)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if want := fmt.Sprint("v", r.Offset); string(r.Value) != want {
				t.Fatalf("offset %d: value %q, want %q", r.Offset, r.Value, want)
			}
			got++
		})
	}
}

// On real sockets: an oversized length prefix and a frame cut short by a
// hang-up close only their own connection; the broker keeps serving.
func TestRealBadFramesCloseOnlyTheirConnection(t *testing.T) {
	rt, _, addr := startReal(t, t.TempDir(), broker.Config{MaxFrameBytes: 1 << 10})
	defer stopReal(t, rt)

	big, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	big.Write([]byte{0, 0, 0x10, 0}) // 4096 > 1024
	big.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := big.Read(make([]byte, 1)); err == nil {
		t.Fatalf("oversized frame: read %d bytes, want the connection closed", n)
	}

	cut, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cut.Write([]byte{0, 0, 0, 100, 0, 3}) // promises 100 bytes, sends 2
	cut.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("broker no longer serving: %v", err)
	}
}

// A kgo consumer parked in a long poll (FetchMaxWait 30 s) is answered as
// soon as a record is produced, not when its wait expires.
func TestKgoLongPollWokenByProduce(t *testing.T) {
	rt, b, addr := startReal(t, t.TempDir(), broker.Config{})
	defer stopReal(t, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "lp", Value: []byte("first")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("lp"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), kgo.FetchMaxWait(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	got := make(chan string, 1)
	go func() {
		for {
			fs := cons.PollFetches(ctx)
			if ctx.Err() != nil {
				got <- "timeout"
				return
			}
			if it := fs.RecordIter(); !it.Done() {
				got <- string(it.Next().Value)
				return
			}
		}
	}()
	// Bounded polling (real sockets): wait until the consumer's fetch is
	// parked in the broker.
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := 0
		rt.Do(func(host.Host) { n = b.WaitingFetches() })
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("consumer never parked a fetch")
		}
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "lp", Value: []byte("second")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if v := <-got; v != "second" {
		t.Fatalf("consumer got %q", v)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Fatalf("woken after %v: the append did not wake the long poll", waited)
	}
}
