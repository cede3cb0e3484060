package faults

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/loglab/loglab/netsim"
	"github.com/loglab/loglab/sim/disk"
)

// ErrInvalid classifies every error of Parse, ParseKinds and Validate.
var ErrInvalid = errors.New("faults: invalid schedule")

// ParseError is a bad schedule line: the file, the 1-based line, the field
// at fault and why. It prints as
//
//	faults.txt:3: field "mode": unknown crash mode "x" (valid: ...)
//
// and matches ErrInvalid with errors.Is.
type ParseError struct {
	File  string
	Line  int
	Field string
	Err   error
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d: field %q: %v", e.File, e.Line, e.Field, e.Err)
}

// Unwrap returns the cause (which may wrap disk.ErrInvalid).
func (e *ParseError) Unwrap() error { return e.Err }

// Is makes every ParseError an ErrInvalid.
func (e *ParseError) Is(target error) bool { return target == ErrInvalid }

// MaxSteps bounds a schedule file, so a hostile input cannot make Parse
// build an unbounded schedule.
const MaxSteps = 100_000

// Parse reads a schedule in the form Schedule.String prints (see the
// package doc for the grammar). name is the file name used in errors. Steps
// may appear in any order; the result is sorted stably by time. Parse never
// panics; every error is a *ParseError.
func Parse(name, text string) (Schedule, error) {
	var steps []Step
	for i, line := range strings.Split(text, "\n") {
		lineNo := i + 1
		if c := strings.IndexByte(line, '#'); c >= 0 {
			line = line[:c]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if len(steps) == MaxSteps {
			return Schedule{}, &ParseError{name, lineNo, "line", fmt.Errorf("more than %d steps", MaxSteps)}
		}
		st, err := parseStep(fields)
		if err != nil {
			pe := &ParseError{File: name, Line: lineNo, Field: "line", Err: err}
			var fe *fieldError
			if errors.As(err, &fe) {
				pe.Field, pe.Err = fe.field, fe.err
			}
			return Schedule{}, pe
		}
		steps = append(steps, st)
	}
	return Schedule{Steps: steps}.Sorted(), nil
}

// MustParse is Parse for schedules written in Go source (tests, built-in
// scenarios); it panics on an error.
func MustParse(text string) Schedule {
	s, err := Parse("schedule", text)
	if err != nil {
		panic(err)
	}
	return s
}

func parseStep(fields []string) (Step, error) {
	if fields[0] != "at" {
		return Step{}, errField("at", "line starts with %q: want \"at <time> <action> ...\"", fields[0])
	}
	if len(fields) < 2 {
		return Step{}, errField("at", "missing time: want \"at <time> <action> ...\"")
	}
	at, err := time.ParseDuration(fields[1])
	if err != nil {
		return Step{}, errField("at", "bad time %q (want a duration like 10s, 1m30s or 250ms)", fields[1])
	}
	if at < 0 {
		return Step{}, errField("at", "negative time %v", at)
	}
	if len(fields) < 3 {
		return Step{}, errField("action", "missing action (valid: %s)", actionNames())
	}
	p, ok := parsers[fields[2]]
	if !ok {
		return Step{}, errField("action", "unknown action %q (valid: %s)", fields[2], actionNames())
	}
	a, err := splitArgs(fields[2], fields[3:])
	if err != nil {
		return Step{}, err
	}
	act, err := p(a)
	if err != nil {
		return Step{}, err
	}
	if err := act.check(); err != nil {
		return Step{}, err
	}
	return Step{At: at, Action: act}, nil
}

// args are an action's arguments: positionals in order, and name=value
// options (each at most once).
type args struct {
	action string
	pos    []string
	keys   []string
	vals   []string
}

func splitArgs(action string, fields []string) (*args, error) {
	a := &args{action: action}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			a.pos = append(a.pos, f)
			continue
		}
		if slices.Contains(a.keys, k) {
			return nil, errField(k, "given twice")
		}
		a.keys = append(a.keys, k)
		a.vals = append(a.vals, v)
	}
	return a, nil
}

// allow rejects options other than valid.
func (a *args) allow(valid ...string) error {
	for _, k := range a.keys {
		if !slices.Contains(valid, k) {
			if len(valid) == 0 {
				return errField(k, "%s takes no options", a.action)
			}
			return errField(k, "unknown option for %s (valid: %s)", a.action, strings.Join(valid, ", "))
		}
	}
	return nil
}

func (a *args) opt(k string) (string, bool) {
	i := slices.Index(a.keys, k)
	if i < 0 {
		return "", false
	}
	return a.vals[i], true
}

