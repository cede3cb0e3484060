package faults

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/loglab/loglab/netsim"
	"github.com/loglab/loglab/sim/disk"
)

// This file holds each action's printed form (String), its validity check
// (check) and the node names it mentions (nodes). parse.go is the inverse
// of String; the two must change together.

func (a Crash) String() string {
	return "crash " + a.Node + " mode=" + CrashModeName(a.Mode)
}
func (a Restart) String() string    { return "restart " + a.Node }
func (a Stop) String() string       { return "stop " + a.Node }
func (a Pause) String() string      { return "pause " + a.Node }
func (a Resume) String() string     { return "resume " + a.Node }
func (a Isolate) String() string    { return "isolate " + a.Node }
func (a Split) String() string      { return "split " + sides(a.A, a.B) }
func (a OneWay) String() string     { return "one-way " + a.From + ">" + a.To }
func (Heal) String() string         { return "heal" }
func (a ResetConns) String() string { return "reset-conns " + a.Node }
func (ResetRandomConn) String() string {
	return "reset-random-conn"
}

func (a Bridge) String() string {
	return "bridge " + strings.Join(a.A, ",") + " | " + a.Bridge + " | " + strings.Join(a.B, ",")
}

func sides(a, b []string) string { return strings.Join(a, ",") + " | " + strings.Join(b, ",") }

func (a Latency) String() string {
	var b strings.Builder
	b.WriteString("latency " + a.From + ">" + a.To + " base=" + a.Link.Latency.String())
	j := a.Link.Jitter
	if j.Dist != netsim.DistNone || j.Scale != 0 {
		b.WriteString(" jitter=" + j.Dist.String() + ":" + j.Scale.String())
	}
	if j.Alpha != 0 {
		b.WriteString(" alpha=" + strconv.Itoa(j.Alpha))
	}
	if j.Cap != 0 {
		b.WriteString(" cap=" + j.Cap.String())
	}
	if a.Link.BytesPerSecond != 0 {
		b.WriteString(" bytes-per-second=" + strconv.FormatInt(a.Link.BytesPerSecond, 10))
	}
	return b.String()
}

func (a DiskFaults) String() string { return "disk " + a.Node + " " + a.Faults.String() }

func (a BitRot) String() string {
	s := "bit-rot " + a.Node
	if a.File != "" {
		s += " file=" + a.File
		if a.Offset >= 0 {
			s += " offset=" + strconv.FormatInt(a.Offset, 10)
		}
	}
	return s
}

func (a ClockSkew) String() string { return "clock-skew " + a.Node + " " + signed(a.Offset) }
func (a ClockJump) String() string { return "clock-jump " + a.Node + " " + signed(a.Delta) }

// signed prints a duration with its sign, so "+5m0s" reads as a move.
func signed(d time.Duration) string {
	if d > 0 {
		return "+" + d.String()
	}
	return d.String()
}

// --- validity -------------------------------------------------------------

// fieldError is an invalid field; Parse adds the file and line.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return fmt.Sprintf("field %q: %v", e.field, e.err) }
func (e *fieldError) Unwrap() error { return e.err }

func errField(field, format string, args ...any) error {
	return &fieldError{field: field, err: fmt.Errorf(format, args...)}
}

// nameReserved are the characters the grammar uses around names.
const nameReserved = ",|>=#*"

// maxName bounds node and file names.
const maxName = 256

// checkName reports whether s can stand as a node name in a schedule line.
func checkName(field, s string) error {
	if s == "" {
		return errField(field, "empty node name")
	}
	if len(s) > maxName {
		return errField(field, "node name longer than %d bytes", maxName)
	}
	if !utf8.ValidString(s) {
		return errField(field, "node name %q is not UTF-8", s)
	}
	for _, c := range s {
		if unicode.IsSpace(c) || unicode.IsControl(c) || strings.ContainsRune(nameReserved, c) {
			return errField(field, "node name %q contains %q (names may not contain spaces or any of %s)", s, c, nameReserved)
		}
	}
	return nil
}

func checkFile(s string) error {
	if len(s) > maxName {
		return errField("file", "file name longer than %d bytes", maxName)
	}
	if !utf8.ValidString(s) {
		return errField("file", "file name %q is not UTF-8", s)
	}
	for _, c := range s {
		if unicode.IsSpace(c) || unicode.IsControl(c) || c == '#' {
			return errField("file", "file name %q contains %q", s, c)
		}
	}
	return nil
}

func checkList(field string, names []string) error {
	if len(names) == 0 {
		return errField(field, "empty side: name at least one node")
	}
	for _, n := range names {
		if err := checkName(field, n); err != nil {
			return err
		}
	}
	return nil
}

func disjoint(field string, a, b []string) error {
	for _, x := range a {
		if contains(b, x) {
			return errField(field, "node %q is on both sides", x)
		}
	}
	return nil
}

func checkClock(field string, d time.Duration) error {
	if d > MaxClockOffset || d < -MaxClockOffset {
		return errField(field, "%v is beyond ±%v", d, MaxClockOffset)
	}
	return nil
}

func (a Crash) check() error {
	if err := checkName("node", a.Node); err != nil {
		return err
	}
	if _, err := ParseCrashMode(CrashModeName(a.Mode)); err != nil {
		return &fieldError{"mode", err}
	}
	return nil
}
func (a Restart) check() error    { return checkName("node", a.Node) }
func (a Stop) check() error       { return checkName("node", a.Node) }
func (a Pause) check() error      { return checkName("node", a.Node) }
func (a Resume) check() error     { return checkName("node", a.Node) }
func (a Isolate) check() error    { return checkName("node", a.Node) }
func (a ResetConns) check() error { return checkName("node", a.Node) }
func (Heal) check() error         { return nil }
func (ResetRandomConn) check() error {
	return nil
}

