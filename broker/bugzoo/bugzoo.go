package bugzoo

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// Bug is one deliberate bug.
type Bug uint8

// The bugs, in the order Names lists them.
const (
	// AckBeforeFlush: the log reports a write durable (WhenDurable) at
	// once, before the sync that should make it so has completed, so a
	// produce under flush.messages=1 is acknowledged before its flush.
	AckBeforeFlush Bug = iota
	// RecoveryKeepsCorruptTail: recovery finds a torn or CRC-bad tail in
	// the last segment and keeps it as if it were data instead of
	// truncating it; later appends land behind the garbage.
	RecoveryKeepsCorruptTail
	// FetchPastHighWatermark: Fetch serves (and reports) records up to
	// the log end offset instead of the high watermark, so under
	// flush.messages=1 consumers see records not yet synced.
	FetchPastHighWatermark
	// IndexOffByOne: the offset-index lookup returns the entry after the
	// right one, so a read starts one index entry too far and silently
	// skips the batches in between.
	IndexOffByOne
	// HWBeforeISR: the partition leader advances its high watermark to its
	// own log end offset, ignoring the followers, so acks=all is answered
	// and consumers read records no other replica has.
	HWBeforeISR
	// ISRShrinkWithoutController: the leader drops lagging followers from
	// its ISR locally, without an AlterPartition the controller approved,
	// and advances the high watermark without them; the controller still
	// elects from its own, larger ISR.
	ISRShrinkWithoutController
	// FollowerTruncatesToHW: a follower truncates to its high watermark on
	// becoming follower instead of asking the leader for the end offset
	// of its epoch (the KIP-101 bug: replicas can diverge).
	FollowerTruncatesToHW
	// FencedLeaderAcceptsWrites: a leader whose leadership the metadata
	// image moved away keeps accepting and acknowledging writes.
	FencedLeaderAcceptsWrites
	// UncleanElection: the controller elects the first live replica when
	// no ISR member is usable, even with unclean.leader.election.enable
	// off (metadata.Image.Apply).
	UncleanElection
	// CommitStaleGeneration: the group coordinator accepts an OffsetCommit
	// without checking the member and its generation, so a member fenced
	// by a rebalance can overwrite the new owner's committed offset.
	CommitStaleGeneration
	// SkipSequenceCheck: the partition leader appends idempotent batches
	// without checking their producer sequence numbers, so a retried
	// batch is stored twice.
	SkipSequenceCheck
	// RecoveryLossTrusted: a replica whose log reopened shorter than what
	// it had (recovery cut a torn or rotten tail, or the log ends below
	// the checkpointed high watermark) trusts it anyway: elected, it leads
	// at once with its short log and the other replicas truncate to it —
	// Kafka's "last replica standing" hole before KIP-966.
	RecoveryLossTrusted
	// HWBelowMinISR: the leader advances its high watermark while the ISR
	// is smaller than min.insync.replicas (Kafka before KIP-966's strict
	// min-ISR rule), so consumers read records that only the leader
	// holds; if its log then loses them, their offsets are handed out
	// again.
	HWBelowMinISR
	// EpochFieldTrusted: batches' PartitionLeaderEpoch, which the CRC
	// does not cover, is trusted as read: reads do not check it against
	// the leader-epoch cache, recovery does not check it against the
	// leader-epoch checkpoint and the batches around it, followers take
	// batches from an epoch newer than their leader's, and a broker whose
	// log claims an epoch newer than the controller's keeps it (and then
	// refuses every append as leader).
	EpochFieldTrusted

	numBugs
)

var names = [numBugs]string{
	AckBeforeFlush:           "ack-before-flush",
	RecoveryKeepsCorruptTail: "recovery-keeps-corrupt-tail",
	FetchPastHighWatermark:   "fetch-past-high-watermark",
	IndexOffByOne:            "index-off-by-one",

	HWBeforeISR:                "hw-before-isr",
	ISRShrinkWithoutController: "isr-shrink-without-controller",
	FollowerTruncatesToHW:      "follower-truncates-to-hw",
	FencedLeaderAcceptsWrites:  "fenced-leader-accepts-writes",
	UncleanElection:            "unclean-election",

	CommitStaleGeneration: "commit-stale-generation",
	SkipSequenceCheck:     "skip-sequence-check",
	RecoveryLossTrusted:   "recovery-loss-trusted",
	HWBelowMinISR:         "hw-below-min-isr",
	EpochFieldTrusted:     "epoch-field-trusted",
}

// String is the bug's name.
func (b Bug) String() string {
	if b < numBugs {
		return names[b]
	}
	return fmt.Sprintf("bug(%d)", uint8(b))
}

// Names lists every bug's name, in declaration order.
func Names() []string { return append([]string(nil), names[:]...) }

// Set is a set of bugs switched on; the zero Set has none. It is a
// comparable value so that configs holding it stay comparable.
type Set uint64

// Has reports whether b is on.
func (s Set) Has(b Bug) bool { return s&(1<<b) != 0 }

// With returns s with b on.
func (s Set) With(b Bug) Set { return s | 1<<b }

// Empty reports whether no bug is on.
func (s Set) Empty() bool { return s == 0 }

// Len is the number of bugs on.
func (s Set) Len() int { return bits.OnesCount64(uint64(s)) }

// Names lists the bugs on, in declaration order.
func (s Set) Names() []string {
	var out []string
	for b := Bug(0); b < numBugs; b++ {
		if s.Has(b) {
			out = append(out, names[b])
		}
	}
	return out
}

// String is the names joined with commas ("" for none).
func (s Set) String() string { return strings.Join(s.Names(), ",") }

// ErrUnknownBug classifies a name that is not one of Names.
var ErrUnknownBug = errors.New("bugzoo: unknown bug")

// Parse turns names into a Set. A name may repeat; an unknown one is an
// error wrapping ErrUnknownBug that lists the valid names.
func Parse(list []string) (Set, error) {
	var s Set
	for _, n := range list {
		b, ok := lookup(n)
		if !ok {
			return 0, fmt.Errorf("%w %q (known: %s)", ErrUnknownBug, n, strings.Join(names[:], ", "))
		}
		s = s.With(b)
	}
	return s, nil
}

func lookup(name string) (Bug, bool) {
	for b, n := range names {
		if n == name {
			return Bug(b), true
		}
	}
	return 0, false
}
