package detcheck

import "strings"

// ModulePath is the module whose packages detcheck judges. Packages outside
// it (the standard library, third-party modules) are never reported.
const ModulePath = "github.com/loglab/loglab"

// Exempt is the one place that lists the packages of ModulePath that never
// run in simulation, as paths relative to ModulePath. An entry "p/..."
// covers p and every package below it; an entry "p" covers p alone, so a new
// sub-package of p is simulated (checked) until someone decides otherwise.
//
// A package not listed here can still opt out with a //detcheck:exempt
// <reason> directive in its package doc comment (see the package doc).
var Exempt = []string{
	"host/realhost/...",   // the real Host: event-loop goroutine, TCP, os.File, fsync, wall clock
	"cmd/...",             // the cobra CLI: flags, stdio, signals, real time
	"bench",               // real-socket benchmark drivers; simulated sub-packages stay checked
	"bench/embedded",      // an in-process cluster on real sockets and files
	"client/admin",        // the admin client: blocking calls over realhost
	"client/console",      // the console producer and consumer: blocking calls over realhost
	"broker/metrics/prom", // the Prometheus endpoint: HTTP server, locks
	"broker/server",       // one broker as a process: realhost runtime, signals
	"scenarios/sweep",     // sweep orchestration: worker processes, goroutines, files
	"reports/...",         // plots and reports from finished runs: files, floats, gonum
	"tools/...",           // developer tools, this checker included
}

// IsSimulated reports whether the package with import path pkgPath runs in
// simulation by path alone: it is in ModulePath, is not a generated test
// main, and is not covered by Exempt. (A //detcheck:exempt directive can
// still exempt it; that needs the package's files.)
func IsSimulated(pkgPath string) bool {
	rel, ok := relPath(pkgPath)
	if !ok || strings.HasSuffix(pkgPath, ".test") {
		return false
	}
	return !listedExempt(rel)
}

// relPath returns pkgPath relative to ModulePath ("" for the module root).
func relPath(pkgPath string) (string, bool) {
	if pkgPath == ModulePath {
		return "", true
	}
	rel, ok := strings.CutPrefix(pkgPath, ModulePath+"/")
	return rel, ok
}

func listedExempt(rel string) bool {
	for _, e := range Exempt {
		if tree, ok := strings.CutSuffix(e, "/..."); ok {
			if rel == tree || strings.HasPrefix(rel, tree+"/") {
				return true
			}
		} else if rel == e {
			return true
		}
	}
	return false
}
