package faults

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/loglab/loglab/netsim"
	"github.com/loglab/loglab/sim"
	"github.com/loglab/loglab/sim/disk"
)

// Action is one fault (or its repair). Every Action of this package has a
// printed form (String, the text after "at <time> " in a schedule file) that
// Parse reads back to an equal value.
//
// The interface is sealed (check is unexported): Parse must know every
// action, or a printed schedule would not parse back.
type Action interface {
	// Apply performs the action on w now. Node names go through r first
	// (nil: identity); names the world does not know are skipped and traced
	// as "fault.skip", never a panic.
	Apply(w *sim.World, r Resolver)
	// String is the printed form, e.g. "crash broker-1 mode=power-loss".
	String() string
	// check reports the first invalid field as a *fieldError.
	check() error
	// nodes lists the node names the action names, in order.
	nodes() []string
}

// Resolver maps a node name of a schedule to the node names of the world it
// stands for, for the action a about to be applied. It is the hook for
// symbolic names ("leader:events-0", "controller") that only the running
// cluster can resolve; the scenario passes one to ApplyWith. Knowing the
// action lets a resolver bind a symbolic name when a fault breaks something
// and hand the same nodes to the matching repair (RoleOf). A nil Resolver
// is the identity. A name resolving to nothing skips the action for that
// name.
type Resolver func(a Action, name string) []string

// Role is an action's part in a fault's life: it breaks something that a
// later action of the same Class repairs (crash or stop, then restart), it
// is that repair, or it is instant (Class "": connection resets, bit rot
// and clock moves, which nothing undoes).
type Role struct {
	// Class pairs breaks with repairs: "down" (crash, stop / restart),
	// "pause" (pause / resume), "net" (isolate, split, one-way, bridge /
	// heal), "disk" (disk faults / disk NODE none), "link" (a latency other
	// than the network's default link / the default link again).
	Class  string
	Repair bool
}

// RoleOf classifies an action (see Role).
func RoleOf(a Action) Role {
	switch a := a.(type) {
	case Crash, Stop:
		return Role{Class: "down"}
	case Restart:
		return Role{Class: "down", Repair: true}
	case Pause:
		return Role{Class: "pause"}
	case Resume:
		return Role{Class: "pause", Repair: true}
	case Isolate, Split, OneWay, Bridge:
		return Role{Class: "net"}
	case Heal:
		return Role{Class: "net", Repair: true}
	case DiskFaults:
		return Role{Class: "disk", Repair: a.Faults == disk.Faults{}}
	case Latency:
		return Role{Class: "link", Repair: a.Link == netsim.DefaultConfig().DefaultLink}
	}
	return Role{}
}

// Crash kills a node; its disk loses unsynced state according to Mode.
// Mode disk.KeepPageCache is a process kill (see Kill).
type Crash struct {
	Node string
	Mode disk.CrashMode
}

// Kill is a process kill: a crash that keeps the kernel's page cache.
func Kill(node string) Crash { return Crash{Node: node, Mode: disk.KeepPageCache} }

// Restart boots a node that is down (a no-op on a node that is up).
type Restart struct{ Node string }

// Stop shuts a node down cleanly (host.Stopper); restart it with Restart.
type Stop struct{ Node string }

// Pause freezes a node's loop (a GC pause, SIGSTOP) until Resume.
type Pause struct{ Node string }

// Resume unfreezes a paused node; its held events run at once.
type Resume struct{ Node string }

// Isolate cuts a node off from every other node, both ways, until Heal.
type Isolate struct{ Node string }

// Split blocks both directions between every node of A and every node of B
// until Heal.
type Split struct{ A, B []string }

// OneWay blocks frames From -> To until Heal; To -> From still flows.
type OneWay struct{ From, To string }

// Bridge splits A from B while the node Bridge still talks to both, until
// Heal.
type Bridge struct {
	A, B   []string
	Bridge string
}

// Heal removes every partition; held frames go out.
type Heal struct{}

// Latency sets the model of the directed link From -> To. Either end may be
// "*", every node of the world; "*" to "*" sets the default link (every link
// SetLink has not overridden).
type Latency struct {
	From, To string
	Link     netsim.Link
}

// ResetConns resets every connection with an end on Node.
type ResetConns struct{ Node string }

// ResetRandomConn resets one live connection chosen with the world's
// "faults" random stream.
type ResetRandomConn struct{}

// DiskFaults replaces the storage faults of Node's disk (rates of read
// errors, bit flips on read, write errors, fsync failures, slow fsyncs, and
// a capacity for ENOSPC). The zero Faults clears them: see ClearDisk.
type DiskFaults struct {
	Node   string
	Faults disk.Faults
}