// positionals checks that there is one positional per field name; usage
// is the expected shape, for errors.
func (a *args) positionals(usage string, fields ...string) error {
	if len(a.pos) < len(fields) {
		return errField(fields[len(a.pos)], "missing: want %q", usage)
	}
	if len(a.pos) > len(fields) {
		return errField("args", "unexpected %q: want %q", a.pos[len(fields)], usage)
	}
	return nil
}

// node parses "ACTION NODE" with no options.
func (a *args) node() (string, error) {
	if err := a.allow(); err != nil {
		return "", err
	}
	if err := a.positionals(a.action+" NODE", "node"); err != nil {
		return "", err
	}
	return a.pos[0], nil
}

type parser func(a *args) (Action, error)

var parsers = map[string]parser{
	"crash":   parseCrash,
	"kill":    func(a *args) (Action, error) { n, err := a.node(); return Kill(n), err },
	"restart": func(a *args) (Action, error) { n, err := a.node(); return Restart{n}, err },
	"stop":    func(a *args) (Action, error) { n, err := a.node(); return Stop{n}, err },
	"pause":   func(a *args) (Action, error) { n, err := a.node(); return Pause{n}, err },
	"resume":  func(a *args) (Action, error) { n, err := a.node(); return Resume{n}, err },
	"isolate": func(a *args) (Action, error) { n, err := a.node(); return Isolate{n}, err },
	"reset-conns": func(a *args) (Action, error) {
		n, err := a.node()
		return ResetConns{n}, err
	},
	"heal":              func(a *args) (Action, error) { return Heal{}, a.none() },
	"reset-random-conn": func(a *args) (Action, error) { return ResetRandomConn{}, a.none() },
	"split":             parseSplit,
	"bridge":            parseBridge,
	"one-way":           parseOneWay,
	"latency":           parseLatency,
	"disk":              parseDisk,
	"bit-rot":           parseBitRot,
	"clock-skew": func(a *args) (Action, error) {
		n, d, err := a.nodeDuration("offset")
		return ClockSkew{n, d}, err
	},
	"clock-jump": func(a *args) (Action, error) {
		n, d, err := a.nodeDuration("delta")
		return ClockJump{n, d}, err
	},
}

// actionNames lists the valid action names, sorted, for errors.
func actionNames() string { return strings.Join(slices.Sorted(maps.Keys(parsers)), ", ") }

func (a *args) none() error {
	if err := a.allow(); err != nil {
		return err
	}
	return a.positionals(a.action)
}

func parseCrash(a *args) (Action, error) {
	if err := a.allow("mode"); err != nil {
		return nil, err
	}
	if err := a.positionals("crash NODE [mode=MODE]", "node"); err != nil {
		return nil, err
	}
	c := Crash{Node: a.pos[0], Mode: disk.LoseUnsynced}
	if v, ok := a.opt("mode"); ok {
		m, err := ParseCrashMode(v)
		if err != nil {
			return nil, &fieldError{"mode", err}
		}
		c.Mode = m
	}
	return c, nil
}

// parseSides reads "a,b | c,d" (or with a middle part for bridge) from the
// positionals, however they are spaced.
func (a *args) sides(want int, usage string) ([][]string, error) {
	if err := a.allow(); err != nil {
		return nil, err
	}
	parts := strings.Split(strings.Join(a.pos, " "), "|")
	if len(parts) != want {
		return nil, errField("sides", "want %q", usage)
	}
	out := make([][]string, len(parts))
	for i, p := range parts {
		for _, n := range strings.Split(p, ",") {
			n = strings.TrimSpace(n)
			if n == "" {
				return nil, errField("sides", "empty node name in %q: want %q", strings.TrimSpace(p), usage)
			}
			if strings.ContainsAny(n, " \t") {
				return nil, errField("sides", "%q: separate names with commas: want %q", n, usage)
			}
			out[i] = append(out[i], n)
		}
	}
	return out, nil
}

func parseSplit(a *args) (Action, error) {
	s, err := a.sides(2, "split A,B | C,D")
	if err != nil {
		return nil, err
	}
	return Split{A: s[0], B: s[1]}, nil
}

func parseBridge(a *args) (Action, error) {
	const usage = "bridge A,B | BRIDGE | C,D"
	s, err := a.sides(3, usage)
	if err != nil {
		return nil, err
	}
	if len(s[1]) != 1 {
		return nil, errField("bridge", "one bridge node: want %q", usage)
	}
	return Bridge{A: s[0], Bridge: s[1][0], B: s[2]}, nil
}

// link reads "FROM>TO".
func (a *args) link(usage string) (string, string, error) {
	if err := a.positionals(usage, "link"); err != nil {
		return "", "", err
	}
	from, to, ok := strings.Cut(a.pos[0], ">")
	if !ok {
		return "", "", errField("link", "%q: want %q", a.pos[0], usage)
	}
	return from, to, nil
}

