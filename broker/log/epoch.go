package log

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/loglab/loglab/wire/batch"
)

// Leader-epoch cache (Kafka's LeaderEpochFileCache, KIP-101/KIP-279): the
// first offset of every leader epoch still in the log. See the package doc
// for the invariants and the leader-epoch-checkpoint file.

// Frozen leader-epoch checkpoint format (see the package doc).
const (
	epochCheckpointName    = "leader-epoch-checkpoint"
	epochCheckpointTmp     = "leader-epoch-checkpoint.tmp"
	epochCheckpointVersion = 0
)

// UndefinedEpoch and UndefinedEpochOffset are Kafka's UNDEFINED_EPOCH and
// UNDEFINED_EPOCH_OFFSET: what EndOffsetForEpoch answers when it knows
// nothing about the requested epoch.
const (
	UndefinedEpoch       int32 = -1
	UndefinedEpochOffset int64 = -1
)

// ErrEpochInvariant: a stale leader epoch (AppendAsLeader with an epoch
// older than the latest; AssignEpoch with one older than an epoch that has
// data) or an assignment not at LogEndOffset. The log is unchanged.
var ErrEpochInvariant = errors.New("log: leader epoch invariant violated")

// EpochEntry says that leader epoch Epoch's batches start at StartOffset.
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

// epochCache is the in-memory cache and the state of its file writer.
type epochCache struct {
	// entries, strictly increasing in both fields. The first ones may lie
	// below LogStartOffset: readers see them through clampEntries. Entries
	// hidden by the durable log start offset (durableLSO) are dropped when
	// the file is next written; until then a crash can bring the old
	// segments back, and their epochs with them. The file holds entries as
	// they are, unclamped.
	entries []EpochEntry

	// dirtyFrom: the lowest offset at which the entries differ from what
	// the file will hold once the writes started so far complete
	// (math.MaxInt64: none). flightFrom: the same for the write in flight.
	// The recovery-point checkpoint never claims past either, so recovery
	// rescans every batch the file may disagree with.
	dirtyFrom, flightFrom int64
	inFlight              bool
	again                 bool          // write again once the write in flight completes
	waiters               []func(error) // released when the file matches the entries
	durableLSO            int64         // log start offset known durable: the file may clamp to it
}

// clampEntries is Kafka's truncateFromStart applied as a view: the entries
// as seen from log start offset lso. Entries starting below lso go except
// the last of them, whose StartOffset is raised to lso. It appends to dst.
func clampEntries(dst, es []EpochEntry, lso int64) []EpochEntry {
	k := 0
	for i, e := range es {
		if e.StartOffset <= lso {
			k = i
		}
	}
	for i := k; i < len(es); i++ {
		e := es[i]
		if i == k {
			e.StartOffset = max(e.StartOffset, lso)
		}
		dst = append(dst, e)
	}
	return dst
}

// firstVisible is the index of the first entry seen from lso (see
// clampEntries); its StartOffset reads as max(StartOffset, lso).
func firstVisible(es []EpochEntry, lso int64) int {
	k := 0
	for i := 1; i < len(es) && es[i].StartOffset <= lso; i++ {
		k = i
	}
	return k
}

// LatestEpoch is the newest leader epoch in the cache; ok is false when the
// cache is empty (no batch with a leader epoch, and no assignment).
func (l *Log) LatestEpoch() (epoch int32, ok bool) {
	es := l.epochs.entries
	if len(es) == 0 {
		return UndefinedEpoch, false
	}
	return es[len(es)-1].Epoch, true
}

// EpochEntries returns a copy of the cache as seen from LogStartOffset.
func (l *Log) EpochEntries() []EpochEntry {
	return clampEntries(nil, l.epochs.entries, l.logStartOffset)
}

