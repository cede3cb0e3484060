// Package group is loglab's group coordinator: Kafka's classic consumer
// group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
// OffsetCommit, OffsetFetch, DescribeGroups, ListGroups) as a sans-IO
// state machine on a host.Host, persisted in the partitions of the
// internal topic __consumer_offsets.
//
// Ownership and imports: the coordinator owns group membership
// (generations, members, the leader member, assignments, session and
// rebalance timers) and the committed offsets of the groups whose
// __consumer_offsets partition ("shard") this broker leads. The broker
// owns the partitions: it tells the coordinator when it starts leading a
// shard (BeginLoad, Replay of every record, FinishLoad) and when it stops
// (Unload), and it appends the coordinator's records through Log, calling
// back once the high watermark covers them. The package imports host,
// wire/batch, kmsg and kerr; it never touches a log or a socket.
//
// # Placement
//
// A group lives in shard abs(javaHashCode(groupID)) %
// offsets.topic.num.partitions, Kafka's placement, so any Kafka tool's
// idea of a group's partition matches ours.
//
// # Records (Kafka's own __consumer_offsets formats, kmsg codecs)
//
//	key OffsetCommitKey v1 (group, topic, partition)
//	    value OffsetCommitValue v3 (offset, leader epoch, metadata,
//	    commit timestamp); a null value deletes the offset
//	key GroupMetadataKey v2 (group)
//	    value GroupMetadataValue v3 (protocol type, generation, protocol,
//	    leader, members with subscription and assignment); null deletes
//
// A group's metadata is written when a generation completes: at
// SyncGroup from the leader member (the assignment), and when a rebalance
// ends with no members (an Empty group at its new generation), so a new
// coordinator never hands out a generation number that was already
// acknowledged.
//
// # States (Kafka's GroupMetadata)
//
//	Empty ──join──▶ PreparingRebalance ──all joined / rebalance timeout──▶
//	CompletingRebalance ──leader's SyncGroup persisted──▶ Stable
//	Stable / CompletingRebalance ──join of a new member, leave, session
//	expiry, leader rejoin──▶ PreparingRebalance
//
// A rebalance from Empty waits group.initial.rebalance.delay.ms for more
// members (extended while they keep arriving, up to the rebalance
// timeout). Members that have not rejoined when the rebalance timeout
// fires are removed. JoinGroup v4+ from an unknown member answers
// MEMBER_ID_REQUIRED with an id the member must rejoin with within its
// session timeout (KIP-394); static members (group.instance.id, KIP-345)
// skip that step, keep their assignment across a restart without a
// rebalance while the group is Stable, and fence their previous member
// id (FENCED_INSTANCE_ID).
//
// # Invariants
//
//   - A shard serves only once every record that was in its partition
//     when this broker became leader has been replayed and is committed
//     (below the high watermark); before that every request for its
//     groups answers COORDINATOR_LOAD_IN_PROGRESS, and a broker that does
//     not lead the shard answers NOT_COORDINATOR.
//   - An OffsetCommit is acknowledged, and visible to OffsetFetch, only
//     once its record is committed to __consumer_offsets; a failed write
//     answers the mapped error (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE)
//     and changes nothing.
//   - Within a generation every member's assignment is the one the
//     leader member sent; a generation's number is never reused while
//     this shard is loaded.
//   - A commit carrying a generation other than the group's, or from a
//     member the group does not know, is refused (ILLEGAL_GENERATION,
//     UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS during CompletingRebalance);
//     only generation -1 on an Empty (or unknown) group commits as an
//     administrator (kafka-consumer-groups --reset-offsets).
//   - Every callback a request hands in is called exactly once, also
//     when the shard unloads under it (NOT_COORDINATOR).
//   - Determinism: members are kept in join order, groups walked in
//     sorted id order; member ids come from the host's Rand.
//
// Simplifications: offsets never expire (offsets.retention.minutes) and
// __consumer_offsets is not compacted (loglab has no compaction), so a
// shard's load replays its whole partition; the consumer protocol
// (KIP-848) and transactional offset commits are not served.
package group
