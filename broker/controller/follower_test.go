package controller_test

// The data-driven test of the broker side (testdata/follower.txt): a
// Follower talks to fake voters whose answers the file writes, so the
// file states what the Follower asks, in which order, and what it makes
// of each answer (registration, fencing, the image it builds, where it
// goes on NOT_CONTROLLER, timeouts and lost connections).
//
// Directives:
//
//	start [controllers=(c1,c2)] [broker=1]
//	    fake voters listening at NAME:9093 and a broker node whose
//	    Follower (HeartbeatInterval 500ms, FetchMaxWait 500ms,
//	    RetryBackoff 100ms, RequestTimeout 2s) starts.
//	answer from=V op=OP [error=E] [leader=ADDR] [epoch=N] [fenced]
//	       [records=(OFFSET:KIND,...)] [high=N] [snapshot=OFFSET] [raw=HEX]
//	    answers V's oldest unanswered request of that op. KIND:
//	    register/ID, create/NAME or garbage (an undecodable record).
//	    raw sends HEX as the whole frame instead.
//	tick ms=N            advance virtual time
//	reset from=V         V drops the Follower's connection
//	submit record=create/NAME    Follower.Submit; its answer is printed
//	                             when it comes
//
// After each directive (and 5ms more, for the network): answers to
// submits, the requests the fake voters received (in order), the
// Follower's image changes, the clock and the Follower's state.

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/loglab/loglab/broker/controller"
	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
	"github.com/twmb/franz-go/pkg/kerr"
)

func TestFollowerDataDriven(t *testing.T) {
	d := &followerDriver{}
	datadriven.RunTest(t, "testdata/follower.txt", d.run)
}

type followerDriver struct {
	w        *sim.World
	fakes    map[string]*fakeVoter
	order    []string
	f        *controller.Follower
	out      strings.Builder
	changes  []string // OnChange calls
	received []string // requests, in arrival order
}

// fakeVoter accepts connections and parks every request for `answer`.
type fakeVoter struct {
	d       *followerDriver
	name    string
	pending []parked
	conns   []host.Conn
}

type parked struct {
	c    host.Conn
	corr uint32
	req  controller.Request
}

func (v *fakeVoter) OnFrame(c host.Conn, f []byte) {
	var req controller.Request
	if len(f) < 5 || f[0] != 2 || json.Unmarshal(f[5:], &req) != nil {
		v.d.received = append(v.d.received, fmt.Sprintf("%s <- bad frame %x", v.name, f))
		return
	}
	v.pending = append(v.pending, parked{c, binary.BigEndian.Uint32(f[1:5]), req})
	s := fmt.Sprintf("%s <- %s", v.name, req.Op)
	switch req.Op {
	case controller.OpRegister:
		s += fmt.Sprintf(" broker=%d addr=%s", req.BrokerID, req.Addr)
	case controller.OpHeartbeat:
		s += fmt.Sprintf(" broker=%d epoch=%d offset=%d", req.BrokerID, req.BrokerEpoch, req.MetadataOffset)
	case controller.OpFetch:
		s += fmt.Sprintf(" from=%d wait=%dms", req.FetchOffset, req.MaxWaitMs)
	case controller.OpWrite:
		rec, err := metadata.DecodeRecord(req.Record)
		if err != nil {
			s += " " + err.Error()
		} else {
			s += " " + rec.Type.String()
		}
	}
	v.d.received = append(v.d.received, s)
}

func (v *fakeVoter) OnClose(c host.Conn, err error) {
	v.pending = deleteConn(v.pending, c)
}

func deleteConn(ps []parked, c host.Conn) []parked {
	var out []parked
	for _, p := range ps {
		if p.c != c {
			out = append(out, p)
		}
	}
	return out
}

func (d *followerDriver) run(t *testing.T, td *datadriven.TestData) string {
	d.out.Reset()
	switch td.Cmd {
	case "start":
		d.start(t, td)
	case "answer":
		d.answer(t, td)
	case "tick":
		d.runFor(time.Duration(intArg(t, td, "ms", 0)) * time.Millisecond)
	case "reset":
		v := d.fakes[strArg(t, td, "from", "")]
		for _, c := range v.conns {
			c.Close()
		}
		v.conns, v.pending = nil, nil
	case "submit":
		_, name, _ := strings.Cut(strArg(t, td, "record", ""), "/")
		d.w.Do("broker", func(host.Host) {
			d.f.Submit(createTopic(name, 1, 1), func(r metadata.Result, err error) {
				if err != nil {
					fmt.Fprintf(&d.out, "submit %s: error: %v\n", name, err)
					return
				}
				fmt.Fprintf(&d.out, "submit %s: %s\n", name, errName(r.Err))
			})
		})
	default:
		td.Fatalf(t, "unknown directive %q", td.Cmd)
	}
	d.runFor(5 * time.Millisecond) // deliveries: the network's latency is ~0.5ms a way
	for _, r := range d.received {
		d.out.WriteString(r + "\n")
	}
	d.received = nil
	for _, c := range d.changes {
		d.out.WriteString(c + "\n")
	}
	d.changes = nil
	fmt.Fprintf(&d.out, "clock %v\n", d.w.Elapsed())
	f := d.f
	fmt.Fprintf(&d.out, "follower: registered=%t epoch=%d fenced=%t offset=%d brokers=%d topics=%d\n",
		f.Registered(), f.BrokerEpoch(), f.Fenced(), f.Offset(), len(f.Image().Brokers), len(f.Image().Topics))
	return d.out.String()
}

