// Package importsexempt is simulated but reaches into the real Host.
package importsexempt

import (
	"github.com/loglab/loglab/host/realhost" // want `detcheck: exempt-import: import of "github.com/loglab/loglab/host/realhost", which is exempt from detcheck`
)

func Start() { realhost.Loop() }
