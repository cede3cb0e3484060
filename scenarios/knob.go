package scenarios

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// A knob is a scenario-file value the seed may choose:
//
//	5          exactly 5
//	2..4       uniform over [2, 4] (inclusive; durations in whole ms when
//	           both ends are)
//	0|1ms|5ms  one of the alternatives
//
// Knobs are drawn in a fixed order from the run's "scenario" stream, so a
// seed always draws the same values; every drawn value is printed first.

var errKnob = errors.New("bad value")

// knob is a parsed knob over int64 values (durations as ns).
type knob struct {
	alts   []int64 // alternatives, or
	lo, hi int64   // a range when alts is nil
	ms     bool    // draw the range in whole ms
}

type valueParser func(string) (int64, error)

func parseInt(s string) (int64, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not an integer", errKnob, s)
	}
	return v, nil
}

func parseDur(s string) (int64, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%w: %q is not a duration (e.g. 250ms, 1.5s)", errKnob, s)
	}
	return int64(d), nil
}

func parseKnob(s string, p valueParser) (knob, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return knob{}, fmt.Errorf("%w: empty", errKnob)
	}
	if strings.Contains(s, "|") {
		var k knob
		for _, a := range strings.Split(s, "|") {
			v, err := p(a)
			if err != nil {
				return knob{}, err
			}
			k.alts = append(k.alts, v)
		}
		return k, nil
	}
	if lo, hi, ok := strings.Cut(s, ".."); ok {
		l, err := p(lo)
		if err != nil {
			return knob{}, err
		}
		h, err := p(hi)
		if err != nil {
			return knob{}, err
		}
		if h < l {
			return knob{}, fmt.Errorf("%w: range %q is empty", errKnob, s)
		}
		ms := int64(time.Millisecond)
		return knob{lo: l, hi: h, ms: l%ms == 0 && h%ms == 0 && h-l >= ms}, nil
	}
	v, err := p(s)
	if err != nil {
		return knob{}, err
	}
	return knob{alts: []int64{v}}, nil
}

// values are every value a check should validate: the alternatives, or
// the range's ends.
func (k knob) values() []int64 {
	if k.alts != nil {
		return k.alts
	}
	return []int64{k.lo, k.hi}
}

func (k knob) max() int64 {
	m := int64(0)
	for i, v := range k.values() {
		if i == 0 || v > m {
			m = v
		}
	}
	return m
}

func (k knob) min() int64 {
	m := int64(0)
	for i, v := range k.values() {
		if i == 0 || v < m {
			m = v
		}
	}
	return m
}

// draw picks a value. A single value draws nothing, so adding a fixed
// knob to a file does not shift the others.
func (k knob) draw(r *rand.Rand) int64 {
	switch {
	case len(k.alts) == 1:
		return k.alts[0]
	case k.alts != nil:
		return k.alts[r.IntN(len(k.alts))]
	case k.ms:
		ms := int64(time.Millisecond)
		return k.lo + r.Int64N((k.hi-k.lo)/ms+1)*ms
	default:
		return k.lo + r.Int64N(k.hi-k.lo+1)
	}
}

func (k knob) fixed() bool { return len(k.alts) == 1 }
