package broker_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
)

func TestMalformedInputClosesConnection(t *testing.T) {
	metadata := kmsg.NewPtrMetadataRequest()
	metadata.Version = 12
	good := frame(metadata, 1)
	fetch3 := kmsg.NewPtrFetchRequest()
	fetch3.Version = 3
	deleteRecords := kmsg.NewPtrDeleteRecordsRequest() // key 21, not served
	deleteRecords.Version = 1
	for _, tc := range []struct {
		name string
		f    []byte
	}{
		{"empty", nil},
		{"short header", []byte{0, 3, 0}},
		{"no client id", good[:8]},
		{"client id past end", append(append([]byte(nil), good[:8]...), 0x7f, 0xff, 'a')},
		{"truncated body", good[:len(good)-1]},
		{"bad tagged fields", append(append([]byte(nil), good[:14]...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)},
		{"unknown api key", frame(deleteRecords, 1)},
		{"key out of range", []byte{0x7f, 0xff, 0, 0, 0, 0, 0, 1, 0xff, 0xff}},
		{"unsupported version", frame(fetch3, 1)},
	} {
		e := newEnv(t, broker.Config{})
		c := e.connect()
		c.c.Deliver(tc.f)
		e.h.Run()
		if !c.c.Closed() || len(c.c.Sent) != 0 {
			t.Errorf("%s: closed=%v, %d answers", tc.name, c.c.Closed(), len(c.c.Sent))
		}
		// The broker goes on serving others.
		if r := e.connect().do(metadata).(*kmsg.MetadataResponse); len(r.Brokers) != 1 {
			t.Errorf("%s: broker stopped serving", tc.name)
		}
	}
}

// A flexible request header may carry tagged fields; they are skipped.
func TestFlexibleHeaderTaggedFields(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	var f []byte
	f = binary.BigEndian.AppendUint16(f, 3)
	f = binary.BigEndian.AppendUint16(f, 12)
	f = binary.BigEndian.AppendUint32(f, 42)
	f = binary.BigEndian.AppendUint16(f, 0xffff) // null client id
	f = append(f, 2, 5, 3, 'a', 'b', 'c', 9, 0)  // two tags: 5 → "abc", 9 → ""
	f = req.AppendTo(f)
	c.c.Deliver(f)
	c.recv(req, 42)
}

func TestListenerUsesMaxFrameBytes(t *testing.T) {
	e := newEnv(t, broker.Config{MaxFrameBytes: 12345})
	opts, ok := e.h.Network.ListenOptions(e.b.Addr())
	if !ok || opts.MaxFrameBytes != 12345 {
		t.Fatalf("listen options %+v", opts)
	}
	e = newEnv(t, broker.Config{})
	if opts, _ := e.h.Network.ListenOptions(e.b.Addr()); opts.MaxFrameBytes != 100<<20 {
		t.Fatalf("default frame limit %d, want socket.request.max.bytes 100 MiB", opts.MaxFrameBytes)
	}
}

func TestConnectionLimit(t *testing.T) {
	e := newEnv(t, broker.Config{MaxConnections: 2})
	a, b := e.connect(), e.connect()
	c := e.connect()
	e.h.Run()
	if a.c.Closed() || b.c.Closed() || !c.c.Closed() {
		t.Fatalf("closed: %v %v %v", a.c.Closed(), b.c.Closed(), c.c.Closed())
	}
	a.c.Hangup()
	e.h.Run()
	d := e.connect()
	e.h.Run()
	if d.c.Closed() {
		t.Fatal("a freed connection slot was not reused")
	}
}

// Past MaxInFlightRequests unanswered requests, frames wait unparsed;
// past MaxQueuedRequests waiting frames, the connection closes.
func TestInFlightLimit(t *testing.T) {
	e := newEnv(t, broker.Config{MaxInFlightRequests: 1, MaxQueuedRequests: 2})
	c := e.connect()
	mustCreate(t, c, "q", 1, nil)
	fcorr := c.send(fetchReq("q", 0, 0, 1000, 1)) // waits
	md := kmsg.NewPtrMetadataRequest()
	md.Version = 12
	c.send(md)
	c.send(md)
	e.h.Run()
	if c.c.Closed() || len(c.c.Sent) != 0 {
		t.Fatalf("within limits: closed=%v answers=%d", c.c.Closed(), len(c.c.Sent))
	}
	// Answering the fetch lets the queued requests through, in order.
	e.h.Advance(time.Second)
	c.recv(fetchReq("q", 0, 0, 0, 0), fcorr)
	c.recv(md, fcorr+1)
	c.recv(md, fcorr+2)
	// Now overflow: one waiting fetch, two queued, one more closes.
	c.send(fetchReq("q", 0, 0, 1000, 1))
	c.send(md)
	c.send(md)
	c.send(md)
	e.h.Run()
	if !c.c.Closed() {
		t.Fatal("queue overflow did not close the connection")
	}
}
