// Package bad holds one instance of every construct detcheck forbids in a
// simulated package, each with the diagnostic it must produce.
package bad
