package faults

import (
	"math/rand/v2"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/loglab/loglab/netsim"
	"github.com/loglab/loglab/sim/disk"
)

var genName = rapid.OneOf(
	rapid.SampledFrom([]string{"broker-1", "broker-2", "controller-0", "none", "mode", "at", "heal", "+5s", "-1"}),
	rapid.StringMatching(`[a-zA-Z0-9_.:/+-]{1,12}`),
	rapid.StringMatching(`[a-zé日0-9]{1,4}`),
)

func genDistinct(t *rapid.T, label string, min, max int) []string {
	return rapid.SliceOfNDistinct(genName, min, max, rapid.ID[string]).Draw(t, label)
}

func genDur(lo, hi time.Duration) *rapid.Generator[time.Duration] {
	return rapid.Custom(func(t *rapid.T) time.Duration {
		return time.Duration(rapid.Int64Range(int64(lo), int64(hi)).Draw(t, "ns"))
	})
}

var genRate = rapid.Custom(func(t *rapid.T) disk.Rate {
	return disk.Rate(rapid.Int32Range(0, int32(disk.Million)).Draw(t, "rate"))
})

var genAction = rapid.Custom(func(t *rapid.T) Action {
	node := genName.Draw(t, "node")
	switch rapid.IntRange(0, 17).Draw(t, "kind") {
	case 0:
		return Crash{node, disk.CrashMode(rapid.IntRange(0, 3).Draw(t, "mode"))}
	case 1:
		return Restart{node}
	case 2:
		return Stop{node}
	case 3:
		return Pause{node}
	case 4:
		return Resume{node}
	case 5:
		return Isolate{node}
	case 6:
		names := genDistinct(t, "names", 2, 6)
		k := rapid.IntRange(1, len(names)-1).Draw(t, "cut")
		return Split{A: names[:k], B: names[k:]}
	case 7:
		names := genDistinct(t, "names", 2, 2)
		return OneWay{names[0], names[1]}
	case 8:
		names := genDistinct(t, "names", 3, 7)
		k := rapid.IntRange(2, len(names)-1).Draw(t, "cut")
		return Bridge{A: names[1:k], Bridge: names[0], B: names[k:]}
	case 9:
		return Heal{}
	case 10:
		ends := rapid.SampledFrom([][2]string{{"*", "*"}, {"*", node}, {node, "*"}, {node, node + "x"}}).Draw(t, "ends")
		l := netsim.Link{
			Latency: genDur(0, time.Hour).Draw(t, "latency"),
			Jitter: netsim.Jitter{
				Dist:  netsim.Dist(rapid.IntRange(0, 3).Draw(t, "dist")),
				Scale: genDur(0, time.Minute).Draw(t, "scale"),
				Alpha: rapid.IntRange(0, 2).Draw(t, "alpha"),
				Cap:   genDur(0, time.Minute).Draw(t, "cap"),
			},
			BytesPerSecond: rapid.Int64Range(0, 1<<40).Draw(t, "bps"),
		}
		return Latency{ends[0], ends[1], l}
	case 11:
		return ResetConns{node}
	case 12:
		return ResetRandomConn{}
	case 13:
		f := disk.Faults{
			ReadErrorRate: genRate.Draw(t, "r"), BitFlipOnReadRate: genRate.Draw(t, "b"),
			WriteErrorRate: genRate.Draw(t, "w"), SyncErrorRate: genRate.Draw(t, "s"),
			SlowSyncRate:   genRate.Draw(t, "slow"),
			SlowSyncFactor: rapid.Int64Range(0, 100).Draw(t, "factor"),
			SlowSyncExtra:  rapid.Int64Range(0, 1<<40).Draw(t, "extra"),
			Capacity:       rapid.Int64Range(0, 1<<40).Draw(t, "cap"),
		}
		if rapid.Bool().Draw(t, "clear") {
			f = disk.Faults{}
		}
		return DiskFaults{node, f}
	case 14:
		switch rapid.IntRange(0, 2).Draw(t, "rot") {
		case 0:
			return BitRot{Node: node}
		case 1:
			return BitRot{node, rapid.StringMatching(`[a-z0-9/._=-]{1,20}`).Draw(t, "file"), -1}
		}
		return BitRot{node, rapid.StringMatching(`[a-z0-9/._=-]{0,19}[a-z0-9._=-]`).Draw(t, "file"), rapid.Int64Range(0, 1<<40).Draw(t, "off")}
	case 15:
		return ClockSkew{node, genDur(-MaxClockOffset, MaxClockOffset).Draw(t, "offset")}
	case 16:
		return ClockJump{node, genDur(-MaxClockOffset, MaxClockOffset).Draw(t, "delta")}
	}
	return Kill(node)
})

