package history

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// docExample extracts the JSONL example from the package doc, so the spec
// cannot drift from the parser.
func docExample(t *testing.T) string {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(l, "//\t{") {
			b.WriteString(strings.TrimPrefix(l, "//\t") + "\n")
		}
	}
	if b.Len() == 0 {
		t.Fatal("no example in doc.go")
	}
	return b.String()
}

func TestDocExampleParsesAndPairs(t *testing.T) {
	ex := docExample(t)
	ops, err := ParseBytes([]byte(ex))
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 6 {
		t.Fatalf("got %d records, want 6", len(ops))
	}
	pairs, err := Pair(ops)
	if err != nil {
		t.Fatal(err)
	}
	if len(pairs) != 3 {
		t.Fatalf("got %d operations, want 3", len(pairs))
	}
	if p := pairs[0]; p.Outcome() != OK || p.Partition() != 2 || p.Offset() != 17 || *p.Invoke.Key != "k1" {
		t.Errorf("first send: %+v", p)
	}
	if p := pairs[1]; p.Outcome() != Info || p.Offset() != NoOffset || p.Invoke.Key != nil {
		t.Errorf("second send: %+v", p)
	}
	if p := pairs[2]; p.Outcome() != OK || len(p.Completion.Records) != 1 || p.Completion.Records[0].Value != "v1" {
		t.Errorf("poll: %+v", p)
	}
	// The writer reproduces the example byte for byte.
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, op := range ops {
		w.Append(op)
	}
	if w.Err() != nil {
		t.Fatal(w.Err())
	}
	if buf.String() != ex {
		t.Errorf("writer output differs from the doc example:\n%s\nwant:\n%s", buf.String(), ex)
	}
	keys, groups := ByPartition(pairs)
	if !reflect.DeepEqual(keys, []TopicPartition{{"t", 0}, {"t", 2}}) || len(groups[TopicPartition{"t", 2}]) != 2 {
		t.Errorf("ByPartition = %v, %v", keys, groups)
	}
}

func TestParseErrorsNameTheLine(t *testing.T) {
	good := `{"index":0,"time":1,"process":"c","id":1,"type":"invoke","f":"poll","topic":"t","partition":0,"offset":0}`
	cases := []struct {
		name, line string
	}{
		{"not json", `{"index":`},
		{"unknown field", strings.Replace(good, `"offset":0`, `"offset":0,"bogus":1`, 1)},
		{"missing index", strings.Replace(good, `"index":0,`, ``, 1)},
		{"missing partition", strings.Replace(good, `,"partition":0`, ``, 1)},
		{"bad type", strings.Replace(good, `"invoke"`, `"done"`, 1)},
		{"bad f", strings.Replace(good, `"poll"`, `"append"`, 1)},
		{"empty process", strings.Replace(good, `"c"`, `""`, 1)},
		{"poll without position", strings.Replace(good, `,"offset":0`, ``, 1)},
		{"send without value", strings.Replace(good, `"poll"`, `"send"`, 1)},
		{"fail without error", strings.Replace(good, `"invoke"`, `"fail"`, 1)},
		{"two values", good + ` {}`},
		{"index not increasing", strings.Replace(good, `"index":0`, `"index":5`, 1)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := strings.Replace(good, `"index":0`, `"index":5`, 1) + "\n\n" + c.line + "\n"
			ops, err := ParseBytes([]byte(in))
			var pe *Error
			if !errors.As(err, &pe) || pe.Line != 3 || !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want an *Error at line 3 wrapping ErrMalformed", err)
			}
			if len(ops) != 1 {
				t.Errorf("got %d records before the error, want 1", len(ops))
			}
			if !strings.Contains(err.Error(), "line 3") {
				t.Errorf("message %q does not name the line", err)
			}
		})
	}
}

func TestPairRejectsIllFormed(t *testing.T) {
	inv := Op{Time: 10, Process: "c", ID: 1, Type: Invoke, F: Send, Topic: "t", Partition: NoPartition, Value: "v", Offset: NoOffset}
	ok := inv
	ok.Type, ok.Partition, ok.Offset, ok.Time = OK, 3, 7, 20
	cases := map[string][]Op{
		"completion without invoke": {ok},
		"id reused":                 {inv, ok, inv},
		"second completion":         {inv, ok, ok},
		"value changed":             {inv, func() Op { o := ok; o.Value = "w"; return o }()},
		"completed before invoke":   {inv, func() Op { o := ok; o.Time = 5; return o }()},
		"f changed":                 {inv, func() Op { o := ok; o.F = Poll; return o }()},
	}
	for name, ops := range cases {
		if _, err := Pair(ops); !errors.Is(err, ErrIllFormed) {
			t.Errorf("%s: err = %v, want ErrIllFormed", name, err)
		}
	}
	pairs, err := Pair([]Op{inv})
	if err != nil || len(pairs) != 1 || !pairs[0].Pending || pairs[0].Outcome() != Info {
		t.Errorf("pending invoke: %+v, %v", pairs, err)
	}
}

