package scenarios

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/faults"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
)

// fakeView is a clusterView the test moves by hand.
type fakeView struct {
	w      *sim.World
	img    *metadata.Image
	ctrl   string
	broker []string
}

func (v *fakeView) image() *metadata.Image { return v.img }
func (v *fakeView) controller() string     { return v.ctrl }
func (v *fakeView) running() []string {
	var out []string
	for _, b := range v.broker {
		if v.w.Up(b) {
			out = append(out, b)
		}
	}
	return out
}
func (v *fakeView) up(n string) bool { return v.w.Up(n) && !v.w.Paused(n) }

func imageWith(leader int32, isr ...int32) *metadata.Image {
	return &metadata.Image{Offset: 10, Topics: []metadata.Topic{{Name: "events", Partitions: []metadata.Partition{
		{Index: 0, Replicas: []int32{1, 2, 3}, ISR: isr, Leader: leader, LeaderEpoch: 1},
	}}}}
}

func symbolWorld(t *testing.T, seed uint64) (*sim.World, *fakeView) {
	t.Helper()
	w := sim.NewWorld(sim.Config{Seed: seed, RecordTrace: true})
	v := &fakeView{w: w, broker: []string{"broker-1", "broker-2", "broker-3"}}
	for _, b := range v.broker {
		w.AddNode(b, func() host.Node { return sim.NodeFunc(func(host.Host) {}) })
		w.Start(b)
	}
	if err := w.RunFor(time.Millisecond); err != nil {
		t.Fatal(err)
	}
	return w, v
}

