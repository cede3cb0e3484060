package faults

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loglab/loglab/netsim"
	"github.com/loglab/loglab/sim/disk"
)

// TestRoleOf: every break is paired with its repair by Class, the way a
// resolver binds a symbolic name at the break and reuses it at the repair.
func TestRoleOf(t *testing.T) {
	base := netsim.DefaultConfig().DefaultLink
	for _, c := range []struct {
		a    Action
		want Role
	}{
		{Crash{Node: "x"}, Role{Class: "down"}},
		{Stop{Node: "x"}, Role{Class: "down"}},
		{Restart{Node: "x"}, Role{Class: "down", Repair: true}},
		{Pause{Node: "x"}, Role{Class: "pause"}},
		{Resume{Node: "x"}, Role{Class: "pause", Repair: true}},
		{Isolate{Node: "x"}, Role{Class: "net"}},
		{OneWay{From: "x", To: "y"}, Role{Class: "net"}},
		{Heal{}, Role{Class: "net", Repair: true}},
		{DiskFaults{Node: "x", Faults: disk.Faults{SlowSyncRate: 10}}, Role{Class: "disk"}},
		{ClearDisk("x"), Role{Class: "disk", Repair: true}},
		{Latency{From: "x", To: "y", Link: netsim.Link{Latency: time.Second}}, Role{Class: "link"}},
		{Latency{From: "x", To: "y", Link: base}, Role{Class: "link", Repair: true}},
		{BitRot{Node: "x"}, Role{}},
		{ResetConns{Node: "x"}, Role{}},
		{ClockJump{Node: "x", Delta: time.Second}, Role{}},
	} {
		if got := RoleOf(c.a); got != c.want {
			t.Errorf("RoleOf(%s) = %+v, want %+v", c.a, got, c.want)
		}
	}
}

// TestResolverSeesTheAction: the resolver is told which action asks, so
// it can bind at the crash and hand the binding to the restart.
func TestResolverSeesTheAction(t *testing.T) {
	w := newWorld(t, 1, 3)
	leader := "n2"
	bound := map[string][]string{}
	r := func(a Action, name string) []string {
		if name != "leader" {
			return []string{name}
		}
		role := RoleOf(a)
		key := role.Class + " " + name
		if role.Repair {
			nodes := bound[key]
			delete(bound, key)
			return nodes
		}
		bound[key] = append(bound[key], leader)
		return []string{leader}
	}
	if err := ApplyWith(w, MustParse("at 1s crash leader\nat 3s restart leader"), r); err != nil {
		t.Fatal(err)
	}
	if err := w.RunFor(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	leader = "n3" // a new leader is elected while n2 is down
	if err := w.RunFor(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	if !w.Up("n2") || !w.Up("n3") {
		t.Fatalf("n2 up=%v n3 up=%v: the restart must restart the node the crash took (n2)", w.Up("n2"), w.Up("n3"))
	}
}

// TestBitRotDirectory: "file=DIR/" rots a byte of a segment under DIR and
// nothing else; a directory without segments is a traced skip.
func TestBitRotDirectory(t *testing.T) {
	w := newWorld(t, 5, 1)
	for _, dir := range []string{"events-0", "events-1"} {
		if err := w.Disk("n1").MkdirAll(dir); err != nil {
			t.Fatal(err)
		}
	}
	writeDurable(t, w, "n1", "events-0/00000000000000000000.log", 4000)
	writeDurable(t, w, "n1", "events-0/00000000000000000000.index", 4000)
	writeDurable(t, w, "n1", "events-1/00000000000000000000.log", 4000)
	for _, dir := range []string{"events-0", "events-1"} {
		w.Disk("n1").SyncDir(dir, func(error) {})
	}
	if err := w.RunFor(time.Second); err != nil {
		t.Fatal(err)
	}
	before := map[string][]byte{}
	for _, f := range w.Disk("n1").DurableFiles() {
		before[f], _ = w.Disk("n1").DurableContent(f)
		before[f] = slices.Clone(before[f])
	}
	run(t, w, "at 0s bit-rot n1 file=events-0/\nat 0s bit-rot n1 file=events-9/")
	var changed []string
	for f, old := range before {
		now, _ := w.Disk("n1").DurableContent(f)
		if !slices.Equal(now, old) {
			changed = append(changed, f)
		}
	}
	if len(changed) != 1 || changed[0] != "events-0/00000000000000000000.log" {
		t.Fatalf("changed %v, want only events-0's segment", changed)
	}
	if n := countTrace(w, "fault.skip"); n != 1 {
		t.Fatalf("%d skips, want 1 (events-9/ has no segment)", n)
	}
	if _, err := Parse("x", "at 0s bit-rot n1 file=events-0/ offset=3"); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("a directory with an offset: %v", err)
	}
	s := MustParse("at 0s bit-rot n1 file=events-0/")
	if back := MustParse(s.String()); !back.Equal(s) {
		t.Fatalf("round trip: %q", s.String())
	}
}

// TestSwarmClusterOptions: restricted shapes, bit-rot templates and the
// disk-slow kind; and naming an extra kind leaves the draws of a schedule
// without it unchanged.
func TestSwarmClusterOptions(t *testing.T) {
	nodes := []string{"broker-1", "broker-2", "broker-3", "broker-4", "broker-5"}
	rot := []BitRot{{Node: "follower:events-0", File: "events-0/", Offset: -1}}
	kinds := []Kind{KindCrash, KindPause, KindPartition, KindReset, KindClock, KindDiskSlow, KindBitRot}
	sawSlow, sawRot := false, false
	for seed := uint64(1); seed <= 60; seed++ {
		s, k := swarm(seed, nodes, time.Minute, SwarmOptions{Kinds: kinds, AllOn: true,
			Shapes: []string{"isolate", "split", "one-way"}, BitRot: rot})
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		for _, sh := range k.Partitions {
			if sh == "bridge" {
				t.Fatalf("seed %d: bridge drawn though not allowed", seed)
			}
		}
		for _, st := range s.Steps {
			switch a := st.Action.(type) {
			case Bridge:
				t.Fatalf("seed %d: %s", seed, st)
			case BitRot:
				if a != rot[0] {
					t.Fatalf("seed %d: bit rot %s not from the templates", seed, st)
				}
				sawRot = true
			case DiskFaults:
				if a.Faults != (disk.Faults{}) {
					if a.Faults.ReadErrorRate+a.Faults.WriteErrorRate+a.Faults.SyncErrorRate+a.Faults.BitFlipOnReadRate != 0 || a.Faults.Capacity != 0 {
						t.Fatalf("seed %d: disk-slow set %s", seed, st)
					}
					sawSlow = true
				}
			}
		}
	}
	if !sawSlow || !sawRot {
		t.Fatalf("disk-slow seen %v, template bit rot seen %v", sawSlow, sawRot)
	}
	// Naming no extra kind draws exactly what it always drew.
	for seed := uint64(1); seed <= 20; seed++ {
		a, ka := swarm(seed, three, time.Minute, SwarmOptions{Kinds: AllKinds})
		b, kb := swarm(seed, three, time.Minute, SwarmOptions{})
		if a.String() != b.String() || ka.String() != kb.String() {
			t.Fatalf("seed %d: Kinds=AllKinds and nil differ", seed)
		}
	}
}
