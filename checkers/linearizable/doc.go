// Package linearizable checks, with porcupine, that each topic-partition's
// log is linearizable: that there is one order of the partition's operations,
// each taking effect at an instant between its invoke and its completion, in
// which every acknowledged send got the offset the broker returned and every
// poll read exactly what the log held.
//
// # Model
//
// Histories are partitioned per topic-partition (the log of one partition
// is independent of the others) and checked one by one. The state is the
// sequence of values at offsets 0, 1, ..., len-1. Operations:
//
//	send(v) ok at offset o     legal iff o == len(state); appends v
//	send(v) fail               left out: it had no effect
//	send(v) info or pending    may or may not have taken effect: its return
//	                           is "never" (after every other operation), so
//	                           porcupine may place it anywhere after its
//	                           invoke, including after everything (= it did
//	                           not happen); when placed, it appends v at
//	                           len(state)
//	poll(p) ok -> [(o_i, v_i)] legal iff the offsets are exactly p, p+1, ...
//	                           (contiguous from the fetch position), every
//	                           o_i < len(state) and v_i == state[o_i]
//	poll(p) ok -> []           legal iff len(state) <= p: a single leader
//	                           serves up to its high watermark, and for
//	                           acks=all an acknowledged record is below it;
//	                           with Options.StaleReads always legal (acks=1,
//	                           where the ack precedes the high watermark, or
//	                           reads from followers)
//	poll fail or info          left out: a poll has no effect
//
// Values identify records (workloads make every sent value unique); keys are
// not compared. A poll need not return everything up to the log end (a
// fetch is bounded in bytes), only a correct contiguous run.
//
// Sends whose partition was never known (the invoke said -1 and the
// operation ended info or pending) may have landed in any partition of their
// topic, so they are offered to each one as info sends. Such a send could
// then be placed in two partitions at once: this checker is permissive
// there, and the queue checker reports a value at two positions.
//
// Times given to porcupine are record indexes, not clock readings: the
// history Writer appends records in the order events happen (one global
// order in simulation, and under its lock in real runs, where clocks of
// different processes are not comparable), so [invoke index, completion
// index] brackets the instant the operation took effect.
//
// # Info sends without the search blowing up
//
// An info send explored at every point is what makes porcupine slow, so three
// exact reductions are applied before the search:
//
//   - An info send whose value was read at exactly one offset q (and which
//     is the only send of that value) can only have taken effect at q: it is
//     checked as a send with offset q, still with return "never".
//   - An info send whose value was never read is dropped when the offsets
//     acknowledged or read in the partition have no hole below the highest
//     of them, M. Proof: with no hole, every offset <= M is pinned by an ok
//     send (which must be at that offset) or a read of another value, so the
//     unread send can only sit above M, where nothing observes it; and
//     placing it last, after every other operation, is always legal. Hence
//     the history is linearizable with it iff it is without it.
//   - When there is a hole (an offset no one acknowledged or read, which only
//     an info send can fill), the unread info sends are kept as fillers: their
//     values never matter (no read can match them), only their places. Any
//     two are interchangeable, and swapping an earlier-invoked unused filler
//     into a later-invoked one's place keeps a linearization legal (both
//     return "never"), so if any linearization exists, one exists that uses
//     the fillers in invoke order. The model therefore only accepts the
//     filler of rank k when k fillers are already in the log, which turns
//     porcupine's search over subsets and orders of them into one choice per
//     step (place the next filler or not). And it accepts a filler only at
//     an offset nobody claimed (acknowledged, or read), since a filler at a
//     claimed offset contradicts that ack or read; without this, a filler
//     put where a read info send belongs (whose return is "never") would
//     only be refuted by a poll arbitrarily later, and the search in between
//     is exponential.
//
// Options.KeepUnreadInfoSends turns the second reduction off (the third still
// applies); the property tests check both settings agree.
//
// # State representation
//
// A state is (shared backing array, length, rolling hash of the sequence):
// appends are O(1) without copying while porcupine walks forward, Hash lets
// porcupine's cache skip most Equal calls, and Equal is exact (it compares
// values when two states share a hash but not a backing). model.go argues
// why sharing the backing is safe.
//
// # Verdicts, timeout, visualization
//
// Each partition is pass (porcupine: Ok), fail (Illegal) or unknown: the
// search ran out of Options.Timeout (default 10 s per partition), and the
// verdict depends on machine speed, so it is reported as unknown, never as
// pass, and trace hashes never include it. A failing partition is searched a
// second time with porcupine's verbose mode to name the operations outside
// the longest partial linearization (the evidence) and, if
// Options.WriteFile is set, to write porcupine's HTML visualization as
// "linearizable-<topic>-<partition>.html".
//
// Ownership and imports: this package owns the model and the translation of
// a history into porcupine operations. It imports history,
// checkers/verdict and github.com/anishathalye/porcupine; it does no I/O of
// its own (the caller's WriteFile does).
package linearizable
