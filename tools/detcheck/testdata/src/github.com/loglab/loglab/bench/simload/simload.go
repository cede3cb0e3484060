// Package simload is below bench but runs in simulation: it is checked.
package simload

func Start() {
	go func() {}() // want `detcheck: goroutine: go statement`
}
