package detcheck

import "testing"

func TestHasPointerVerb(t *testing.T) {
	for format, want := range map[string]bool{
		"%p":          true,
		"x=%p":        true,
		"%#p":         true,
		"%-12p|":      true,
		"%[2]p":       true,
		"%v %d %s":    false,
		"100%%p":      false, // literal percent, then a p
		"%%%p":        true,
		"%":           false,
		"p":           false,
		"%*.*p":       true,
		"%s %[1]v %x": false,
	} {
		if got := hasPointerVerb(format); got != want {
			t.Errorf("hasPointerVerb(%q) = %v, want %v", format, got, want)
		}
	}
}

func TestLookupImport(t *testing.T) {
	for path, want := range map[string]string{
		"os":                    RuleOS,
		"os/exec":               RuleOS,
		"net":                   RuleOS,
		"net/http":              RuleOS,
		"net/http/httputil":     RuleOS,
		"net/rpc/jsonrpc":       RuleOS,
		"net/netip":             "", // addresses as values are fine
		"net/url":               "",
		"io/fs":                 "",
		"sync":                  RuleSync,
		"sync/atomic":           RuleSync,
		"crypto/rand":           RuleCryptoRand,
		"crypto/sha256":         "",
		"hash/maphash":          RuleMaphash,
		"hash/fnv":              "",
		"math/rand/v2":          "", // functions are checked one by one
		"osx":                   "",
		"golang.org/x/sys/unix": RuleOS,
	} {
		got, _ := lookupImport(path)
		if got.rule != want {
			t.Errorf("lookupImport(%q) rule = %q, want %q", path, got.rule, want)
		}
	}
}

// Every rule a diagnostic can carry is in Rules, so //detcheck:allow
// accepts it.
func TestRulesComplete(t *testing.T) {
	known := map[string]bool{}
	for _, r := range Rules {
		known[r] = true
	}
	for path, f := range forbiddenImports {
		if !known[f.rule] {
			t.Errorf("import %q has unknown rule %q", path, f.rule)
		}
	}
	for name, f := range forbiddenFuncs {
		if !known[f.rule] {
			t.Errorf("func %q has unknown rule %q", name, f.rule)
		}
	}
}
