// Package interop proves loglab's broker against real Kafka clients: each test
// starts a `loglab broker` process on loopback (the binary is built once by
// TestMain), and kcat (librdkafka), franz-go (kgo), IBM/sarama,
// segmentio/kafka-go and kafkajs produce records with keys, headers and every
// compression codec they support, then read them back by partition and offset
// and compare them value by value and in order. The loglab CLI itself (topic,
// produce, consume) is exercised against the same process.
//
// Ownership and imports: test code only; it may import anything (it runs
// outside the simulator) and talks to the broker only over TCP.
//
// A client that is not installed skips its test with a message, except when
// CI=true, where a missing client fails: CI must never pass by skipping.
// Every wait is bounded by a deadline.
package interop
