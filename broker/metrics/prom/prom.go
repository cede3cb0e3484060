// Package prom exports broker/metrics to Prometheus: a Registry backs
// metrics.Recorder (each metric name becomes a vector, created on first
// use with the label names it came with plus "broker") and Serve answers
// /metrics over HTTP for `loglab broker --metrics` and `loglab cluster
// --metrics`.
//
// Ownership and imports: it owns its registry and HTTP server. It imports
// broker/metrics and client_golang. Real mode only: it locks, starts a
// goroutine and serves HTTP, and nothing that runs in simulation imports
// it (brokers in the simulator record to metrics.Discard or a test
// recorder).
//
//detcheck:exempt serves HTTP from a goroutine with locks; never runs in simulation
package prom

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/loglab/loglab/broker/metrics"
)

// Registry backs broker/metrics with Prometheus. Safe for concurrent
// use: brokers record from their loops while the HTTP handler scrapes.
type Registry struct {
	reg        *prometheus.Registry
	mu         sync.Mutex
	counters   map[string]*prometheus.CounterVec
	gauges     map[string]*prometheus.GaugeVec
	histograms map[string]*prometheus.HistogramVec
}

// New returns a registry with the Go and process collectors.
func New() *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Registry{reg: reg, counters: map[string]*prometheus.CounterVec{}, gauges: map[string]*prometheus.GaugeVec{},
		histograms: map[string]*prometheus.HistogramVec{}}
}

// ForBroker returns the recorder a broker uses: every series labelled
// broker=id.
func (p *Registry) ForBroker(id int32) metrics.Recorder {
	return brokerRecorder{p, fmt.Sprint(id)}
}

type brokerRecorder struct {
	p  *Registry
	id string
}

func split(labels []string) (names, values []string) {
	for i := 0; i+1 < len(labels); i += 2 {
		names, values = append(names, labels[i]), append(values, labels[i+1])
	}
	return names, values
}

func help(name string) string {
	return "loglab broker metric " + strings.TrimPrefix(name, "loglab_broker_") + " (see package broker/metrics)"
}

func (r brokerRecorder) Add(name string, d float64, labels ...string) {
	names, values := split(append([]string{"broker", r.id}, labels...))
	r.p.mu.Lock()
	v := r.p.counters[name]
	if v == nil {
		v = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help(name)}, names)
		r.p.reg.MustRegister(v)
		r.p.counters[name] = v
	}
	r.p.mu.Unlock()
	v.WithLabelValues(values...).Add(d)
}

func (r brokerRecorder) Set(name string, x float64, labels ...string) {
	names, values := split(append([]string{"broker", r.id}, labels...))
	r.p.mu.Lock()
	v := r.p.gauges[name]
	if v == nil {
		v = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help(name)}, names)
		r.p.reg.MustRegister(v)
		r.p.gauges[name] = v
	}
	r.p.mu.Unlock()
	v.WithLabelValues(values...).Set(x)
}

func (r brokerRecorder) Observe(name string, s float64, labels ...string) {
	names, values := split(append([]string{"broker", r.id}, labels...))
	r.p.mu.Lock()
	v := r.p.histograms[name]
	if v == nil {
		v = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help(name),
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 20)}, names) // 50µs .. 26s
		r.p.reg.MustRegister(v)
		r.p.histograms[name] = v
	}
	r.p.mu.Unlock()
	v.WithLabelValues(values...).Observe(s)
}

// Serve serves /metrics on addr (HOST:PORT; port 0 picks one) until the
// returned stop is called, and returns the address it listens on.
func (p *Registry) Serve(addr string) (string, func(), error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "loglab: metrics server:", err)
		}
	}()
	return l.Addr().String(), func() { srv.Close() }, nil
}