// ClearDisk clears every storage fault of node's disk.
func ClearDisk(node string) DiskFaults { return DiskFaults{Node: node} }

// BitRot flips one bit on the media of Node's disk (persistent corruption).
// File "" rots a byte drawn over every file's durable bytes (Offset must
// then be 0); otherwise Offset is the byte of File to rot, or -1 for one
// drawn at random. A File ending in "/" is a directory: a byte of one of
// the segment files ("*.log") directly under it is drawn (Offset -1), e.g.
// "events-0/" for a replica's log of partition events-0. Randomness comes
// from the world's "faults" stream.
type BitRot struct {
	Node   string
	File   string
	Offset int64
}

// ClockSkew sets Node's wall-clock offset (its timers are unaffected).
type ClockSkew struct {
	Node   string
	Offset time.Duration
}

// ClockJump moves Node's wall clock by Delta (forward or back).
type ClockJump struct {
	Node  string
	Delta time.Duration
}

// MaxClockOffset bounds clock skews and jumps (about a year), so offsets
// never overflow.
const MaxClockOffset = 24 * 366 * time.Hour

// RandStream is the name of the world's random stream the fault actions
// draw from (random connection resets, random bit rot).
const RandStream = "faults"

// --- crash modes ---------------------------------------------------------

// crashModes are the printed names of disk.CrashMode, in the order listed
// in errors.
var crashModes = []struct {
	name string
	mode disk.CrashMode
}{
	{"power-loss", disk.LoseUnsynced},
	{"keep-random-pages", disk.KeepRandomPages},
	{"torn-sector", disk.TornLastSector},
	{"process-kill", disk.KeepPageCache},
}

// CrashModeName is the schedule name of a crash mode ("power-loss", ...).
func CrashModeName(m disk.CrashMode) string {
	for _, c := range crashModes {
		if c.mode == m {
			return c.name
		}
	}
	return "mode(" + strconv.Itoa(int(m)) + ")"
}

// ParseCrashMode reads a crash mode's schedule name.
func ParseCrashMode(s string) (disk.CrashMode, error) {
	for _, c := range crashModes {
		if c.name == s {
			return c.mode, nil
		}
	}
	names := make([]string, len(crashModes))
	for i, c := range crashModes {
		names[i] = c.name
	}
	return 0, fmt.Errorf("unknown crash mode %q (valid: %s)", s, strings.Join(names, ", "))
}

// --- Apply ----------------------------------------------------------------

// targets resolves name and keeps the nodes the world knows; the others are
// traced and dropped.
func targets(w *sim.World, r Resolver, a Action, name string) []string {
	names := []string{name}
	if r != nil {
		names = r(a, name)
	}
	known := w.Nodes()
	var out []string
	for _, n := range names {
		if contains(known, n) {
			out = append(out, n)
		} else {
			w.Trace("", "fault.skip", a.String()+": unknown node "+strconv.Quote(n))
		}
	}
	return out
}

func targetsAll(w *sim.World, r Resolver, a Action, names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, targets(w, r, a, n)...)
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (a Crash) Apply(w *sim.World, r Resolver) {
	for _, n := range targets(w, r, a, a.Node) {
		w.Crash(n, a.Mode)
	}
}

func (a Restart) Apply(w *sim.World, r Resolver) {
	for _, n := range targets(w, r, a, a.Node) {
		w.Restart(n)
	}
}

func (a Stop) Apply(w *sim.World, r Resolver) {
	for _, n := range targets(w, r, a, a.Node) {
		w.Stop(n, nil)
	}
}

func (a Pause) Apply(w *sim.World, r Resolver) {
	for _, n := range targets(w, r, a, a.Node) {
		w.Pause(n)
	}
}

func (a Resume) Apply(w *sim.World, r Resolver) {
	for _, n := range targets(w, r, a, a.Node) {
		w.Resume(n)
	}
}

func (a Isolate) Apply(w *sim.World, r Resolver) {
	for _, n := range targets(w, r, a, a.Node) {
		w.Net().Isolate(n)
	}
}

func (a Split) Apply(w *sim.World, r Resolver) {
	sa, sb := targetsAll(w, r, a, a.A), targetsAll(w, r, a, a.B)
	if len(sa) > 0 && len(sb) > 0 {
		w.Net().Split(sa, sb)
	}
}

func (a OneWay) Apply(w *sim.World, r Resolver) {
	// Each end is resolved once (a resolver may bind or draw).
	from, to := targets(w, r, a, a.From), targets(w, r, a, a.To)
	for _, f := range from {
		for _, t := range to {
			w.Net().OneWay(f, t)
		}
	}
}

