package linearizable

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
)

// Name is this checker's name in reports and on the command line.
const Name = "linearizable"

// Kind is the anomaly kind of a partition with no linearization.
const Kind = "nonlinearizable"

// DefaultTimeout is the per-partition budget when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// NoTimeout, as Options.Timeout, lets porcupine search without a budget.
const NoTimeout time.Duration = -1

// Options tune the check. The zero value is the strict check with a 10 s
// budget per partition and no visualization.
type Options struct {
	// Timeout is porcupine's budget per partition: 0 means DefaultTimeout,
	// NoTimeout means none. A partition whose search runs out of budget gets
	// verdict Unknown, never Pass.
	Timeout time.Duration
	// StaleReads makes an empty poll legal at any point. Use it when polls
	// may be served below the log end: acks=1 (a send is acknowledged before
	// the high watermark covers it) or fetches from followers.
	StaleReads bool
	// WriteFile, if set, receives porcupine's HTML visualization of every
	// partition found not linearizable, named
	// "linearizable-<topic>-<partition>.html". The CLI passes os.WriteFile
	// on a directory of its choosing; this package does no I/O itself.
	WriteFile func(name string, data []byte) error
	// KeepUnreadInfoSends disables the pruning of unread info sends (see
	// the package doc). The verdict is the same either way; tests use it to
	// check the model on its own.
	KeepUnreadInfoSends bool
}

// PartitionResult is the verdict on one partition's log.
type PartitionResult struct {
	Topic     string          `json:"topic"`
	Partition int32           `json:"partition"`
	Verdict   verdict.Verdict `json:"verdict"`
	// Operations is the number of operations given to porcupine; Pruned the
	// number of unread info sends left out because they cannot matter.
	Operations int `json:"operations"`
	Pruned     int `json:"pruned"`
	// Visualization is the file written for an illegal partition.
	Visualization string `json:"visualization,omitempty"`
	// Note explains an unknown verdict or a visualization not written.
	Note string `json:"note,omitempty"`
}

// Result is the checker's output.
type Result struct {
	Verdict    verdict.Verdict   `json:"verdict"`
	Partitions []PartitionResult `json:"partitions"`
	Anomalies  []verdict.Anomaly `json:"anomalies"`
}

// Check decides, partition by partition, whether each log is linearizable.
// ops is a paired history (history.Pair).
func Check(ops []history.Operation, opts Options) Result {
	timeout := opts.Timeout
	switch {
	case timeout == 0:
		timeout = DefaultTimeout
	case timeout < 0:
		timeout = 0 // porcupine: unlimited
	}
	keys, groups := history.ByPartition(ops)
	// Sends whose partition is never known may have landed in any partition
	// of their topic: offer them to every one (only info sends matter; a
	// failed send had no effect).
	floating := map[string][]history.Operation{}
	for _, tp := range keys {
		if tp.Partition == history.NoPartition {
			floating[tp.Topic] = groups[tp]
		}
	}
	res := Result{Verdict: verdict.Pass, Partitions: []PartitionResult{}, Anomalies: []verdict.Anomaly{}}
	for _, tp := range keys {
		if tp.Partition == history.NoPartition {
			continue
		}
		pr, anomaly := checkPartition(tp, groups[tp], floating[tp.Topic], opts, timeout)
		res.Partitions = append(res.Partitions, pr)
		if anomaly != nil {
			res.Anomalies = append(res.Anomalies, *anomaly)
		}
		res.Verdict = verdict.Worst(res.Verdict, pr.Verdict)
	}
	verdict.Sort(res.Anomalies)
	return res
}

func checkPartition(tp history.TopicPartition, ops, floating []history.Operation, opts Options, timeout time.Duration) (PartitionResult, *verdict.Anomaly) {
	pr := PartitionResult{Topic: tp.Topic, Partition: tp.Partition}
	hist, pruned := build(ops, floating, opts)
	pr.Operations, pr.Pruned = len(hist), pruned
	m := model()
	switch porcupine.CheckOperationsTimeout(m, hist, timeout) {
	case porcupine.Ok:
		pr.Verdict = verdict.Pass
		return pr, nil
	case porcupine.Unknown:
		pr.Verdict = verdict.Unknown
		pr.Note = fmt.Sprintf("porcupine found no verdict within %v", timeout)
		return pr, nil
	}
	pr.Verdict = verdict.Fail
	a := &verdict.Anomaly{
		Kind: Kind, Topic: tp.Topic, Partition: tp.Partition, Offset: history.NoOffset,
		Explanation: fmt.Sprintf("no order of the partition's %d operations, each taking effect between its invoke and its completion, explains every offset and read", len(hist)),
		Ops:         []verdict.OpRef{},
	}
	// The second, verbose run finds the evidence and draws the picture; it
	// only runs on failure, so a passing check pays for one search.
	res, info := porcupine.CheckOperationsVerbose(m, hist, timeout)
	if res != porcupine.Illegal {
		pr.Note = "the verbose re-check ran out of budget: no evidence or visualization"
		return pr, a
	}
	stuck := unlinearized(hist, info)
	for _, i := range stuck {
		a.Ops = append(a.Ops, verdict.Ref(*hist[i].Input.(*call).ref))
	}
	if len(stuck) > 0 {
		a.Explanation += fmt.Sprintf("; the longest partial linearization stops before %s", describeOperation(hist[stuck[0]].Input, nil))
	}
	if opts.WriteFile != nil {
		name := fmt.Sprintf("linearizable-%s-%d.html", fileSafe(tp.Topic), tp.Partition)
		var buf bytes.Buffer
		err := porcupine.Visualize(m, info, &buf)
		if err == nil {
			err = opts.WriteFile(name, buf.Bytes())
		}
		if err != nil {
			pr.Note = fmt.Sprintf("visualization not written: %v", err)
		} else {
			pr.Visualization = name
			a.Explanation += "; see " + name
		}
	}
	return pr, a
}

