package bench

import (
	"errors"
	"fmt"
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

// With returns w with param set to value, validated, and the value's
// position on a plot's x axis (index is the value's position in its
// sweep, used for nominal parameters such as acks).
func (w Workload) With(param, value string, index int) (Workload, float64, error) {
	bad := func(why string) (Workload, float64, error) {
		return Workload{}, 0, fmt.Errorf("%w: %s=%s: %s", ErrSweep, param, value, why)
	}
	num := func() (int, bool) {
		n, err := strconv.Atoi(value)
		return n, err == nil
	}
	var x float64
	switch param {
	case "message-size", "partitions", "replication-factor", "producers", "batch-bytes", "rate", "topics":
		n, ok := num()
		if !ok {
			return bad("not a whole number")
		}
		x = float64(n)
		switch param {
		case "message-size":
			w.MessageSize = n
		case "partitions":
			w.PartitionsPerTopic = n
		case "replication-factor":
			w.ReplicationFactor = n
		case "producers":
			w.ProducersPerTopic = n
		case "batch-bytes":
			w.BatchBytes = n
		case "rate":
			w.ProducerRate = n
		case "topics":
			w.Topics = n
		}
	case "linger":
		d, err := time.ParseDuration(value)
		if err != nil {
			return bad("not a duration")
		}
		w.Linger, x = Duration(d), float64(d)/float64(time.Millisecond)
	case "acks":
		switch value {
		case "all", "-1":
			w.Acks = -1
		case "1":
			w.Acks = 1
		case "0":
			w.Acks = 0
		default:
			return bad("want all, 1 or 0")
		}
	case "flush":
		w.Flush = value
	case "compression":
		w.Compression = value
	default:
		return Workload{}, 0, fmt.Errorf("%w: unknown parameter %q (want one of %s)", ErrSweep, param, strings.Join(SweepParams, ", "))
	}
	if nominal[param] {
		x = float64(index)
	}
	if err := w.Validate(); err != nil {
		return bad(err.Error())
	}
	return w, x, nil
}
