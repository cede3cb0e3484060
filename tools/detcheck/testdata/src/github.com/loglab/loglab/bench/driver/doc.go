// Package driver is a real-socket driver below bench; it opts out itself.
//
//detcheck:exempt drives real Kafka clusters over TCP, never runs in simulation
package driver