// maxStuck bounds the evidence of a nonlinearizable partition.
const maxStuck = 5

// unlinearized returns, in history order, up to maxStuck operations missing
// from the longest partial linearization porcupine found (ties broken by the
// lexicographically smallest sequence, since porcupine returns them from a
// map). The first is where every attempted order got stuck.
func unlinearized(hist []porcupine.Operation, info porcupine.LinearizationInfo) []int {
	parts := info.PartialLinearizations()
	if len(parts) == 0 {
		return nil
	}
	var best []int
	for _, seq := range parts[0] {
		if len(seq) > len(best) || (len(seq) == len(best) && lexLess(seq, best)) {
			best = seq
		}
	}
	in := make([]bool, len(hist))
	for _, id := range best {
		if id >= 0 && id < len(in) {
			in[id] = true
		}
	}
	var out []int
	for i := range hist {
		if !in[i] && len(out) < maxStuck {
			out = append(out, i)
		}
	}
	return out
}

func lexLess(a, b []int) bool {
	for i := range a {
		if i >= len(b) || a[i] != b[i] {
			return i < len(b) && a[i] < b[i]
		}
	}
	return false
}

func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// build turns one partition's operations into porcupine's history. Times
// are record indexes: the Writer appends records in the order things happen
// (one global order in simulation and, with its lock, in real runs), so
// [invoke index, completion index] brackets the operation's real effect.
func build(ops, floating []history.Operation, opts Options) ([]porcupine.Operation, int) {
	// Where each value was read, and how often each value was sent (a value
	// sent twice cannot pin an info send to its read offset).
	readAt := map[string]int64{}
	readTwice := map[string]bool{}
	claimed := map[int64]bool{}
	maxClaimed := int64(-1)
	claim := func(o int64) {
		claimed[o] = true
		if o > maxClaimed {
			maxClaimed = o
		}
	}
	var end int64
	for i := range ops {
		o := &ops[i]
		end = max(end, o.Invoke.Index)
		if !o.Pending {
			end = max(end, o.Completion.Index)
		}
		if o.Invoke.F == history.Send && o.Outcome() == history.OK {
			claim(o.Offset())
		}
		if o.Invoke.F == history.Poll && o.Outcome() == history.OK {
			for _, r := range o.Completion.Records {
				claim(r.Offset)
				if prev, ok := readAt[r.Value]; ok && prev != r.Offset {
					readTwice[r.Value] = true
				}
				readAt[r.Value] = r.Offset
			}
		}
	}
	sent := map[string]int{}
	for _, group := range [][]history.Operation{ops, floating} {
		for i := range group {
			if group[i].Invoke.F == history.Send {
				sent[group[i].Invoke.Value]++
			}
		}
	}
	for i := range floating {
		end = max(end, floating[i].Invoke.Index)
	}
	// No hole below the highest claimed offset: an unread info send can only
	// sit above everything observed, where nothing sees it (package doc).
	noHoles := int64(len(claimed)) == maxClaimed+1
	var hist []porcupine.Operation
	var fillers []*call
	pruned := 0
	add := func(o *history.Operation) {
		c := &call{ref: o, offset: unknownOffset}
		ret := end + 1 // "never returned": after everything
		if !o.Pending {
			ret = o.Completion.Index
		}
		switch o.Invoke.F {
		case history.Send:
			c.send, c.value = true, o.Invoke.Value
			c.vhash = hashValue(c.value)
			switch o.Outcome() {
			case history.Fail:
				return // it had no effect
			case history.OK:
				c.offset = o.Offset()
			default:
				ret = end + 1
				q, read := readAt[c.value]
				switch {
				case read && !readTwice[c.value] && sent[c.value] == 1:
					c.offset = q
				case !read && noHoles && !opts.KeepUnreadInfoSends:
					pruned++
					return
				case !read:
					c.filler = true
					fillers = append(fillers, c)
				}
			}
		case history.Poll:
			if o.Outcome() != history.OK {
				return // a poll has no effect; fail or info says nothing
			}
			c.position, c.records = o.Invoke.Offset, o.Completion.Records
			c.emptyAlwaysLegal = opts.StaleReads
		}
		hist = append(hist, porcupine.Operation{
			ClientId: 0, Input: c, Output: c, Call: o.Invoke.Index, Return: ret,
		})
	}
	for i := range ops {
		add(&ops[i])
	}
	for i := range floating {
		if floating[i].Outcome() == history.Info {
			add(&floating[i])
		}
	}
	// Fillers are interchangeable, so any linearization can use them in
	// invoke order (swap an earlier-invoked unused one in): ranking them
	// keeps porcupine from trying every subset and order.
	sort.SliceStable(fillers, func(i, j int) bool { return fillers[i].ref.Invoke.Index < fillers[j].ref.Invoke.Index })
	for i, c := range fillers {
		c.rank, c.claimed = i, claimed
	}
	assignClients(hist)
	return hist, pruned
}

// assignClients numbers processes in sorted order, for the visualization.
func assignClients(hist []porcupine.Operation) {
	var names []string
	ids := map[string]int{}
	for _, h := range hist {
		p := h.Input.(*call).ref.Invoke.Process
		if _, ok := ids[p]; !ok {
			ids[p] = 0
			names = append(names, p)
		}
	}
	sort.Strings(names)
	for i, n := range names {
		ids[n] = i
	}
	for i := range hist {
		hist[i].ClientId = ids[hist[i].Input.(*call).ref.Invoke.Process]
	}
}
