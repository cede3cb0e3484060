package faults

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/netsim"
	"github.com/loglab/loglab/sim"
	"github.com/loglab/loglab/sim/disk"
)

var three = []string{"b1", "b2", "b3"}

func swarm(seed uint64, nodes []string, d time.Duration, opts SwarmOptions) (Schedule, SwarmKnobs) {
	return Swarm(sim.Stream(seed, "faults/swarm"), nodes, d, opts)
}

func TestSwarmSameSeedSameSchedule(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		a, ka := swarm(seed, three, time.Minute, SwarmOptions{})
		b, kb := swarm(seed, three, time.Minute, SwarmOptions{})
		if a.String() != b.String() || ka.String() != kb.String() {
			t.Fatalf("seed %d: two draws differ", seed)
		}
	}
	seen := map[string]bool{}
	for seed := uint64(0); seed < 50; seed++ {
		s, _ := swarm(seed, three, time.Minute, SwarmOptions{})
		seen[s.String()] = true
	}
	if len(seen) < 48 {
		t.Fatalf("50 seeds gave only %d distinct schedules", len(seen))
	}
}

// TestSwarmKindsAreCoinFlips: over many seeds every kind is sometimes on
// and sometimes off, and at least one is always on.
func TestSwarmKindsAreCoinFlips(t *testing.T) {
	on := map[Kind]int{}
	const seeds = 400
	for seed := uint64(0); seed < seeds; seed++ {
		s, k := swarm(seed, three, time.Minute, SwarmOptions{})
		any := false
		for _, kk := range k.Kinds {
			if kk.On {
				on[kk.Kind]++
				any = true
			}
		}
		if !any {
			t.Fatalf("seed %d: no kind on", seed)
		}
		for _, st := range s.Steps {
			if !k.On(kindOf(st.Action)) {
				t.Fatalf("seed %d: %s but its kind is off:\n%s", seed, st, k)
			}
		}
	}
	for _, kind := range AllKinds {
		if on[kind] < seeds/4 || on[kind] > seeds*3/4 {
			t.Errorf("kind %s on in %d of %d seeds, want about half", kind, on[kind], seeds)
		}
	}
}

func kindOf(a Action) Kind {
	switch a.(type) {
	case Crash, Restart:
		return KindCrash
	case Pause, Resume:
		return KindPause
	case Isolate, Split, OneWay, Bridge, Heal:
		return KindPartition
	case Latency:
		return KindLatency
	case ResetConns, ResetRandomConn:
		return KindReset
	case DiskFaults:
		return KindDisk
	case BitRot:
		return KindBitRot
	case ClockJump, ClockSkew:
		return KindClock
	}
	return "?"
}

func TestSwarmRestrictedKinds(t *testing.T) {
	for seed := uint64(0); seed < 100; seed++ {
		s, k := swarm(seed, []string{"solo"}, 30*time.Second, SwarmOptions{Kinds: []Kind{KindCrash, KindDisk, KindPartition}})
		if len(k.Kinds) != 3 {
			t.Fatalf("knobs list %d kinds, want the 3 allowed", len(k.Kinds))
		}
		if k.On(KindPartition) {
			t.Fatalf("seed %d: partition on with one node", seed)
		}
		for _, st := range s.Steps {
			if kk := kindOf(st.Action); kk != KindCrash && kk != KindDisk {
				t.Fatalf("seed %d: %s not allowed", seed, st)
			}
		}
	}
	// All on: both kinds are on for every seed (a kind on at a low rate may
	// still strike zero times in a run).
	both := 0
	for seed := uint64(0); seed < 20; seed++ {
		s, k := swarm(seed, []string{"solo"}, time.Minute, SwarmOptions{Kinds: []Kind{KindCrash, KindDisk}, AllOn: true})
		if !k.On(KindCrash) || !k.On(KindDisk) {
			t.Fatalf("AllOn did not turn both kinds on:\n%s", k)
		}
		if strings.Contains(s.String(), "crash solo") && strings.Contains(s.String(), "disk solo") {
			both++
		}
	}
	if both < 10 {
		t.Fatalf("only %d of 20 all-on schedules have both crashes and disk faults", both)
	}
	// Restricting kinds does not shift the draws of the kinds kept.
	_, all := swarm(5, three, time.Minute, SwarmOptions{})
	_, some := swarm(5, three, time.Minute, SwarmOptions{Kinds: []Kind{KindDisk}})
	for _, kk := range all.Kinds {
		if kk.Kind == KindDisk && kk.MeanInterval != some.Kinds[0].MeanInterval {
			t.Fatalf("disk interval %v unrestricted, %v restricted", kk.MeanInterval, some.Kinds[0].MeanInterval)
		}
	}
}

// model replays a schedule on a plain model of the cluster and checks
// the generator's promises at every step.
type model struct {
	down, paused map[string]bool
	partitioned  bool
	diskFaulty   map[string]bool
	slowLinks    map[string]bool
}

