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

// Set takes every workload parameter by its flag name, without validating
// (the caller validates the whole workload); With takes only the sweep's.
func TestWorkloadSet(t *testing.T) {
	w := DefaultWorkload()
	for _, kv := range [][2]string{{"topics", "2"}, {"partitions", "6"}, {"message-size", "512"}, {"producers", "3"},
		{"consumers", "0"}, {"rate", "1000"}, {"duration", "30s"}, {"warmup", "1s"}, {"acks", "0"}, {"compression", "lz4"},
		{"batch-bytes", "65536"}, {"linger", "2ms"}, {"replication-factor", "3"}, {"flush", "every-batch"}} {
		var err error
		if w, err = w.Set(kv[0], kv[1]); err != nil {
			t.Fatalf("Set(%s, %s): %v", kv[0], kv[1], err)
		}
	}
	want := Workload{Name: "default", Topics: 2, PartitionsPerTopic: 6, MessageSize: 512, KeyDistributor: "NO_KEY",
		ProducersPerTopic: 3, ConsumerPerSubscription: 0, ProducerRate: 1000, Warmup: Duration(time.Second), Duration: Duration(30 * time.Second),
		Acks: 0, Compression: "lz4", BatchBytes: 65536, Linger: Duration(2 * time.Millisecond), ReplicationFactor: 3, Flush: "every-batch"}
	if w != want {
		t.Fatalf("after Set:\n%+v\nwant\n%+v", w, want)
	}
	if len(WorkloadParams) != 14 {
		t.Errorf("WorkloadParams = %v: the test sets 14", WorkloadParams)
	}
	for _, kv := range [][2]string{{"consumers", "x"}, {"duration", "soon"}, {"acks", "2"}, {"colour", "red"}} {
		if _, err := w.Set(kv[0], kv[1]); !errors.Is(err, ErrParam) {
			t.Errorf("Set(%s, %s) = %v, want ErrParam", kv[0], kv[1], err)
		}
	}
	if _, err := w.Set("partitions", "0"); err != nil {
		t.Errorf("Set validates: %v (the caller validates the whole workload)", err)
	}
	if _, _, err := w.With("duration", "10s", 0); !errors.Is(err, ErrSweep) {
		t.Errorf("With(duration) = %v: not a sweep parameter", err)
	}
}

func TestLoadWorkload(t *testing.T) {
	if w, err := LoadWorkload(""); err != nil || w != DefaultWorkload() {
		t.Fatalf("LoadWorkload(\"\") = %+v, %v", w, err)
	}
	if _, err := LoadWorkload(t.TempDir() + "/missing.yaml"); !errors.Is(err, ErrWorkload) {
		t.Errorf("missing file: %v", err)
	}
}

func TestDemoConfigValidate(t *testing.T) {
	ok := DemoConfig{Rate: 100, Duration: 20 * time.Second, Kill: 2, KillAt: 8 * time.Second, Down: 4 * time.Second}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mod := range []func(*DemoConfig){
		func(c *DemoConfig) { c.Rate = 0 },
		func(c *DemoConfig) { c.Kill = 4 },
		func(c *DemoConfig) { c.Down = 0 },
		func(c *DemoConfig) { c.KillAt = 17 * time.Second },
	} {
		c := ok
		mod(&c)
		if err := c.Validate(); !errors.Is(err, ErrDemoConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	none := DemoConfig{Rate: 1, Duration: time.Second}
	if err := none.Validate(); err != nil {
		t.Errorf("no kill: %v", err)
	}
}
