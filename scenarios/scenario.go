package scenarios

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/loglab/loglab/checkers"
	"github.com/loglab/loglab/history"
)

// Scenario is a named, seeded experiment.
type Scenario struct {
	// Name reads like a spec: what is done and what must hold.
	Name        string
	Description string
	// Expectation states what a correct broker shows: "no anomalies", or
	// the anomalies a known-unsafe configuration must show.
	Expectation string
	// Run executes the scenario for one seed.
	Run func(opts Options) (*Result, error)
	// compiled is set for scenarios read from a file (the shrinker's input).
	compiled *compiled
}

// PinnedSeed is the seed a scenario file names (a regression notes the
// seed that found it); ok is false when it names none.
func (s *Scenario) PinnedSeed() (seed uint64, ok bool) {
	if s.compiled == nil || s.compiled.spec.Seed == nil {
		return 0, false
	}
	return *s.compiled.spec.Seed, true
}

// Options for one run.
type Options struct {
	Seed uint64
	// RecordTrace keeps the trace text (for --out).
	RecordTrace bool
	// Log receives a human log of the run (nil: none).
	Log func(format string, args ...any)
	// Bugs names bug-zoo switches to turn on in the system under test:
	// deliberate bugs that exist to measure the testbed's detection power.
	Bugs []string
	// NodeLog receives the nodes' own logs (brokers, controllers, clients),
	// each line stamped with the node's virtual time (nil: discarded).
	// Logging draws nothing from the world, so it leaves the trace as it is.
	NodeLog      io.Writer
	NodeLogLevel slog.Level
}

func (o Options) logf(format string, args ...any) {
	if o.Log != nil {
		o.Log(format, args...)
	}
}

// Finding is one checker finding with its evidence.
type Finding struct {
	Kind     string `json:"kind"`
	Evidence string `json:"evidence"`
}

// Result is what a run reports; its JSON form is the `sim run --json`
// contract (docs/ARCHITECTURE.md §6). WallSeconds is filled by the caller, who may read
// a wall clock.
type Result struct {
	Scenario    string         `json:"scenario"`
	Seed        uint64         `json:"seed"`
	TraceHash   string         `json:"trace_hash"`
	Events      uint64         `json:"events"`
	SimSeconds  float64        `json:"sim_seconds"`
	WallSeconds float64        `json:"wall_seconds"`
	OK          bool           `json:"ok"`
	Anomalies   map[string]int `json:"anomalies"`
	Findings    []Finding      `json:"findings,omitempty"`
	Expected    []string       `json:"expected_anomalies"`
	// Tolerated kinds may be found without failing the run (file
	// scenarios' expect.tolerate).
	Tolerated []string         `json:"tolerated_anomalies,omitempty"`
	Knobs     []string         `json:"knobs"`
	Stats     map[string]int64 `json:"stats,omitempty"`
	// Metrics are the brokers' counters (package broker/metrics, the names
	// a real broker serves on /metrics), summed over brokers and labels.
	Metrics map[string]float64 `json:"metrics,omitempty"`
	Repro   string             `json:"repro"`
	Trace   []string           `json:"-"`
	// History is the run's client history (scenarios with clients), for
	// --out and for `loglab check`.
	History []history.Op `json:"-"`
	// Schedule is the run's fault schedule in package faults' text form
	// (file scenarios), ready to paste into a scenario file.
	Schedule string `json:"schedule,omitempty"`
	// Resolved lists what each symbolic fault target of the schedule
	// resolved to, in firing order ("at 5s crash leader:events-0:
	// leader:events-0 -> broker-2"; cluster scenarios).
	Resolved []string `json:"resolved,omitempty"`
	// Report is the checkers' report (file scenarios), for verdicts.json.
	Report *checkers.Report `json:"-"`
	// Files are extra artifacts by file name (porcupine's visualization
	// of a partition found not linearizable), kept when RecordTrace is set.
	Files map[string][]byte `json:"-"`
}

// AddFinding records an anomaly with its evidence.
func (r *Result) AddFinding(kind, format string, args ...any) {
	if r.Anomalies == nil {
		r.Anomalies = map[string]int{}
	}
	r.Anomalies[kind]++
	// Keep the evidence bounded: a broken run can find thousands.
	if len(r.Findings) < 100 {
		r.Findings = append(r.Findings, Finding{Kind: kind, Evidence: fmt.Sprintf(format, args...)})
	}
}

// AnomalyKinds returns the kinds found, sorted.
func (r *Result) AnomalyKinds() []string {
	kinds := make([]string, 0, len(r.Anomalies))
	for k := range r.Anomalies { //detcheck:ordered keys are sorted below
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// Judge sets OK: with no expected anomalies, OK means none was found; with
// expected ones, OK means every expected kind was found and nothing else.
// Tolerated kinds are ignored either way.
func (r *Result) Judge() {
	if r.Anomalies == nil {
		r.Anomalies = map[string]int{} // "anomalies": {} in JSON, never null
	}
	var found []string
	for _, k := range r.AnomalyKinds() {
		if !slices.Contains(r.Tolerated, k) {
			found = append(found, k)
		}
	}
	if len(r.Expected) == 0 {
		r.OK = len(found) == 0
		return
	}
	want := append([]string(nil), r.Expected...)
	sort.Strings(want)
	r.OK = strings.Join(found, ",") == strings.Join(want, ",")
}

// ReproCommand is the CLI command that replays a run.
func ReproCommand(name string, seed uint64) string {
	return "go run ./cmd/loglab sim run --scenario " + name + " --seed " + strconv.FormatUint(seed, 10)
}

// ErrUnknownScenario is returned by Lookup for a name not in the library.
var ErrUnknownScenario = errors.New("unknown scenario")

var registry []*Scenario

func register(s *Scenario) {
	for _, o := range registry {
		if o.Name == s.Name {
			panic("scenarios: duplicate " + s.Name)
		}
	}
	registry = append(registry, s)
}

// All returns every scenario, sorted by name.
func All() []*Scenario {
	out := append([]*Scenario(nil), registry...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup finds a scenario by name; the error lists the valid names.
func Lookup(name string) (*Scenario, error) {
	names := make([]string, 0, len(registry))
	for _, s := range All() {
		if s.Name == name {
			return s, nil
		}
		names = append(names, s.Name)
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownScenario, name, strings.Join(names, ", "))
}

// CatalogEntry is one scenario as `loglab scenario list --json` prints it.
type CatalogEntry struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Expectation string `json:"expectation"`
}

// Catalog lists every scenario, sorted by name.
func Catalog() []CatalogEntry {
	all := All()
	out := make([]CatalogEntry, 0, len(all))
	for _, s := range all {
		out = append(out, CatalogEntry{s.Name, s.Description, s.Expectation})
	}
	return out
}

// WriteCatalog prints the catalog as a table: name, expectation,
// description.
func WriteCatalog(w io.Writer, entries []CatalogEntry) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tEXPECTATION\tDESCRIPTION")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Name, e.Expectation, e.Description)
	}
	return tw.Flush()
}
