package wire_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/wire"
)

// A request framed by AppendRequest parses back to the same header and
// body, for a classic (v8) and a flexible (v9) Produce.
func TestRequestRoundTrip(t *testing.T) {
	for _, v := range []int16{8, 9} { // Produce v9 is the first flexible version
		req := kmsg.NewPtrProduceRequest()
		req.SetVersion(v)
		req.Acks = -1
		frame := wire.AppendRequest(nil, req, 42, "cid")
		key, ver, corr, err := wire.PeekRequestHeader(frame)
		if err != nil || key != 0 || ver != v || corr != 42 {
			t.Fatalf("v%d peek: key %d version %d corr %d err %v", v, key, ver, corr, err)
		}
		h, body, err := wire.ParseRequestHeader(frame, req.IsFlexible())
		if err != nil || h.ClientID == nil || *h.ClientID != "cid" {
			t.Fatalf("v%d parse: %+v %v", v, h, err)
		}
		back := kmsg.NewPtrProduceRequest()
		back.SetVersion(v)
		if err := back.ReadFrom(body); err != nil || back.Acks != -1 {
			t.Fatalf("v%d: %v acks %d", v, err, back.Acks)
		}
	}
}

func TestNullClientID(t *testing.T) {
	frame := []byte{0, 18, 0, 0, 0, 0, 0, 1, 0xff, 0xff}
	h, body, err := wire.ParseRequestHeader(frame, false)
	if err != nil || h.ClientID != nil || len(body) != 0 || h.Key != 18 || h.CorrelationID != 1 {
		t.Fatalf("%+v body %d %v", h, len(body), err)
	}
}

// A response built with AppendResponseHeader reads back through
// ReadResponse; ApiVersions keeps header v0 even at a flexible version.
func TestResponseRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		req     kmsg.Request
		version int16
		tagByte bool
	}{
		{kmsg.NewPtrMetadataRequest(), 8, false},
		{kmsg.NewPtrMetadataRequest(), 9, true},
		{kmsg.NewPtrApiVersionsRequest(), 3, false}, // flexible, yet header v0
	} {
		tc.req.SetVersion(tc.version)
		resp := tc.req.ResponseKind()
		resp.SetVersion(tc.version)
		frame := resp.AppendTo(wire.AppendResponseHeader(nil, tc.req.Key(), 7, tc.req.IsFlexible()))
		if got := len(frame) > 4 && frame[4] == 0 && len(frame) == 5+len(resp.AppendTo(nil)); got != tc.tagByte {
			t.Fatalf("%s v%d: tag section present %v, want %v", kmsg.NameForKey(tc.req.Key()), tc.version, got, tc.tagByte)
		}
		if _, err := wire.ReadResponse(frame, tc.req, 7); err != nil {
			t.Fatalf("%s v%d: %v", kmsg.NameForKey(tc.req.Key()), tc.version, err)
		}
		if _, err := wire.ReadResponse(frame, tc.req, 8); !errors.Is(err, wire.ErrMalformed) {
			t.Fatalf("%s v%d: wrong correlation id read as %v", kmsg.NameForKey(tc.req.Key()), tc.version, err)
		}
	}
}

func TestMalformed(t *testing.T) {
	for name, f := range map[string]func() error{
		"short request": func() error { _, _, _, err := wire.PeekRequestHeader([]byte{0, 1, 0}); return err },
		"no client id length": func() error {
			_, _, err := wire.ParseRequestHeader([]byte{0, 1, 0, 0, 0, 0, 0, 1}, false)
			return err
		},
		"client id past the end": func() error {
			_, _, err := wire.ParseRequestHeader([]byte{0, 1, 0, 0, 0, 0, 0, 1, 0, 9, 'a'}, false)
			return err
		},
		"no tag section": func() error {
			_, _, err := wire.ParseRequestHeader([]byte{0, 1, 0, 0, 0, 0, 0, 1, 0, 0}, true)
			return err
		},
		"tag larger than the rest": func() error { _, err := wire.SkipTags([]byte{1, 0, 9, 1}); return err },
		"more tags than bytes":     func() error { _, err := wire.SkipTags([]byte{5, 0}); return err },
		"short response":           func() error { _, _, err := wire.ParseResponseHeader([]byte{0, 0}, false); return err },
		"undecodable body": func() error {
			req := kmsg.NewPtrMetadataRequest()
			req.SetVersion(8)
			_, err := wire.ReadResponse([]byte{0, 0, 0, 1, 0xff}, req, 1)
			return err
		},
	} {
		if err := f(); !errors.Is(err, wire.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
}

// FuzzParseRequestHeader: never panics, the body is a suffix of the frame,
// and every failure is ErrMalformed.
func FuzzParseRequestHeader(f *testing.F) {
	f.Add(wire.AppendRequest(nil, kmsg.NewPtrMetadataRequest(), 3, "c"), false)
	f.Add([]byte{0, 1, 0, 12, 0, 0, 0, 1, 0xff, 0xff, 1, 0, 2, 9, 9}, true)
	f.Add([]byte{0, 1, 0, 12, 0, 0, 0, 1, 0, 1}, true)
	f.Fuzz(func(t *testing.T, frame []byte, flexible bool) {
		_, body, err := wire.ParseRequestHeader(frame, flexible)
		if err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if len(body) > len(frame)-10 || !bytes.HasSuffix(frame, body) {
			t.Fatalf("body is not a suffix of the frame")
		}
	})
}

// FuzzParseResponseHeader: never panics, the body is a suffix of the
// frame, and every failure is ErrMalformed.
func FuzzParseResponseHeader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 7, 0, 1, 2}, true)
	f.Add([]byte{0, 0, 0, 7, 1, 5, 2, 9, 9, 3}, true)
	f.Add([]byte{0, 0, 0, 7, 1, 5, 200, 9}, true)
	f.Add([]byte{0, 0}, false)
	f.Fuzz(func(t *testing.T, frame []byte, flexible bool) {
		_, body, err := wire.ParseResponseHeader(frame, flexible)
		if err != nil {
			if !errors.Is(err, wire.ErrMalformed) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if len(body) > len(frame)-4 || !bytes.HasSuffix(frame, body) {
			t.Fatalf("body is not a suffix of the frame")
		}
	})
}
