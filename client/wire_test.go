package client

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestRequestHeaderRoundTrip(t *testing.T) {
	for _, v := range []int16{8, 9} { // Produce v9 is the first flexible version
		req := kmsg.NewPtrProduceRequest()
		req.SetVersion(v)
		req.Acks = -1
		frame := appendRequest(nil, req, 42, "cid")
		if got := int16(frame[0])<<8 | int16(frame[1]); got != 0 {
			t.Fatalf("key %d", got)
		}
		body := frame[2+2+4+2+3:]
		if req.IsFlexible() {
			var err error
			if body, err = skipTags(body); err != nil {
				t.Fatal(err)
			}
		}
		back := kmsg.NewPtrProduceRequest()
		back.SetVersion(v)
		if err := back.ReadFrom(body); err != nil || back.Acks != -1 {
			t.Fatalf("v%d: %v acks %d", v, err, back.Acks)
		}
	}
}

// FuzzParseResponseHeader: never panics, the body is a suffix of the
// frame, and every failure is ErrProtocol.
func FuzzParseResponseHeader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 7, 0, 1, 2}, true)
	f.Add([]byte{0, 0, 0, 7, 1, 5, 2, 9, 9, 3}, true)
	f.Add([]byte{0, 0, 0, 7, 1, 5, 200, 9}, true)
	f.Add([]byte{0, 0}, false)
	f.Fuzz(func(t *testing.T, frame []byte, flexible bool) {
		_, body, err := parseResponseHeader(frame, flexible)
		if err != nil {
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if len(body) > len(frame)-4 || string(frame[len(frame)-len(body):]) != string(body) {
			t.Fatalf("body is not a suffix of the frame")
		}
	})
}
