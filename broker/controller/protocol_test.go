package controller_test

// The data-driven test of the controller protocol (testdata/protocol.txt):
// a raw client node speaks the protocol of protocol.go to the voters of a
// simulated quorum (harness_test.go), one request or raw frame per
// directive, and prints the answer, so that the file states what a voter
// answers to what.
//
// Directives:
//
//	start [voters=3] [brokers=2] [seed=1]
//	    a quorum and brokers; waits for a leader and unfenced brokers.
//	request to=V op=OP [broker=ID] [epoch=N|current] [offset=N] [wait=MS]
//	        [record=create-topic:NAME|register|garbage] [offset-metadata=N]
//	    one Request on a new connection to voter V (leader, follower or a
//	    node name); prints the Response (addresses of the current leader
//	    as <leader>) or that the voter closed the connection.
//	frame to=V hex=BYTES     a raw frame on a new connection
//	status                   every voter's role, term, offsets, error
//	disk-faults node=V spec=FAULTS   sim/disk faults (ParseFaults form)
//	wait-leader              run until a running voter leads
//	crash node=V | start-node node=V | stop node=V
//	submit broker=N record=... [retries=0]   a write through broker N's
//	    Follower, tried again (after 200ms) on an unknown outcome
//	follower broker=N        the Follower's registration state
//	close-follower broker=N

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
	"github.com/loglab/loglab/sim/disk"
	"github.com/twmb/franz-go/pkg/kerr"
)

func TestProtocolDataDriven(t *testing.T) {
	d := &protoDriver{parent: t}
	datadriven.RunTest(t, "testdata/protocol.txt", d.run)
}

type protoDriver struct {
	parent *testing.T
	h      *harness
	client host.Host
	corr   uint32
}

// rawConn records what a voter sends back on one connection.
type rawConn struct {
	frames [][]byte
	closed bool
}

func (r *rawConn) OnFrame(c host.Conn, f []byte)  { r.frames = append(r.frames, f) }
func (r *rawConn) OnClose(c host.Conn, err error) { r.closed = true }

func (d *protoDriver) run(t *testing.T, td *datadriven.TestData) string {
	if d.h != nil {
		d.h.t = t
	}
	var out strings.Builder
	switch td.Cmd {
	case "start":
		voters, brokers, seed := intArg(t, td, "voters", 3), intArg(t, td, "brokers", 2), intArg(t, td, "seed", 1)
		// The harness installs a seeded crypto/rand for raft's jitter until
		// the whole file is done: create it on the file's test.
		d.h = newHarness(d.parent, uint64(seed), opts{voters: voters, brokers: brokers})
		d.h.t = t
		d.h.w.AddNode("client", func() host.Node { return sim.NodeFunc(func(h host.Host) { d.client = h }) })
		d.h.w.Start("client")
		l := d.h.waitLeader()
		d.h.waitBrokersUnfenced(d.h.brokers...)
		fmt.Fprintf(&out, "%s leads in term %d\n", l, d.h.voter(l).Term())
	case "request":
		d.request(t, td, &out)
	case "frame":
		b, err := hex.DecodeString(strArg(t, td, "hex", ""))
		if err != nil {
			td.Fatalf(t, "hex: %v", err)
		}
		d.exchange(t, d.addr(t, td), b, 2*time.Second, &out)
	case "status":
		for _, n := range d.h.voters {
			v := d.h.voter(n)
			switch {
			case !d.h.w.Up(n):
				fmt.Fprintf(&out, "%s: down\n", n)
			case d.h.w.Node(n).(*controller.Node).Err() != nil:
				fmt.Fprintf(&out, "%s: failed: %v\n", n, d.h.w.Node(n).(*controller.Node).Err())
			case v == nil:
				fmt.Fprintf(&out, "%s: starting\n", n)
			case v.IsLeader():
				fmt.Fprintf(&out, "%s: leader at %s, term %d, committed %d, applied %d\n", n, v.Addr(), v.Term(), v.Committed(), v.Applied())
			default:
				fmt.Fprintf(&out, "%s: follower of %d at %s, term %d, committed %d, applied %d\n", n, v.Leader(), v.Addr(), v.Term(), v.Committed(), v.Applied())
			}
		}
	case "disk-faults":
		f, err := disk.ParseFaults(strArg(t, td, "spec", "none"))
		if err != nil {
			td.Fatalf(t, "%v", err)
		}
		n := d.node(t, td)
		d.h.w.Disk(n).SetFaults(f)
		fmt.Fprintf(&out, "%s: %v\n", n, f)
	case "wait-leader":
		l := d.h.waitLeader()
		fmt.Fprintf(&out, "%s leads in term %d\n", l, d.h.voter(l).Term())
	case "crash":
		n := d.node(t, td)
		d.h.w.Crash(n, disk.LoseUnsynced)
		fmt.Fprintf(&out, "%s crashed\n", n)
	case "start-node":
		n := d.node(t, td)
		d.h.w.Start(n)
		d.h.w.RunFor(time.Second)
		fmt.Fprintf(&out, "%s started\n", n)
	case "stop":
		n, stopped := d.node(t, td), false
		d.h.w.Stop(n, func() { stopped = true })
		d.h.eventually(time.Second, "stopped", func() bool { return stopped })
		fmt.Fprintf(&out, "%s stopped\n", n)
	case "submit":
		b := d.broker(t, td)
		rec := d.record(t, td)
		for try := 0; try <= intArg(t, td, "retries", 0); try++ {
			var res metadata.Result
			var rerr error
			done := false
			d.h.w.Do(b, func(host.Host) {
				d.h.broker(b).follower.Submit(rec, func(r metadata.Result, err error) { res, rerr, done = r, err, true })
			})
			d.h.eventually(10*time.Second, "an answer", func() bool { return done })
			if rerr == nil {
				fmt.Fprintf(&out, "result: %s\n", errName(res.Err))
				break
			}
			fmt.Fprintf(&out, "error: %v\n", rerr)
			d.h.w.RunFor(200 * time.Millisecond) // back off
		}
	case "follower":
		f := d.h.broker(d.broker(t, td)).follower
		fmt.Fprintf(&out, "registered=%t epoch=%d fenced=%t offset=%d incarnation-set=%t\n",
			f.Registered(), f.BrokerEpoch(), f.Fenced(), f.Offset(), f.Incarnation() != 0)
	case "close-follower":
		b := d.broker(t, td)
		d.h.w.Do(b, func(host.Host) { d.h.broker(b).follower.Close() })
		d.h.w.RunFor(0)
		out.WriteString("ok\n")
	default:
		td.Fatalf(t, "unknown directive %q", td.Cmd)
	}
	return out.String()
}