func (a Bridge) Apply(w *sim.World, r Resolver) {
	sa, sb := targetsAll(w, r, a, a.A), targetsAll(w, r, a, a.B)
	for _, br := range targets(w, r, a, a.Bridge) {
		if len(sa) > 0 && len(sb) > 0 {
			w.Net().Bridge(sa, sb, br)
		}
	}
}

func (Heal) Apply(w *sim.World, _ Resolver) { w.Net().Heal() }

func (a Latency) Apply(w *sim.World, r Resolver) {
	if a.From == "*" && a.To == "*" {
		w.Net().SetDefaultLink(a.Link)
		return
	}
	end := func(name string) []string {
		if name == "*" {
			return w.Nodes()
		}
		return targets(w, r, a, name)
	}
	from, to := end(a.From), end(a.To) // each end resolved once
	for _, f := range from {
		for _, t := range to {
			if f != t {
				w.Net().SetLink(f, t, a.Link)
			}
		}
	}
}

func (a ResetConns) Apply(w *sim.World, r Resolver) {
	for _, n := range targets(w, r, a, a.Node) {
		w.Net().ResetConnections(n)
	}
}

func (a ResetRandomConn) Apply(w *sim.World, _ Resolver) {
	ci, ok := w.Net().ResetRandomConnection(w.Rand(RandStream))
	if !ok {
		w.Trace("", "fault.skip", a.String()+": no live connection")
		return
	}
	w.Trace("", "fault.reset", ci.DialerAddr+">"+ci.DialedAddr)
}

func (a DiskFaults) Apply(w *sim.World, r Resolver) {
	for _, n := range targets(w, r, a, a.Node) {
		w.Disk(n).SetFaults(a.Faults)
	}
}

func (a BitRot) Apply(w *sim.World, r Resolver) {
	rnd := w.Rand(RandStream)
	for _, n := range targets(w, r, a, a.Node) {
		d := w.Disk(n)
		if a.File == "" {
			name, off, ok := d.RandomBitRot(rnd)
			if !ok {
				w.Trace(n, "fault.skip", a.String()+": no durable bytes")
				continue
			}
			w.Trace(n, "fault.bit-rot", name+" offset="+strconv.FormatInt(off, 10))
			continue
		}
		if strings.HasSuffix(a.File, "/") {
			file, off, ok := rotInDir(d, rnd, a.File)
			if !ok {
				w.Trace(n, "fault.skip", a.String()+": no durable segment bytes")
				continue
			}
			if err := d.BitRot(file, off); err != nil {
				w.Trace(n, "fault.skip", a.String()+": "+err.Error())
				continue
			}
			w.Trace(n, "fault.bit-rot", file+" offset="+strconv.FormatInt(off, 10))
			continue
		}
		off := a.Offset
		if off < 0 {
			data, ok := d.DurableContent(a.File)
			if !ok || len(data) == 0 {
				w.Trace(n, "fault.skip", a.String()+": no durable bytes")
				continue
			}
			off = rnd.Int64N(int64(len(data)))
		}
		if err := d.BitRot(a.File, off); err != nil {
			w.Trace(n, "fault.skip", a.String()+": "+err.Error())
			continue
		}
		w.Trace(n, "fault.bit-rot", a.File+" offset="+strconv.FormatInt(off, 10))
	}
}

// rotInDir draws a durable byte of a segment file directly under dir: a
// file drawn uniformly among those with durable bytes, then a byte of it.
func rotInDir(d *disk.Disk, rnd *rand.Rand, dir string) (string, int64, bool) {
	var files []string
	var sizes []int64
	for _, f := range d.DurableFiles() {
		rest, ok := strings.CutPrefix(f, dir)
		if !ok || strings.Contains(rest, "/") || !strings.HasSuffix(rest, ".log") {
			continue
		}
		if data, ok := d.DurableContent(f); ok && len(data) > 0 {
			files = append(files, f)
			sizes = append(sizes, int64(len(data)))
		}
	}
	if len(files) == 0 {
		return "", 0, false
	}
	i := rnd.IntN(len(files))
	return files[i], rnd.Int64N(sizes[i]), true
}

func (a ClockSkew) Apply(w *sim.World, r Resolver) {
	for _, n := range targets(w, r, a, a.Node) {
		w.SetClockOffset(n, a.Offset)
	}
}

func (a ClockJump) Apply(w *sim.World, r Resolver) {
	for _, n := range targets(w, r, a, a.Node) {
		// Repeated jumps saturate instead of overflowing.
		off := min(max(w.ClockOffset(n)+a.Delta, -MaxClockOffset), MaxClockOffset)
		w.SetClockOffset(n, off)
	}
}