func TestWriterRejectsInvalidOp(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Append(Op{Process: "c", Type: OK, F: Send, Topic: "t", Offset: NoOffset}) // ok send without offset
	if !errors.Is(w.Err(), ErrMalformed) || buf.Len() != 0 || w.Len() != 0 {
		t.Fatalf("err = %v, wrote %q", w.Err(), buf.String())
	}
}

// genOp draws a valid record (Index is set by the Writer).
func genOp(t *rapid.T) Op {
	str := rapid.StringMatching(`[a-z0-9"\\<>&\x{e9}\n-]{0,6}`)
	op := Op{
		Time:      rapid.Int64Range(0, 1<<50).Draw(t, "time"),
		Process:   rapid.StringMatching(`[a-z]{1,4}-[0-9]`).Draw(t, "process"),
		ID:        rapid.Int64Range(-3, 1000).Draw(t, "id"),
		Type:      rapid.SampledFrom([]Type{Invoke, OK, Fail, Info}).Draw(t, "type"),
		F:         rapid.SampledFrom([]F{Send, Poll}).Draw(t, "f"),
		Topic:     rapid.StringMatching(`[a-z._-]{1,8}`).Draw(t, "topic"),
		Partition: rapid.Int32Range(0, 100).Draw(t, "partition"),
		Offset:    NoOffset,
	}
	if op.Type != Invoke {
		op.Error = str.Draw(t, "error")
	}
	if op.Type == Fail && op.Error == "" {
		op.Error = "X"
	}
	switch op.F {
	case Send:
		op.Value = str.Draw(t, "value")
		if rapid.Bool().Draw(t, "keyed") {
			op.Key = Str(str.Draw(t, "key"))
		}
		if op.Type == Invoke && rapid.Bool().Draw(t, "unpartitioned") {
			op.Partition = NoPartition
		}
		if op.Type == OK {
			op.Offset = rapid.Int64Range(0, 1<<40).Draw(t, "offset")
		}
	case Poll:
		op.Offset = rapid.Int64Range(0, 1<<40).Draw(t, "position")
		if op.Type == OK {
			n := rapid.IntRange(0, 4).Draw(t, "n")
			next := op.Offset
			for i := 0; i < n; i++ {
				next += rapid.Int64Range(0, 3).Draw(t, "gap")
				r := Read{Offset: next, Value: str.Draw(t, "rvalue")}
				if rapid.Bool().Draw(t, "rkeyed") {
					r.Key = Str(str.Draw(t, "rkey"))
				}
				op.Records = append(op.Records, r)
				next++
			}
		}
	}
	return op
}

func TestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ops := rapid.SliceOfN(rapid.Custom(genOp), 0, 8).Draw(t, "ops")
		var buf bytes.Buffer
		w := Tee(&buf)
		for _, op := range ops {
			w.Append(op)
		}
		if w.Err() != nil {
			t.Fatal(w.Err())
		}
		got, err := ParseBytes(buf.Bytes())
		if err != nil {
			t.Fatalf("%v\n%s", err, buf.String())
		}
		if want := w.Ops(); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"index":0,"time":1,"process":"c","id":1,"type":"invoke","f":"poll","topic":"t","partition":0,"offset":0}`))
	f.Add([]byte(`{"index":1,"time":1,"process":"c","id":1,"type":"ok","f":"send","topic":"t","partition":0,"key":"k","value":"v","offset":3}` + "\n"))
	f.Add([]byte(`{"index":2,"time":1,"process":"c","id":1,"type":"ok","f":"poll","topic":"t","partition":0,"offset":3,"records":[{"offset":3,"value":"v"},{"offset":5,"key":"","value":""}]}`))
	f.Add([]byte(`{"index":3,"time":1,"process":"c","id":1,"type":"fail","f":"send","topic":"t","partition":1,"value":"v","error":"NOT_LEADER_OR_FOLLOWER"}` + "\n\n{}"))
	f.Add([]byte("\n\n{\"index\":-1}"))
	f.Fuzz(func(t *testing.T, in []byte) {
		ops, err := ParseBytes(in)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		var buf bytes.Buffer
		for _, op := range ops {
			line, err := Marshal(op)
			if err != nil {
				t.Fatal(err)
			}
			buf.Write(append(line, '\n'))
		}
		again, err := ParseBytes(buf.Bytes())
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(ops, again) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", again, ops)
		}
	})
}