func (d *protoDriver) request(t *testing.T, td *datadriven.TestData, out *strings.Builder) {
	req := controller.Request{Op: strArg(t, td, "op", "")}
	req.BrokerID = int32(intArg(t, td, "broker", 0))
	switch e := strArg(t, td, "epoch", ""); e {
	case "":
	case "current":
		req.BrokerEpoch = d.h.voter(d.h.leader()).Image().Broker(req.BrokerID).Epoch
	default:
		n, err := strconv.ParseInt(e, 10, 64)
		if err != nil {
			td.Fatalf(t, "epoch: %v", err)
		}
		req.BrokerEpoch = n
	}
	if req.Op == controller.OpRegister {
		req.Addr, req.Incarnation = fmt.Sprintf("broker-%d:9092", req.BrokerID), 77
	}
	req.MetadataOffset = int64(intArg(t, td, "metadata-offset", 0))
	req.FetchOffset = int64(intArg(t, td, "offset", 0))
	req.MaxWaitMs = int64(intArg(t, td, "wait", 0))
	if td.HasArg("record") {
		if strArg(t, td, "record", "") == "garbage" {
			req.Record = []byte("not a record")
		} else {
			rec := d.record(t, td)
			req.Record = rec.Encode(nil)
		}
	}
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	d.corr++
	frame := binary.BigEndian.AppendUint32([]byte{2}, d.corr) // kind request, correlation id
	d.exchange(t, d.addr(t, td), append(frame, body...), time.Duration(req.MaxWaitMs)*time.Millisecond+2*time.Second, out)
}

