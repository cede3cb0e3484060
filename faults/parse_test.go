package faults

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/loglab/loglab/netsim"
	"github.com/loglab/loglab/sim/disk"
)

func TestParseEveryAction(t *testing.T) {
	text := `# a schedule with every action
at 10s crash broker-1 mode=power-loss
at 10s kill broker-2          # a process kill

at 12.5s restart broker-1
at 13s stop broker-2
at 14s pause broker-3
at 15s resume broker-3
at 20s isolate broker-2
at 21s split broker-1,broker-2 | broker-3
at 21s split a,b|c
at 22s one-way broker-1>broker-2
at 23s bridge broker-1 | broker-2 | broker-3
at 30s heal
at 8s latency broker-1>broker-2 base=10ms jitter=exponential:2ms
at 8s latency *>broker-3 base=50ms jitter=pareto:5ms alpha=1 cap=500ms bytes-per-second=1000000
at 8s latency *>* base=500us
at 9s reset-conns broker-1
at 9s reset-random-conn
at 5s disk broker-1 read-error=100ppm sync-error=1000ppm
at 6s disk broker-1 none
at 6s bit-rot broker-1
at 6s bit-rot broker-1 file=p0/00000.log offset=4096
at 6s bit-rot broker-1 file=p0/00000.log
at 7s clock-jump broker-1 +5m
at 7s clock-skew broker-2 -200ms
`
	s, err := Parse("faults.txt", text)
	if err != nil {
		t.Fatal(err)
	}
	want := []Step{
		{5 * time.Second, DiskFaults{"broker-1", disk.Faults{ReadErrorRate: 100, SyncErrorRate: 1000}}},
		{6 * time.Second, DiskFaults{Node: "broker-1"}},
		{6 * time.Second, BitRot{Node: "broker-1"}},
		{6 * time.Second, BitRot{"broker-1", "p0/00000.log", 4096}},
		{6 * time.Second, BitRot{"broker-1", "p0/00000.log", -1}},
		{7 * time.Second, ClockJump{"broker-1", 5 * time.Minute}},
		{7 * time.Second, ClockSkew{"broker-2", -200 * time.Millisecond}},
		{8 * time.Second, Latency{"broker-1", "broker-2", netsim.Link{Latency: 10 * time.Millisecond,
			Jitter: netsim.Jitter{Dist: netsim.DistExponential, Scale: 2 * time.Millisecond}}}},
		{8 * time.Second, Latency{"*", "broker-3", netsim.Link{Latency: 50 * time.Millisecond,
			Jitter:         netsim.Jitter{Dist: netsim.DistPareto, Scale: 5 * time.Millisecond, Alpha: 1, Cap: 500 * time.Millisecond},
			BytesPerSecond: 1000000}}},
		{8 * time.Second, Latency{"*", "*", netsim.Link{Latency: 500 * time.Microsecond}}},
		{9 * time.Second, ResetConns{"broker-1"}},
		{9 * time.Second, ResetRandomConn{}},
		{10 * time.Second, Crash{"broker-1", disk.LoseUnsynced}},
		{10 * time.Second, Crash{"broker-2", disk.KeepPageCache}},
		{12500 * time.Millisecond, Restart{"broker-1"}},
		{13 * time.Second, Stop{"broker-2"}},
		{14 * time.Second, Pause{"broker-3"}},
		{15 * time.Second, Resume{"broker-3"}},
		{20 * time.Second, Isolate{"broker-2"}},
		{21 * time.Second, Split{[]string{"broker-1", "broker-2"}, []string{"broker-3"}}},
		{21 * time.Second, Split{[]string{"a", "b"}, []string{"c"}}},
		{22 * time.Second, OneWay{"broker-1", "broker-2"}},
		{23 * time.Second, Bridge{A: []string{"broker-1"}, Bridge: "broker-2", B: []string{"broker-3"}}},
		{30 * time.Second, Heal{}},
	}
	if !s.Equal(Schedule{Steps: want}) {
		t.Fatalf("parsed:\n%s\nwant:\n%s", s, Schedule{Steps: want})
	}
	// The printed form reads back to the same schedule, and is stable.
	again, err := Parse("printed", s.String())
	if err != nil {
		t.Fatal(err)
	}
	if !again.Equal(s) || again.String() != s.String() {
		t.Fatalf("printed form did not round-trip:\n%s", s)
	}
	for _, line := range []string{
		"at 10s crash broker-1 mode=power-loss",
		"at 10s crash broker-2 mode=process-kill",
		"at 12.5s restart broker-1",
		"at 21s split broker-1,broker-2 | broker-3",
		"at 7s clock-jump broker-1 +5m0s",
		"at 5s disk broker-1 read-error=100ppm sync-error=1000ppm",
		"at 8s latency broker-1>broker-2 base=10ms jitter=exponential:2ms",
	} {
		if !strings.Contains(s.String(), line+"\n") {
			t.Errorf("printed schedule lacks %q", line)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		text, want string
	}{
		{"at 1s heal\n\nat 2s crash b1 mode=x",
			`faults.txt:3: field "mode": unknown crash mode "x" (valid: power-loss, keep-random-pages, torn-sector, process-kill)`},
		{"at 1s crsh b1",
			`faults.txt:1: field "action": unknown action "crsh" (valid: bit-rot, bridge, clock-jump, clock-skew, crash, disk, heal, isolate, kill, latency, one-way, pause, reset-conns, reset-random-conn, restart, resume, split, stop)`},
		{"crash b1", `faults.txt:1: field "at": line starts with "crash": want "at <time> <action> ..."`},
		{"at soon heal", `faults.txt:1: field "at": bad time "soon" (want a duration like 10s, 1m30s or 250ms)`},
		{"at -1s heal", `faults.txt:1: field "at": negative time -1s`},
		{"at 1s", `faults.txt:1: field "action": missing action (valid: bit-rot, bridge, clock-jump, clock-skew, crash, disk, heal, isolate, kill, latency, one-way, pause, reset-conns, reset-random-conn, restart, resume, split, stop)`},
		{"at 1s crash", `faults.txt:1: field "node": missing: want "crash NODE [mode=MODE]"`},
		{"at 1s crash b1 b2", `faults.txt:1: field "args": unexpected "b2": want "crash NODE [mode=MODE]"`},
		{"at 1s crash b1 speed=9", `faults.txt:1: field "speed": unknown option for crash (valid: mode)`},
		{"at 1s crash b1 mode=power-loss mode=torn-sector", `faults.txt:1: field "mode": given twice`},
		{"at 1s heal now", `faults.txt:1: field "args": unexpected "now": want "heal"`},
		{"at 1s restart b1 x=1", `faults.txt:1: field "x": restart takes no options`},
		{"at 1s split b1,b2", `faults.txt:1: field "sides": want "split A,B | C,D"`},
		{"at 1s split b1, | b2", `faults.txt:1: field "sides": empty node name in "b1,": want "split A,B | C,D"`},
		{"at 1s split b1 | b1,b2", `faults.txt:1: field "sides": node "b1" is on both sides`},
		{"at 1s bridge a | b,c | d", `faults.txt:1: field "bridge": one bridge node: want "bridge A,B | BRIDGE | C,D"`},
		{"at 1s one-way b1", `faults.txt:1: field "link": "b1": want "one-way FROM>TO"`},
		{"at 1s one-way b1>b1", `faults.txt:1: field "link": a node always reaches itself: b1>b1`},
		{"at 1s latency b1>b2 base=fast", `faults.txt:1: field "base": bad duration "fast" (want e.g. 10ms, 1.5s, -2m)`},
		{"at 1s latency b1>b2 jitter=gauss:1ms", `faults.txt:1: field "jitter": unknown distribution "gauss" (valid: none, uniform, exponential, pareto)`},
		{"at 1s latency b1>b2 alpha=3", `faults.txt:1: field "alpha": alpha 3 is not 1 or 2`},
		{"at 1s latency b1>b2 base=-1ms", `faults.txt:1: field "base": negative latency -1ms`},
		{"at 1s disk b1 read-error=5", `faults.txt:1: field "read-error": disk: invalid argument: fault read-error="5" lacks its unit "ppm"`},
		{"at 1s disk b1 read-error=2000000ppm", `faults.txt:1: field "read-error": disk: invalid argument: fault read-error="2000000ppm" above 1000000ppm`},
		{"at 1s disk b1 eaten-by-goat=1ppm", `faults.txt:1: field "eaten-by-goat": disk: invalid argument: unknown fault "eaten-by-goat"`},
		{"at 1s disk b1", `faults.txt:1: field "args": no faults: want "disk NODE none | disk NODE FAULT=VALUE..."`},
		{"at 1s bit-rot b1 offset=3", `faults.txt:1: field "offset": an offset needs a file`},
		{"at 1s bit-rot b1 file=f offset=-3", `faults.txt:1: field "offset": "-3" is not a byte offset`},
		{"at 1s clock-jump b1", `faults.txt:1: field "delta": missing: want "clock-jump NODE ±DURATION"`},
		{"at 1s clock-skew b1 +99999h", `faults.txt:1: field "offset": 99999h0m0s is beyond ±8784h0m0s`},
		{"at 1s isolate b*", `faults.txt:1: field "node": node name "b*" contains '*' (names may not contain spaces or any of ,|>=#*)`},
	} {
		_, err := Parse("faults.txt", tc.text)
		if err == nil {
			t.Errorf("%q parsed", tc.text)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%q:\n got %s\nwant %s", tc.text, err, tc.want)
		}
		var pe *ParseError
		if !errors.Is(err, ErrInvalid) || !errors.As(err, &pe) {
			t.Errorf("%q: %v is not a *ParseError wrapping ErrInvalid", tc.text, err)
		}
	}
	// The disk's own sentinel still shows through.
	_, err := Parse("f", "at 1s disk b1 read-error=5")
	if !errors.Is(err, disk.ErrInvalid) {
		t.Errorf("%v does not wrap disk.ErrInvalid", err)
	}
}

func TestParseKinds(t *testing.T) {
	k, err := ParseKinds("crash, disk,crash")
	if err != nil || len(k) != 2 || k[0] != KindCrash || k[1] != KindDisk {
		t.Fatalf("ParseKinds = %v, %v", k, err)
	}
	if k, _ := ParseKinds("all"); len(k) != len(AllKinds) {
		t.Fatalf("all = %v", k)
	}
	_, err = ParseKinds("crash,gremlins")
	want := `faults: invalid schedule: unknown fault kind "gremlins" (valid: all, crash, pause, partition, latency, reset, disk, bit-rot, clock, disk-slow, outage)`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %s", err, want)
	}
}

