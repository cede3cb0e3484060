package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckHostPortAndDataDir(t *testing.T) {
	for addr, want := range map[string]string{"127.0.0.1:9092": "", ":0": "", "nope": "want HOST:PORT", "h:70000": "bad port", "h:x": "bad port"} {
		err := CheckHostPort("--listen", addr)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("CheckHostPort(%q) = %v, want %q", addr, err, want)
		}
	}
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := CheckDataDir(dir); err != nil {
		t.Fatalf("a missing directory is created: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the probe was left behind: %v", entries)
	}
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckDataDir(file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file: %v", err)
	}
}
