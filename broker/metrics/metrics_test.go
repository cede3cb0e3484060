package metrics

import "testing"

func TestMemoryTotals(t *testing.T) {
	m := NewMemory()
	m.Add("requests_total", 1, "api", "Produce")
	m.Add("requests_total", 2, "api", "Fetch")
	m.Set("gauge", 5)
	m.Set("gauge", 3)
	m.Observe("latency_seconds", 0.5, "api", "Fetch")
	m.Observe("latency_seconds", 0.25, "api", "Fetch")
	m.Observe("flush_seconds", 0.1)
	if v := m.Value(`requests_total{api="Fetch"}`); v != 2 {
		t.Fatalf("series value %v", v)
	}
	tot := m.Totals()
	if tot["requests_total"] != 3 || tot["gauge"] != 3 || tot["latency_seconds_sum"] != 0.75 || tot["latency_seconds_count"] != 2 || tot["flush_seconds_count"] != 1 || tot["flush_seconds_sum"] != 0.1 {
		t.Fatalf("totals %v", tot)
	}
}