func TestScheduleHelpers(t *testing.T) {
	s := MustParse("at 3s heal\nat 1s isolate a\nat 2s pause b\nat 1s kill c")
	if s.Len() != 4 || s.Steps[0].Action != (Isolate{"a"}) || s.Steps[1].Action != Kill("c") {
		t.Fatalf("not sorted stably: %s", s)
	}
	w := s.Without(1)
	if w.Len() != 3 || s.Len() != 4 || w.Steps[1].Action != (Pause{"b"}) {
		t.Fatalf("Without(1) = %s (from %s)", w, s)
	}
	w.Steps[0].At = time.Hour // the original is a value apart
	if s.Steps[0].At != time.Second {
		t.Fatal("Without aliases the original")
	}
	if got := s.Truncate(2 * time.Second); got.Len() != 3 || got.End() != 2*time.Second {
		t.Fatalf("Truncate(2s) = %s", got)
	}
	if got := s.Without(9); !got.Equal(s) {
		t.Fatal("Without out of range changed the schedule")
	}
	if got := s.Nodes(); strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("Nodes = %v", got)
	}
	if (Schedule{}).String() != "" {
		t.Fatal("empty schedule prints text")
	}
	if s, err := Parse("empty", "# nothing\n\n   \n"); err != nil || s.Len() != 0 {
		t.Fatalf("comments only: %v %v", s, err)
	}
}
