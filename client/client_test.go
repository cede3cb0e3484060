package client

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
	"github.com/twmb/franz-go/pkg/kerr"
)

// env is a simulated world with a fake broker and one client.
type env struct {
	t     *testing.T
	w     *sim.World
	fb    *fakeBroker
	cl    *Client
	hist  *history.Writer
	jsonl bytes.Buffer
	got   map[string]result // by value
	read  []Record
}

type result struct {
	rec Record
	err error
}

const topic = "t"

func newEnv(t *testing.T, cfg Config, partitions int32, setup func(*fakeBroker)) *env {
	t.Helper()
	e := &env{t: t, got: map[string]result{}}
	e.hist = history.Tee(&e.jsonl)
	e.w = sim.NewWorld(sim.Config{Seed: 1, Log: testLog(t), LogLevel: slog.LevelDebug})
	e.fb = newFakeBroker("broker-1", map[string]int32{topic: partitions})
	if setup != nil {
		setup(e.fb)
	}
	cfg.Bootstrap = []string{e.fb.addr()}
	cfg.History = e.hist
	userOnRecords := cfg.OnRecords
	cfg.OnRecords = func(rs []Record) {
		e.read = append(e.read, rs...)
		if userOnRecords != nil {
			userOnRecords(rs)
		}
	}
	e.w.AddNode("broker-1", func() host.Node { return e.fb })
	e.w.AddNode("client-1", func() host.Node {
		return sim.NodeFunc(func(h host.Host) { e.cl = New(h, cfg) })
	})
	e.w.Start("broker-1")
	e.w.Start("client-1")
	// Learn the topic's metadata first, so tests time batching and faults
	// from a warm client.
	e.do(func(cl *Client) { cl.wantTopics[topic] = true; cl.needMetadata() })
	e.run(200 * time.Millisecond)
	if e.cl.topics[topic] == nil {
		t.Fatal("no metadata for the topic after 200ms")
	}
	return e
}

func (e *env) run(d time.Duration) {
	e.t.Helper()
	if err := e.w.RunFor(d); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) do(f func(cl *Client)) {
	e.w.Do("client-1", func(host.Host) { f(e.cl) })
}

// produce sends values (key = "k"+value when keyed) and records results.
func (e *env) produce(keyed bool, values ...string) {
	e.do(func(cl *Client) {
		for _, v := range values {
			r := Record{Topic: topic, Value: []byte(v)}
			if keyed {
				r.Key = []byte("k" + v)
			}
			cl.Produce(r, func(r Record, err error) { e.got[string(r.Value)] = result{r, err} })
		}
	})
}

// pairs parses the JSONL written so far and pairs it, failing the test on
// any format or pairing error.
func (e *env) pairs() []history.Operation {
	e.t.Helper()
	if err := e.hist.Err(); err != nil {
		e.t.Fatal(err)
	}
	ops, err := history.ParseBytes(e.jsonl.Bytes())
	if err != nil {
		e.t.Fatal(err)
	}
	ps, err := history.Pair(ops)
	if err != nil {
		e.t.Fatal(err)
	}
	return ps
}

func (e *env) sends() []history.Operation {
	var out []history.Operation
	for _, p := range e.pairs() {
		if p.Invoke.F == history.Send {
			out = append(out, p)
		}
	}
	return out
}

func TestMurmur2KafkaVectors(t *testing.T) {
	// Kafka's UtilsTest.testMurmur2.
	for in, want := range map[string]int32{
		"21":                         -973932308,
		"foobar":                     -790332482,
		"a-little-bit-long-string":   -985981536,
		"a-little-bit-longer-string": -1486304829,
		"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
		"abc": 479470107,
		"":    275646681,
	} {
		if got := Murmur2([]byte(in)); got != want {
			t.Errorf("Murmur2(%q) = %d, want %d", in, got, want)
		}
	}
	if p := KeyPartition([]byte("foobar"), 50); p != 16 {
		t.Errorf("KeyPartition(foobar, 50) = %d, want 16", p)
	}
	// A hash with the sign bit set must not go negative.
	if p := KeyPartition([]byte("21"), 7); p < 0 || p != (-973932308&0x7fffffff)%7 {
		t.Errorf("KeyPartition(21, 7) = %d", p)
	}
}

