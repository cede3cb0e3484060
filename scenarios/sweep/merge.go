package sweep

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/loglab/loglab/reports"
)

// ReadSummary reads a shard's summary from its --out directory or a file.
func ReadSummary(path string) (*Summary, error) {
	name := path
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		name = filepath.Join(path, "summary.json")
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("merge: %s: not a sweep summary: %w", name, err)
	}
	if s.Scenario == "" || s.Shard == "" {
		return nil, fmt.Errorf("merge: %s: not a sweep summary (no scenario or shard)", name)
	}
	return &s, nil
}

// MergePaths reads the summaries at paths (directories or files) and
// merges them.
func MergePaths(paths []string) (*Summary, error) {
	var shards []*Summary
	for _, p := range paths {
		s, err := ReadSummary(p)
		if err != nil {
			return nil, err
		}
		shards = append(shards, s)
	}
	return Merge(shards, paths)
}

// Merge adds up the shards of one sweep; names are for errors. The shards
// must be of one sweep (scenario, seeds, bugs and N) and each shard I of N
// must appear exactly once. The merged WallSeconds is the slowest shard's
// and SeedsPerMinute the aggregate rate over it.
func Merge(shards []*Summary, names []string) (*Summary, error) {
	first := shards[0]
	firstShard, err := ParseShard(first.Shard)
	if err != nil {
		return nil, fmt.Errorf("merge: %s: %w", names[0], err)
	}
	n := firstShard.Count
	if n != uint64(len(shards)) {
		return nil, fmt.Errorf("merge: %s is shard %s: want all %d shards, got %d summaries", names[0], first.Shard, n, len(shards))
	}
	seen := make([]bool, n)
	m := &Summary{
		Scenario: first.Scenario, Bugs: first.Bugs, Seeds: first.Seeds,
		Shard:     "all/" + strconv.FormatUint(n, 10),
		Anomalies: map[string]int{}, SeedsWithAnomaly: map[string]int{}, Failures: []reports.SweepFailure{},
	}
	for i, s := range shards {
		sh, err := ParseShard(s.Shard)
		if err != nil {
			return nil, fmt.Errorf("merge: %s: %w", names[i], err)
		}
		switch {
		case s.Scenario != first.Scenario || s.Seeds != first.Seeds || !slices.Equal(s.Bugs, first.Bugs):
			return nil, fmt.Errorf("merge: %s is a sweep of %s seeds %s bugs [%s], %s of %s seeds %s bugs [%s]",
				names[i], s.Scenario, s.Seeds, strings.Join(s.Bugs, ","), names[0], first.Scenario, first.Seeds, strings.Join(first.Bugs, ","))
		case sh.Count != n:
			return nil, fmt.Errorf("merge: %s is shard %s, %s is of %d shards", names[i], s.Shard, names[0], n)
		case seen[sh.Index]:
			return nil, fmt.Errorf("merge: shard %s given twice (%s)", s.Shard, names[i])
		}
		seen[sh.Index] = true
		m.Runs += s.Runs
		m.Passed += s.Passed
		m.Failed += s.Failed
		for k, v := range s.Anomalies {
			m.Anomalies[k] += v
		}
		for k, v := range s.SeedsWithAnomaly {
			m.SeedsWithAnomaly[k] += v
		}
		m.Failures = append(m.Failures, s.Failures...)
		m.Events += s.Events
		m.SimSeconds += s.SimSeconds
		m.WallSeconds = max(m.WallSeconds, s.WallSeconds)
		m.Parallel += s.Parallel
	}
	for i, ok := range seen {
		if !ok {
			return nil, fmt.Errorf("merge: shard %d/%d is missing", i, n)
		}
	}
	m.ShardsMerged = len(shards)
	m.SeedsPerMinute = seedsPerMinute(m.Runs, m.WallSeconds)
	finish(m)
	return m, nil
}
