package demo

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/loglab/loglab/bench"
)

// A bad Config is refused before anything runs or is written.
func TestRunRefusesBadConfigs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	for _, c := range []Config{
		{Dir: dir, Seeds: 0},
		{Dir: dir, Seeds: 1, Parallel: -1},
		{Dir: dir, Seeds: 1, Bench: &bench.DemoConfig{Rate: 0, Duration: time.Second}},
	} {
		err := Run(context.Background(), io.Discard, c)
		if !errors.Is(err, ErrConfig) && !errors.Is(err, bench.ErrDemoConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if _, err := filepath.Glob(dir); err != nil {
		t.Fatal(err)
	}
	if m, _ := filepath.Glob(dir + "*"); len(m) != 0 {
		t.Errorf("a refused demo wrote %v", m)
	}
}
