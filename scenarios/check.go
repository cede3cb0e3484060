package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/loglab/loglab/checkers"
	"github.com/loglab/loglab/checkers/finalread"
	"github.com/loglab/loglab/checkers/liveness"
	"github.com/loglab/loglab/checkers/queue"
	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
)

// check runs the file's checkers on the run's history and turns their
// report into the Result's anomalies and findings.
//
// Two rules of the runner sit on top of the checkers:
//
//   - Retention: a record deleted by retention is not lost. When the topic
//     has a retention config, a lost-write below the log start offset the
//     final reader began at (its first fetch position of that partition,
//     from ListOffsets earliest) is counted as "retained_away", not
//     reported. Above it, loss is loss.
//   - Unknown verdicts (a porcupine search out of budget, a liveness check
//     without enough history) are never a pass: they are reported as the
//     anomaly "inconclusive", naming the checker.
func (c *compiled) check(res *Result, p *plan, opts Options) error {
	copts := checkers.Options{
		Checkers:    c.checkers,
		Queue:       queue.Options{FinalReadsComplete: true},
		Liveness:    liveness.Options{HealTimes: p.healTime(), Bound: c.bound},
		FinalRead:   finalread.Options{FinalReader: finalReaderName},
		MaxEvidence: -1,
	}
	if opts.RecordTrace {
		copts.Linearizable.WriteFile = func(name string, data []byte) error {
			if res.Files == nil {
				res.Files = map[string][]byte{}
			}
			res.Files[name] = data
			return nil
		}
	}
	rep, err := checkers.Check(res.History, copts)
	if err != nil {
		return fmt.Errorf("scenario %s: check: %w", c.spec.Name, err)
	}
	if res.Stats == nil {
		res.Stats = map[string]int64{}
	}
	if c.retention {
		rep = dropRetained(rep, res.History, res.Stats)
	}
	if c.idempotentMixed {
		rep = tolerateDuplicates(rep, p.idempotentProducer, res.Stats)
	}
	for _, k := range rep.Anomalies {
		if k.Count == 0 {
			continue
		}
		if res.Anomalies == nil {
			res.Anomalies = map[string]int{}
		}
		res.Anomalies[k.Kind] += k.Count
		for _, a := range k.Evidence {
			if len(res.Findings) >= maxFindings {
				break
			}
			res.Findings = append(res.Findings, Finding{Kind: a.Kind, Evidence: evidence(a)})
		}
	}
	for _, cv := range rep.Checkers {
		if cv.Verdict == verdict.Unknown {
			res.AddFinding(kindInconclusive, "checker %s could not decide (verdict unknown): see verdicts.json", cv.Name)
		}
	}
	// Bound the evidence kept in the report as the checkers would have.
	for i := range rep.Anomalies {
		if len(rep.Anomalies[i].Evidence) > checkers.DefaultMaxEvidence {
			rep.Anomalies[i].Evidence = rep.Anomalies[i].Evidence[:checkers.DefaultMaxEvidence]
		}
	}
	res.Report = &rep
	if rep.Group != nil {
		groupStats(res, p)
	}
	if q := rep.Queue; q != nil {
		addStats(res.Stats, stat{"sends_ok", q.Stats.SendsOK}, stat{"sends_fail", q.Stats.SendsFail}, stat{"sends_info", q.Stats.SendsInfo},
			stat{"polls_ok", q.Stats.PollsOK}, stat{"records_read", q.Stats.RecordsRead}, stat{"unseen", q.Stats.Unseen})
	}
	if f := rep.FinalRead; f != nil {
		addStats(res.Stats, stat{"sends_ok", f.Stats.SendsOK}, stat{"sends_fail", f.Stats.SendsFail}, stat{"sends_info", f.Stats.SendsInfo},
			stat{"polls_ok", f.Stats.PollsOK}, stat{"records_read", f.Stats.RecordsRead}, stat{"final_records", f.Stats.FinalRecords},
			stat{"acked_lost", f.Stats.AckedLost}, stat{"unstable_reads", f.Stats.UnstableReads}, stat{"duplicates", f.Stats.Duplicates})
	}
	if l := rep.Liveness; l != nil && l.Overall.Send >= 0 {
		res.Stats["recovery_send_ms"] = l.Overall.Send / int64(time.Millisecond)
	}
	res.Stats["operations"] = int64(rep.Operations)
	return nil
}

// stat is one count a checker reports, under its Result.Stats name.
type stat struct {
	name string
	n    int
}

