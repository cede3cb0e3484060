package controller

// The data-driven test of the raft log file (testdata/wal.txt): appends,
// rewrites, crashes of the simulated disk, damage and injected faults,
// and what recovery (openWAL, then StartVoter) makes of the file after
// each. The format is documented in wal.go.
//
// Directives:
//
//	open                 recover the log as a restarting voter does
//	append [entries=(2/1,...)] [hard=(term,vote,commit)] [nosync]
//	rewrite snap=I/T [hard=(term,vote,commit)] [entries=(I/T,...)]
//	crash [mode=LoseUnsynced|KeepRandomPages|TornLastSector|KeepPageCache]
//	    the node loses power (or its process) and restarts
//	damage [cut=N] [flip=OFFSET] [record=TYPE] [junk=HEX]
//	    cut N bytes off the end, flip a byte (negative: from the end),
//	    append a well-formed record (snapshot, unknown-type, bad-entry,
//	    bad-hardstate) or raw bytes; on the file, outside the log's code
//	stale-tmp            leave a wal.tmp behind, as a crash mid-rewrite does
//	wipe                 remove the log files (a new disk)
//	faults spec=F        sim/disk faults (ParseFaults form; "none")
//	files                the files of the log's directory
//	start-voter          StartVoter on this disk: raft state, or why not
//	                     (then stops it; open again to go on)

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
	"github.com/loglab/loglab/sim/disk"
	"go.etcd.io/raft/v3/raftpb"
)

func TestWALDataDriven(t *testing.T) {
	d := &walDriver{}
	datadriven.RunTest(t, "testdata/wal.txt", d.run)
}

type walDriver struct {
	*simNode
	wal *wal
}

const walNode, walDir = "voter", "controller"

// simNode is a world with one node, started; h is the Host of the node's
// current incarnation (a crash and restart gives it a new one).
type simNode struct {
	w *sim.World
	h host.Host
}

func newSimNode(name string) *simNode {
	n := &simNode{w: sim.NewWorld(sim.Config{Seed: 1})}
	n.w.AddNode(name, func() host.Node { return sim.NodeFunc(func(h host.Host) { n.h = h }) })
	n.w.Start(name)
	n.w.RunFor(0) // the node's Start
	return n
}