// EndOffsetForEpoch answers OffsetForLeaderEpoch with Kafka's
// LeaderEpochFileCache.endOffsetFor semantics:
//
//   - epoch undefined (< 0), cache empty, or epoch newer than the latest:
//     (UndefinedEpoch, UndefinedEpochOffset);
//   - epoch == the latest epoch: (epoch, LogEndOffset);
//   - epoch older than every cached epoch: (epoch, StartOffset of the
//     earliest entry) — the data of older epochs is gone, the follower
//     replicates from there;
//   - otherwise: the largest cached epoch <= epoch, and the StartOffset of
//     the first entry with a larger epoch (where that epoch's data ends).
func (l *Log) EndOffsetForEpoch(epoch int32) (foundEpoch int32, endOffset int64) {
	es := l.epochs.entries
	if epoch < 0 || len(es) == 0 {
		return UndefinedEpoch, UndefinedEpochOffset
	}
	if epoch == es[len(es)-1].Epoch {
		return epoch, l.LogEndOffset()
	}
	es = es[firstVisible(es, l.logStartOffset):]
	higher := 0 // the first entry with a larger epoch
	for higher < len(es) && es[higher].Epoch <= epoch {
		higher++
	}
	switch {
	case higher == len(es):
		return UndefinedEpoch, UndefinedEpochOffset
	case higher == 0:
		return epoch, max(es[0].StartOffset, l.logStartOffset)
	default:
		return es[higher-1].Epoch, es[higher].StartOffset
	}
}

// AssignEpoch records that leader epoch epoch starts at startOffset, which
// must be LogEndOffset: called when this replica becomes leader, before
// any batch of the epoch is written (Kafka's assign at makeLeader). An
// epoch not newer than the latest is a no-op, unless it is older and
// startOffset lies past the latest epoch's start (the latest epoch has
// data: an older leader epoch can no longer begin), which is
// ErrEpochInvariant. A newer epoch assigned where the latest one starts
// (it never got data) replaces it. The file is updated in the background.
// Allowed while a truncation is pending.
func (l *Log) AssignEpoch(epoch int32, startOffset int64) error {
	if err := l.usable(); err != nil {
		return err
	}
	if epoch < 0 || startOffset != l.LogEndOffset() {
		return fmt.Errorf("%w: assign epoch %d at %d, log end offset %d", ErrEpochInvariant, epoch, startOffset, l.LogEndOffset())
	}
	es := l.epochs.entries
	if n := len(es); n > 0 && epoch <= es[n-1].Epoch {
		start := max(es[n-1].StartOffset, l.logStartOffset) // as seen from the log start
		if epoch < es[n-1].Epoch && startOffset > start {
			return fmt.Errorf("%w: assign epoch %d at %d after epoch %d started at %d",
				ErrEpochInvariant, epoch, startOffset, es[n-1].Epoch, start)
		}
		return nil
	}
	l.noteEpoch(epoch, startOffset)
	return nil
}

// checkLeaderEpoch: a leader appends only in its latest epoch or a newer
// one; an older epoch is a stale leader (ErrEpochInvariant).
func (l *Log) checkLeaderEpoch(e int32) error {
	es := l.epochs.entries
	if n := len(es); e >= 0 && n > 0 && e < es[n-1].Epoch {
		return fmt.Errorf("%w: leader append in epoch %d, the log is in epoch %d (from %d)",
			ErrEpochInvariant, e, es[n-1].Epoch, es[n-1].StartOffset)
	}
	return nil
}

// entryAt is the number of entries of es starting at or before offset:
// the entry holding offset is es[entryAt-1] (none when it is 0).
func entryAt(es []EpochEntry, offset int64) int {
	n, _ := slices.BinarySearchFunc(es, offset, func(e EpochEntry, o int64) int {
		if e.StartOffset <= o {
			return -1
		}
		return 1
	})
	return n
}

// epochIndex is the index of the cache entry holding offset: the last one
// starting at or before it (0 when none does; checkBatchEpoch then skips).
func (l *Log) epochIndex(offset int64) int {
	return max(entryAt(l.epochs.entries, offset)-1, 0)
}

// checkBatchEpoch checks a batch read from the log against the cache,
// walking the cache with *k (from epochIndex) as offsets grow. The CRC
// does not cover PartitionLeaderEpoch: rot there would otherwise pass
// unseen, and a follower that copied a rotten epoch far above the
// controller's would refuse every append once it led (cluster-swarm
// recovery regression, seed 13). A batch without an epoch (< 0) or below
// the first entry is not checked: the cache says nothing about it.
func (l *Log) checkBatchEpoch(h batch.Header, k *int) error {
	if l.bugTrustEpochField() {
		return nil
	}
	es := l.epochs.entries
	for *k+1 < len(es) && es[*k+1].StartOffset <= h.BaseOffset {
		*k++
	}
	if h.PartitionLeaderEpoch < 0 || len(es) == 0 || es[*k].StartOffset > h.BaseOffset {
		return nil
	}
	if want := es[*k].Epoch; h.PartitionLeaderEpoch != want {
		return fmt.Errorf("%w: batch at offset %d has leader epoch %d, the leader-epoch cache says %d (from %d)",
			ErrCorruption, h.BaseOffset, h.PartitionLeaderEpoch, want, es[*k].StartOffset)
	}
	return nil
}

