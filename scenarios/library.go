package scenarios

import (
	"embed"
	"fmt"
	"path"
	"sort"
	"strconv"
)

// The scenario library: every scenarios/library/*.yaml file, embedded, is
// registered at init like the scenarios written in Go, so `scenario list`,
// `sim run --scenario NAME`, sweeps and the determinism tests see them all.
// A file that does not parse is a build-time bug: init panics with its
// SpecError (TestLibraryFilesParse names it first).

//go:embed library/*.yaml
var libraryFS embed.FS

func init() {
	for _, s := range mustLoadLibrary() {
		register(s)
	}
}

func mustLoadLibrary() []*Scenario {
	entries, err := libraryFS.ReadDir("library")
	if err != nil {
		panic(err)
	}
	var names []string
	for _, e := range entries {
		if path.Ext(e.Name()) == ".yaml" {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []*Scenario
	for _, n := range names {
		file := "scenarios/library/" + n
		data, err := libraryFS.ReadFile("library/" + n)
		if err != nil {
			panic(err)
		}
		c, err := compileSpec(file, data)
		if err != nil {
			panic(err)
		}
		out = append(out, c.scenario(func(seed uint64) string { return ReproCommand(c.spec.Name, seed) }))
	}
	return out
}

// LoadFile compiles a scenario file from bytes (read by the caller, who
// may do I/O) into a runnable Scenario whose repro command runs the file.
// Every error is a *SpecError naming file, line and field.
func LoadFile(file string, data []byte) (*Scenario, *Spec, error) {
	c, err := compileSpec(file, data)
	if err != nil {
		return nil, nil, err
	}
	sc := c.scenario(func(seed uint64) string {
		return "go run ./cmd/loglab sim run --scenario-file " + file + " --seed " + strconv.FormatUint(seed, 10)
	})
	return sc, &c.spec, nil
}

func (c *compiled) scenario(repro func(uint64) string) *Scenario {
	return &Scenario{
		Name:        c.spec.Name,
		Description: c.spec.Description,
		Expectation: c.expectation(),
		Run:         func(opts Options) (*Result, error) { return c.run(opts, repro(opts.Seed)) },
		compiled:    c,
	}
}

func (c *compiled) expectation() string {
	s := "no anomalies"
	if len(c.expected) > 0 {
		s = fmt.Sprintf("exactly the anomalies %v (a known-unsafe configuration)", c.expected)
	}
	if len(c.tolerated) > 0 {
		s += fmt.Sprintf("; tolerated: %v", c.tolerated)
	}
	return s
}