// exchange sends frame on a new connection to addr and prints what comes
// back within limit.
func (d *protoDriver) exchange(t *testing.T, addr string, frame []byte, limit time.Duration, out *strings.Builder) {
	rc := &rawConn{}
	start := d.h.w.Elapsed()
	d.h.w.Do("client", func(h host.Host) {
		c := h.Net().Dial(addr, host.DialOptions{}, rc)
		_ = c.Send(frame)
	})
	for len(rc.frames) == 0 && !rc.closed && d.h.w.Elapsed()-start < limit {
		if err := d.h.w.RunFor(10 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	took := (d.h.w.Elapsed() - start).Round(100 * time.Millisecond)
	switch {
	case len(rc.frames) > 0:
		f := rc.frames[0]
		if len(f) < 5 || f[0] != 3 {
			fmt.Fprintf(out, "not a response frame: %x\n", f)
			return
		}
		var resp controller.Response
		if err := json.Unmarshal(f[5:], &resp); err != nil {
			t.Fatalf("response: %v", err)
		}
		if corr := binary.BigEndian.Uint32(f[1:5]); corr != d.corr {
			fmt.Fprintf(out, "correlation id %d, sent %d\n", corr, d.corr)
		}
		d.printResponse(resp, out)
		if took >= 100*time.Millisecond {
			fmt.Fprintf(out, "answered after %v\n", took)
		}
	case rc.closed:
		out.WriteString("the voter closed the connection\n")
	default:
		fmt.Fprintf(out, "no answer within %v; the connection stays open\n", limit)
	}
}

func (d *protoDriver) printResponse(r controller.Response, out *strings.Builder) {
	var parts []string
	if r.ErrorCode != 0 {
		parts = append(parts, "error="+errName(kerr.ErrorForCode(r.ErrorCode)))
	}
	if r.LeaderAddr != "" {
		a := r.LeaderAddr
		if l := d.h.leader(); l != "" && d.h.voter(l).Addr() == a {
			a = "<leader>"
		}
		parts = append(parts, "leaderAddr="+a)
	}
	if r.BrokerEpoch != 0 || r.Fenced {
		parts = append(parts, fmt.Sprintf("brokerEpoch=%d fenced=%t", r.BrokerEpoch, r.Fenced))
	}
	if r.Snapshot != nil {
		img, err := metadata.DecodeImage(r.Snapshot)
		if err != nil {
			parts = append(parts, "snapshot: "+err.Error())
		} else {
			parts = append(parts, fmt.Sprintf("snapshot at offset %d", img.Offset))
		}
	}
	if r.Records != nil {
		var rs []string
		for _, fr := range r.Records {
			rec, err := metadata.DecodeRecord(fr.Data)
			if err != nil {
				rs = append(rs, fmt.Sprintf("%d:undecodable", fr.Offset))
				continue
			}
			rs = append(rs, fmt.Sprintf("%d:%s", fr.Offset, rec.Type))
		}
		parts = append(parts, "records=["+strings.Join(rs, " ")+"]")
	}
	if r.Result != nil {
		res := controller.FromWire(r.Result)
		s := "result=" + errName(res.Err)
		if res.TopicID != ([16]byte{}) {
			s += " (topic id set)"
		}
		parts = append(parts, s)
	}
	parts = append(parts, fmt.Sprintf("highOffset=%d", r.HighOffset))
	fmt.Fprintln(out, strings.Join(parts, " "))
}

// node resolves node=: leader, follower (a running voter that does not
// lead), failed (a voter that stopped on an error) or a name.
func (d *protoDriver) node(t *testing.T, td *datadriven.TestData) string {
	return d.resolve(t, td, strArg(t, td, "node", ""))
}

func (d *protoDriver) addr(t *testing.T, td *datadriven.TestData) string {
	return d.resolve(t, td, strArg(t, td, "to", "")) + ":9093"
}

func (d *protoDriver) resolve(t *testing.T, td *datadriven.TestData, name string) string {
	switch name {
	case "leader":
		if l := d.h.leader(); l != "" {
			return l
		}
		td.Fatalf(t, "no leader")
	case "follower":
		l := d.h.leader()
		for _, n := range d.h.voters {
			if n != l && d.h.w.Up(n) {
				return n
			}
		}
		td.Fatalf(t, "no follower")
	case "failed":
		for _, n := range d.h.voters {
			if node, ok := d.h.w.Node(n).(*controller.Node); ok && node.Err() != nil {
				return n
			}
		}
		td.Fatalf(t, "no failed voter")
	}
	return name
}

func (d *protoDriver) broker(t *testing.T, td *datadriven.TestData) string {
	return fmt.Sprintf("broker-%d", intArg(t, td, "broker", 1))
}

// record builds record=create-topic:NAME (one partition, RF 1) or
// register (a broker registration, the controller's own record type).
func (d *protoDriver) record(t *testing.T, td *datadriven.TestData) metadata.Record {
	kind, name, _ := strings.Cut(strArg(t, td, "record", ""), ":")
	switch kind {
	case "create-topic":
		return createTopic(name, 1, 1)
	case "register":
		return metadata.Record{Type: metadata.TypeRegisterBroker, RegisterBroker: &metadata.RegisterBroker{BrokerID: 9, Addr: "x:1", Incarnation: 1}}
	}
	td.Fatalf(t, "record %q", kind)
	return metadata.Record{}
}

func errName(err error) string {
	if err == nil {
		return "ok"
	}
	if e, ok := err.(*kerr.Error); ok {
		return e.Message
	}
	return err.Error()
}

func strArg(t *testing.T, td *datadriven.TestData, key, def string) string {
	a, ok := td.Arg(key)
	if !ok {
		return def
	}
	return a.SingleVal(t)
}

func intArg(t *testing.T, td *datadriven.TestData, key string, def int) int {
	s := strArg(t, td, key, "")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		td.Fatalf(t, "%s: %v", key, err)
	}
	return n
}
