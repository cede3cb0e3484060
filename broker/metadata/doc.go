// Package metadata is loglab's cluster metadata: the records of the
// replicated metadata log (KRaft-like) and the Image they build — brokers
// with their epochs and fencing, topics with their configs, partitions with
// replicas, ISR, leader, leader epoch and partition epoch.
//
// Ownership and imports: this package owns the record encoding and the
// metadata state machine (Image.Apply). It is pure: no Host, no clock, no
// randomness, no I/O. It imports broker/topics (topic-name rules), franz-go's
// kerr (Kafka error codes, used as error sentinels) and the standard library.
// The controller quorum (broker/controller) replicates records; every voter
// and every broker that follows the log applies the same records in the same
// order to its own Image and so holds the same Image at the same offset.
//
// # The log holds commands, validated at apply time
//
// A record is a command (RegisterBroker, FenceBroker, CreateTopic,
// AlterPartition, ...). Apply validates it against the Image as it is at that
// offset and either changes the Image or rejects the command with a Kafka
// error (STALE_BROKER_EPOCH, INVALID_REPLICATION_FACTOR, FENCED_LEADER_EPOCH,
// ...). Because Apply is deterministic, every replica reaches the same verdict
// and the proposer learns it when its own replica applies the record. This is
// simpler than Kafka's controller, which validates against an in-memory
// "uncommitted" image and logs only the resulting effects; the price is that a
// rejected command still takes a log slot.
//
// # Encoding (frozen)
//
//	record := version:uint8 (=1) | JSON(Record)
//
// JSON of Go structs is deterministic (fields in declaration order, no maps),
// which keeps the log bytes — and so the simulator's trace hash — identical
// across runs. Decode rejects unknown versions, unknown fields, trailing data,
// and a Type whose body is missing or that carries another type's body.
//
// # Invariants (Image.Check; a property test applies random commands)
//
//   - Brokers are sorted by ID, topics by name, partitions by index; no
//     duplicates. No map is ever iterated.
//   - A partition's Replicas are distinct registered broker IDs; its ISR is a
//     non-empty subset of Replicas in replica order; Leader is -1 (offline)
//     or a member of the ISR that is not fenced.
//   - LeaderEpoch grows by one on every leader change and PartitionEpoch by
//     one on every leader or ISR change; neither ever decreases.
//   - Leaders are elected from the ISR only (also when a leader steps down
//     with AlterPartition.StepDown, its replica being unusable, or a replica
//     reports its copy offline with AlterPartition.Offline, which takes it
//     out of the ISR unless it is the last member). With the topic config
//     unclean.leader.election.enable=true, when no ISR member is usable, any
//     unfenced replica may be elected and the ISR becomes just that replica
//     (the data loss Kafka documents for that setting).
//   - Image.UncleanElectionBug (bug zoo "unclean-election", test-only) is
//     configuration, not state: never encoded, set identically by every
//     voter and follower from its config; with it, Apply elects the first
//     usable replica whenever no ISR member is usable.
//   - The last member of an ISR is never removed by fencing: the partition
//     goes offline (Leader -1) and comes back when that broker is unfenced,
//     as in Kafka.
package metadata
