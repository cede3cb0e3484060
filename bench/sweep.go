package bench

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrSweep classifies a bad sweep parameter or value.
var ErrSweep = errors.New("bench: bad sweep")

// SweepParams are the workload parameters `loglab bench sweep` can vary,
// by their flag names.
var SweepParams = []string{"message-size", "partitions", "acks", "replication-factor", "flush", "compression",
	"producers", "batch-bytes", "linger", "rate", "topics"}

// nominal parameters are drawn at evenly spaced positions, in the order
// given; the others at their numeric value.
var nominal = map[string]bool{"acks": true, "flush": true, "compression": true}

// ParseSweep reads "PARAM=V1,V2,..." into the parameter and its values.
func ParseSweep(s string) (string, []string, error) {
	param, list, ok := strings.Cut(s, "=")
	if !ok || list == "" {
		return "", nil, fmt.Errorf("%w %q: want PARAM=V1,V2,... (PARAM one of %s)", ErrSweep, s, strings.Join(SweepParams, ", "))
	}
	var values []string
	for _, v := range strings.Split(list, ",") {
		if v = strings.TrimSpace(v); v != "" {
			values = append(values, v)
		}
	}
	if len(values) < 2 {
		return "", nil, fmt.Errorf("%w %q: want at least two values", ErrSweep, s)
	}
	return param, values, nil
}

// With returns w with param (one of SweepParams) set to value,
// validated, and the value's position on a plot's x axis (index is the
// value's position in its sweep, used for nominal parameters such as
// acks).
func (w Workload) With(param, value string, index int) (Workload, float64, error) {
	if !slices.Contains(SweepParams, param) {
		return Workload{}, 0, fmt.Errorf("%w: unknown parameter %q (want one of %s)", ErrSweep, param, strings.Join(SweepParams, ", "))
	}
	w, x, err := w.set(param, value)
	if err == nil {
		err = w.Validate()
	}
	if err != nil {
		return Workload{}, 0, fmt.Errorf("%w: %s=%s: %w", ErrSweep, param, value, err)
	}
	if nominal[param] {
		x = float64(index)
	}
	return w, x, nil
}

// WorkloadParams are the workload parameters Set takes, by their flag
// names: SweepParams, consumers, duration and warmup.
var WorkloadParams = append(slices.Clone(SweepParams), "consumers", "duration", "warmup")

// ErrParam classifies a value Set cannot take.
var ErrParam = errors.New("bench: bad workload parameter")

// Set returns w with param (one of WorkloadParams) set to value, not yet
// validated (Validate the whole workload once every parameter is set).
func (w Workload) Set(param, value string) (Workload, error) {
	w, _, err := w.set(param, value)
	return w, err
}

// set is Set, also returning the value as a number (milliseconds for a
// duration).
func (w Workload) set(param, value string) (Workload, float64, error) {
	bad := func(why string) (Workload, float64, error) {
		return Workload{}, 0, fmt.Errorf("%w: %s=%s: %s", ErrParam, param, value, why)
	}
	ints := map[string]*int{"message-size": &w.MessageSize, "partitions": &w.PartitionsPerTopic,
		"replication-factor": &w.ReplicationFactor, "producers": &w.ProducersPerTopic, "batch-bytes": &w.BatchBytes,
		"rate": &w.ProducerRate, "topics": &w.Topics, "consumers": &w.ConsumerPerSubscription}
	durations := map[string]*Duration{"linger": &w.Linger, "duration": &w.Duration, "warmup": &w.Warmup}
	switch {
	case ints[param] != nil:
		n, err := strconv.Atoi(value)
		if err != nil {
			return bad("not a whole number")
		}
		*ints[param] = n
		return w, float64(n), nil
	case durations[param] != nil:
		d, err := time.ParseDuration(value)
		if err != nil {
			return bad("not a duration")
		}
		*durations[param] = Duration(d)
		return w, float64(d) / float64(time.Millisecond), nil
	}
	switch param {
	case "acks":
		acks := map[string]int{"all": -1, "-1": -1, "1": 1, "0": 0}
		a, ok := acks[value]
		if !ok {
			return bad("want all, 1 or 0")
		}
		w.Acks = a
	case "flush":
		w.Flush = value
	case "compression":
		w.Compression = value
	default:
		return Workload{}, 0, fmt.Errorf("%w: unknown parameter %q (want one of %s)", ErrParam, param, strings.Join(WorkloadParams, ", "))
	}
	return w, 0, nil
}
