package checkers

import (
	"time"

	"github.com/loglab/loglab/checkers/linearizable"
)

// linearizableFuzzOpts keeps a pathological fuzz input from stalling the
// fuzzer: unknown is an acceptable outcome there.
var linearizableFuzzOpts = linearizable.Options{Timeout: 100 * time.Millisecond}
