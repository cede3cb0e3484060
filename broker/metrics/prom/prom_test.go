package prom_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/loglab/loglab/broker/metrics/prom"
)

// A broker's recordings appear on /metrics labelled with its id.
func TestServeExportsRecordings(t *testing.T) {
	reg := prom.New()
	addr, stop, err := reg.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	r := reg.ForBroker(2)
	r.Add("loglab_broker_requests_total", 3, "api", "Produce")
	r.Set("loglab_broker_partitions", 4)
	r.Observe("loglab_broker_request_seconds", 0.001, "api", "Fetch")
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`loglab_broker_requests_total{api="Produce",broker="2"} 3`,
		`loglab_broker_partitions{broker="2"} 4`,
		`loglab_broker_request_seconds_count{api="Fetch",broker="2"} 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if _, _, err := reg.Serve("127.0.0.1:bad"); err == nil {
		t.Fatal("a bad address was served")
	}
}