func TestProduceThenConsumeAllPartitions(t *testing.T) {
	e := newEnv(t, Config{}, 3, nil)
	var values []string
	for i := 0; i < 30; i++ {
		values = append(values, fmt.Sprintf("v%02d", i))
	}
	e.produce(true, values...)
	e.run(time.Second)
	for _, v := range values {
		r, ok := e.got[v]
		if !ok || r.err != nil {
			t.Fatalf("%s: %+v (done %v)", v, r, ok)
		}
		if want := KeyPartition([]byte("k"+v), 3); r.rec.Partition != want {
			t.Errorf("%s went to partition %d, want %d", v, r.rec.Partition, want)
		}
		if got := e.fb.values(topic, r.rec.Partition)[r.rec.Offset]; got != v {
			t.Errorf("%s acknowledged at %d-%d, which holds %s", v, r.rec.Partition, r.rec.Offset, got)
		}
	}
	for p := int32(0); p < 3; p++ {
		p := p
		e.do(func(cl *Client) { cl.Assign(topic, p, Earliest) })
	}
	e.run(time.Second)
	if len(e.read) != len(values) {
		t.Fatalf("read %d records, want %d", len(e.read), len(values))
	}
	seen := map[string]bool{}
	for _, r := range e.read {
		seen[string(r.Value)] = true
		if w := e.got[string(r.Value)].rec; w.Partition != r.Partition || w.Offset != r.Offset || string(r.Key) != "k"+string(r.Value) {
			t.Errorf("read %s at %d-%d, produced at %d-%d", r.Value, r.Partition, r.Offset, w.Partition, w.Offset)
		}
	}
	if len(seen) != len(values) {
		t.Errorf("read %d distinct values", len(seen))
	}
	// The history: every send ok at the acknowledged offset; the polls
	// read back exactly what was sent.
	polled := 0
	for _, p := range e.pairs() {
		switch p.Invoke.F {
		case history.Send:
			r := e.got[p.Invoke.Value]
			if p.Outcome() != history.OK || p.Offset() != r.rec.Offset || p.Partition() != r.rec.Partition {
				t.Errorf("send %s: %s at %d-%d", p.Invoke.Value, p.Outcome(), p.Partition(), p.Offset())
			}
		case history.Poll:
			if p.Outcome() == history.OK {
				polled += len(p.Completion.Records)
			}
		}
	}
	if polled != len(values) {
		t.Errorf("history polls read %d records, want %d", polled, len(values))
	}
	if pos, hwm, ok := e.cl.Position(topic, 0); !ok || pos != hwm {
		t.Errorf("Position = %d, %d, %v; want the high watermark", pos, hwm, ok)
	}
}

func TestLingerAndBatchingAndSticky(t *testing.T) {
	e := newEnv(t, Config{Linger: 50 * time.Millisecond}, 3, nil)
	start := e.w.Elapsed()
	e.produce(false, "a", "b", "c", "d", "e")
	e.run(30 * time.Millisecond)
	if e.fb.produces != 0 {
		t.Fatalf("sent %d produce requests before the linger elapsed", e.fb.produces)
	}
	e.run(100 * time.Millisecond)
	if e.fb.produces != 1 || len(e.fb.produceBatches[0]) != 1 || e.fb.produceBatches[0][0] != 5 {
		t.Fatalf("want one request with one batch of 5, got %v", e.fb.produceBatches)
	}
	if at := e.fb.produceAt[0]; at < start+50*time.Millisecond {
		t.Errorf("produce arrived at %v, before the linger ended at %v", at, start+50*time.Millisecond)
	}
	first := e.got["a"].rec.Partition
	for _, v := range []string{"b", "c", "d", "e"} {
		if e.got[v].rec.Partition != first {
			t.Errorf("unkeyed %s on partition %d, sticky partition was %d", v, e.got[v].rec.Partition, first)
		}
	}
	// The batch was sent, so the sticky partition moved.
	e.produce(false, "f")
	e.run(100 * time.Millisecond)
	if p := e.got["f"].rec.Partition; p == first {
		t.Errorf("sticky partition stayed %d after its batch was sent", p)
	}
}

