package checkers

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/loglab/loglab/checkers/finalread"
	"github.com/loglab/loglab/checkers/group"
	"github.com/loglab/loglab/checkers/linearizable"
	"github.com/loglab/loglab/checkers/liveness"
	"github.com/loglab/loglab/checkers/queue"
	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
)

// ErrUnknownChecker classifies a checker name that is not one of Names.
var ErrUnknownChecker = errors.New("checkers: unknown checker")

// Names lists the checkers Check runs when Options.Checkers is empty, in
// the order it runs and reports them.
func Names() []string { return []string{linearizable.Name, queue.Name, liveness.Name, group.Name} }

// AllNames lists every checker: Names, then final-read, which runs only
// when named (it judges a history by the final read of one process, a
// convention of loglab's scenarios that other histories need not follow).
func AllNames() []string { return append(Names(), finalread.Name) }

// DefaultMaxEvidence is Options.MaxEvidence when zero.
const DefaultMaxEvidence = 20

// Options select and tune the checkers.
type Options struct {
	// Checkers names the checkers to run (AllNames); empty means Names.
	Checkers     []string
	Linearizable linearizable.Options
	Queue        queue.Options
	Liveness     liveness.Options
	Group        group.Options
	FinalRead    finalread.Options
	// MaxEvidence bounds the anomalies listed per kind in the report (the
	// count is always complete). 0 means DefaultMaxEvidence; negative, no
	// bound.
	MaxEvidence int
}

// CheckerVerdict is one checker's verdict.
type CheckerVerdict struct {
	Name    string          `json:"name"`
	Verdict verdict.Verdict `json:"verdict"`
}

// KindReport gathers the anomalies of one kind.
type KindReport struct {
	Kind    string `json:"kind"`
	Checker string `json:"checker"`
	// Count is the number of anomalies found; Evidence lists the first
	// Options.MaxEvidence of them in the deterministic order of
	// verdict.Sort.
	Count    int               `json:"count"`
	Evidence []verdict.Anomaly `json:"evidence"`
}

// Report is the result of Check: JSON-serialisable, and identical for
// identical histories and options (except that a linearizability timeout,
// which depends on machine speed, can turn a verdict into unknown; trace
// hashes therefore never include checker verdicts).
type Report struct {
	// Verdict is the worst of the checkers' verdicts.
	Verdict verdict.Verdict `json:"verdict"`
	// Records and Operations count the history's records and operations.
	Records    int              `json:"records"`
	Operations int              `json:"operations"`
	Checkers   []CheckerVerdict `json:"checkers"`
	// Anomalies by kind, sorted by kind.
	Anomalies []KindReport `json:"anomalies"`
	// The checkers' own results, for those that ran; their Anomalies are
	// moved into Anomalies above.
	Linearizable *linearizable.Result `json:"linearizable,omitempty"`
	Queue        *queue.Result        `json:"queue,omitempty"`
	Liveness     *liveness.Result     `json:"liveness,omitempty"`
	Group        *group.Result        `json:"group,omitempty"`
	FinalRead    *finalread.Result    `json:"final_read,omitempty"`
}

// Check pairs ops (history.Pair) and runs the selected checkers. An unknown
// checker name is an error wrapping ErrUnknownChecker that lists the valid
// names; an ill-formed history is history.Pair's error (ErrIllFormed).
func Check(ops []history.Op, opts Options) (Report, error) {
	run, err := selected(opts.Checkers)
	if err != nil {
		return Report{}, err
	}
	pairs, err := history.Pair(ops)
	if err != nil {
		return Report{}, err
	}
	limit := opts.MaxEvidence
	if limit == 0 {
		limit = DefaultMaxEvidence
	}
	rep := Report{Verdict: verdict.Pass, Records: len(ops), Operations: len(pairs), Checkers: []CheckerVerdict{}, Anomalies: []KindReport{}}
	collect := func(name string, v verdict.Verdict, as *[]verdict.Anomaly) {
		rep.Verdict = verdict.Worst(rep.Verdict, v)
		rep.Checkers = append(rep.Checkers, CheckerVerdict{name, v})
		for _, a := range *as {
			n := len(rep.Anomalies)
			if n == 0 || rep.Anomalies[n-1].Kind != a.Kind || rep.Anomalies[n-1].Checker != name {
				rep.Anomalies = append(rep.Anomalies, KindReport{Kind: a.Kind, Checker: name, Evidence: []verdict.Anomaly{}})
				n++
			}
			k := &rep.Anomalies[n-1]
			k.Count++
			if limit < 0 || len(k.Evidence) < limit {
				k.Evidence = append(k.Evidence, a)
			}
		}
		*as = []verdict.Anomaly{}
	}
	// The log checkers judge sends and polls; group operations are the
	// group checker's, which runs only on histories that have them.
	data, grouped := pairs, false
	for _, o := range pairs {
		if grouped = history.IsGroupOp(o.Invoke.F); grouped {
			break
		}
	}
	if grouped {
		data = pairs[:0:0]
		for _, o := range pairs {
			if !history.IsGroupOp(o.Invoke.F) {
				data = append(data, o)
			}
		}
	}
	for _, name := range run {
		switch name {
		case group.Name:
			if !grouped {
				continue
			}
			r := group.Check(pairs, opts.Group)
			collect(name, r.Verdict, &r.Anomalies)
			rep.Group = &r
		case linearizable.Name:
			r := linearizable.Check(data, opts.Linearizable)
			collect(name, r.Verdict, &r.Anomalies)
			rep.Linearizable = &r
		case queue.Name:
			r := queue.Check(data, opts.Queue)
			collect(name, r.Verdict, &r.Anomalies)
			rep.Queue = &r
		case liveness.Name:
			r := liveness.Check(data, opts.Liveness)
			collect(name, r.Verdict, &r.Anomalies)
			rep.Liveness = &r
		case finalread.Name:
			r := finalread.Check(data, opts.FinalRead)
			collect(name, r.Verdict, &r.Anomalies)
			rep.FinalRead = &r
		}
	}
	sortKinds(rep.Anomalies)
	return rep, nil
}

