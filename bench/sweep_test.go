package bench

import (
	"errors"
	"testing"
	"time"
)

func TestWorkloadWith(t *testing.T) {
	base := DefaultWorkload()
	for _, c := range []struct {
		param, value string
		check        func(Workload) bool
		x            float64
	}{
		{"message-size", "4096", func(w Workload) bool { return w.MessageSize == 4096 }, 4096},
		{"partitions", "12", func(w Workload) bool { return w.PartitionsPerTopic == 12 }, 12},
		{"acks", "all", func(w Workload) bool { return w.Acks == -1 }, 2},
		{"replication-factor", "3", func(w Workload) bool { return w.ReplicationFactor == 3 }, 3},
		{"flush", "every-batch", func(w Workload) bool { return w.Flush == "every-batch" }, 2},
		{"linger", "5ms", func(w Workload) bool { return w.Linger == Duration(5*time.Millisecond) }, 5},
	} {
		w, x, err := base.With(c.param, c.value, 2)
		if err != nil || !c.check(w) || x != c.x {
			t.Errorf("%s=%s: %+v x %v err %v", c.param, c.value, w, x, err)
		}
	}
	if DefaultWorkload() != base {
		t.Fatal("With changed its receiver")
	}
	for _, c := range [][2]string{{"message-size", "big"}, {"acks", "2"}, {"flush", "sometimes"}, {"colour", "red"}, {"partitions", "0"}} {
		if _, _, err := base.With(c[0], c[1], 0); !errors.Is(err, ErrSweep) {
			t.Errorf("%s=%s: %v", c[0], c[1], err)
		}
	}
	if p, vs, err := ParseSweep("message-size=256, 1024,4096"); err != nil || p != "message-size" || len(vs) != 3 || vs[1] != "1024" {
		t.Fatalf("ParseSweep: %s %v %v", p, vs, err)
	}
	for _, s := range []string{"message-size", "message-size=", "acks=1"} {
		if _, _, err := ParseSweep(s); !errors.Is(err, ErrSweep) {
			t.Errorf("ParseSweep(%q): %v", s, err)
		}
	}
}