func addStats(stats map[string]int64, ss ...stat) {
	for _, s := range ss {
		stats[s.name] = int64(s.n)
	}
}

// maxFindings bounds the findings a Result carries (the counts are whole).
const maxFindings = 100

// evidence prints an anomaly in one line: its explanation and the
// operations that prove it.
func evidence(a verdict.Anomaly) string {
	var b strings.Builder
	b.WriteString(a.Explanation)
	if a.Topic != "" {
		fmt.Fprintf(&b, " [%s/%d", a.Topic, a.Partition)
		if a.Offset != history.NoOffset {
			fmt.Fprintf(&b, " offset %d", a.Offset)
		}
		if a.Value != "" {
			fmt.Fprintf(&b, " value %q", a.Value)
		}
		b.WriteString("]")
	}
	for i, o := range a.Ops {
		if i == 4 {
			fmt.Fprintf(&b, " (+%d ops)", len(a.Ops)-i)
			break
		}
		fmt.Fprintf(&b, "; %s#%d %s %s at %v", o.Process, o.ID, o.F, o.Outcome, time.Duration(o.InvokeTime))
		if o.Offset != history.NoOffset {
			fmt.Fprintf(&b, " offset %d", o.Offset)
		}
	}
	return b.String()
}

// dropRetained removes lost writes that retention explains (check's doc).
func dropRetained(rep checkers.Report, ops []history.Op, stats map[string]int64) checkers.Report {
	type tp struct {
		topic string
		p     int32
	}
	start := map[tp]int64{}
	for _, op := range ops {
		if op.Process != finalReaderName || op.F != history.Poll || op.Type != history.Invoke {
			continue
		}
		k := tp{op.Topic, op.Partition}
		if _, ok := start[k]; !ok {
			start[k] = op.Offset
		}
	}
	// The verdicts stay the checkers' own; the Result's anomalies decide.
	return dropEvidence(rep, queue.LostWrite, func(a verdict.Anomaly) bool {
		if s, ok := start[tp{a.Topic, a.Partition}]; ok && a.Offset != history.NoOffset && a.Offset < s {
			stats["retained_away"]++
			return true
		}
		return false
	})
}

// dropEvidence removes the anomalies of kind that drop says the runner
// explains, recounting the kind (the checkers keep every piece of
// evidence: MaxEvidence -1).
func dropEvidence(rep checkers.Report, kind string, drop func(verdict.Anomaly) bool) checkers.Report {
	out := rep.Anomalies[:0:0]
	for _, k := range rep.Anomalies {
		if k.Kind != kind {
			out = append(out, k)
			continue
		}
		kept := k
		kept.Evidence = nil
		for _, a := range k.Evidence {
			if !drop(a) {
				kept.Evidence = append(kept.Evidence, a)
			}
		}
		kept.Count = len(kept.Evidence)
		if kept.Count > 0 {
			out = append(out, kept)
		}
	}
	rep.Anomalies = out
	return rep
}

// tolerateDuplicates judges each duplicate by what its producer was
// promised (clients.idempotent: mixed): a plain producer's retries may
// store a record twice, so its duplicates are counted, per producer, as
// "duplicates_tolerated.PRODUCER" (and in all as "duplicates_tolerated"),
// not reported; an idempotent producer's stay anomalies. A record's
// producer is its value's prefix up to "/" (producerNode's values).
func tolerateDuplicates(rep checkers.Report, idempotent []string, stats map[string]int64) checkers.Report {
	return dropEvidence(rep, queue.Duplicate, func(a verdict.Anomaly) bool {
		producer, _, _ := strings.Cut(a.Value, "/")
		if slices.Contains(idempotent, producer) {
			return false
		}
		stats["duplicates_tolerated"]++
		stats["duplicates_tolerated."+producer]++
		return true
	})
}

// groupStats reports the group's generations and its time to stable: from
// the last repair (or the start) to the last assignment, when the final
// generation took over.
func groupStats(res *Result, p *plan) {
	var last int64
	var gens int32
	for _, op := range res.History {
		if op.F == history.Assign && op.Type == history.OK {
			last = max(last, op.Time)
			gens = max(gens, op.Generation)
		}
	}
	from := int64(p.startAt)
	if h := p.healTime(); len(h) > 0 {
		from = h[0]
	}
	res.Stats["group_generations"] = int64(gens)
	res.Stats["group_stable_after_heal_ms"] = max(0, last-from) / 1e6
}
