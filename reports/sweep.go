package reports

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// SeedSweep is a `loglab sim sweep` summary: the summary.json that
// `sim sweep --out DIR` writes (and `sim sweep --json` prints), with the
// per-seed results of DIR/results.jsonl when present.
type SeedSweep struct {
	Scenario string   `json:"scenario"`
	Bugs     []string `json:"bugs,omitempty"`
	// Seeds is the swept range "A-B"; Shard is "I/N" ("0/1" unsharded,
	// "all/N" after a merge).
	Seeds    string `json:"seeds"`
	Shard    string `json:"shard"`
	Parallel int    `json:"parallel,omitempty"`
	Runs     int    `json:"runs"`
	Passed   int    `json:"passed"`
	Failed   int    `json:"failed"`
	// Anomalies counts findings by kind over all runs; SeedsWithAnomaly
	// counts the runs that showed each kind.
	Anomalies        map[string]int `json:"anomalies"`
	SeedsWithAnomaly map[string]int `json:"seeds_with_anomaly"`
	// FirstFailingSeed is the lowest failing seed (0: none): with a bug
	// switched on, the seeds it took to detect it is this minus A plus 1.
	FirstFailingSeed uint64         `json:"first_failing_seed,omitempty"`
	Failures         []SweepFailure `json:"failures"`
	SeedsPerMinute   float64        `json:"seeds_per_minute"`
	WallSeconds      float64        `json:"wall_seconds"`
	// Events and SimSeconds add up the runs' simulator events and
	// simulated time: the simulator's speed is Events/WallSeconds events
	// per second and SimSeconds/WallSeconds simulated seconds per wall
	// second (over all Parallel workers).
	Events     uint64  `json:"events"`
	SimSeconds float64 `json:"sim_seconds"`
	// ShardsMerged is set by merge: how many shard summaries were added.
	ShardsMerged int `json:"shards_merged,omitempty"`

	// Results are the per-seed results (results.jsonl), if read.
	Results []SeedResult `json:"-"`
	// Dir is the directory it was read from.
	Dir string `json:"-"`
}

// SweepFailure is one failing seed of a sweep.
type SweepFailure struct {
	Seed      uint64         `json:"seed"`
	Anomalies map[string]int `json:"anomalies"`
	TraceHash string         `json:"trace_hash"`
	Repro     string         `json:"repro"`
}

// SeedResult is one run of a sweep (the fields of scenarios.Result a
// report uses).
type SeedResult struct {
	Scenario    string         `json:"scenario"`
	Seed        uint64         `json:"seed"`
	TraceHash   string         `json:"trace_hash"`
	Events      uint64         `json:"events"`
	SimSeconds  float64        `json:"sim_seconds"`
	WallSeconds float64        `json:"wall_seconds"`
	OK          bool           `json:"ok"`
	Anomalies   map[string]int `json:"anomalies"`
	Expected    []string       `json:"expected_anomalies"`
	Repro       string         `json:"repro"`
}

// EventsPerSecond is the simulator's speed over the sweep (0 if unknown).
func (s SeedSweep) EventsPerSecond() float64 {
	if s.WallSeconds <= 0 {
		return 0
	}
	return float64(s.Events) / s.WallSeconds
}

// SimSpeedup is simulated seconds per wall second (0 if unknown).
func (s SeedSweep) SimSpeedup() float64 {
	if s.WallSeconds <= 0 {
		return 0
	}
	return s.SimSeconds / s.WallSeconds
}

// ReadSeedSweeps finds the sweep summaries (summary.json with a scenario)
// in dir and up to two levels below it, with their results.jsonl, sorted
// by scenario then directory. None is not an error.
func ReadSeedSweeps(dir string) ([]SeedSweep, error) {
	var names []string
	for _, pat := range []string{"summary.json", "*/summary.json", "*/*/summary.json"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return nil, err
		}
		names = append(names, m...)
	}
	var out []SeedSweep
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		var s SeedSweep
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrBadResult, n, err)
		}
		if s.Scenario == "" || s.Runs == 0 {
			return nil, fmt.Errorf("%w: %s is not a sweep summary (no scenario or no runs)", ErrBadResult, n)
		}
		s.Dir = filepath.Dir(n)
		if s.Results, err = readSeedResults(filepath.Join(s.Dir, "results.jsonl")); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Scenario != out[j].Scenario {
			return out[i].Scenario < out[j].Scenario
		}
		return out[i].Dir < out[j].Dir
	})
	return out, nil
}

func readSeedResults(name string) ([]SeedResult, error) {
	f, err := os.Open(name)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []SeedResult
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var r SeedResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%w: %s line %d: %v", ErrBadResult, name, line, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// JUnit XML (the de-facto schema CI systems read: testsuites > testsuite >
// testcase with failure).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func secs(f float64) string { return strconv.FormatFloat(f, 'f', 3, 64) }

func anomalyList(m map[string]int) string {
	if len(m) == 0 {
		return "no anomaly (an expected anomaly was missing)"
	}
	var parts []string
	for _, k := range sortedKinds(m) {
		parts = append(parts, k+"="+strconv.Itoa(m[k]))
	}
	return strings.Join(parts, " ")
}

// JUnit writes the sweeps as JUnit XML: one testsuite per sweep, one
// testcase per seed ("seed N", class the scenario) when the per-seed
// results were read, else one per failing seed and one for the passing
// rest; a failing seed's failure carries its anomalies and its repro
// command.
func JUnit(w io.Writer, sweeps []SeedSweep) error {
	all := junitSuites{Name: "loglab scenario sweeps"}
	var total float64
	for _, s := range sweeps {
		name := s.Scenario
		if len(s.Bugs) > 0 {
			name += " [bugs " + strings.Join(s.Bugs, ",") + "]"
		}
		suite := junitSuite{Name: name, Tests: s.Runs, Failures: s.Failed, Time: secs(s.WallSeconds),
			Properties: []junitProperty{{"seeds", s.Seeds}, {"shard", s.Shard}}}
		failing := map[uint64]SweepFailure{}
		for _, f := range s.Failures {
			failing[f.Seed] = f
		}
		fail := func(seed uint64, anomalies map[string]int, repro string) *junitFailure {
			return &junitFailure{Type: "expectation", Message: fmt.Sprintf("seed %d: %s", seed, anomalyList(anomalies)),
				Text: "repro: " + repro}
		}
		if len(s.Results) > 0 {
			for _, r := range s.Results {
				c := junitCase{Name: fmt.Sprintf("seed %d", r.Seed), ClassName: s.Scenario, Time: secs(r.WallSeconds)}
				if !r.OK {
					c.Failure = fail(r.Seed, r.Anomalies, r.Repro)
				}
				suite.Cases = append(suite.Cases, c)
			}
		} else {
			for _, f := range s.Failures {
				suite.Cases = append(suite.Cases, junitCase{Name: fmt.Sprintf("seed %d", f.Seed), ClassName: s.Scenario,
					Time: "0", Failure: fail(f.Seed, f.Anomalies, f.Repro)})
			}
			if s.Passed > 0 {
				suite.Cases = append(suite.Cases, junitCase{Name: fmt.Sprintf("%d passing seeds of %s", s.Passed, s.Seeds),
					ClassName: s.Scenario, Time: secs(s.WallSeconds)})
			}
		}
		all.Tests += s.Runs
		all.Failures += s.Failed
		total += s.WallSeconds
		all.Suites = append(all.Suites, suite)
	}
	all.Time = secs(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