var genSchedule = rapid.Custom(func(t *rapid.T) Schedule {
	n := rapid.IntRange(0, 20).Draw(t, "steps")
	var steps []Step
	for range n {
		at := rapid.OneOf(
			genDur(0, time.Minute),
			rapid.Just(time.Duration(0)),
			rapid.SampledFrom([]time.Duration{time.Second, 12500 * time.Millisecond, time.Hour}),
			genDur(0, 1<<62),
		).Draw(t, "at")
		steps = append(steps, Step{At: at, Action: genAction.Draw(t, "action")})
	}
	return Schedule{Steps: steps}
})

// TestRoundTrip: every valid schedule prints to text that parses back to
// the same schedule (in time order), and printing again gives the same text.
func TestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genSchedule.Draw(t, "schedule")
		if err := s.Validate(); err != nil {
			t.Fatalf("generator made an invalid schedule: %v", err)
		}
		text := s.String()
		got, err := Parse("gen", text)
		if err != nil {
			t.Fatalf("printed schedule does not parse: %v\n%s", err, text)
		}
		if !got.Equal(s.Sorted()) {
			t.Fatalf("round trip changed the schedule:\n%s\nreparsed:\n%s", text, got)
		}
		if got.String() != text {
			t.Fatalf("printing is not stable:\n%s\nthen:\n%s", text, got)
		}
	})
}

// TestSwarmRoundTrip: generated schedules are plain schedules.
func TestSwarmRoundTrip(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		s, _ := Swarm(rand.New(rand.NewPCG(seed, 1)), []string{"b1", "b2", "b3"}, time.Minute, SwarmOptions{})
		got, err := Parse("swarm", s.String())
		if err != nil || !got.Equal(s) {
			t.Fatalf("seed %d: round trip failed (%v):\n%s", seed, err, s)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("at 10s crash broker-1 mode=power-loss\nat 12.5s restart broker-1\n")
	f.Add("at 21s split a,b|c # comment\nat 30s heal\n")
	f.Add("at 23s bridge a | b | c\nat 1s one-way a>b\n")
	f.Add("at 8s latency *>b base=1ms jitter=pareto:1ms alpha=2 cap=9ms bytes-per-second=7\n")
	f.Add("at 5s disk b read-error=100ppm slow-sync=1ppm slow-sync-extra=5ns capacity=9\nat 6s disk b none\n")
	f.Add("at 6s bit-rot b file=x=y offset=0\nat 7s clock-jump b +5m\nat 7s clock-skew b -1h\n")
	f.Add("at 1s crash b mode=x\n")
	f.Add("at 1h0m0s kill é\nat 0s reset-random-conn\nat 0s reset-conns b\n")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Parse("fuzz", text)
		if err != nil {
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("parsed an invalid schedule: %v", err)
		}
		printed := s.String()
		again, err := Parse("printed", printed)
		if err != nil {
			t.Fatalf("printed form does not parse: %v\n%s", err, printed)
		}
		if !again.Equal(s) || again.String() != printed {
			t.Fatalf("re-parse differs:\n%s\nthen:\n%s", printed, again)
		}
	})
}