func replay(t *testing.T, s Schedule, k SwarmKnobs, base netsim.Link) model {
	t.Helper()
	m := model{map[string]bool{}, map[string]bool{}, false, map[string]bool{}, map[string]bool{}}
	for _, st := range s.Steps {
		if st.At < 0 || st.At > k.Duration || st.At%time.Millisecond != 0 {
			t.Fatalf("%s outside [0, %v] or not whole ms", st, k.Duration)
		}
		switch a := st.Action.(type) {
		case Crash:
			if m.down[a.Node] || m.paused[a.Node] {
				t.Fatalf("%s: node already down or paused", st)
			}
			if !slices.Contains(k.CrashModes, a.Mode) {
				t.Fatalf("%s: mode not among the drawn %v", st, k.CrashModes)
			}
			m.down[a.Node] = true
		case Restart:
			m.down[a.Node] = false
		case Pause:
			if m.down[a.Node] || m.paused[a.Node] {
				t.Fatalf("%s: node already down or paused", st)
			}
			m.paused[a.Node] = true
		case Resume:
			m.paused[a.Node] = false
		case Isolate, Split, OneWay, Bridge:
			if m.partitioned {
				t.Fatalf("%s: a partition is already in force", st)
			}
			m.partitioned = true
		case Heal:
			m.partitioned = false
		case DiskFaults:
			m.diskFaulty[a.Node] = a.Faults != (disk.Faults{})
		case Latency:
			m.slowLinks[a.From+">"+a.To] = a.Link != base
		}
		n := 0
		for _, node := range k.Nodes {
			if m.down[node] || m.paused[node] {
				n++
			}
		}
		if n > k.MaxDown {
			t.Fatalf("%s: %d nodes down, max %d", st, n, k.MaxDown)
		}
	}
	return m
}

func TestSwarmHealsEverythingByTheEnd(t *testing.T) {
	for seed := uint64(0); seed < 300; seed++ {
		nodes := [][]string{{"solo"}, {"b1", "b2"}, three, {"b1", "b2", "b3", "b4", "b5"}}[seed%4]
		d := []time.Duration{10 * time.Second, time.Minute, 500 * time.Millisecond}[seed%3]
		s, k := swarm(seed, nodes, d, SwarmOptions{})
		m := replay(t, s, k, netsim.DefaultConfig().DefaultLink)
		for _, n := range nodes {
			if m.down[n] || m.paused[n] || m.diskFaulty[n] {
				t.Fatalf("seed %d: %s not repaired at the end:\n%s", seed, n, s)
			}
		}
		for l, slow := range m.slowLinks {
			if slow {
				t.Fatalf("seed %d: link %s still slow at the end", seed, l)
			}
		}
		if m.partitioned {
			t.Fatalf("seed %d: partition not healed", seed)
		}
	}
}

func TestSwarmMaxDown(t *testing.T) {
	five := []string{"b1", "b2", "b3", "b4", "b5"}
	worst := 0
	for seed := uint64(0); seed < 100; seed++ {
		s, k := swarm(seed, five, time.Minute, SwarmOptions{Kinds: []Kind{KindCrash, KindPause}, AllOn: true, MaxDown: 3})
		if k.MaxDown != 3 {
			t.Fatalf("MaxDown knob = %d", k.MaxDown)
		}
		replay(t, s, k, netsim.DefaultConfig().DefaultLink) // fails if more than 3 are down
		down := map[string]bool{}
		for _, st := range s.Steps {
			switch a := st.Action.(type) {
			case Crash:
				down[a.Node] = true
			case Pause:
				down[a.Node] = true
			case Restart:
				delete(down, a.Node)
			case Resume:
				delete(down, a.Node)
			}
			worst = max(worst, len(down))
		}
	}
	if worst != 3 {
		t.Fatalf("at most %d nodes down at once over 100 seeds; want the bound 3 reached", worst)
	}
	if _, k := swarm(1, five, time.Minute, SwarmOptions{}); k.MaxDown != 2 {
		t.Fatalf("default MaxDown for 5 nodes = %d, want 2 (a minority)", k.MaxDown)
	}
}

// TestSwarmInAWorld applies generated schedules to real worlds and checks,
// at the end of the safety phase, that everything is repaired.
func TestSwarmInAWorld(t *testing.T) {
	for seed := uint64(0); seed < 40; seed++ {
		w := sim.NewWorld(sim.Config{Seed: seed})
		for _, n := range three {
			w.AddNode(n, func() host.Node { return sim.NodeFunc(func(host.Host) {}) })
			w.Start(n)
		}
		s, k := swarm(seed, three, 20*time.Second, SwarmOptions{AllOn: seed%2 == 0})
		if err := Apply(w, s); err != nil {
			t.Fatal(err)
		}
		if err := w.RunFor(k.Duration); err != nil {
			t.Fatal(err)
		}
		if w.Net().Partitioned() {
			t.Fatalf("seed %d: still partitioned", seed)
		}
		for _, n := range three {
			if !w.Up(n) || w.Paused(n) || w.Disk(n).Faults() != (disk.Faults{}) {
				t.Fatalf("seed %d: %s up=%v paused=%v faults=%v at the end\n%s\n%s",
					seed, n, w.Up(n), w.Paused(n), w.Disk(n).Faults(), k, s)
			}
		}
	}
}

