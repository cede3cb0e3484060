package bench

import (
	"maps"
	"slices"
)

// sortedKeys returns m's keys in order, so requests built from a map are
// the same bytes every run.
func sortedKeys(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}