func (d *walDriver) run(t *testing.T, td *datadriven.TestData) string {
	if d.simNode == nil {
		d.simNode = newSimNode(walNode)
	}
	var out strings.Builder
	switch td.Cmd {
	case "open":
		if d.wal != nil {
			d.wal.close()
		}
		w, st, err := openWAL(d.h.Disk(), walDir)
		if err != nil {
			d.wal = nil
			return "error: " + err.Error() + "\n"
		}
		d.wal = w
		printWALState(&out, st)
		fmt.Fprintf(&out, "size %d\n", w.size)
	case "append":
		if d.wal == nil {
			return "no open log\n"
		}
		ents := entriesArg(t, td, "entries")
		d.await(t, &out, func(done func(error)) { d.wal.append(ents, hardArg(t, td), !td.HasArg("nosync"), done) })
		fmt.Fprintf(&out, "size %d\n", d.wal.size)
	case "rewrite":
		if d.wal == nil {
			return "no open log\n"
		}
		var snap raftpb.Snapshot
		snap.Metadata.Index, snap.Metadata.Term = indexTerm(t, td, argVal(t, td, "snap"))
		snap.Data = (&metadata.Image{Offset: int64(snap.Metadata.Index)}).Encode()
		snap.Metadata.ConfState.Voters = []uint64{1}
		ents := entriesArg(t, td, "entries")
		d.await(t, &out, func(done func(error)) { d.wal.rewrite(snap, hardArg(t, td), ents, done) })
		fmt.Fprintf(&out, "size %d\n", d.wal.size)
	case "crash":
		mode := disk.LoseUnsynced
		if td.HasArg("mode") {
			name := argVal(t, td, "mode")
			for m := disk.LoseUnsynced; m <= disk.KeepPageCache; m++ {
				if m.String() == name {
					mode = m
				}
			}
			if mode.String() != name {
				td.Fatalf(t, "crash mode %q", name)
			}
		}
		d.w.Crash(walNode, mode)
		d.w.Start(walNode)
		d.w.RunFor(0)
		d.wal = nil
		fmt.Fprintf(&out, "crashed (%v) and restarted\n", mode)
	case "damage":
		f, err := d.h.Disk().OpenFile(walDir+"/wal", false)
		if err != nil {
			td.Fatalf(t, "%v", err)
		}
		size, _ := f.Size()
		if td.HasArg("cut") {
			n, _ := strconv.Atoi(argVal(t, td, "cut"))
			size -= int64(n)
			if err := f.Truncate(size); err != nil {
				td.Fatalf(t, "%v", err)
			}
		}
		if td.HasArg("flip") {
			off, _ := strconv.ParseInt(argVal(t, td, "flip"), 10, 64)
			if off < 0 {
				off += size
			}
			b := make([]byte, 1)
			f.ReadAt(b, off)
			b[0] ^= 0x40
			f.WriteAt(b, off)
		}
		if td.HasArg("record") {
			// A well-formed record (valid CRC) of the named type.
			var b []byte
			switch argVal(t, td, "record") {
			case "snapshot":
				b = appendWALRecord(nil, walRecSnapshot, mustMarshal(&raftpb.Snapshot{Metadata: raftpb.SnapshotMetadata{Index: 9, Term: 9}}))
			case "unknown-type":
				b = appendWALRecord(nil, 7, []byte("x"))
			case "bad-entry":
				b = appendWALRecord(nil, walRecEntry, []byte{0xff, 0xff})
			case "bad-hardstate":
				b = appendWALRecord(nil, walRecHardState, []byte{0xff, 0xff})
			default:
				td.Fatalf(t, "record %q", argVal(t, td, "record"))
			}
			f.WriteAt(b, size)
			size += int64(len(b))
		}
		if td.HasArg("junk") {
			b, err := hex.DecodeString(argVal(t, td, "junk"))
			if err != nil {
				td.Fatalf(t, "%v", err)
			}
			f.WriteAt(b, size)
			size += int64(len(b))
		}
		f.Close()
		fmt.Fprintf(&out, "file size %d\n", size)
	case "stale-tmp":
		f, err := d.h.Disk().OpenFile(walDir+"/wal.tmp", true)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		f.WriteAt([]byte("half a rewrite"), 0)
		f.Close()
		out.WriteString("ok\n")
	case "wipe":
		for _, n := range []string{"wal", "wal.tmp"} {
			if err := d.h.Disk().Remove(walDir + "/" + n); err != nil && !errors.Is(err, host.ErrNotExist) {
				fmt.Fprintf(&out, "%s: %v\n", n, err)
			}
		}
		d.wal = nil
		out.WriteString("ok\n")
	case "faults":
		f, err := disk.ParseFaults(argVal(t, td, "spec"))
		if err != nil {
			td.Fatalf(t, "%v", err)
		}
		d.w.Disk(walNode).SetFaults(f)
		fmt.Fprintf(&out, "faults: %v\n", f)
	case "files":
		names, err := d.h.Disk().List(walDir)
		if err != nil {
			return "error: " + err.Error() + "\n"
		}
		for _, n := range names {
			f, err := d.h.Disk().OpenFile(walDir+"/"+n, false)
			if err != nil {
				fmt.Fprintf(&out, "%s: %v\n", n, err)
				continue
			}
			size, _ := f.Size()
			f.Close()
			fmt.Fprintf(&out, "%s %d bytes\n", n, size)
		}
	case "start-voter":
		if d.wal != nil {
			d.wal.close()
			d.wal = nil
		}
		v, err := StartVoter(d.h, VoterConfig{ID: 1, Voters: []Peer{{ID: 1, Addr: walNode + ":9093"}}, Dir: walDir})
		d.w.RunFor(10 * time.Millisecond)
		switch {
		case err != nil:
			fmt.Fprintf(&out, "error: %v\n", err)
		case v.Err() != nil:
			fmt.Fprintf(&out, "failed: %v\n", v.Err())
		default:
			fmt.Fprintf(&out, "running: term %d, committed %d, applied %d\n", v.Term(), v.Committed(), v.Applied())
		}
		if v != nil {
			v.Stop()
		}
	default:
		td.Fatalf(t, "unknown directive %q", td.Cmd)
	}
	return out.String()
}

