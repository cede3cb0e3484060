package checkers

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/loglab/loglab/checkers/queue"
	"github.com/loglab/loglab/checkers/verdict"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/history/histgen"
)

func jsonl(t testing.TB, ops []history.Op) []byte {
	var buf bytes.Buffer
	w := history.NewWriter(&buf)
	for _, op := range ops {
		w.Append(op)
	}
	if w.Err() != nil {
		t.Fatal(w.Err())
	}
	return buf.Bytes()
}

func TestCleanHistoryPassesEveryChecker(t *testing.T) {
	ops := histgen.Generate(histgen.Config{Seed: 7, Ops: 400, Partitions: 3, Producers: 3, InFlight: 3, Consumers: 2,
		InfoPercent: 5, FailPercent: 5, PollPercent: 40, MaxRecords: 4})
	rep, err := CheckFile("clean.jsonl", bytes.NewReader(jsonl(t, ops)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != verdict.Pass || len(rep.Checkers) != 3 || len(rep.Anomalies) != 0 {
		t.Fatalf("%s", rep.Text())
	}
	for i, name := range Names()[:3] { // the group checker skips a history without group operations
		if rep.Checkers[i].Name != name || rep.Checkers[i].Verdict != verdict.Pass {
			t.Fatalf("%+v", rep.Checkers)
		}
	}
}

func lossy() []history.Op {
	b := histgen.New()
	b.Send("p", "t", 0, "a", 0)
	b.Send("p", "t", 0, "b", 1)
	b.Send("p", "t", 0, "c", 2)
	b.Poll("c", "t", 0, 0, histgen.R(0, "a"), histgen.R(1, "x"), histgen.R(2, "c"))
	return b.Ops()
}

func TestAnomaliesAreReportedByKind(t *testing.T) {
	rep, err := Check(lossy(), Options{Checkers: []string{"queue", "linearizable"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Verdict != verdict.Fail || rep.Liveness != nil || len(rep.Checkers) != 2 || rep.Checkers[0].Name != "linearizable" {
		t.Fatalf("%+v", rep)
	}
	var kinds []string
	for _, k := range rep.Anomalies {
		kinds = append(kinds, k.Kind+"/"+k.Checker)
	}
	if got := strings.Join(kinds, " "); got != "divergent-offset/queue lost-write/queue nonlinearizable/linearizable" {
		t.Fatalf("kinds %s", got)
	}
	if len(rep.Queue.Anomalies) != 0 {
		t.Error("anomalies left in the checker's result")
	}
	text := rep.Text()
	for _, want := range []string{"verdict: fail", "lost-write: 1 (queue)", `value "b" was acknowledged at offset 1`} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	// The JSON is deterministic.
	a, _ := json.Marshal(rep)
	rep2, _ := Check(lossy(), Options{Checkers: []string{"linearizable", "queue"}})
	b, _ := json.Marshal(rep2)
	if !bytes.Equal(a, b) {
		t.Fatal("reports differ between runs")
	}
}

func TestMaxEvidence(t *testing.T) {
	b := histgen.New()
	for i := int64(0); i < 5; i++ {
		b.Send("p", "t", 0, "a"+string(rune('0'+i)), 10-i) // every send reorders
	}
	rep, _ := Check(b.Ops(), Options{Checkers: []string{"queue"}, MaxEvidence: 2})
	if k := rep.Anomalies[0]; k.Kind != queue.Reorder || k.Count != 4 || len(k.Evidence) != 2 {
		t.Fatalf("%+v", rep.Anomalies)
	}
}

func TestUnknownCheckerListsValidOnes(t *testing.T) {
	_, err := Check(nil, Options{Checkers: []string{"queue", "linearisable"}})
	if !errors.Is(err, ErrUnknownChecker) || !strings.Contains(err.Error(), `"linearisable" (valid: linearizable, queue, liveness, group, final-read)`) {
		t.Fatalf("err = %v", err)
	}
	if _, err := CheckFile("x.jsonl", strings.NewReader("garbage"), Options{Checkers: []string{"nope"}}); !errors.Is(err, ErrUnknownChecker) {
		t.Fatalf("err = %v", err)
	}
}

func TestMalformedHistoryNamesFileLineField(t *testing.T) {
	good := string(jsonl(t, lossy()))
	lines := strings.Split(good, "\n")
	lines[2] = strings.Replace(lines[2], `"time":`, `"time":"soon","x":`, 1)
	_, err := CheckFile("run-7.jsonl", strings.NewReader(strings.Join(lines, "\n")), Options{})
	var pe *history.Error
	if !errors.As(err, &pe) || !errors.Is(err, history.ErrMalformed) || pe.Line != 3 {
		t.Fatalf("err = %v", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "run-7.jsonl: history: line 3: ") || !strings.Contains(msg, "time") {
		t.Fatalf("message %q", msg)
	}
	// Records that parse but do not pair: the file and the record are named.
	_, err = CheckFile("run-8.jsonl", strings.NewReader(lines[1]+"\n"), Options{})
	if !errors.Is(err, history.ErrIllFormed) || !strings.HasPrefix(err.Error(), "run-8.jsonl: ") {
		t.Fatalf("err = %v", err)
	}
}

// FuzzCheckFile: any input yields a report or an error, never a panic.
func FuzzCheckFile(f *testing.F) {
	f.Add(jsonl(f, lossy()))
	f.Add(jsonl(f, histgen.Generate(histgen.Config{Seed: 1, Ops: 30, Partitions: 2, Producers: 2, InFlight: 2, Consumers: 2,
		InfoPercent: 20, FailPercent: 10, PollPercent: 40, MaxRecords: 3})))
	f.Add([]byte(`{"index":0,"time":1,"process":"c","id":1,"type":"invoke","f":"send","topic":"t","partition":-1,"value":"v"}`))
	f.Add([]byte("{\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := CheckFile("fuzz.jsonl", bytes.NewReader(data), Options{Linearizable: linearizableFuzzOpts})
		if err == nil && rep.Verdict == "" {
			t.Fatal("a report without a verdict")
		}
	})
}

// TestFinalReadRunsOnlyWhenNamed: final-read is not among the default
// checkers; named, it judges the history by the final reader's polls.
func TestFinalReadRunsOnlyWhenNamed(t *testing.T) {
	b := histgen.New()
	b.Send("p", "t", 0, "a", 0)
	b.Send("p", "t", 0, "b", 1)
	b.Poll("final-reader", "t", 0, 0, histgen.R(0, "a"))
	rep, err := Check(b.Ops(), Options{})
	if err != nil || rep.FinalRead != nil {
		t.Fatalf("default run: %v %+v", err, rep.Checkers)
	}
	rep, err = Check(b.Ops(), Options{Checkers: []string{"final-read"}})
	if err != nil || rep.FinalRead == nil || rep.Verdict != verdict.Fail || len(rep.Anomalies) != 1 ||
		rep.Anomalies[0].Kind != "lost-write" || rep.Anomalies[0].Checker != "final-read" {
		t.Fatalf("%v %+v", err, rep)
	}
	if !strings.Contains(rep.Text(), "final read by final-reader: 1 records") {
		t.Errorf("text: %s", rep.Text())
	}
}
