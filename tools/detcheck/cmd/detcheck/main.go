// Command detcheck runs the detcheck analyzer: it fails (exit status 3)
// with file:line:col diagnostics when code that runs in the loglab
// simulator breaks the determinism rules. CI runs, from the module root:
//
//	go run ./tools/detcheck/cmd/detcheck ./...
//
// See package github.com/loglab/loglab/tools/detcheck for the rules.
package main

import (
	"golang.org/x/tools/go/analysis/singlechecker"

	"github.com/loglab/loglab/tools/detcheck"
)

func main() { singlechecker.Main(detcheck.Analyzer) }
