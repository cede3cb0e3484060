package scenarios

import (
	"bytes"
	"strings"
	"testing"
)

func TestCatalog(t *testing.T) {
	c := Catalog()
	if len(c) != len(All()) || len(c) < 40 {
		t.Fatalf("catalog of %d, %d scenarios", len(c), len(All()))
	}
	for i := 1; i < len(c); i++ {
		if c[i-1].Name >= c[i].Name {
			t.Fatalf("not sorted at %d: %s, %s", i, c[i-1].Name, c[i].Name)
		}
	}
	var b bytes.Buffer
	if err := WriteCatalog(&b, c); err != nil {
		t.Fatal(err)
	}
	out := "\n" + b.String()
	if !strings.HasPrefix(out, "\nNAME ") {
		t.Fatalf("no header:\n%.200s", out)
	}
	for _, e := range c {
		if !strings.Contains(out, "\n"+e.Name+" ") {
			t.Errorf("no line for %s", e.Name)
		}
	}
}
