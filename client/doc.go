// Package client is loglab's Kafka client: a producer and a partition
// consumer written as a sans-IO state machine on a host.Host, so the same
// code drives workloads in the simulator (package sim) and against real
// brokers (package host/realhost).
//
// Ownership and imports: the client owns connections to brokers, API version
// negotiation, metadata, partitioning, batching, retries, the fetch loop and
// the history records of its operations. It imports host, wire (request
// and response headers) and wire/batch (the record batch codec), history,
// franz-go's kmsg (request and response bodies) and kerr (error codes), and
// the standard library; never the broker or the checkers.
//
// # Threading
//
// Everything runs on the host's loop: New, Produce, Assign and Close are
// called from the node's Start or callbacks, and every callback the client
// makes (produce completions, OnRecords) runs there. There are no
// goroutines; time is h.Monotonic and h.AfterFunc, randomness h.Rand (retry
// jitter, the sticky partition).
//
// # Wire
//
// Each connection first sends ApiVersions (v3; a broker that does not know
// it answers in the v0 format, whose version table is used as is) and then
// uses, per API key, min(our max, the broker's max). Requests carry header v1
// (v2 when flexible); responses are matched to the oldest outstanding
// request of the connection and must carry its correlation id, or the
// connection is closed. A request without a response after RequestTimeout
// closes its connection, like Kafka's clients: since responses arrive in
// order, nothing after it could be trusted.
//
// # Producer
//
// Keyed records go to toPositive(murmur2(key)) % partitions (Kafka's default
// partitioner); unkeyed ones to a sticky partition that changes each time a
// batch for it is sent. Records wait in a per-partition batch until it holds
// BatchBytes, Linger has passed, or a batch queues behind it; batches of
// partitions with the same leader share one Produce request. At most one
// batch per partition is in flight, so retries (retriable kerr errors and
// lost connections, with exponential backoff) never reorder a partition.
// A record fails once DeliveryTimeout has passed since Produce.
//
// # Outcomes and the history
//
// Every Produce records an invoke and exactly one completion (see package
// history): ok with the offset; fail when the record certainly was
// not written (a definite broker error, never sent, closed); info when it
// may have been (an attempt timed out or lost its connection after sending,
// REQUEST_TIMED_OUT or NOT_ENOUGH_REPLICAS_AFTER_APPEND, acks=0). A later
// retry that succeeds still completes ok — the earlier attempt may have
// written a duplicate, which is exactly what the checkers look for without
// idempotence. Errors passed to callbacks wrap ErrUnknownOutcome in the info
// case.
//
// Every Fetch records, per partition, a poll invoke at the fetch position and
// its completion: ok with the records read, fail with the partition's error,
// info when the request's answer was lost.
//
// # Consumer
//
// Assign a partition with a start (At, Earliest, Latest; the latter two via
// ListOffsets). One Fetch per leader is outstanding at a time. Batches are
// decoded (uncompressed only: a compressed batch stops the partition with
// batch.ErrUnsupportedCompression via OnFetchError); records before the
// position are skipped. OFFSET_OUT_OF_RANGE applies Config.OffsetReset.
//
// # Groups
//
// With Config.Group and Subscribe the client is a member of a consumer
// group (the classic, eager protocol): it finds the coordinator
// (FindCoordinator, retried and rediscovered on NOT_COORDINATOR,
// COORDINATOR_NOT_AVAILABLE, COORDINATOR_LOAD_IN_PROGRESS or a lost
// connection, keeping its membership), joins (a MEMBER_ID_REQUIRED answer
// is rejoined at once with the given id), and as the group's leader
// assigns every member's partitions with the range or round-robin
// assignor over Kafka's consumer-protocol encoding. After SyncGroup it
// fetches the committed offsets (OffsetFetch) and fetches each partition
// from there, or per OffsetReset. It heartbeats every HeartbeatInterval:
// REBALANCE_IN_PROGRESS commits (with AutoCommit) and revokes everything,
// then rejoins; ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID (which also drops the
// member id) revoke without committing and rejoin; FENCED_INSTANCE_ID stops
// the member. Commits carry the member id and generation: auto-commits
// every AutoCommitInterval of the positions consumed, manual ones with
// Commit or CommitOffset. Every membership change and commit is in the
// history (assign, revoke, commit, fetch-offset; polls of owned partitions
// carry the group, member and generation).
//
// # Idempotence
//
// With Config.Idempotent the producer first gets a producer id
// (InitProducerId) and numbers each partition's records: a batch takes its
// sequence numbers when it is first encoded and keeps them through every
// retry, so a broker that already stored it answers with the original
// offsets. At most one batch per partition is in flight (as without
// idempotence), so sequences never race. OUT_OF_ORDER_SEQUENCE_NUMBER,
// UNKNOWN_PRODUCER_ID or INVALID_PRODUCER_EPOCH (a batch before was given up,
// or the partition lost our state) make it take a new producer id and
// start every partition's sequences over (KIP-360's reset). A batch whose
// earlier attempt's fate is unknown is not re-sent under the new id (the
// broker could not tell it from a new batch and might store it twice): it
// ends with ErrSequenceUnresolved, its outcome unknown, as Kafka's
// producer fails a batch whose sequence it can no longer resolve. So an
// idempotent producer never stores a record twice.
//
// # Metadata
//
// Metadata is fetched at start, when a topic is first used, after errors
// that mean the leader moved (NOT_LEADER_OR_FOLLOWER,
// UNKNOWN_TOPIC_OR_PARTITION, a lost connection...), while a leader is
// unknown, and every MetadataMaxAge. Produce and Fetch go to each
// partition's leader as metadata names it. An answer that names an older
// leader epoch for a partition than we know (a broker whose copy of the
// metadata log lags) does not replace it (KIP-320), and Fetch and
// ListOffsets carry the known epoch as CurrentLeaderEpoch, so a deposed
// leader answers FENCED_LEADER_EPOCH instead of serving us.
package client
