// Package console is loglab's console producer and consumer, the
// counterparts of Kafka's kafka-console-producer and -consumer (and of
// kcat's -P and -C): Produce sends one record per input line and waits for
// every acknowledgement; Consume prints records of a topic's partitions,
// or as a member of a consumer group, in a kcat-style format (Format).
// The operator views print what `loglab topic` and `loglab group` show
// (WriteTopics, WriteGroups, WriteGroup, in the layout of kafka-topics
// and kafka-consumer-groups --describe), and ResetOffsets is
// kafka-consumer-groups --reset-offsets.
//
// Both run the project's client on the loop of an admin.Client, from the
// calling goroutine: they block until done and hand work to the loop with
// Post and Do.
//
// Ownership and imports: it owns nothing past a call. It imports client,
// client/admin and host. Real mode only: it blocks on channels, and
// nothing that runs in simulation imports it.
//
//detcheck:exempt blocks the caller's goroutine on channels and the wall clock; never runs in simulation
package console