func TestSwarmDegenerate(t *testing.T) {
	if s, _ := swarm(1, nil, time.Minute, SwarmOptions{}); s.Len() != 0 {
		t.Fatalf("no nodes: %s", s)
	}
	if s, _ := swarm(1, three, 0, SwarmOptions{}); s.Len() != 0 {
		t.Fatalf("no time: %s", s)
	}
	if s, _ := swarm(1, three, time.Millisecond/2, SwarmOptions{}); s.Len() != 0 {
		t.Fatalf("under a millisecond: %s", s)
	}
}

func TestSwarmKnobsPrint(t *testing.T) {
	_, k := Swarm(rand.New(rand.NewPCG(3, 3)), three, time.Minute, SwarmOptions{AllOn: true})
	text := k.String()
	for _, want := range []string{"swarm.duration=1m0s", "swarm.nodes=b1,b2,b3", "swarm.max-down=1", "swarm.crash=on interval=", "modes=", "shapes=", "swarm.disk=on", "faults="} {
		if !strings.Contains(text, want) {
			t.Errorf("knobs lack %q:\n%s", want, text)
		}
	}
	_, k = swarm(3, []string{"solo"}, time.Minute, SwarmOptions{Kinds: []Kind{KindPartition, KindCrash}})
	if !strings.Contains(k.String(), "swarm.partition=off (needs 2 nodes)") {
		t.Errorf("knobs do not say why partition is off:\n%s", k)
	}
}

// TestSwarmOutage: an outage crashes every node at one instant, in a
// power-loss mode, when none is down, and restarts them all at one
// instant; crashes and pauses never overlap it. Without the kind named no
// schedule takes every node down.
func TestSwarmOutage(t *testing.T) {
	seen := 0
	for seed := uint64(0); seed < 100; seed++ {
		s, k := swarm(seed, three, time.Minute, SwarmOptions{Kinds: []Kind{KindCrash, KindPause, KindOutage}, AllOn: true})
		down := map[string]bool{}
		byTime := map[time.Duration][]Step{}
		for _, st := range s.Steps {
			byTime[st.At] = append(byTime[st.At], st)
		}
		for _, st := range s.Steps {
			switch a := st.Action.(type) {
			case Crash, Pause:
				var node string
				if c, ok := a.(Crash); ok {
					node = c.Node
				} else {
					node = a.(Pause).Node
				}
				if down[node] {
					t.Fatalf("seed %d: %s: %s already down", seed, st, node)
				}
				down[node] = true
			case Restart:
				delete(down, a.Node)
			case Resume:
				delete(down, a.Node)
			}
			if len(down) == len(three) {
				seen++
				crashes := 0
				for _, o := range byTime[st.At] {
					if c, ok := o.Action.(Crash); ok {
						crashes++
						if c.Mode == disk.KeepPageCache {
							t.Fatalf("seed %d: an outage as a process crash: %s", seed, o)
						}
					}
				}
				if crashes != len(three) {
					t.Fatalf("seed %d: every node down at %v but only %d crashed together:\n%s", seed, st.At, crashes, s)
				}
			}
		}
		if len(down) != 0 {
			t.Fatalf("seed %d: %v still down at the end", seed, down)
		}
		if !k.On(KindOutage) {
			t.Fatalf("seed %d: AllOn left outage off", seed)
		}
	}
	if seen < 50 {
		t.Fatalf("only %d outages in 100 schedules", seen)
	}
	for seed := uint64(0); seed < 100; seed++ {
		s, k := swarm(seed, three, time.Minute, SwarmOptions{Kinds: []Kind{KindCrash, KindPause}, AllOn: true})
		replay(t, s, k, netsim.DefaultConfig().DefaultLink) // at most MaxDown down
	}
}

// TestSwarmLengths: a given ladder replaces the default one for every
// kind's MaxLength, and episodes stay within it.
func TestSwarmLengths(t *testing.T) {
	ladder := []time.Duration{3 * time.Second, 9 * time.Second, 12 * time.Second}
	for seed := uint64(0); seed < 50; seed++ {
		s, k := swarm(seed, three, time.Minute, SwarmOptions{Kinds: []Kind{KindPause}, AllOn: true, Lengths: ladder})
		if !slices.Contains(ladder, k.Kinds[0].MaxLength) {
			t.Fatalf("seed %d: MaxLength %v not from %v", seed, k.Kinds[0].MaxLength, ladder)
		}
		start := map[string]time.Duration{}
		for _, st := range s.Steps {
			switch a := st.Action.(type) {
			case Pause:
				start[a.Node] = st.At
			case Resume:
				if d := st.At - start[a.Node]; d > k.Kinds[0].MaxLength {
					t.Fatalf("seed %d: %s paused %v, longer than %v", seed, a.Node, d, k.Kinds[0].MaxLength)
				}
			}
		}
	}
}
