package broker_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/loglab/loglab/broker"
)

// TestKcatProduceConsume runs librdkafka (kcat) against the broker on
// real sockets: produce three lines with acks=all, consume them back.
// Skipped when kcat is not installed (apt-get install kcat).
func TestKcatProduceConsume(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat not installed")
	}
	rt, _, addr := startReal(t, t.TempDir(), broker.Config{})
	defer stopReal(t, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	prod := exec.CommandContext(ctx, kcat, "-P", "-b", addr, "-t", "kc", "-X", "acks=all", "-z", "gzip")
	prod.Stdin = strings.NewReader("one\ntwo\nthree\n")
	if out, err := prod.CombinedOutput(); err != nil {
		t.Fatalf("kcat produce: %v\n%s", err, out)
	}
	cons := exec.CommandContext(ctx, kcat, "-C", "-b", addr, "-t", "kc", "-o", "beginning", "-e", "-f", "%o:%s\n")
	out, err := cons.CombinedOutput()
	if err != nil {
		t.Fatalf("kcat consume: %v\n%s", err, out)
	}
	if got := string(out); !strings.Contains(got, "0:one\n1:two\n2:three\n") {
		t.Fatalf("consumed:\n%s", got)
	}
}
