package scenarios

import (
	"sort"
	"strings"
	"time"

	"github.com/loglab/loglab/history"
)

// checkSingleBroker is the single-broker scenarios' durability checker, a
// small Jepsen-style queue checker over the client history. The final read
// is the union of the polls made by process finalReader, which started
// after the last recovery, once every send had its outcome, and read every
// partition from its start to its end. The rules:
//
//   - lost-write: a send acknowledged ok (partition p, offset o, value v)
//     whose value is absent from the final read of p.
//   - divergent-offset: an acknowledgement the final read contradicts
//     although the value survived (v is in the final read of p, but not at
//     o), or a final read with two values at one offset. A lost write
//     followed by a new write at its offset (offsets reused after a power
//     loss) is the lost write's mark, not a second anomaly.
//   - unstable-read: a poll returned v at (p, o) but the final read holds
//     something else (or nothing) there, and v is not a lost write already
//     reported: a consumer saw a record the log later took back, e.g. an
//     unsynced record that a power loss erased and a retry appended again
//     elsewhere. It is an anomaly only where the scenario's spec says reads
//     are stable (stableReads); otherwise it is counted in the stats.
//   - phantom: a poll returned a value that no send carried, or one whose
//     send definitely failed.
//
// Duplicates (one value at two offsets) are allowed: the producer is not
// idempotent and retries; they are counted in the stats.
func checkSingleBroker(res *Result, ops []history.Operation, finalReader string, stableReads bool, crashTimes []string) map[string]int64 {
	stats := map[string]int64{}
	type sendInfo struct {
		outcome history.Type
		p       int32
		offset  int64
		ackedAt int64
	}
	sends := map[string]sendInfo{} // by value; workloads make values unique
	var acked []history.Operation
	type pv struct {
		p int32
		v string
	}
	type po struct {
		p int32
		o int64
	}
	final := map[po]string{}
	finalHas := map[pv][]int64{}
	type read struct {
		process string
		at      int64
		v       string
	}
	reads := map[po][]read{} // every poll's reads, in history order
	for _, op := range ops {
		switch op.Invoke.F {
		case history.Send:
			stats["sends"]++
			out := op.Outcome()
			stats["sends_"+string(out)]++
			sends[op.Invoke.Value] = sendInfo{outcome: out, p: op.Partition(), offset: op.Offset(), ackedAt: op.Completion.Time}
			if out == history.OK {
				acked = append(acked, op)
			}
		case history.Poll:
			stats["polls"]++
			if op.Outcome() != history.OK {
				continue
			}
			stats["polls_ok"]++
			p := op.Partition()
			for _, r := range op.Completion.Records {
				stats["records_read"]++
				k := po{p, r.Offset}
				reads[k] = append(reads[k], read{op.Invoke.Process, op.Completion.Time, r.Value})
				if op.Invoke.Process != finalReader {
					continue
				}
				if prev, seen := final[k]; seen {
					if prev != r.Value {
						res.AddFinding("divergent-offset", "the final read saw %q and %q at partition %d offset %d", prev, r.Value, p, r.Offset)
					}
					continue
				}
				final[k] = r.Value
				finalHas[pv{p, r.Value}] = append(finalHas[pv{p, r.Value}], r.Offset)
				stats["final_records"]++
			}
		}
	}
	crashes := strings.Join(crashTimes, ", ")

	for _, op := range acked {
		p, o, v := op.Partition(), op.Offset(), op.Invoke.Value
		at := time.Duration(op.Completion.Time)
		offs := finalHas[pv{p, v}]
		switch {
		case len(offs) == 0:
			stats["acked_lost"]++
			res.AddFinding("lost-write", "%q acknowledged at %v at partition %d offset %d is absent from the final read (final holds %q there); crashes: %s",
				v, at, p, o, final[po{p, o}], crashes)
		case final[po{p, o}] != v:
			res.AddFinding("divergent-offset", "%q acknowledged at %v at partition %d offset %d is in the final read at offsets %v, not at %d (which holds %q)",
				v, at, p, o, offs, o, final[po{p, o}])
		}
	}

	keys := make([]po, 0, len(reads))
	for k := range reads { //detcheck:ordered keys are sorted below
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].p != keys[j].p {
			return keys[i].p < keys[j].p
		}
		return keys[i].o < keys[j].o
	})
	for _, k := range keys {
		seen := map[string]bool{}
		for _, r := range reads[k] {
			if seen[r.v] {
				continue
			}
			seen[r.v] = true
			s, sent := sends[r.v]
			if !sent || s.outcome == history.Fail {
				res.AddFinding("phantom", "%s read %q at partition %d offset %d at %v, a value never sent or whose send failed", r.process, r.v, k.p, k.o, time.Duration(r.at))
				continue
			}
			fv, has := final[k]
			if has && fv == r.v {
				continue
			}
			if s.outcome == history.OK && len(finalHas[pv{k.p, r.v}]) == 0 {
				continue // a lost write, reported above
			}
			stats["unstable_reads"]++
			if stableReads {
				res.AddFinding("unstable-read", "%s read %q at partition %d offset %d at %v (its send: %s); the final read holds %q there (%q survives at offsets %v); crashes: %s",
					r.process, r.v, k.p, k.o, time.Duration(r.at), s.outcome, fv, r.v, finalHas[pv{k.p, r.v}], crashes)
			}
		}
	}
	dups := int64(0)
	for _, offs := range finalHas { //detcheck:ordered only counted
		if len(offs) > 1 {
			dups += int64(len(offs) - 1)
		}
	}
	stats["duplicates"] = dups
	return stats
}
