package console_test

import (
	"bytes"
	"testing"

	"github.com/loglab/loglab/client"
	"github.com/loglab/loglab/client/console"
	"github.com/loglab/loglab/wire/batch"
)

func TestFormat(t *testing.T) {
	r := client.Record{Topic: "t", Partition: 2, Offset: 41, Key: []byte("k"), Value: []byte("hello"), Timestamp: 1700,
		Headers: []batch.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}}}
	for format, want := range map[string]string{
		console.DefaultFormat(false, false, false): "hello\n",
		console.DefaultFormat(true, true, true):    "2\t41\tk\thello\n",
		`%t/%p@%o %k=%s ts=%T [%h] %K %S %% %x\n`:  "t/2@41 k=hello ts=1700 [a=1,b=2] 1 5 % %x\n",
		`tab\there\\ trailing%`:                    "tab\there\\ trailing%",
	} {
		var b bytes.Buffer
		console.Format(&b, format, r)
		if b.String() != want {
			t.Errorf("Format(%q) = %q, want %q", format, b.String(), want)
		}
	}
	var b bytes.Buffer
	console.Format(&b, "%K %S", client.Record{})
	if b.String() != "-1 -1" {
		t.Errorf("null key and value lengths: %q, want -1 -1", b.String())
	}
}

func TestParseAcks(t *testing.T) {
	for in, want := range map[string]client.Acks{"all": client.AcksAll, "-1": client.AcksAll, "1": client.AcksLeader, "0": client.AcksNone} {
		if got, err := console.ParseAcks(in); err != nil || got != want {
			t.Errorf("ParseAcks(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := console.ParseAcks("2"); err == nil {
		t.Error("acks 2 accepted")
	}
}