func TestBatchBytesClosesBatches(t *testing.T) {
	e := newEnv(t, Config{Linger: time.Second, BatchBytes: 200}, 1, nil)
	var values []string
	for i := 0; i < 10; i++ {
		values = append(values, fmt.Sprintf("%040d", i)) // ~61 bytes per record
	}
	e.produce(false, values...)
	e.run(100 * time.Millisecond) // well within the linger: only full batches go
	total := 0
	for _, req := range e.fb.produceBatches {
		for _, n := range req {
			if n > 3 || n == 0 {
				t.Errorf("batch of %d records exceeds 200 bytes", n)
			}
			total += n
		}
	}
	if total < 6 {
		t.Errorf("only %d records sent before the linger: full batches did not go at once", total)
	}
	e.run(2 * time.Second)
	for i, v := range values {
		if r := e.got[v]; r.err != nil || r.rec.Offset != int64(i) {
			t.Errorf("%d: offset %d err %v (order must be kept)", i, r.rec.Offset, r.err)
		}
	}
}

func TestRetryOnNotLeaderRefreshesMetadata(t *testing.T) {
	e := newEnv(t, Config{}, 1, func(fb *fakeBroker) {
		fb.produceFault = func(n int) fault {
			if n <= 2 {
				return fault{errorCode: kerr.NotLeaderForPartition.Code}
			}
			return fault{}
		}
	})
	before := e.fb.metadataCount
	e.produce(true, "x")
	e.run(2 * time.Second)
	if r := e.got["x"]; r.err != nil || r.rec.Offset != 0 {
		t.Fatalf("x: %+v", r)
	}
	if e.fb.produces != 3 {
		t.Errorf("%d produce requests, want 3", e.fb.produces)
	}
	if e.fb.metadataCount <= before {
		t.Errorf("no metadata refresh after NOT_LEADER_OR_FOLLOWER")
	}
	s := e.sends()
	if len(s) != 1 || s[0].Outcome() != history.OK || s[0].Offset() != 0 {
		t.Errorf("history: %+v", s)
	}
}

func TestNonRetriableErrorFails(t *testing.T) {
	e := newEnv(t, Config{}, 1, func(fb *fakeBroker) {
		fb.produceFault = func(int) fault { return fault{errorCode: kerr.MessageTooLarge.Code} }
	})
	e.produce(false, "x")
	e.run(time.Second)
	if r := e.got["x"]; !errors.Is(r.err, kerr.MessageTooLarge) || errors.Is(r.err, ErrUnknownOutcome) {
		t.Fatalf("err = %v, want MESSAGE_TOO_LARGE, definite", r.err)
	}
	s := e.sends()
	if len(s) != 1 || s[0].Outcome() != history.Fail || s[0].Completion.Error != "MESSAGE_TOO_LARGE" || e.fb.produces != 1 {
		t.Errorf("history %+v after %d requests", s, e.fb.produces)
	}
}

func TestTimeoutIsInfo(t *testing.T) {
	e := newEnv(t, Config{RequestTimeout: time.Second, DeliveryTimeout: 5 * time.Second}, 1, func(fb *fakeBroker) {
		fb.produceFault = func(int) fault { return fault{noResponse: true} }
	})
	e.produce(false, "x")
	e.run(10 * time.Second)
	r, ok := e.got["x"]
	if !ok || !errors.Is(r.err, ErrUnknownOutcome) || !errors.Is(r.err, ErrDeliveryTimeout) {
		t.Fatalf("err = %v (done %v), want an unknown outcome after the delivery timeout", r.err, ok)
	}
	if e.fb.produces < 2 {
		t.Errorf("%d attempts: timed-out requests were not retried", e.fb.produces)
	}
	s := e.sends()
	if len(s) != 1 || s[0].Outcome() != history.Info {
		t.Fatalf("history: %+v", s)
	}
	// Each attempt was appended: the info was right to allow "it happened".
	if got := len(e.fb.values(topic, 0)); got != e.fb.produces {
		t.Errorf("log holds %d copies after %d attempts", got, e.fb.produces)
	}
}