func parseOneWay(a *args) (Action, error) {
	if err := a.allow(); err != nil {
		return nil, err
	}
	from, to, err := a.link("one-way FROM>TO")
	return OneWay{From: from, To: to}, err
}

func parseLatency(a *args) (Action, error) {
	const usage = "latency FROM>TO base=DURATION [jitter=DIST:SCALE] [alpha=N] [cap=DURATION] [bytes-per-second=N]"
	if err := a.allow("base", "jitter", "alpha", "cap", "bytes-per-second"); err != nil {
		return nil, err
	}
	from, to, err := a.link(usage)
	if err != nil {
		return nil, err
	}
	l := Latency{From: from, To: to}
	if v, ok := a.opt("base"); ok {
		if l.Link.Latency, err = duration("base", v); err != nil {
			return nil, err
		}
	}
	if v, ok := a.opt("jitter"); ok {
		dist, scale, ok := strings.Cut(v, ":")
		if !ok {
			return nil, errField("jitter", "%q: want DIST:SCALE, e.g. exponential:2ms", v)
		}
		d, found := dists[dist]
		if !found {
			return nil, errField("jitter", "unknown distribution %q (valid: none, uniform, exponential, pareto)", dist)
		}
		l.Link.Jitter.Dist = d
		if l.Link.Jitter.Scale, err = duration("jitter", scale); err != nil {
			return nil, err
		}
	}
	if v, ok := a.opt("alpha"); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, errField("alpha", "%q is not 1 or 2", v)
		}
		l.Link.Jitter.Alpha = n
	}
	if v, ok := a.opt("cap"); ok {
		if l.Link.Jitter.Cap, err = duration("cap", v); err != nil {
			return nil, err
		}
	}
	if v, ok := a.opt("bytes-per-second"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, errField("bytes-per-second", "%q is not an integer", v)
		}
		l.Link.BytesPerSecond = n
	}
	return l, nil
}

var dists = map[string]netsim.Dist{
	"none": netsim.DistNone, "uniform": netsim.DistUniform,
	"exponential": netsim.DistExponential, "pareto": netsim.DistPareto,
}

func duration(field, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, errField(field, "bad duration %q (want e.g. 10ms, 1.5s, -2m)", v)
	}
	return d, nil
}

func parseDisk(a *args) (Action, error) {
	const usage = "disk NODE none | disk NODE FAULT=VALUE..."
	if len(a.pos) == 0 {
		return nil, errField("node", "missing: want %q", usage)
	}
	node := a.pos[0]
	if len(a.pos) == 2 && a.pos[1] == "none" && len(a.keys) == 0 {
		return DiskFaults{Node: node}, nil
	}
	if len(a.pos) > 1 {
		return nil, errField("args", "unexpected %q: want %q", a.pos[1], usage)
	}
	if len(a.keys) == 0 {
		return nil, errField("args", "no faults: want %q", usage)
	}
	var pairs []string
	for i, k := range a.keys {
		pair := k + "=" + a.vals[i]
		// One pair at a time, so the error names its field.
		if _, err := disk.ParseFaults(pair); err != nil {
			return nil, &fieldError{k, err}
		}
		pairs = append(pairs, pair)
	}
	f, err := disk.ParseFaults(strings.Join(pairs, " "))
	if err != nil {
		return nil, &fieldError{"faults", err}
	}
	return DiskFaults{Node: node, Faults: f}, nil
}

func parseBitRot(a *args) (Action, error) {
	if err := a.allow("file", "offset"); err != nil {
		return nil, err
	}
	if err := a.positionals("bit-rot NODE [file=PATH [offset=N]]", "node"); err != nil {
		return nil, err
	}
	b := BitRot{Node: a.pos[0]}
	file, hasFile := a.opt("file")
	off, hasOff := a.opt("offset")
	if hasOff && !hasFile {
		return nil, errField("offset", "an offset needs a file")
	}
	if !hasFile {
		return b, nil
	}
	if file == "" {
		return nil, errField("file", "empty file name")
	}
	b.File, b.Offset = file, -1
	if hasOff && strings.HasSuffix(file, "/") {
		return nil, errField("offset", "a directory (%q) takes no offset: a segment byte under it is drawn", file)
	}
	if hasOff {
		n, err := strconv.ParseInt(off, 10, 64)
		if err != nil || n < 0 {
			return nil, errField("offset", "%q is not a byte offset", off)
		}
		b.Offset = n
	}
	return b, nil
}

func (a *args) nodeDuration(field string) (string, time.Duration, error) {
	if err := a.allow(); err != nil {
		return "", 0, err
	}
	usage := a.action + " NODE ±DURATION"
	if err := a.positionals(usage, "node", field); err != nil {
		return "", 0, err
	}
	d, err := duration(field, a.pos[1])
	return a.pos[0], d, err
}
