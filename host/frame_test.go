package host

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	var stream []byte
	payloads := [][]byte{{}, []byte("a"), bytes.Repeat([]byte{7}, 1000)}
	for _, p := range payloads {
		stream = AppendFrame(stream, p)
	}
	buf := stream
	for i, want := range payloads {
		got, n, err := DecodeFrame(buf, 1<<20)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: got %q, %v", i, got, err)
		}
		buf = buf[n:]
	}
	if _, _, err := DecodeFrame(buf, 1<<20); !errors.Is(err, ErrNeedMore) {
		t.Fatalf("empty tail: %v", err)
	}
	r := bytes.NewReader(stream)
	for i, want := range payloads {
		got, err := ReadFrame(r, 1<<20)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("ReadFrame %d: got %q, %v", i, got, err)
		}
	}
	if _, err := ReadFrame(r, 1<<20); err != io.EOF {
		t.Fatalf("clean end: %v", err)
	}
}

func TestFrameLimits(t *testing.T) {
	big := AppendFrame(nil, make([]byte, 100))
	if _, _, err := DecodeFrame(big, 99); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("over limit: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader(big), 99); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("ReadFrame over limit: %v", err)
	}
	neg := []byte{0xff, 0xff, 0xff, 0xff}
	if _, _, err := DecodeFrame(neg, 1<<20); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("negative length: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader(big[:50]), 1<<20); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated: %v", err)
	}
	if _, _, err := DecodeFrame(big[:50], 1<<20); !errors.Is(err, ErrNeedMore) {
		t.Fatalf("partial: %v", err)
	}
}

// FuzzDecodeFrame: never panics, consumes at most its input, round-trips.
func FuzzDecodeFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 'x'}, 16)
	f.Add([]byte{0, 0, 0, 0}, 0)
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff, 1, 2}, 1<<30)
	f.Add([]byte{0xff, 0, 0, 0}, 10)
	f.Fuzz(func(t *testing.T, buf []byte, maxBytes int) {
		if maxBytes < 0 {
			maxBytes = -maxBytes
		}
		p, n, err := DecodeFrame(buf, maxBytes)
		if err != nil {
			if n != 0 || p != nil {
				t.Fatalf("error with output: n=%d", n)
			}
			return
		}
		if n > len(buf) || len(p) > maxBytes {
			t.Fatalf("n=%d len=%d payload=%d max=%d", n, len(buf), len(p), maxBytes)
		}
		if !bytes.Equal(AppendFrame(nil, p), buf[:n]) {
			t.Fatal("no round trip")
		}
		r, err := ReadFrame(bytes.NewReader(buf), maxBytes)
		if err != nil || !bytes.Equal(r, p) {
			t.Fatalf("ReadFrame disagrees: %v", err)
		}
	})
}
