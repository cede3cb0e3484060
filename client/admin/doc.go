// Package admin is an administrative Kafka client for programs that run
// outside the simulator (the CLI, the lab, tests): topics (create, delete,
// describe, configs, offsets) and consumer groups (list, describe,
// committed offsets, commits), in the spirit of franz-go's kadm. Results
// are typed; a Kafka error code arrives as the kerr error it names, wrapped
// with the request that got it, so callers test it with errors.Is.
//
// A Client holds one connection to its bootstrap broker and dials others
// as a request needs them (a partition's leader, a group's coordinator).
// It runs on a host/realhost Runtime: Dial starts one (no disk) and Close
// stops it; Runtime lends it to other clients (the produce and consume
// commands run the project's client on it). Versions are negotiated with
// ApiVersions and capped at the newest version each request was checked
// against.
//
// Ownership and imports: it owns its connections and nothing else. It
// imports wire (headers), host and host/realhost, and franz-go's kmsg and
// kerr; never the broker or the checkers. Its methods block and are safe
// from one goroutine at a time.
//
//detcheck:exempt real sockets, channels and the wall clock (host/realhost); never runs in simulation
package admin
