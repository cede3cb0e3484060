package realhost

import (
	"fmt"
	"testing"

	"github.com/loglab/loglab/host"
)

// benchClient dials addr and, on its loop, keeps window frames of size
// bytes in flight against an echo server until n echoes came back.
func benchClient(b *testing.B, addr string, size, window, n int) {
	client, _ := start(b, "client", "", nil)
	done := make(chan struct{})
	frame := make([]byte, size)
	sent, got := 0, 0
	h := &countingHandler{onFrame: func(c host.Conn, f []byte) {
		got++
		if got == n {
			close(done)
			return
		}
		if sent < n {
			sent++
			c.Send(frame)
		}
	}}
	b.ResetTimer()
	do(b, client, func(hst host.Host) {
		c := hst.Net().Dial(addr, host.DialOptions{}, h)
		for sent < min(window, n) {
			sent++
			c.Send(frame)
		}
	})
	wait(b, done, "echoes")
	b.StopTimer()
}

type countingHandler struct {
	onFrame func(c host.Conn, f []byte)
}

func (h *countingHandler) OnFrame(c host.Conn, f []byte)  { h.onFrame(c, f) }
func (h *countingHandler) OnClose(c host.Conn, err error) {}

func echoAddr(b *testing.B) string {
	r, _ := start(b, "server", "", nil)
	var addr string
	do(b, r, func(h host.Host) {
		ln, err := h.Net().Listen("127.0.0.1:0", host.ListenOptions{}, func(c host.Conn) host.ConnHandler {
			return &countingHandler{onFrame: func(c host.Conn, f []byte) { c.Send(f) }}
		})
		if err != nil {
			b.Fatal(err)
		}
		addr = ln.Addr()
	})
	return addr
}

// BenchmarkRoundTrip: one 100-byte frame at a time, loop to loop over
// loopback; ns/op is the round-trip latency.
func BenchmarkRoundTrip(b *testing.B) {
	benchClient(b, echoAddr(b), 100, 1, b.N)
}

// BenchmarkPipelined: 64 frames in flight, echoed; MB/s counts one
// direction.
func BenchmarkPipelined(b *testing.B) {
	for _, size := range []int{100, 1 << 10, 16 << 10, 256 << 10} {
		b.Run(fmt.Sprintf("size=%d", size), func(b *testing.B) {
			b.SetBytes(int64(size))
			benchClient(b, echoAddr(b), size, 64, b.N)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		})
	}
}

// BenchmarkGroupCommit: appenders each write a 1 KiB record at the tail of
// one file and wait for its Sync before the next. With 32 appenders, group
// commit serves many Syncs per fsync.
func BenchmarkGroupCommit(b *testing.B) {
	for _, appenders := range []int{1, 32} {
		b.Run(fmt.Sprintf("appenders=%d", appenders), func(b *testing.B) {
			r, _ := start(b, "n", b.TempDir(), nil)
			record := make([]byte, 1024)
			done := make(chan struct{})
			var f host.File
			do(b, r, func(h host.Host) {
				var err error
				if f, err = h.Disk().OpenFile("00000000000000000000.log", true); err != nil {
					b.Fatal(err)
				}
			})
			var tail int64
			started, completed := 0, 0
			var appendOne func()
			appendOne = func() {
				started++
				f.WriteAt(record, tail)
				tail += int64(len(record))
				f.Sync(func(err error) {
					if err != nil {
						b.Error(err)
					}
					completed++
					if completed == b.N {
						close(done)
					} else if started < b.N {
						appendOne()
					}
				})
			}
			before := r.Stats()
			b.ResetTimer()
			do(b, r, func(h host.Host) {
				for range min(appenders, b.N) {
					appendOne()
				}
			})
			wait(b, done, "appends")
			b.StopTimer()
			st := r.Stats()
			secs := b.Elapsed().Seconds()
			fsyncs := float64(st.Fsyncs - before.Fsyncs)
			b.ReportMetric(float64(b.N)/secs, "appends/s")
			b.ReportMetric(fsyncs/secs, "fsyncs/s")
			b.ReportMetric(float64(b.N)/fsyncs, "appends/fsync")
		})
	}
}
