package bugzoo

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRoundTrips(t *testing.T) {
	for _, n := range Names() {
		s, err := Parse([]string{n, n})
		if err != nil {
			t.Fatalf("Parse(%q): %v", n, err)
		}
		if s.Len() != 1 || s.String() != n {
			t.Fatalf("Parse(%q) = %v (len %d)", n, s, s.Len())
		}
	}
	all, err := Parse(Names())
	if err != nil || all.Len() != len(Names()) || strings.Join(all.Names(), ",") != strings.Join(Names(), ",") {
		t.Fatalf("Parse(all) = %v, %v", all, err)
	}
	for b := Bug(0); b < numBugs; b++ {
		if !all.Has(b) || Set(0).Has(b) {
			t.Fatalf("Has(%v) wrong", b)
		}
	}
	if s, err := Parse(nil); err != nil || !s.Empty() || s.String() != "" {
		t.Fatalf("Parse(nil) = %v, %v", s, err)
	}
}

func TestParseUnknownListsValidNames(t *testing.T) {
	_, err := Parse([]string{"ack-before-flush", "nope"})
	if !errors.Is(err, ErrUnknownBug) {
		t.Fatalf("err = %v, want ErrUnknownBug", err)
	}
	for _, n := range Names() {
		if !strings.Contains(err.Error(), n) {
			t.Fatalf("error %q does not list %q", err, n)
		}
	}
}