// observeEpoch applies a written batch's leader epoch e at base (Kafka's
// assign on append): the same epoch as the latest, or none (< 0), changes
// nothing (the fast path, no allocation).
func (l *Log) observeEpoch(e int32, base int64) {
	es := l.epochs.entries
	if e < 0 || (len(es) > 0 && es[len(es)-1].Epoch == e) {
		return
	}
	l.noteEpoch(e, base)
}

// noteEpoch is Kafka's assign of (e, base) for an epoch other than the
// latest (see assignEntry), then schedules a file write.
func (l *Log) noteEpoch(e int32, base int64) {
	es, from, lost := assignEntry(l.epochs.entries, e, base, l.logStartOffset)
	if lost {
		l.h.Logger().Warn("leader epochs not monotonic: entries with data removed", "dir", l.dir,
			"epoch", e, "offset", base, "before", fmt.Sprint(clampEntries(nil, l.epochs.entries, l.logStartOffset)))
	}
	l.epochs.entries = es
	l.epochsChanged(from)
}

// assignEntry is Kafka's LeaderEpochFileCache.assign of (e, base) seen
// from log start offset lso: the entries with an epoch >= e or starting
// (as seen from lso) at or after base go, then (e, base) is added. Entries
// hidden below lso (see clampEntries) count as gone, as Kafka's
// truncateFromStart removed them: once the first visible entry goes, they
// go too. One departure from Kafka: when an entry of epoch e itself
// starts before base, the entries after it go and it stays, so the cache
// still says where e's data began. from is the lowest StartOffset
// changed; lost reports that an
// entry with data (starting before base) went: the history written by the
// leaders is not monotonic.
func assignEntry(es []EpochEntry, e int32, base, lso int64) (_ []EpochEntry, from int64, lost bool) {
	k := firstVisible(es, lso)
	n := len(es)
	from = base
	for n > 0 {
		last := es[n-1]
		start := last.StartOffset
		if n-1 == k {
			start = max(start, lso)
		}
		if n-1 >= k {
			if last.Epoch < e && start < base {
				break
			}
			if last.Epoch == e && start < base {
				// Epoch e has data before base: the entries after it
				// were assigned at becoming leader and never got any
				// (a leader whose unsynced tail a crash took, followed
				// by one holding that tail): e continues where it began.
				return es[:n], from, lost
			}
			lost = lost || start < base
		}
		n--
		from = min(from, last.StartOffset)
	}
	return append(es[:n], EpochEntry{e, base}), from, lost
}

// epochRegression reports the first batch of b (whole v2 batches) whose
// leader epoch is older than one with data before it in the log or in b:
// a history no correct leader writes (a correct leader's epochs never
// decrease along its log, and a follower truncates to the leader's before
// it appends). Kafka's assign would take it and forget where the newer
// epochs began, leaving the cache unable to vouch for the batches
// (checkBatchEpoch); AppendAsFollower refuses it instead.
func (l *Log) epochRegression(b []byte) error {
	leo := l.LogEndOffset()
	es := l.epochs.entries
	k := firstVisible(es, l.logStartOffset)
	hi := UndefinedEpoch // the newest epoch with data
	for i := len(es) - 1; i >= k; i-- {
		start := es[i].StartOffset
		if i == k {
			start = max(start, l.logStartOffset)
		}
		if start < leo {
			hi = es[i].Epoch
			break
		}
	}
	it := batch.Iterate(b)
	for it.Next() {
		h := it.Header()
		if e := h.PartitionLeaderEpoch; e >= 0 {
			if e < hi {
				return fmt.Errorf("%w: batch at offset %d in leader epoch %d, after data of epoch %d", ErrEpochInvariant, h.BaseOffset, e, hi)
			}
			hi = e
		}
	}
	return nil
}

// truncateEpochs drops the entries starting at or after end as seen from
// LogStartOffset (Kafka's truncateFromEnd), after TruncateTo moved
// LogEndOffset to end.
func (l *Log) truncateEpochs(end int64) {
	es := l.epochs.entries
	k := firstVisible(es, l.logStartOffset)
	n := len(es)
	from := end
	for n > 0 {
		i := n - 1
		start := es[i].StartOffset
		if i == k {
			start = max(start, l.logStartOffset) // as seen from the log start
		}
		if i >= k && start < end {
			break
		}
		n-- // hidden entries go with the first visible one (Kafka removed them)
		from = min(from, es[i].StartOffset)
	}
	if n == len(es) {
		return
	}
	l.epochs.entries = es[:n]
	l.epochsChanged(from)
}

