package console

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/loglab/loglab/client"
	"github.com/loglab/loglab/client/admin"
)

func TestParseConfigs(t *testing.T) {
	got, err := ParseConfigs([]string{"retention.ms=100", "cleanup.policy=compact,delete", "empty="})
	if err != nil || len(got) != 3 || got[0].Name != "retention.ms" || *got[0].Value != "100" ||
		*got[1].Value != "compact,delete" || *got[2].Value != "" {
		t.Fatalf("ParseConfigs = %+v, %v", got, err)
	}
	for _, bad := range []string{"noequals", "=value"} {
		if _, err := ParseConfigs([]string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseConfigs(%q) = %v, want an error naming it", bad, err)
		}
	}
}

func TestStartFrom(t *testing.T) {
	five, neg := int64(5), int64(-1)
	for _, c := range []struct {
		name      string
		beginning bool
		offset    *int64
		start     client.Offset
		reset     client.ResetPolicy
		bad       bool
	}{
		{"end by default", false, nil, client.Latest, client.ResetLatest, false},
		{"beginning", true, nil, client.Earliest, client.ResetEarliest, false},
		{"offset", false, &five, client.At(5), client.ResetNone, false},
		{"offset and beginning", true, &five, client.Offset{}, 0, true},
		{"negative offset", false, &neg, client.Offset{}, 0, true},
	} {
		start, reset, err := StartFrom(c.beginning, c.offset)
		if c.bad {
			if !errors.Is(err, ErrBadStart) {
				t.Errorf("%s: err %v, want ErrBadStart", c.name, err)
			}
			continue
		}
		if err != nil || start != c.start || reset != c.reset {
			t.Errorf("%s: %v %v %v, want %v %v", c.name, start, reset, err, c.start, c.reset)
		}
	}
}

// A bad reset is refused before any request: the nil client is never used.
func TestResetOffsetsRefusesBadResets(t *testing.T) {
	for _, r := range []Reset{
		{Topic: "t", To: admin.ResetTo{Earliest: true}},
		{Group: "g", To: admin.ResetTo{Earliest: true}},
		{Group: "g", Topic: "t"},
		{Group: "g", Topic: "t", To: admin.ResetTo{Earliest: true, Latest: true}},
		{Group: "g", Topic: "t", To: admin.ResetTo{Offset: -3}, ToOffset: true},
	} {
		if err := ResetOffsets(context.Background(), nil, &bytes.Buffer{}, r); !errors.Is(err, ErrBadReset) {
			t.Errorf("%+v: err %v, want ErrBadReset", r, err)
		}
	}
}

func TestWriteTopicsAndGroup(t *testing.T) {
	v := "86400000"
	ds := []admin.TopicDescription{{
		Topic:          admin.Topic{Name: "events", Partitions: []admin.Partition{{Partition: 0, Leader: 2, Replicas: []int32{2, 1}, ISR: []int32{2}}, {Partition: 1, Err: errors.New("LEADER_NOT_AVAILABLE")}}},
		Overrides:      []admin.Config{{Name: "retention.ms", Value: &v}},
		LogStartOffset: map[int32]int64{0: 3}, HighWatermark: map[int32]int64{0: 9},
	}}
	var b bytes.Buffer
	WriteTopics(&b, ds)
	want := "Topic: events\tPartitionCount: 2\tConfigs: retention.ms=86400000\n" +
		"\tPartition: 0\tLeader: 2\tReplicas: 2,1\tIsr: 2\tLogStartOffset: 3\tHighWatermark: 9\n" +
		"\tPartition: 1\tError: LEADER_NOT_AVAILABLE\n"
	if b.String() != want {
		t.Errorf("WriteTopics:\n%q\nwant\n%q", b.String(), want)
	}

	b.Reset()
	g := admin.GroupDescription{Group: "billing", State: "Stable", ProtocolType: "consumer", Protocol: "range", Coordinator: "h:1",
		Members: []admin.Member{{MemberID: "m1", ClientID: "c1", ClientHost: "/1.2.3.4", RawAssignment: []byte{1}, Assignment: map[string][]int32{"u": {2}, "t": {0, 1}}}}}
	lags := []admin.PartitionLag{{Topic: "t", Partition: 0, Committed: 4, LogEnd: 10, Lag: 6}, {Topic: "t", Partition: 1, Committed: 2, LogEnd: -1, Lag: -1}}
	if err := WriteGroup(&b, g, lags); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"group billing: state Stable, protocol consumer range, coordinator h:1, 1 members", "t:0,1 u:2", "t      0          4          10       6", "t      1          2          -        -"} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("WriteGroup lacks %q:\n%s", line, b.String())
		}
	}
	for _, c := range []struct {
		m    admin.Member
		want string
	}{{admin.Member{}, "-"}, {admin.Member{RawAssignment: []byte{1, 2}}, "(2 bytes, not the consumer protocol)"}, {admin.Member{RawAssignment: []byte{1}, Assignment: map[string][]int32{}}, "-"}} {
		if got := AssignmentText(c.m); got != c.want {
			t.Errorf("AssignmentText(%+v) = %q, want %q", c.m, got, c.want)
		}
	}
}