// CheckFile parses a JSONL history read from r and checks it. name is the
// file's name, put first in every error: a malformed record reads
// "<name>: history: line <n>: history: malformed record: <field problem>".
func CheckFile(name string, r io.Reader, opts Options) (Report, error) {
	if _, err := selected(opts.Checkers); err != nil {
		return Report{}, err
	}
	ops, err := history.Parse(r)
	if err != nil {
		return Report{}, fmt.Errorf("%s: %w", name, err)
	}
	rep, err := Check(ops, opts)
	if err != nil {
		return Report{}, fmt.Errorf("%s: %w", name, err)
	}
	return rep, nil
}

// selected validates names and returns them in AllNames order,
// deduplicated.
func selected(names []string) ([]string, error) {
	if len(names) == 0 {
		return Names(), nil
	}
	want := map[string]bool{}
	for _, n := range names {
		valid := false
		for _, v := range AllNames() {
			valid = valid || n == v
		}
		if !valid {
			return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknownChecker, n, strings.Join(AllNames(), ", "))
		}
		want[n] = true
	}
	var out []string
	for _, v := range AllNames() {
		if want[v] {
			out = append(out, v)
		}
	}
	return out, nil
}

func sortKinds(ks []KindReport) {
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j].Kind < ks[j-1].Kind; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
}

// Text is a human summary of the report: the verdicts, then up to three
// pieces of evidence per anomaly kind.
func (r Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "verdict: %s (%d operations, %d records)\n", r.Verdict, r.Operations, r.Records)
	for _, c := range r.Checkers {
		fmt.Fprintf(&b, "  %-13s %-8s %s\n", c.Name, c.Verdict, r.detail(c.Name))
	}
	for _, k := range r.Anomalies {
		fmt.Fprintf(&b, "%s: %d (%s)\n", k.Kind, k.Count, k.Checker)
		for i, a := range k.Evidence {
			if i == 3 {
				fmt.Fprintf(&b, "  ... %d more\n", k.Count-i)
				break
			}
			var idx []string
			for _, o := range a.Ops {
				idx = append(idx, fmt.Sprint(o.Invoke))
			}
			fmt.Fprintf(&b, "  %s [records %s]\n", a.Explanation, strings.Join(idx, " "))
		}
	}
	return b.String()
}

func (r Report) detail(name string) string {
	switch {
	case name == linearizable.Name && r.Linearizable != nil:
		var bad []string
		for _, p := range r.Linearizable.Partitions {
			if p.Verdict != verdict.Pass {
				s := fmt.Sprintf("%s/%d %s", p.Topic, p.Partition, p.Verdict)
				if p.Visualization != "" {
					s += " (" + p.Visualization + ")"
				}
				bad = append(bad, s)
			}
		}
		s := fmt.Sprintf("%d partitions", len(r.Linearizable.Partitions))
		if len(bad) > 0 {
			s += ": " + strings.Join(bad, ", ")
		}
		return s
	case name == queue.Name && r.Queue != nil:
		s := r.Queue.Stats
		return fmt.Sprintf("sends ok %d fail %d info %d, polls ok %d fail %d info %d, %d records read, %d values sent, %d unseen",
			s.SendsOK, s.SendsFail, s.SendsInfo, s.PollsOK, s.PollsFail, s.PollsInfo, s.RecordsRead, s.UniqueValuesSent, s.Unseen)
	case name == liveness.Name && r.Liveness != nil:
		l := r.Liveness
		return fmt.Sprintf("after the heal at %v: first ok send %s, first non-empty poll %s (bound %v)",
			time.Duration(l.Heal), dur(l.Overall.Send), dur(l.Overall.Poll), time.Duration(l.Bound))
	case name == finalread.Name && r.FinalRead != nil:
		s := r.FinalRead.Stats
		return fmt.Sprintf("final read by %s: %d records; sends ok %d fail %d info %d, %d acknowledged lost, %d unstable reads, %d duplicates",
			r.FinalRead.FinalReader, s.FinalRecords, s.SendsOK, s.SendsFail, s.SendsInfo, s.AckedLost, s.UnstableReads, s.Duplicates)
	}
	return ""
}

func dur(ns int64) string {
	if ns < 0 {
		return "never"
	}
	return "+" + time.Duration(ns).String()
}
