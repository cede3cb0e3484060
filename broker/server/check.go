package server

import (
	"fmt"
	"net"
	"os"
	"strconv"
)

// CheckHostPort rejects an address that is not HOST:PORT with a numeric
// port, before anything is started; what names the address in the error
// (a flag, a config key).
func CheckHostPort(what, addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%s %q: want HOST:PORT", what, addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%s %q: bad port", what, addr)
	}
	return nil
}

// CheckDataDir fails early, with one clear line, on a data directory that
// is a file or cannot be created or written; it creates it if missing.
func CheckDataDir(dir string) error {
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fmt.Errorf("data directory %s: not a directory", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	probe, err := os.CreateTemp(dir, ".loglab-probe-*")
	if err != nil {
		return fmt.Errorf("data directory %s is not writable: %w", dir, err)
	}
	name := probe.Name()
	probe.Close()
	return os.Remove(name)
}