func TestTimeoutThenRetrySucceedsWithDuplicate(t *testing.T) {
	e := newEnv(t, Config{RequestTimeout: time.Second}, 1, func(fb *fakeBroker) {
		fb.produceFault = func(n int) fault { return fault{noResponse: n == 1} }
	})
	e.produce(false, "x")
	e.run(5 * time.Second)
	if r := e.got["x"]; r.err != nil || r.rec.Offset != 1 {
		t.Fatalf("x: %+v, want ok at offset 1 (the retry)", r)
	}
	if v := e.fb.values(topic, 0); len(v) != 2 {
		t.Errorf("log %v: want the non-idempotent duplicate", v)
	}
	if s := e.sends(); s[0].Outcome() != history.OK || s[0].Offset() != 1 {
		t.Errorf("history: %+v", s[0])
	}
}

// TestIdempotentResetNeverResendsAnUnresolvedBatch: an idempotent
// producer whose batch may have been written (its connection died with
// the request out) and is then told its sequences are out of order takes
// a new producer id, but does not re-send that batch under it (the
// broker could not tell it from a new one): it ends unresolved, its
// outcome unknown, and the log holds one copy. A batch known not to be
// written is re-sent under the new id; later records use it.
func TestIdempotentResetNeverResendsAnUnresolvedBatch(t *testing.T) {
	for _, c := range []struct {
		name   string
		faults map[int]fault
		ok     bool
		copies int
	}{
		{"maybe written, then out of order", map[int]fault{1: {closeAfter: true}, 2: {errorCode: kerr.OutOfOrderSequenceNumber.Code}}, false, 1},
		{"out of order, never written", map[int]fault{1: {errorCode: kerr.OutOfOrderSequenceNumber.Code}}, true, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, Config{Idempotent: true}, 1, func(fb *fakeBroker) {
				fb.produceFault = func(n int) fault { return c.faults[n] }
			})
			e.produce(false, "x")
			e.run(3 * time.Second)
			e.produce(false, "y")
			e.run(3 * time.Second)
			r := e.got["x"]
			switch {
			case c.ok && (r.err != nil || r.rec.Offset < 0):
				t.Fatalf("x: %v, want it re-sent under the new id", r.err)
			case !c.ok && (!errors.Is(r.err, ErrSequenceUnresolved) || !errors.Is(r.err, ErrUnknownOutcome)):
				t.Fatalf("x: %v, want an unresolved sequence, outcome unknown", r.err)
			}
			if got := e.fb.values(topic, 0); len(got) != c.copies+1 || got[len(got)-1] != "y" {
				t.Fatalf("log %v: want x %d time(s), then y", got, c.copies)
			}
			if e.got["y"].err != nil || e.fb.producerIDs != 2 {
				t.Fatalf("y: %v after %d producer ids, want ok under the second", e.got["y"].err, e.fb.producerIDs)
			}
		})
	}
}

func TestConnectionClosedMidRequestRetries(t *testing.T) {
	e := newEnv(t, Config{}, 1, func(fb *fakeBroker) {
		fb.produceFault = func(n int) fault { return fault{closeAfter: n == 1} }
	})
	e.produce(true, "x")
	e.run(2 * time.Second)
	if r := e.got["x"]; r.err != nil || r.rec.Offset != 1 {
		t.Fatalf("x: %+v, want ok at 1 after a retry on a new connection", r)
	}
	if e.fb.produces != 2 {
		t.Errorf("%d produce requests, want 2", e.fb.produces)
	}
}

func TestIsolatedBrokerGivesInfo(t *testing.T) {
	e := newEnv(t, Config{RequestTimeout: 2 * time.Second, DeliveryTimeout: 10 * time.Second}, 1, nil)
	e.produce(false, "warm") // opens the produce connection
	e.run(100 * time.Millisecond)
	e.w.Net().Isolate("broker-1")
	e.produce(false, "x")
	e.run(20 * time.Second)
	r, ok := e.got["x"]
	if !ok || !errors.Is(r.err, ErrUnknownOutcome) {
		t.Fatalf("err = %v (done %v), want unknown outcome: the request left the client", r.err, ok)
	}
	if s := e.sends(); s[1].Invoke.Value != "x" || s[1].Outcome() != history.Info {
		t.Errorf("history: %+v", s[1])
	}
	// After healing, the client works again.
	e.w.Net().Heal()
	e.produce(false, "y")
	e.run(20 * time.Second)
	if r := e.got["y"]; r.err != nil {
		t.Errorf("after heal: %v", r.err)
	}
}

