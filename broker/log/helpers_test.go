package log

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/host/realhost"
	"github.com/loglab/loglab/wire/batch"
)

// driver runs code on a node's loop in either world.
type driver interface {
	// do runs f on the loop.
	do(f func(h host.Host))
	// wait runs register on the loop and returns once the done it was given
	// has been called.
	wait(register func(h host.Host, done func(error))) error
}

type simDriver struct{ w *testWorld }

func (d simDriver) do(f func(h host.Host)) { f(d.w.host) }
func (d simDriver) wait(register func(h host.Host, done func(error))) error {
	called := false
	var got error
	register(d.w.host, func(err error) { called, got = true, err })
	d.w.runUntil(func() bool { return called })
	return got
}

type realDriver struct {
	t  testing.TB
	rt *realhost.Runtime
}

func newRealDriver(t testing.TB, dir string) realDriver {
	rt, err := realhost.Run(nodeFunc(func(host.Host) {}), realhost.Config{Name: "n1", DataDir: dir, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = rt.Stop(ctx)
	})
	return realDriver{t: t, rt: rt}
}

type nodeFunc func(h host.Host)

func (f nodeFunc) Start(h host.Host) { f(h) }

func (d realDriver) do(f func(h host.Host)) {
	// A failure inside f (a rapid panic, or t.Fatal's runtime.Goexit) must
	// surface on the test goroutine, not kill the loop goroutine silently.
	ran := make(chan struct{})
	var p any
	d.rt.Post(func(h host.Host) {
		defer func() {
			p = recover()
			close(ran)
		}()
		f(h)
	})
	<-ran
	if p != nil {
		panic(p)
	}
	if d.t.Failed() {
		d.t.FailNow()
	}
}

func (d realDriver) wait(register func(h host.Host, done func(error))) error {
	ch := make(chan error, 1)
	d.do(func(h host.Host) { register(h, func(err error) { ch <- err }) })
	select {
	case err := <-ch:
		return err
	case <-time.After(30 * time.Second):
		d.t.Fatal("callback never called")
		return nil
	}
}

// mkBatch builds a batch of n records of valueBytes each, tagged by tag.
func mkBatch(tag, n, valueBytes int, ts int64) []byte {
	rs := make([]batch.Record, n)
	for i := range rs {
		v := make([]byte, valueBytes)
		copy(v, fmt.Sprintf("%d/%d:", tag, i))
		rs[i] = batch.Record{Value: v, TimestampDelta: int64(i)}
	}
	return batch.Build(nil, rs, batch.BuildOptions{BaseTimestamp: ts})
}

func mustOpen(t testing.TB, d driver, dir string, cfg Config) *Log {
	t.Helper()
	var l *Log
	var err error
	d.do(func(h host.Host) { l, err = Open(h, dir, cfg) })
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func closeLog(t testing.TB, d driver, l *Log) {
	t.Helper()
	if err := d.wait(func(h host.Host, done func(error)) { l.Close(done) }); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func syncLog(t testing.TB, d driver, l *Log) {
	t.Helper()
	if err := d.wait(func(h host.Host, done func(error)) { l.Sync(done) }); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

// readAllBatches reads the whole log from LogStartOffset batch by batch.
func readAllBatches(t tb, l *Log) [][]byte {
	t.Helper()
	var out [][]byte
	for off := l.LogStartOffset(); off < l.LogEndOffset(); {
		b, err := l.Read(off, 1<<20)
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		it := batch.Iterate(b)
		for it.Next() {
			out = append(out, it.Batch())
			off = it.Header().NextOffset()
		}
	}
	return out
}

func isErr(err, target error) bool { return errors.Is(err, target) }

// tb is what helpers need from *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}