// runFor runs the world for dur. A no-op event at the end keeps
// sim.World.RunFor from running past it (World.Step skips a stopped
// timer at the head of the queue and runs whatever follows, however
// late).
func (d *followerDriver) runFor(dur time.Duration) {
	d.w.Schedule(dur, func() {})
	d.w.RunFor(dur)
}

func (d *followerDriver) start(t *testing.T, td *datadriven.TestData) {
	d.w = sim.NewWorld(sim.Config{Seed: 1})
	d.fakes = map[string]*fakeVoter{}
	names := []string{"c1", "c2"}
	if a, ok := td.Arg("controllers"); ok {
		names = a.Vals
	}
	var addrs []string
	for _, n := range names {
		v := &fakeVoter{d: d, name: n}
		d.fakes[n] = v
		addrs = append(addrs, n+":9093")
		d.w.AddNode(n, func() host.Node {
			return sim.NodeFunc(func(h host.Host) {
				if _, err := h.Net().Listen(n+":9093", host.ListenOptions{}, func(c host.Conn) host.ConnHandler {
					v.conns = append(v.conns, c)
					return v
				}); err != nil {
					panic(err)
				}
			})
		})
		d.w.Start(n)
	}
	cfg := controller.FollowerConfig{BrokerID: int32(intArg(t, td, "broker", 1)), Addr: "broker:9092", Controllers: addrs,
		OnChange: func(img *metadata.Image, recs []controller.FetchedRecord) {
			if recs == nil {
				d.changes = append(d.changes, fmt.Sprintf("image replaced by a snapshot at %d", img.Offset))
				return
			}
			var offs []string
			for _, r := range recs {
				offs = append(offs, strconv.FormatInt(r.Offset, 10))
			}
			d.changes = append(d.changes, fmt.Sprintf("applied records [%s], image at %d", strings.Join(offs, " "), img.Offset))
		}}
	d.w.AddNode("broker", func() host.Node {
		return sim.NodeFunc(func(h host.Host) {
			f, err := controller.NewFollower(h, cfg)
			if err != nil {
				panic(err)
			}
			d.f = f
		})
	})
	d.w.Start("broker")
}

func (d *followerDriver) answer(t *testing.T, td *datadriven.TestData) {
	v := d.fakes[strArg(t, td, "from", "")]
	op := strArg(t, td, "op", "")
	i := -1
	for j, p := range v.pending {
		if p.req.Op == op {
			i = j
			break
		}
	}
	if i < 0 {
		td.Fatalf(t, "%s has no %s request waiting", v.name, op)
	}
	p := v.pending[i]
	v.pending = append(v.pending[:i], v.pending[i+1:]...)
	if raw, ok := td.Arg("raw"); ok {
		b, err := hex.DecodeString(raw.SingleVal(t))
		if err != nil {
			td.Fatalf(t, "%v", err)
		}
		_ = p.c.Send(b)
		return
	}
	var resp controller.Response
	if e := strArg(t, td, "error", ""); e != "" {
		resp.ErrorCode = errorCodeNamed(t, td, e)
	}
	resp.LeaderAddr = strArg(t, td, "leader", "")
	resp.BrokerEpoch = int64(intArg(t, td, "epoch", 0))
	resp.Fenced = td.HasArg("fenced")
	resp.HighOffset = int64(intArg(t, td, "high", 0))
	if td.HasArg("snapshot") {
		img := &metadata.Image{}
		off := int64(intArg(t, td, "snapshot", 0))
		img.Apply(1, &metadata.Record{Type: metadata.TypeRegisterBroker, RegisterBroker: &metadata.RegisterBroker{BrokerID: 9, Addr: "x:1", Incarnation: 1}})
		img.SetOffset(off)
		resp.Snapshot = img.Encode()
		resp.HighOffset = off
	}
	if a, ok := td.Arg("records"); ok {
		for _, r := range a.Vals {
			o, kind, _ := strings.Cut(r, ":")
			off, err := strconv.ParseInt(o, 10, 64)
			if err != nil {
				td.Fatalf(t, "records: %v", err)
			}
			resp.Records = append(resp.Records, controller.FetchedRecord{Offset: off, Data: recordBytes(t, td, kind)})
		}
	}
	if op == controller.OpWrite && resp.ErrorCode == 0 {
		resp.Result = &controller.WireResult{}
	}
	body, err := json.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	_ = p.c.Send(append(binary.BigEndian.AppendUint32([]byte{3}, p.corr), body...))
}

func recordBytes(t *testing.T, td *datadriven.TestData, kind string) []byte {
	k, arg, _ := strings.Cut(kind, "/")
	switch k {
	case "register":
		id, _ := strconv.Atoi(arg)
		r := metadata.Record{Type: metadata.TypeRegisterBroker, RegisterBroker: &metadata.RegisterBroker{BrokerID: int32(id), Addr: "b:1", Incarnation: 5}}
		return r.Encode(nil)
	case "create":
		r := metadata.Record{Type: metadata.TypeCreateTopic, CreateTopic: &metadata.CreateTopic{Name: arg, Assignments: [][]int32{{1}}}}
		return r.Encode(nil)
	case "garbage":
		return []byte("garbage")
	}
	td.Fatalf(t, "record kind %q", kind)
	return nil
}

func errorCodeNamed(t *testing.T, td *datadriven.TestData, name string) int16 {
	for c := int16(-1); c < 200; c++ {
		if e, ok := kerr.ErrorForCode(c).(*kerr.Error); ok && e.Message == name {
			return c
		}
	}
	td.Fatalf(t, "no Kafka error %q", name)
	return 0
}