// epochsChanged records that the entries changed from offset from on and
// starts a file write.
func (l *Log) epochsChanged(from int64) {
	l.epochs.dirtyFrom = min(l.epochs.dirtyFrom, from)
	l.writeEpochs()
}

// epochSafeRP bounds the recovery point a checkpoint may claim: offsets
// where the leader-epoch file may disagree with the log must be rescanned
// by recovery.
func (l *Log) epochSafeRP(rp int64) int64 {
	return min(rp, l.epochs.dirtyFrom, l.epochs.flightFrom)
}

// whenEpochsDurable calls done once the file holds the current entries.
func (l *Log) whenEpochsDurable(done func(error)) {
	if l.failed != nil {
		l.later(done, l.failed)
		return
	}
	if !l.epochs.inFlight && l.epochs.dirtyFrom == math.MaxInt64 {
		l.later(done, nil)
		return
	}
	l.epochs.waiters = append(l.epochs.waiters, done)
	l.writeEpochs()
}

// writeEpochs writes the leader-epoch checkpoint durably (tmp, sync,
// rename, directory sync), one write at a time. While a truncation below
// the checkpointed recovery point is pending it waits: the file must not
// forget epochs of batches that a crash could still bring back; the
// truncation starts it once applied. A failure fails the log.
func (l *Log) writeEpochs() {
	c := &l.epochs
	if l.failed != nil || l.closed || l.truncPending || c.dirtyFrom == math.MaxInt64 {
		return
	}
	if c.inFlight {
		c.again = true
		return
	}
	c.inFlight, c.again = true, false
	c.flightFrom, c.dirtyFrom = c.dirtyFrom, math.MaxInt64
	// Memory need not keep what the durable log start offset hides.
	if k := firstVisible(c.entries, c.durableLSO); k > 0 {
		c.entries = slices.Delete(c.entries, 0, k)
	}
	data := encodeEpochCheckpoint(c.entries)
	tmp, final := l.dir+"/"+epochCheckpointTmp, l.dir+"/"+epochCheckpointName
	finish := func(err error) {
		c.inFlight = false
		if l.failed != nil {
			return
		}
		if err != nil {
			l.fail(fmt.Errorf("write %s: %w", epochCheckpointName, err))
			return
		}
		c.flightFrom = math.MaxInt64
		if c.again || c.dirtyFrom != math.MaxInt64 {
			l.writeEpochs()
		}
		if !c.inFlight && c.dirtyFrom == math.MaxInt64 {
			ws := c.waiters
			c.waiters = nil
			for _, w := range ws {
				w(nil)
			}
		}
		l.scheduleCheckpoint()
	}
	l.replaceFile(tmp, final, data, finish)
}

// encodeEpochCheckpoint renders Kafka's leader-epoch-checkpoint text:
// version line, count line, one "epoch startOffset" line per entry.
func encodeEpochCheckpoint(es []EpochEntry) []byte {
	b := make([]byte, 0, 8+len(es)*16)
	b = strconv.AppendInt(b, epochCheckpointVersion, 10)
	b = append(b, '\n')
	b = strconv.AppendInt(b, int64(len(es)), 10)
	b = append(b, '\n')
	for _, e := range es {
		b = strconv.AppendInt(b, int64(e.Epoch), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, e.StartOffset, 10)
		b = append(b, '\n')
	}
	return b
}

