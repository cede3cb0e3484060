package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// --cpuprofile and --memprofile write pprof files (gzip) for a run that
// completes and for one that fails, in bench and in bench sweep.
func TestBenchProfiles(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		ok   bool
	}{
		{"completes", []string{"bench", "--target", "kfake", "--rate", "2000", "--duration", "1s", "--warmup", "0s", "--consumers", "0"}, true},
		{"fails", []string{"bench", "--bootstrap", "127.0.0.1:1", "--duration", "1s"}, false},
		{"sweep fails", []string{"bench", "sweep", "--sweep", "acks=2,1"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cpu, mem := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "mem.prof")
			_, stderr, code := runCLI(t, append(c.args, "--cpuprofile", cpu, "--memprofile", mem)...)
			if (code == 0) != c.ok {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, p := range []string{cpu, mem} {
				b, err := os.ReadFile(p)
				if err != nil || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
					t.Errorf("%s: %v, %d bytes, not a pprof profile", filepath.Base(p), err, len(b))
				}
			}
		})
	}
}