// TestBindingRule: a crash of leader:events-0 binds the leader it hit, and
// the restart of the same name restarts that node even though leadership
// moved meanwhile; partitions resolve afresh; a repair with nothing bound
// does nothing; every resolution is traced and noted on its knob line.
func TestBindingRule(t *testing.T) {
	w, v := symbolWorld(t, 3)
	v.img, v.ctrl = imageWith(2, 1, 2, 3), "broker-1"
	b := newBinder(w, v, w.Elapsed(), func(string, ...any) {})
	sched := faults.MustParse(`at 1s crash leader:events-0
at 2s pause controller
at 3s restart leader:events-0
at 3s resume controller
at 4s split leader:events-0 | followers:events-0
at 5s heal
at 6s resume leader:events-0
`)
	if err := faults.ApplyWith(w, sched, b.resolve); err != nil {
		t.Fatal(err)
	}
	if err := w.RunFor(1500 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if w.Up("broker-2") {
		t.Fatal("the leader (broker-2) was not crashed")
	}
	v.img = imageWith(3, 1, 3) // broker-3 took over
	if err := w.RunFor(1700 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if !w.Up("broker-2") || !w.Up("broker-3") {
		t.Fatalf("the restart must restart broker-2 (bound), not the new leader: up 2=%v 3=%v", w.Up("broker-2"), w.Up("broker-3"))
	}
	if w.Paused("broker-1") {
		t.Fatal("controller not resumed")
	}
	if err := w.RunFor(1 * time.Second); err != nil {
		t.Fatal(err)
	}
	// At 4s the leader is broker-3: the split cuts it from 1 and 2.
	if w.Net().Reachable("broker-3", "broker-1") || w.Net().Reachable("broker-2", "broker-3") || !w.Net().Reachable("broker-1", "broker-2") {
		t.Fatal("split leader:events-0 | followers:events-0 did not cut broker-3 from 1 and 2")
	}
	if err := w.RunFor(3 * time.Second); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"at 1s crash leader:events-0 mode=power-loss: leader:events-0 -> broker-2",
		"at 2s pause controller: controller -> broker-1",
		"at 3s restart leader:events-0: leader:events-0 -> (bound) broker-2",
		"at 3s resume controller: controller -> (bound) broker-1",
		"at 4s split leader:events-0 | followers:events-0: leader:events-0 -> broker-3",
		"at 4s split leader:events-0 | followers:events-0: followers:events-0 -> broker-1,broker-2",
		"at 6s resume leader:events-0: leader:events-0 -> (bound) nothing",
	}
	var got []string
	for _, r := range b.record {
		got = append(got, r.String())
	}
	if !slices.Equal(got, want) {
		t.Fatalf("resolutions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	traced := 0
	for _, l := range w.TraceLines() {
		if strings.Contains(l, "fault.resolve") {
			traced++
		}
	}
	if traced != len(want) {
		t.Fatalf("%d fault.resolve trace lines, want %d", traced, len(want))
	}
	var knobs []string
	for _, st := range sched.Steps {
		knobs = append(knobs, "fault="+st.String())
	}
	ann := annotate(knobs, b.record)
	if ann[0] != "fault=at 1s crash leader:events-0 mode=power-loss # leader:events-0 -> broker-2" ||
		ann[4] != "fault=at 4s split leader:events-0 | followers:events-0 # leader:events-0 -> broker-3; followers:events-0 -> broker-1,broker-2" {
		t.Fatalf("annotated knobs:\n%s", strings.Join(ann, "\n"))
	}
	// An annotated line still parses as the step it annotates.
	back, err := faults.Parse("knob", strings.TrimPrefix(ann[4], "fault="))
	if err != nil || back.Steps[0].String() != sched.Steps[4].String() {
		t.Fatalf("annotated line does not parse back: %v", err)
	}
}

// TestFollowerSymbol: follower:T-P draws a follower in the ISR, seeded;
// never the leader, never a node out of the ISR while the ISR has one.
func TestFollowerSymbol(t *testing.T) {
	seen := map[string]bool{}
	for seed := uint64(1); seed <= 20; seed++ {
		w, v := symbolWorld(t, seed)
		v.img = imageWith(1, 1, 2, 3)
		b := newBinder(w, v, 0, func(string, ...any) {})
		for i := 0; i < 5; i++ {
			got := b.fresh(symbol{kind: "follower", topic: "events", partition: 0})
			if len(got) != 1 || got[0] == "broker-1" {
				t.Fatalf("follower = %v", got)
			}
			seen[got[0]] = true
		}
		v.img = imageWith(1, 1, 3)
		if got := b.fresh(symbol{kind: "follower", topic: "events", partition: 0}); !slices.Equal(got, []string{"broker-3"}) {
			t.Fatalf("follower with ISR [1 3] = %v", got)
		}
		w.Crash("broker-3", 0)
		if got := b.fresh(symbol{kind: "follower", topic: "events", partition: 0}); !slices.Equal(got, []string{"broker-2"}) {
			t.Fatalf("follower with broker-3 down = %v, want the out-of-ISR follower", got)
		}
		if got := b.fresh(symbol{kind: "leader", topic: "events", partition: 1}); got != nil {
			t.Fatalf("leader of a missing partition = %v", got)
		}
	}
	if !seen["broker-2"] || !seen["broker-3"] {
		t.Fatalf("followers drawn: %v", seen)
	}
}

func TestParseSymbol(t *testing.T) {
	for name, want := range map[string]symbol{
		"leader:events-0":         {kind: "leader", topic: "events", partition: 0},
		"follower:my-topic-12":    {kind: "follower", topic: "my-topic", partition: 12},
		"followers:events-3":      {kind: "followers", topic: "events", partition: 3},
		"controller":              {kind: "controller"},
		"any-broker":              {kind: "any-broker"},
		"leader:events":           {kind: "leader", partition: -1},
		"leader:events-x":         {kind: "leader", partition: -1},
		"follower:-1":             {kind: "follower", partition: -1},
		"leader:events-999999999": {kind: "leader", topic: "events", partition: 999999999},
	} {
		got, ok := parseSymbol(name)
		if !ok || got != want {
			t.Errorf("parseSymbol(%q) = %+v %v, want %+v", name, got, ok, want)
		}
	}
	for _, name := range []string{"broker-1", "leaders:events-0", "final-reader", "controller-1"} {
		if _, ok := parseSymbol(name); ok {
			t.Errorf("%q parsed as a symbol", name)
		}
	}
}

// TestBitRotIsOneFailingDisk: every bit-rot of follower:events-0 strikes
// the broker the first one picked, so one replica per partition rots.
func TestBitRotIsOneFailingDisk(t *testing.T) {
	w, v := symbolWorld(t, 9)
	v.img = imageWith(1, 1, 2, 3)
	b := newBinder(w, v, 0, func(string, ...any) {})
	rot := faults.BitRot{Node: "follower:events-0", File: "events-0/", Offset: -1}
	first := b.resolve(rot, rot.Node)
	if len(first) != 1 || first[0] == "broker-1" {
		t.Fatalf("first rot hit %v", first)
	}
	for i := 0; i < 10; i++ {
		if got := b.resolve(rot, rot.Node); !slices.Equal(got, first) {
			t.Fatalf("rot %d hit %v, want the failing disk %v", i, got, first)
		}
	}
	w.Crash(first[0], 0)
	if got := b.resolve(rot, rot.Node); got != nil {
		t.Fatalf("rot while the failing disk's broker is down hit %v", got)
	}
}