// decodeEpochCheckpoint parses a leader-epoch-checkpoint strictly: the
// exact text encodeEpochCheckpoint writes (canonical decimals, one space,
// "\n" after every line), entries non-negative and strictly increasing in
// both fields. It never panics (fuzzed).
func decodeEpochCheckpoint(b []byte) ([]EpochEntry, bool) {
	line := func() (string, bool) {
		for i, c := range b {
			if c == '\n' {
				s := string(b[:i])
				b = b[i+1:]
				return s, true
			}
		}
		return "", false
	}
	num := func(s string, bits int) (int64, bool) {
		v, err := strconv.ParseInt(s, 10, bits)
		if err != nil || v < 0 || strconv.FormatInt(v, 10) != s {
			return 0, false
		}
		return v, true
	}
	s, ok := line()
	if !ok {
		return nil, false
	}
	if v, ok := num(s, 32); !ok || v != epochCheckpointVersion {
		return nil, false
	}
	s, ok = line()
	if !ok {
		return nil, false
	}
	n, ok := num(s, 32)
	if !ok || n > int64(len(b))/4+1 {
		return nil, false
	}
	es := make([]EpochEntry, 0, n)
	for range n {
		s, ok := line()
		if !ok {
			return nil, false
		}
		sp := -1
		for i := 0; i < len(s); i++ {
			if s[i] == ' ' {
				sp = i
				break
			}
		}
		if sp < 0 {
			return nil, false
		}
		e, ok1 := num(s[:sp], 32)
		o, ok2 := num(s[sp+1:], 64)
		if !ok1 || !ok2 {
			return nil, false
		}
		ent := EpochEntry{Epoch: int32(e), StartOffset: o}
		if k := len(es); k > 0 && (ent.Epoch <= es[k-1].Epoch || ent.StartOffset <= es[k-1].StartOffset) {
			return nil, false
		}
		es = append(es, ent)
	}
	if len(b) != 0 {
		return nil, false
	}
	return es, true
}

// readEpochCheckpoint loads the leader-epoch checkpoint; ok is false when
// it is missing, unreadable or corrupt (recovery then rebuilds the cache
// from the batches' headers).
func (l *Log) readEpochCheckpoint(names []string) ([]EpochEntry, bool) {
	if _, found := slices.BinarySearch(names, epochCheckpointName); !found {
		return nil, false
	}
	f, err := l.h.Disk().OpenFile(l.dir+"/"+epochCheckpointName, false)
	if err != nil {
		l.h.Logger().Warn("leader-epoch checkpoint unreadable; rebuilding from batches", "dir", l.dir, "err", err)
		return nil, false
	}
	defer f.Close()
	b, err := readAll(f)
	if err != nil {
		l.h.Logger().Warn("leader-epoch checkpoint unreadable; rebuilding from batches", "dir", l.dir, "err", err)
		return nil, false
	}
	es, ok := decodeEpochCheckpoint(b)
	if !ok {
		l.h.Logger().Warn("leader-epoch checkpoint corrupt; rebuilding from batches", "dir", l.dir, "bytes", len(b))
	}
	return es, ok
}

// epochRebuilder collects, in offset order, the batches where the leader
// epoch changes (consecutive batches of one epoch are one observation: the
// later ones change nothing), and checks each batch's epoch as recovery
// reads it (check).
type epochRebuilder struct {
	seen []EpochEntry
	// last is the epoch of the last batch checked, or of the file's entry
	// just below the scan (-1: none).
	last int32
	// file holds the leader-epoch file's entries, which describe every
	// batch below fileBelow, the checkpointed recovery point (epochSafeRP).
	file      []EpochEntry
	fileBelow int64
	trusting  bool // bugzoo.EpochFieldTrusted: check passes everything
}

func newEpochRebuilder() *epochRebuilder { return &epochRebuilder{last: UndefinedEpoch} }

// trustFile makes check compare the batches below rp with the file's
// entries es, and start from the epoch the file gives the offset just
// below scanStart, where the scan begins.
func (r *epochRebuilder) trustFile(es []EpochEntry, rp, scanStart int64) {
	r.file, r.fileBelow = es, rp
	if e, ok := epochOf(es, scanStart-1); ok {
		r.last = e
	}
}

// epochOf is the epoch es gives offset: the entry starting last at or
// before it; ok is false when none does.
func epochOf(es []EpochEntry, offset int64) (int32, bool) {
	i := entryAt(es, offset)
	if i == 0 {
		return UndefinedEpoch, false
	}
	return es[i-1].Epoch, true
}

