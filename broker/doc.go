// Package broker is loglab's Kafka broker: a host.Node that speaks
// Apache Kafka's wire protocol on a listener, keeps a catalogue of topics
// and serves each partition from a log (package broker/log). It runs
// unchanged on real sockets (host/realhost) and in the simulator (sim).
//
// Ownership and imports: broker owns the protocol front end (framing is
// the Host's, header and batch bytes are package wire's; dispatch,
// per-connection ordering and limits are here), one handler per API key (files keyNN_name.go, each
// headed by the versions it serves and its deliberate simplifications),
// topic and partition state, and the mapping of log errors to Kafka error
// codes. It imports host, wire, wire/batch, broker/log, broker/topics and
// franz-go's kmsg (every request and response body) and kerr (error
// codes). It never imports sim, netsim or realhost.
//
// # Request path
//
//	frame (host) → wire.PeekRequestHeader (key, version, correlation id)
//	             → lookupAPI: unknown key or unsupported version → close
//	               (a too-new ApiVersions instead gets a v0 answer, KIP-511)
//	             → wire.ParseRequestHeader (v1; v2 tagged fields when flexible)
//	             → kmsg ReadFrom (malformed → close)
//	             → handler → respond / noResponse / closeConn
//
// Responses leave in request order per connection; handling is pipelined
// up to MaxInFlightRequests unanswered requests, later frames wait
// unparsed, and past MaxQueuedRequests waiting frames the connection is
// closed. Bad input is logged once (one line per event) and answered
// with the Kafka error code, or by closing the connection when the
// request cannot be parsed, as Kafka does; it never stops the broker or
// touches stored data.
//
// # Cluster mode
//
// With Config.Controllers set the broker is one of a cluster (a
// KRaft-like quorum, package broker/controller). It embeds a
// controller.Follower (and, in combined mode, a Voter) and takes every
// topic, partition, replica assignment, leader, leader epoch and ISR from
// the committed metadata image; it keeps no catalogue of its own
// (cluster.go). The handlers ask one metadataSource for topics, producer
// ids and coordinators (metadata_source.go): catalogueSource standalone,
// imageSource in a cluster, so no API handler branches on the mode.
// Ownership:
//
//   - the controller owns the image: who leads at which leader epoch, the
//     committed ISR, topic configs, broker fencing;
//   - the partition leader owns its log's content, the high watermark and
//     its view of the followers (replica_leader.go), and proposes ISR
//     changes (AlterPartition) that only count once committed;
//   - a follower owns nothing but its copy: it truncates by epoch and
//     appends what the leader sends (replica_fetcher.go);
//   - broker/log owns offsets, durability and the leader-epoch cache.
//
// Each image change is reconciled (in topic-name, partition order): logs
// of assigned partitions are opened (a "partition.metadata" file names the
// topic ID, so a directory of a deleted topic of the same name is wiped,
// not served), logs of deleted topics closed and removed, and a change of
// (leader, leader epoch) makes the broker leader or follower.
//
// # Consumer groups and idempotence
//
// The group coordinator is package broker/group; groups.go wires it to the
// internal topic __consumer_offsets (created by the first FindCoordinator,
// offsets.topic.num.partitions partitions, replicated like any topic). The
// broker coordinates the groups of the offsets partitions it leads: it
// loads a partition when it becomes leader (serving it once the high
// watermark covers everything the partition held then), unloads it the
// moment it stops leading or its log fails, and appends the coordinator's
// records like an acks=all produce. Clients may not produce to it.
//
// Idempotent producers get ids from InitProducerId (blocks of 1000 from
// the controller quorum, or a synced file when standalone); the partition
// log checks every idempotent batch against its producer's last five
// (broker/log producers.go) and a retry is answered with the original
// offsets instead of being stored again.
//
// # Invariants
//
//   - Everything runs on the node's loop; no goroutines, no wall clock
//     except through the Host, no map iteration order in behaviour
//     (topic names are sorted wherever they are walked).
//   - Standalone: a topic is visible to clients only once its catalogue
//     entry is durable; a deleted topic disappears before its files are
//     removed. On one broker the high watermark is the log end offset
//     (the durable offset under flush.messages=1), the leader epoch is 0
//     and the ISR is this broker.
//   - Each request is answered at most once; a request whose connection
//     closed is never answered.
//   - Cluster mode, leadership: a broker acts as leader only when the
//     image names it leader AND shows this very process (its Follower's
//     incarnation) registered and unfenced — a restarted broker never
//     leads from an image of its previous life. Only the leader appends,
//     serves consumers and answers ListOffsets / OffsetForLeaderEpoch;
//     everyone else answers NOT_LEADER_OR_FOLLOWER.
//   - Epochs: the leader stamps its leader epoch into every batch it
//     appends and assigns (epoch, log end offset) in the epoch cache when
//     it becomes leader; followers keep the leader's offsets and epochs.
//     A CurrentLeaderEpoch older than ours is FENCED_LEADER_EPOCH, newer
//     UNKNOWN_LEADER_EPOCH. A new follower truncates by
//     OffsetForLeaderEpoch before fetching (KIP-101/KIP-279), never to its
//     high watermark.
//   - High watermark: on the leader, min log end offset over the maximal
//     ISR (committed ISR plus a pending expansion), the leader's own being
//     min(LEO, RecoveryPoint) under flush.messages=1; it never decreases
//     during a leadership, and holds still while the committed ISR is
//     smaller than min(min.insync.replicas, replicas) (KIP-966's strict
//     min-ISR rule); consumers never see records at or above it.
//     A follower's is min(leader's, own LEO). It is checkpointed per
//     partition every second ("high-watermark-checkpoint").
//   - acks=all is answered only once the high watermark covers the batch,
//     after checking len(ISR) >= min.insync.replicas before the append.
//   - Damage is never served: a leader whose read meets a corrupt batch
//     serves the intact batches before it, answers KAFKA_STORAGE_ERROR for
//     the rest and steps down (AlterPartition.StepDown) when another usable
//     ISR member exists; as a follower it keeps its log (the intact data
//     after the damage may be the only copy) and follows from its end. A
//     log that cannot be opened because synced data rotted is
//     wiped and refetched when another usable ISR member holds the data;
//     otherwise the partition stays offline here (logged).
//   - A replica that reopens its log below its checkpointed high
//     watermark lost committed data (power loss under flush=never, a tail
//     cut by recovery). Elected anyway (the last ISR member, the case of
//     Kafka's KIP-966), it serves nobody until it has asked the other
//     replicas how far their logs match the committed one, and hands
//     leadership to one holding more (replica_recovery.go); only if none
//     does, or none answers within 3s, does it lead with what it has.
//   - ISR: the leader never changes the ISR itself; it proposes removals
//     (not caught up for replica.lag.time.max.ms) and additions (caught
//     up with the high watermark and this leadership's start), one at a
//     time per partition, and follows the image's verdict.
package broker