func TestWrongCorrelationIDClosesConnection(t *testing.T) {
	e := newEnv(t, Config{}, 1, func(fb *fakeBroker) {
		fb.produceFault = func(n int) fault { return fault{wrongCorrID: n == 1} }
	})
	e.produce(false, "x")
	e.run(2 * time.Second)
	if r := e.got["x"]; r.err != nil || r.rec.Offset != 1 {
		t.Fatalf("x: %+v, want ok at 1 after the mismatched response was rejected", r)
	}
}

func TestAcksZeroIsInfo(t *testing.T) {
	e := newEnv(t, Config{Acks: AcksNone}, 1, nil)
	e.produce(false, "x")
	e.run(time.Second)
	if r := e.got["x"]; r.err != nil || r.rec.Offset != -1 {
		t.Fatalf("x: %+v", r)
	}
	if s := e.sends(); s[0].Outcome() != history.Info {
		t.Errorf("acks=0 recorded as %s", s[0].Outcome())
	}
	if len(e.fb.values(topic, 0)) != 1 {
		t.Errorf("record not written")
	}
}

func TestUnknownTopicTimesOutAsFail(t *testing.T) {
	e := newEnv(t, Config{DeliveryTimeout: 3 * time.Second}, 1, nil)
	e.do(func(cl *Client) {
		cl.Produce(Record{Topic: "nope", Value: []byte("x")}, func(r Record, err error) { e.got["x"] = result{r, err} })
	})
	e.run(5 * time.Second)
	r := e.got["x"]
	if !errors.Is(r.err, ErrDeliveryTimeout) || !errors.Is(r.err, kerr.UnknownTopicOrPartition) || errors.Is(r.err, ErrUnknownOutcome) {
		t.Fatalf("err = %v", r.err)
	}
	if s := e.sends(); s[0].Outcome() != history.Fail || s[0].Partition() != history.NoPartition {
		t.Errorf("history: %+v", s[0])
	}
}

func TestOffsetOutOfRangeResets(t *testing.T) {
	e := newEnv(t, Config{OffsetReset: ResetEarliest}, 1, nil)
	e.produce(false, "a", "b", "c")
	e.run(time.Second)
	e.do(func(cl *Client) { cl.Assign(topic, 0, At(100)) })
	e.run(time.Second)
	if len(e.read) != 3 || string(e.read[0].Value) != "a" {
		t.Fatalf("read %v, want a, b, c after the reset to earliest", e.read)
	}
	var failed bool
	for _, p := range e.pairs() {
		if p.Invoke.F == history.Poll && p.Invoke.Offset == 100 {
			failed = p.Outcome() == history.Fail && p.Completion.Error == "OFFSET_OUT_OF_RANGE"
		}
	}
	if !failed {
		t.Errorf("the poll at 100 is not recorded as an OFFSET_OUT_OF_RANGE fail")
	}
}

func TestResetNoneStopsPartition(t *testing.T) {
	var stopped error
	e := newEnv(t, Config{OffsetReset: ResetNone, OnFetchError: func(_ string, _ int32, err error) { stopped = err }}, 1, nil)
	e.do(func(cl *Client) { cl.Assign(topic, 0, At(5)) })
	e.run(time.Second)
	if !errors.Is(stopped, kerr.OffsetOutOfRange) {
		t.Fatalf("OnFetchError got %v", stopped)
	}
}

func TestLatestStartsAtTheEnd(t *testing.T) {
	e := newEnv(t, Config{}, 1, nil)
	e.produce(false, "old")
	e.run(time.Second)
	e.do(func(cl *Client) { cl.Assign(topic, 0, Latest) })
	e.run(time.Second)
	e.produce(false, "new")
	e.run(time.Second)
	if len(e.read) != 1 || string(e.read[0].Value) != "new" || e.read[0].Offset != 1 {
		t.Fatalf("read %+v, want only new at 1", e.read)
	}
}

