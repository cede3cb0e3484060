// Package e2e holds end-to-end tests of package client against the real
// loglab broker (package broker) in the simulator. It is a separate package
// so that the client's own tests do not depend on the broker building.
// It has no non-test code.
package e2e
