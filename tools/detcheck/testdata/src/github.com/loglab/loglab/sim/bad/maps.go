package bad

import (
	"maps"
	"reflect"
	"slices"
)

type byName map[string]int

func mapRange(m map[string]int, named byName) int {
	sum := 0
	for _, v := range m { // want `detcheck: map-range: range over map m visits keys in random order \(range over slices.Sorted\(maps.Keys\(m\)\), or add //detcheck:ordered <reason> if order cannot matter\)`
		sum += v
	}
	for range named { // want `detcheck: map-range: range over map named`
	}
	for k := range maps.Keys(m) { // want `detcheck: map-range: maps.Keys yields in random order \(use slices.Sorted\(maps.Keys\(m\)\), or add //detcheck:ordered <reason>`
		_ = k
	}
	for k, v := range maps.All(m) { // want `detcheck: map-range: maps.All yields in random order`
		_, _ = k, v
	}
	vs := slices.Collect(maps.Values(m)) // want `detcheck: map-range: maps.Values yields in random order`
	return sum + len(vs)
}

func genericRange[M ~map[K]V, K comparable, V any](m M) {
	for range m { // want `detcheck: map-range: range over map m`
	}
}

func reflectRange(v reflect.Value) int {
	keys := v.MapKeys() // want `detcheck: map-range: reflect.Value.MapKeys returns keys in random order`
	it := v.MapRange()  // want `detcheck: map-range: reflect.Value.MapRange iterates in random order`
	_ = it
	//detcheck:ordered only the count is used
	return len(v.MapKeys()) + len(keys) + v.Len()
}
