package detcheck_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/loglab/loglab/tools/detcheck"
)

// TestAnalyzer runs detcheck over GOPATH-style packages in testdata/src.
// Every diagnostic must match a `// want` comment on its line and every
// `// want` must be matched, so a forbidden construct the analyzer misses
// and a false positive on allowed code both fail the test.
func TestAnalyzer(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), detcheck.Analyzer,
		"github.com/loglab/loglab/sim/...",   // bad, good, badexempt, importsexempt
		"github.com/loglab/loglab/host/...",  // realhost: exempt by list
		"github.com/loglab/loglab/bench/...", // bench exempt exactly; driver by directive; simload checked
		"example.com/other",                  // outside the module
	)
}

func TestIsSimulated(t *testing.T) {
	for path, want := range map[string]bool{
		"github.com/loglab/loglab":                     true,
		"github.com/loglab/loglab/host":                true,
		"github.com/loglab/loglab/sim":                 true,
		"github.com/loglab/loglab/sim/disk":            true,
		"github.com/loglab/loglab/broker/log":          true,
		"github.com/loglab/loglab/bench/simload":       true, // "bench" is exact, not a tree
		"github.com/loglab/loglab/host/realhostile":    true, // a prefix is not a path element
		"github.com/loglab/loglab/host/realhost":       false,
		"github.com/loglab/loglab/host/realhost/inner": false,
		"github.com/loglab/loglab/cmd/loglab":          false,
		"github.com/loglab/loglab/bench":               false,
		"github.com/loglab/loglab/reports/plot":        false,
		"github.com/loglab/loglab/tools/detcheck":      false,
		"github.com/loglab/loglab/sim.test":            false, // generated test main
		"github.com/loglab/loglabx/sim":                false,
		"github.com/twmb/franz-go/pkg/kmsg":            false,
		"time":                                         false,
	} {
		if got := detcheck.IsSimulated(path); got != want {
			t.Errorf("IsSimulated(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestCommand builds cmd/detcheck and runs it the way CI does, on testdata:
// it must exit non-zero and print one file:line:col line per diagnostic.
func TestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the command")
	}
	bin := filepath.Join(t.TempDir(), "detcheck")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/detcheck").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	run := func(pkg string) (string, int) {
		cmd := exec.Command(bin, pkg)
		cmd.Dir = filepath.Join(testdata, "src", filepath.FromSlash(pkg))
		cmd.Env = append(os.Environ(), "GOPATH="+testdata, "GO111MODULE=off", "GOWORK=off", "GOFLAGS=")
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return string(out), exit.ExitCode()
		} else if err != nil {
			t.Fatalf("run %s: %v", pkg, err)
		}
		return string(out), 0
	}

	out, code := run("github.com/loglab/loglab/sim/bad")
	if code == 0 {
		t.Fatalf("exit 0 on sim/bad, want non-zero; output:\n%s", out)
	}
	line := regexp.MustCompile(`^\S+\.go:\d+:\d+: detcheck: [a-z-]+: .+$`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 50 {
		t.Errorf("got %d diagnostics on sim/bad, want at least 50:\n%s", len(lines), out)
	}
	for _, l := range lines {
		if !line.MatchString(l) {
			t.Errorf("diagnostic not in file:line:col: detcheck: <rule>: form: %q", l)
		}
	}

	if out, code := run("github.com/loglab/loglab/sim/good"); code != 0 {
		t.Errorf("exit %d on sim/good, want 0; output:\n%s", code, out)
	}
}