func (a Split) check() error {
	if err := checkList("sides", a.A); err != nil {
		return err
	}
	if err := checkList("sides", a.B); err != nil {
		return err
	}
	return disjoint("sides", a.A, a.B)
}

func (a OneWay) check() error {
	if err := checkName("link", a.From); err != nil {
		return err
	}
	if err := checkName("link", a.To); err != nil {
		return err
	}
	if a.From == a.To {
		return errField("link", "a node always reaches itself: %s>%s", a.From, a.To)
	}
	return nil
}

func (a Bridge) check() error {
	if err := checkList("sides", a.A); err != nil {
		return err
	}
	if err := checkList("sides", a.B); err != nil {
		return err
	}
	if err := checkName("bridge", a.Bridge); err != nil {
		return err
	}
	if contains(a.A, a.Bridge) || contains(a.B, a.Bridge) {
		return errField("bridge", "bridge %q is on a side", a.Bridge)
	}
	return disjoint("sides", a.A, a.B)
}

func (a Latency) check() error {
	for _, end := range []string{a.From, a.To} {
		if end == "*" {
			continue
		}
		if err := checkName("link", end); err != nil {
			return err
		}
	}
	if a.From == a.To && a.From != "*" {
		return errField("link", "a link joins two different nodes: %s>%s", a.From, a.To)
	}
	l := a.Link
	switch {
	case l.Latency < 0:
		return errField("base", "negative latency %v", l.Latency)
	case l.Jitter.Dist > netsim.DistPareto:
		return errField("jitter", "unknown distribution %v", l.Jitter.Dist)
	case l.Jitter.Scale < 0:
		return errField("jitter", "negative scale %v", l.Jitter.Scale)
	case l.Jitter.Alpha < 0 || l.Jitter.Alpha > 2:
		return errField("alpha", "alpha %d is not 1 or 2", l.Jitter.Alpha)
	case l.Jitter.Cap < 0:
		return errField("cap", "negative cap %v", l.Jitter.Cap)
	case l.BytesPerSecond < 0:
		return errField("bytes-per-second", "negative bandwidth %d", l.BytesPerSecond)
	}
	return nil
}

func (a DiskFaults) check() error {
	if err := checkName("node", a.Node); err != nil {
		return err
	}
	f := a.Faults
	for _, r := range []struct {
		name string
		v    disk.Rate
	}{
		{"read-error", f.ReadErrorRate}, {"bit-flip-on-read", f.BitFlipOnReadRate},
		{"write-error", f.WriteErrorRate}, {"sync-error", f.SyncErrorRate}, {"slow-sync", f.SlowSyncRate},
	} {
		if r.v < 0 || r.v > disk.Million {
			return errField(r.name, "rate %dppm outside [0, 1000000]", r.v)
		}
	}
	for _, v := range []struct {
		name string
		v    int64
	}{{"slow-sync-factor", f.SlowSyncFactor}, {"slow-sync-extra", f.SlowSyncExtra}, {"capacity", f.Capacity}} {
		if v.v < 0 {
			return errField(v.name, "negative value %d", v.v)
		}
	}
	return nil
}

func (a BitRot) check() error {
	if err := checkName("node", a.Node); err != nil {
		return err
	}
	if a.File == "" {
		if a.Offset != 0 {
			return errField("offset", "an offset needs a file")
		}
		return nil
	}
	if err := checkFile(a.File); err != nil {
		return err
	}
	if a.Offset < -1 {
		return errField("offset", "negative offset %d", a.Offset)
	}
	if strings.HasSuffix(a.File, "/") && a.Offset != -1 {
		return errField("offset", "a directory (%q) takes no offset", a.File)
	}
	return nil
}

func (a ClockSkew) check() error {
	if err := checkName("node", a.Node); err != nil {
		return err
	}
	return checkClock("offset", a.Offset)
}

func (a ClockJump) check() error {
	if err := checkName("node", a.Node); err != nil {
		return err
	}
	return checkClock("delta", a.Delta)
}

// --- nodes ----------------------------------------------------------------

func (a Crash) nodes() []string      { return []string{a.Node} }
func (a Restart) nodes() []string    { return []string{a.Node} }
func (a Stop) nodes() []string       { return []string{a.Node} }
func (a Pause) nodes() []string      { return []string{a.Node} }
func (a Resume) nodes() []string     { return []string{a.Node} }
func (a Isolate) nodes() []string    { return []string{a.Node} }
func (a ResetConns) nodes() []string { return []string{a.Node} }
func (a DiskFaults) nodes() []string { return []string{a.Node} }
func (a BitRot) nodes() []string     { return []string{a.Node} }
func (a ClockSkew) nodes() []string  { return []string{a.Node} }
func (a ClockJump) nodes() []string  { return []string{a.Node} }
func (Heal) nodes() []string         { return nil }
func (ResetRandomConn) nodes() []string {
	return nil
}
func (a Split) nodes() []string  { return append(append([]string(nil), a.A...), a.B...) }
func (a OneWay) nodes() []string { return []string{a.From, a.To} }
func (a Bridge) nodes() []string {
	return append(append(append([]string(nil), a.A...), a.Bridge), a.B...)
}

func (a Latency) nodes() []string {
	var out []string
	for _, e := range []string{a.From, a.To} {
		if e != "*" {
			out = append(out, e)
		}
	}
	return out
}
