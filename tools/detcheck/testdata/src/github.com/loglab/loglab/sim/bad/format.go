package bad

import (
	"errors"
	"fmt"
)

const pointerFormat = "node %p"

type logger struct{}

// Logf is a project-style printf wrapper; it is recognised by its shape.
func (logger) Logf(format string, args ...any) {}

func formats(p *int, l logger) {
	_ = fmt.Sprintf("%p", p)                           // want `detcheck: pointer-format: %p in the format of Sprintf prints a per-process address \(print a stable identity such as a name, ID or offset\)`
	_ = fmt.Errorf("at %#-8p: %w", p, errors.New("x")) // want `detcheck: pointer-format: %p in the format of Errorf`
	fmt.Printf("%[1]p\n", p)                           // want `detcheck: pointer-format: %p in the format of Printf`
	_ = fmt.Sprintf(pointerFormat, p)                  // want `detcheck: pointer-format: %p in the format of Sprintf`
	l.Logf("conn=%p", p)                               // want `detcheck: pointer-format: %p in the format of Logf`
	_ = fmt.Sprintf("100%%p done %v", p)               // %% is a literal percent sign
	_ = fmt.Sprint("%p", p)                            // not a format string
}
