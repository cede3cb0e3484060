package bench

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseWorkloadOverDefaults(t *testing.T) {
	w, err := ParseWorkload("w.yaml", []byte("name: small\ntopics: 2\npartitionsPerTopic: 6\nmessageSize: 100\nproducerRate: 5000\nduration: 3s\nacks: -1\nflush: every-batch\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w.Topics != 2 || w.PartitionsPerTopic != 6 || w.MessageSize != 100 || w.ProducerRate != 5000 ||
		time.Duration(w.Duration) != 3*time.Second || w.Acks != -1 || w.Flush != "every-batch" || w.ProducersPerTopic != 1 {
		t.Fatalf("%+v", w)
	}
}

// Bad workload files fail with ErrWorkload naming the field and the file.
func TestParseWorkloadErrors(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"producerRatee: 5\n", "producerRatee"},
		{"acks: 2\n", "acks 2"},
		{"duration: soon\n", "not a duration"},
		{"partitionsPerTopic: 0\n", "partitionsPerTopic 0"},
		{"keyDistributor: ZIPF\n", "keyDistributor"},
		{"compression: brotli\n", "compression"},
		{"flush: sometimes\n", "flush"},
		{"messageSize: [1]\n", "cannot unmarshal"},
	} {
		_, err := ParseWorkload("bad.yaml", []byte(c.yaml))
		if !errors.Is(err, ErrWorkload) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.yaml") {
			t.Errorf("%q: %v, want ErrWorkload mentioning %q", c.yaml, err, c.want)
		}
	}
}
