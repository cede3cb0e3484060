package topics

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func TestValidName(t *testing.T) {
	for _, ok := range []string{"a", "A-b_c.d", strings.Repeat("x", 249), "..."} {
		if err := ValidName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", strings.Repeat("x", 250), "a/b", "a b", "ü", "a\x00"} {
		if err := ValidName(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("%q accepted: %v", bad, err)
		}
	}
}

func TestParseConfig(t *testing.T) {
	d := DefaultConfig()
	c, err := ParseConfig(d, map[string]string{"retention.ms": "-1", "flush.messages": "1", "message.timestamp.type": "LogAppendTime", "segment.bytes": "2048"})
	if err != nil {
		t.Fatal(err)
	}
	if c.RetentionMs != -1 || !c.SyncsEveryAppend() || c.TimestampType != LogAppendTime || c.SegmentBytes != 2048 || c.RetentionBytes != d.RetentionBytes {
		t.Fatalf("%+v", c)
	}
	for _, bad := range []map[string]string{
		{"nope": "1"}, {"retention.ms": "-2"}, {"segment.bytes": "10"}, {"flush.messages": "0"},
		{"max.message.bytes": "x"}, {"message.timestamp.type": "Now"}, {"cleanup.policy": "compact"},
	} {
		if _, err := ParseConfig(d, bad); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%v accepted: %v", bad, err)
		}
	}
	if d.SyncsEveryAppend() {
		t.Error("Kafka's default flush policy does not sync every append")
	}
}

func TestDescribeMarksOverrides(t *testing.T) {
	es := Describe(DefaultConfig(), map[string]string{"retention.bytes": "100"})
	if len(es) != len(specs) {
		t.Fatalf("%d entries", len(es))
	}
	for i, e := range es {
		if i > 0 && es[i-1].Name >= e.Name {
			t.Fatal("not sorted")
		}
		if (e.Name == "retention.bytes") != e.Override {
			t.Errorf("%s override=%v", e.Name, e.Override)
		}
		if e.Name == "retention.bytes" && (e.Value != "100" || e.Default != "-1" || e.BrokerName != "log.retention.bytes") {
			t.Errorf("%+v", e)
		}
	}
}

func TestStateRoundTrip(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(0, 5).Draw(rt, "n")
		var s State
		for i := 0; i < n; i++ {
			tp := Topic{Name: string(rune('a'+i)) + rapid.StringMatching(`[a-z0-9._-]{0,10}`).Draw(rt, "name"), Partitions: rapid.Int32Range(1, 100).Draw(rt, "p")}
			tp.ID[0], tp.ID[15] = byte(i+1), 7
			if rapid.Bool().Draw(rt, "cfg") {
				tp.Overrides = map[string]string{"retention.ms": "1000"}
			}
			s.Topics = append(s.Topics, tp)
		}
		got, err := Decode(Encode(s))
		if err != nil {
			rt.Fatal(err)
		}
		if len(s.Topics) == 0 {
			s.Topics = []Topic{}
		}
		if !reflect.DeepEqual(got, s) {
			rt.Fatalf("round trip: %+v != %+v", got, s)
		}
	})
}

func TestDecodeRejectsBadStates(t *testing.T) {
	for _, bad := range []string{
		``, `{`, `{"version":2,"topics":[]}`,
		`{"version":1,"topics":[{"name":"a/b","id":"00000000000000000000000000000001","partitions":1}]}`,
		`{"version":1,"topics":[{"name":"a","id":"00000000000000000000000000000000","partitions":1}]}`,
		`{"version":1,"topics":[{"name":"a","id":"0001","partitions":1}]}`,
		`{"version":1,"topics":[{"name":"a","id":"00000000000000000000000000000001","partitions":0}]}`,
		`{"version":1,"topics":[{"name":"b","id":"00000000000000000000000000000001","partitions":1},{"name":"a","id":"00000000000000000000000000000002","partitions":1}]}`,
		`{"version":1,"topics":[{"name":"a","id":"00000000000000000000000000000001","partitions":1},{"name":"b","id":"00000000000000000000000000000001","partitions":1}]}`,
		`{"version":1,"topics":[{"name":"a","id":"00000000000000000000000000000001","partitions":1,"configs":{"x":"1"}}]}`,
	} {
		if _, err := Decode([]byte(bad)); !errors.Is(err, ErrCorruptState) {
			t.Errorf("%s accepted: %v", bad, err)
		}
	}
}

// FuzzDecode: never panics; whatever it accepts re-encodes to a state
// that decodes to the same value.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"version":1,"topics":[{"name":"a","id":"00000000000000000000000000000001","partitions":3,"configs":{"retention.ms":"5"}}]}`))
	f.Add([]byte(`{"version":1,"topics":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err != nil {
			return
		}
		s2, err := Decode(Encode(s))
		if err != nil || !reflect.DeepEqual(Encode(s), Encode(s2)) {
			t.Fatalf("accepted state does not round-trip: %v", err)
		}
	})
}
