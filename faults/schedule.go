package faults

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/loglab/loglab/sim"
)

// Step is one action at one instant. At is virtual time measured from the
// moment the schedule is applied (at the start of a run, time since start).
type Step struct {
	At     time.Duration
	Action Action
}

// String is the step's line in a schedule file: "at 10s crash broker-1 ...".
func (s Step) String() string { return "at " + s.At.String() + " " + s.Action.String() }

// Schedule is a timeline of faults. It is a value: every method returns a
// new Schedule and never changes the receiver's steps, so a shrinker can
// keep the original while it tries smaller ones.
type Schedule struct {
	Steps []Step
}

// Len is the number of steps.
func (s Schedule) Len() int { return len(s.Steps) }

// Sorted returns the steps ordered by At; steps at the same instant keep
// their order (stable), which is the order they are applied in.
func (s Schedule) Sorted() Schedule {
	if len(s.Steps) == 0 {
		return Schedule{}
	}
	steps := slices.Clone(s.Steps)
	slices.SortStableFunc(steps, func(a, b Step) int {
		switch {
		case a.At < b.At:
			return -1
		case a.At > b.At:
			return 1
		}
		return 0
	})
	return Schedule{Steps: steps}
}

// Without returns the schedule without step i (of Steps, as stored). An
// index out of range returns a copy of s.
func (s Schedule) Without(i int) Schedule {
	if i < 0 || i >= len(s.Steps) {
		return Schedule{Steps: slices.Clone(s.Steps)}
	}
	steps := make([]Step, 0, len(s.Steps)-1)
	steps = append(steps, s.Steps[:i]...)
	steps = append(steps, s.Steps[i+1:]...)
	if len(steps) == 0 {
		steps = nil
	}
	return Schedule{Steps: steps}
}

// Truncate returns the steps at or before d.
func (s Schedule) Truncate(d time.Duration) Schedule {
	var steps []Step
	for _, st := range s.Steps {
		if st.At <= d {
			steps = append(steps, st)
		}
	}
	return Schedule{Steps: steps}
}

// End is the time of the last step (0 for an empty schedule).
func (s Schedule) End() time.Duration {
	var end time.Duration
	for _, st := range s.Steps {
		end = max(end, st.At)
	}
	return end
}

// Equal reports whether two schedules have equal steps in the same order.
func (s Schedule) Equal(o Schedule) bool {
	if len(s.Steps) != len(o.Steps) {
		return false
	}
	for i := range s.Steps {
		if s.Steps[i].At != o.Steps[i].At || !reflect.DeepEqual(s.Steps[i].Action, o.Steps[i].Action) {
			return false
		}
	}
	return true
}

// String prints the schedule in time order (Sorted), one step per line,
// each line ending in a newline. Parse reads it back: for a valid s,
// Parse(name, s.String()) equals s.Sorted().
func (s Schedule) String() string {
	var b strings.Builder
	for _, st := range s.Sorted().Steps {
		b.WriteString(st.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Validate reports the first invalid step: a nil action, a negative time or
// a field no line could express (an empty node name, a rate above a
// million...). The error wraps ErrInvalid.
func (s Schedule) Validate() error {
	for i, st := range s.Steps {
		if err := checkStep(st); err != nil {
			return fmt.Errorf("%w: step %d: %w", ErrInvalid, i, err)
		}
	}
	return nil
}

func checkStep(st Step) error {
	if st.Action == nil {
		return errField("action", "no action")
	}
	if st.At < 0 {
		return errField("at", "negative time %v", st.At)
	}
	return st.Action.check()
}

// Nodes returns the node names the schedule mentions, sorted, without
// duplicates ("*" excluded). A scenario checks them against its cluster or
// its Resolver's symbols.
func (s Schedule) Nodes() []string {
	var out []string
	for _, st := range s.Steps {
		if st.Action != nil {
			out = append(out, st.Action.nodes()...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Apply schedules every step of s on w as a world event, At after now, in
// time order (Sorted). When a step fires it is traced as ("", "fault",
// step) before it acts. Node names must be nodes of w: Apply checks them
// (and Validate) first and schedules nothing if one is wrong.
func Apply(w *sim.World, s Schedule) error {
	if err := s.Validate(); err != nil {
		return err
	}
	known := w.Nodes()
	for _, n := range s.Nodes() {
		if !contains(known, n) {
			return fmt.Errorf("%w: node %q is not in the world (nodes: %s)", ErrInvalid, n, strings.Join(known, ", "))
		}
	}
	schedule(w, s, nil)
	return nil
}

// ApplyWith is Apply with a Resolver for symbolic names: names are resolved
// when each step fires (the leader at that instant, say), so they are not
// checked in advance; a name resolving to no known node is skipped and
// traced as "fault.skip".
func ApplyWith(w *sim.World, s Schedule, r Resolver) error {
	if err := s.Validate(); err != nil {
		return err
	}
	schedule(w, s, r)
	return nil
}

func schedule(w *sim.World, s Schedule, r Resolver) {
	for _, st := range s.Sorted().Steps {
		w.Schedule(st.At, func() {
			w.Trace("", "fault", st.String())
			st.Action.Apply(w, r)
		})
	}
}