// await runs op and the world until op's callback.
func (d *walDriver) await(t *testing.T, out *strings.Builder, op func(done func(error))) {
	var res error
	done := false
	op(func(err error) { res, done = err, true })
	for end := d.w.Elapsed() + time.Second; !done && d.w.Elapsed() < end; {
		d.w.RunFor(time.Millisecond)
	}
	switch {
	case !done:
		t.Fatal("no answer within a second")
	case res != nil:
		fmt.Fprintf(out, "error: %v\n", res)
	default:
		out.WriteString("done\n")
	}
}

func printWALState(out *strings.Builder, st walState) {
	if st.fresh {
		out.WriteString("fresh: no log file\n")
		return
	}
	if st.torn > 0 {
		fmt.Fprintf(out, "torn tail: %d bytes cut\n", st.torn)
	}
	if m := st.snapshot.Metadata; m.Index > 0 {
		img, err := metadata.DecodeImage(st.snapshot.Data)
		if err != nil {
			fmt.Fprintf(out, "snapshot %d/%d: %v\n", m.Index, m.Term, err)
		} else {
			fmt.Fprintf(out, "snapshot %d/%d voters=%v image at offset %d\n", m.Index, m.Term, m.ConfState.Voters, img.Offset)
		}
	}
	if !isEmptyHardState(st.hard) {
		fmt.Fprintf(out, "hardstate term=%d vote=%d commit=%d\n", st.hard.Term, st.hard.Vote, st.hard.Commit)
	}
	var es []string
	for _, e := range st.entries {
		es = append(es, fmt.Sprintf("%d/%d", e.Index, e.Term))
	}
	fmt.Fprintf(out, "entries [%s]\n", strings.Join(es, " "))
}

func argVal(t *testing.T, td *datadriven.TestData, key string) string {
	a, ok := td.Arg(key)
	if !ok {
		td.Fatalf(t, "missing %s=", key)
	}
	return a.SingleVal(t)
}

func indexTerm(t *testing.T, td *datadriven.TestData, s string) (uint64, uint64) {
	i, tm, _ := strings.Cut(s, "/")
	index, err1 := strconv.ParseUint(i, 10, 64)
	term, err2 := strconv.ParseUint(tm, 10, 64)
	if err1 != nil || err2 != nil {
		td.Fatalf(t, "%q is not index/term", s)
	}
	return index, term
}

// entriesArg reads entries=(I/T,...): normal entries holding a metadata
// record each.
func entriesArg(t *testing.T, td *datadriven.TestData, key string) []raftpb.Entry {
	a, ok := td.Arg(key)
	if !ok {
		return nil
	}
	var ents []raftpb.Entry
	for _, v := range a.Vals {
		i, tm := indexTerm(t, td, v)
		rec := metadata.Record{Type: metadata.TypeDeleteTopic, DeleteTopic: &metadata.DeleteTopic{Name: "t" + v}}
		ents = append(ents, raftpb.Entry{Index: i, Term: tm, Type: raftpb.EntryNormal, Data: rec.Encode(nil)})
	}
	return ents
}

func hardArg(t *testing.T, td *datadriven.TestData) raftpb.HardState {
	a, ok := td.Arg("hard")
	if !ok {
		return raftpb.HardState{}
	}
	if len(a.Vals) != 3 {
		td.Fatalf(t, "hard=(term,vote,commit)")
	}
	var n [3]uint64
	for i, v := range a.Vals {
		x, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			td.Fatalf(t, "hard: %v", err)
		}
		n[i] = x
	}
	return raftpb.HardState{Term: n[0], Vote: n[1], Commit: n[2]}
}
