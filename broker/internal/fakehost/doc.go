// Package fakehost is a minimal, deterministic host.Host for the broker's
// unit tests: a manual clock, timers and posts run by Run/Advance, an
// in-memory disk whose Syncs complete on the next Run, and a network whose
// listeners hand their accept function to the test, which then plays the
// client side of a Conn directly.
//
// It is test support, not a simulator: no faults, no latency, no crash
// model beyond "reuse the same Disk in a new Host" (a clean restart).
// Package sim is the real simulated world.
//
// Imports: the standard library and package host. Its map walks are
// sorted before they reach a caller.
package fakehost