// check reports a batch whose leader epoch cannot be what its leader
// wrote. The CRC does not cover PartitionLeaderEpoch, and a crash that
// keeps some pages and not others can splice a truncated history back
// behind a newer one; leaders write epochs that never decrease and
// followers refuse a history that does (AppendAsFollower). So a batch is
// bad when its epoch is below an earlier batch's, when, below the
// checkpointed recovery point, it differs from the leader-epoch file, or
// when it rises above both the epoch before it and next's (next: the
// following batch's header, nil when not at hand), where a single batch
// whose epoch rotted upwards is itself the damage. Batches without an
// epoch (< 0) are not checked.
func (r *epochRebuilder) check(h batch.Header, next *batch.Header) error {
	e := h.PartitionLeaderEpoch
	if e < 0 || r.trusting {
		return nil
	}
	if h.BaseOffset < r.fileBelow {
		if want, ok := epochOf(r.file, h.BaseOffset); ok && want != e {
			return fmt.Errorf("batch at offset %d has leader epoch %d, the leader-epoch checkpoint says %d", h.BaseOffset, e, want)
		}
	}
	if e < r.last {
		return fmt.Errorf("batch at offset %d has leader epoch %d, below the epoch %d before it", h.BaseOffset, e, r.last)
	}
	if next != nil && r.last >= 0 && e > r.last && next.BaseOffset == h.NextOffset() &&
		next.PartitionLeaderEpoch >= r.last && next.PartitionLeaderEpoch < e {
		return fmt.Errorf("batch at offset %d has leader epoch %d, above the epochs %d before it and %d after it",
			h.BaseOffset, e, r.last, next.PartitionLeaderEpoch)
	}
	r.last = e
	return nil
}

func (r *epochRebuilder) observe(h batch.Header) {
	e := h.PartitionLeaderEpoch
	if e < 0 || (len(r.seen) > 0 && r.seen[len(r.seen)-1].Epoch == e) {
		return
	}
	r.seen = append(r.seen, EpochEntry{e, h.BaseOffset})
}

// foldEpochs applies Kafka's assign of each observation to es, seen from
// log start offset lso.
func foldEpochs(es []EpochEntry, seen []EpochEntry, lso int64) []EpochEntry {
	for _, o := range seen {
		if n := len(es); n > 0 && es[n-1].Epoch == o.Epoch {
			continue
		}
		es, _, _ = assignEntry(es, o.Epoch, o.StartOffset, lso)
	}
	return es
}

// walkHeaders feeds every batch header of s, in order, to r, checking
// each (a bad epoch is ErrCorruption).
func (l *Log) walkHeaders(s *segment, r *epochRebuilder) error {
	for p := int64(0); p < s.size; {
		h, err := l.readHeader(s, p)
		if err != nil {
			return err
		}
		if err := r.check(h, nil); err != nil {
			return fmt.Errorf("%w: %s segment %d position %d: %w", ErrCorruption, l.dir, s.base, p, err)
		}
		r.observe(h)
		p += int64(h.Size())
	}
	return nil
}

// recoverEpochs rebuilds the cache at the end of recovery. fileES/fileOK
// is what the checkpoint held; scanStart is the first offset whose batches
// recovery scanned (scanned saw every batch from there, in order).
// Entries from the file starting before scanStart and before the log end
// are kept (the file is trusted there, see epochSafeRP); the scanned
// batches are applied to them as appends would. A missing or corrupt file
// rebuilds the cache from the headers of every segment (logged).
func (l *Log) recoverEpochs(fileES []EpochEntry, fileOK bool, scanStart int64, scanned *epochRebuilder) error {
	leo := l.LogEndOffset()
	if fileOK {
		var es []EpochEntry
		for _, e := range fileES {
			if e.StartOffset < scanStart && e.StartOffset < leo {
				es = append(es, e)
			}
		}
		l.epochs.entries = foldEpochs(es, scanned.seen, l.logStartOffset)
	} else {
		r := newEpochRebuilder()
		r.trusting = l.bugTrustEpochField()
		for _, s := range l.segs {
			if err := l.walkHeaders(s, r); err != nil {
				return fmt.Errorf("log: rebuild leader epochs: %w", err)
			}
		}
		l.epochs.entries = foldEpochs(nil, r.seen, l.logStartOffset)
	}
	c := &l.epochs
	c.durableLSO = l.logStartOffset
	if k := firstVisible(c.entries, c.durableLSO); k > 0 {
		c.entries = slices.Delete(c.entries, 0, k)
	}
	want := c.entries
	switch {
	case !fileOK:
		c.dirtyFrom = l.logStartOffset
	case !slices.Equal(want, fileES):
		i := 0
		for i < len(want) && i < len(fileES) && want[i] == fileES[i] {
			i++
		}
		from := int64(math.MaxInt64 - 1)
		if i < len(want) {
			from = min(from, want[i].StartOffset)
		}
		if i < len(fileES) {
			from = min(from, fileES[i].StartOffset)
		}
		c.dirtyFrom = from
	}
	return nil
}
