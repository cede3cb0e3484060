package scenarios

import (
	"fmt"

	"github.com/loglab/loglab/broker/bugzoo"
)

// bugSet parses Options.Bugs, the bug-zoo switches a run turns on in the
// system under test (package bugzoo); an unknown name is an error that
// lists the valid ones.
func (o Options) bugSet() (bugzoo.Set, error) {
	s, err := bugzoo.Parse(o.Bugs)
	if err != nil {
		return 0, fmt.Errorf("scenarios: %w", err)
	}
	return s, nil
}

// bugKnob is the knob line naming the bugs switched on ("" for none), so a
// run with deliberate bugs never reads like a clean one.
func bugKnob(s bugzoo.Set) []string {
	if s.Empty() {
		return nil
	}
	return []string{"bugzoo=" + s.String()}
}
