package controller

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// raft logs through raftLogger: its Info lines (elections, term changes)
// go to Debug, warnings and errors keep their level, and Fatal and Panic
// panic, as raft expects them not to return.
func TestRaftLogger(t *testing.T) {
	var buf bytes.Buffer
	l := raftLogger{slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, c := range []struct {
		log  func()
		want string // level and message
	}{
		{func() { l.Debug("a", 1) }, "level=DEBUG msg=a1"},
		{func() { l.Debugf("b %d", 2) }, "level=DEBUG msg=\"b 2\""},
		{func() { l.Info("c") }, "level=DEBUG msg=c"},
		{func() { l.Infof("d %s", "x") }, "level=DEBUG msg=\"d x\""},
		{func() { l.Warning("e") }, "level=WARN msg=e"},
		{func() { l.Warningf("f%d", 6) }, "level=WARN msg=f6"},
		{func() { l.Error("g") }, "level=ERROR msg=g"},
		{func() { l.Errorf("h%d", 8) }, "level=ERROR msg=h8"},
	} {
		buf.Reset()
		c.log()
		if got := buf.String(); !strings.Contains(got, c.want) {
			t.Errorf("logged %q, want %q", got, c.want)
		}
	}
	for _, c := range []struct {
		call func()
		want string
	}{
		{func() { l.Fatal("fatal ", 1) }, "fatal 1"},
		{func() { l.Fatalf("fatal %d", 2) }, "fatal 2"},
		{func() { l.Panic("panic ", 3) }, "panic 3"},
		{func() { l.Panicf("panic %d", 4) }, "panic 4"},
	} {
		func() {
			defer func() {
				if r := recover(); r != c.want {
					t.Errorf("panicked with %v, want %q", r, c.want)
				}
			}()
			c.call()
		}()
	}
}