func TestApiVersionsV0Fallback(t *testing.T) {
	e := newEnv(t, Config{}, 1, func(fb *fakeBroker) {
		fb.versions = map[int16][2]int16{0: {0, 7}, 1: {0, 11}, 2: {0, 1}, 3: {0, 4}, 18: {0, 0}}
	})
	e.produce(false, "x")
	e.do(func(cl *Client) { cl.Assign(topic, 0, Earliest) })
	e.run(2 * time.Second)
	if r := e.got["x"]; r.err != nil {
		t.Fatalf("x: %v", r.err)
	}
	if len(e.read) != 1 {
		t.Fatalf("read %d records", len(e.read))
	}
}

func TestCloseFailsPending(t *testing.T) {
	e := newEnv(t, Config{Linger: time.Hour}, 1, nil)
	e.produce(false, "x")
	e.run(time.Millisecond)
	e.do(func(cl *Client) { cl.Close() })
	e.run(time.Millisecond)
	if r := e.got["x"]; !errors.Is(r.err, ErrClosed) {
		t.Fatalf("err = %v", r.err)
	}
	if s := e.sends(); s[0].Outcome() != history.Fail {
		t.Errorf("history: %+v", s[0])
	}
}

func TestFlushSendsLingeringBatches(t *testing.T) {
	e := newEnv(t, Config{Linger: time.Hour}, 1, nil)
	flushed := false
	e.produce(false, "x")
	e.do(func(cl *Client) { cl.Flush(func() { flushed = true }) })
	e.run(time.Second)
	if !flushed || e.got["x"].err != nil {
		t.Fatalf("flushed %v, x %+v", flushed, e.got["x"])
	}
}

// TestDeterministicHistory runs a faulty scenario twice: equal seeds must
// give byte-identical histories.
func TestDeterministicHistory(t *testing.T) {
	runOnce := func() string {
		e := newEnv(t, Config{Linger: 5 * time.Millisecond, RequestTimeout: time.Second}, 3, func(fb *fakeBroker) {
			fb.produceFault = func(n int) fault { return fault{noResponse: n%4 == 0, closeAfter: n%7 == 0} }
		})
		for i := 0; i < 20; i++ {
			e.produce(i%2 == 0, fmt.Sprintf("v%d", i))
			e.run(3 * time.Millisecond)
		}
		e.do(func(cl *Client) { cl.Assign(topic, 1, Earliest) })
		e.run(10 * time.Second)
		e.pairs()
		return e.jsonl.String()
	}
	a, b := runOnce(), runOnce()
	if a != b {
		t.Fatal("histories differ between two runs of the same seed")
	}
	if len(a) == 0 {
		t.Fatal("empty history")
	}
}

type tlog struct{ t *testing.T }

func (l tlog) Write(p []byte) (int, error) { l.t.Log(string(bytes.TrimSpace(p))); return len(p), nil }

func testLog(t *testing.T) io.Writer { return tlog{t} }

// A lagging broker's Metadata answer with an older leader epoch must not
// replace what we know, and fetches name the newest epoch (KIP-320).
func TestMetadataKeepsNewerLeaderEpochAndFetchesCarryIt(t *testing.T) {
	e := newEnv(t, Config{MetadataMaxAge: 300 * time.Millisecond}, 1, func(fb *fakeBroker) {
		answers := 0
		fb.leaderEpoch = func(int) int32 {
			answers++
			if answers == 1 {
				return 7
			}
			return 3 // every later answer comes from a lagging broker
		}
	})
	e.do(func(cl *Client) { cl.Assign(topic, 0, Earliest) })
	e.run(2 * time.Second)
	if e.fb.metadataCount < 3 {
		t.Fatalf("only %d metadata requests: the stale answers were never tried", e.fb.metadataCount)
	}
	if got := e.cl.leaderEpoch(topic, 0); got != 7 {
		t.Errorf("leader epoch %d after stale answers, want 7 kept", got)
	}
	if len(e.fb.fetchEpochs) == 0 {
		t.Fatal("no fetches")
	}
	for i, ep := range e.fb.fetchEpochs {
		if ep != 7 {
			t.Fatalf("fetch %d carried CurrentLeaderEpoch %d, want 7", i, ep)
		}
	}
}
