// Package controller is loglab's controller quorum (Kafka's KRaft): a raft
// group of voters that replicates the metadata log (records of package
// broker/metadata), and the Follower that brokers embed to register,
// heartbeat and follow that log.
//
// Ownership and imports: this package owns the raft driver (Voter), the
// durable raft log on host.Disk (wal.go documents its format), the
// controller protocol between voters and followers (protocol.go), the
// active controller's duties (broker sessions and fencing, preferred-leader
// elections) and the broker-side Follower. It imports host, broker/metadata,
// go.etcd.io/raft/v3 (RawNode, MemoryStorage, raftpb) and franz-go's kerr.
// It never imports sim, netsim or realhost.
//
// # Driving raft on a Host
//
// A Voter owns a raft.RawNode (sans-IO) and drives it from Host callbacks
// only: Tick on a Host timer (TickInterval, 100ms), Step for each raft frame
// received, Propose for requests. After any of them it posts one process(),
// which handles a Ready in etcd raft's durability order:
//
//  1. append Entries and HardState to the log file (or rewrite the log with
//     an incoming Snapshot) and, when Ready.MustSync, wait for File.Sync's
//     callback — persist BEFORE sending;
//  2. make them visible to raft's MemoryStorage;
//  3. send Messages, each marshalled through raftpb (the codec is always
//     crossed, also in simulation);
//  4. apply CommittedEntries to the metadata Image and answer the proposals
//     they complete;
//  5. Advance, compact the log if it grew past SnapshotBytes, and only
//     then take the next Ready. Steps and ticks keep arriving meanwhile, as
//     raft allows between Ready and Advance.
//
// Raft runs with CheckQuorum and PreVote (an isolated leader steps down
// within an election timeout; a rejoining node does not disrupt the term)
// and without proposal forwarding: requests go to the active controller,
// and other voters answer NOT_CONTROLLER with its address.
//
// A failed fsync leaves the log's durability unknown; the voter stops
// (Err reports why) and must be restarted, recovering from disk, as etcd
// does.
//
// # Bootstrapping
//
// On an empty disk each voter writes the same snapshot at index 1 (term 1)
// holding the configured membership and an empty Image, so the voters' logs
// agree from the start without a bootstrap leader. Membership changes are
// not supported yet.
//
// # Randomness: raft's election jitter
//
// go.etcd.io/raft/v3 v3.6.0 draws each randomized election timeout with
// crypto/rand.Int(crypto/rand.Reader, n) from a process-global helper
// (raft.go, lockedRand). It passes the package VARIABLE crypto/rand.Reader,
// and crypto/rand.Int reads from its io.Reader argument directly; it does
// not go through crypto/rand.Read nor through the Go 1.26 "custom reader
// ignored unless GODEBUG=cryptocustomrand=1" rule, which applies to
// crypto/rand.Prime and key generation only. So assigning a seeded reader
// to crypto/rand.Reader makes the jitter a function of the seed. The
// simulator does that per run with sim.InstallCryptoRand(seed); tests may
// use testing/cryptotest.SetGlobalRandom instead. The reader is
// process-wide: runs that use raft must not run in parallel in one process.
// Everything else random here (proposer and follower incarnation ids) comes
// from Host.Rand.
//
// # Invariants
//
//   - No record is acknowledged (its proposal answered, or its raft
//     acknowledgement sent) before it is durable on a majority's disks.
//   - Followers only ever receive committed, applied records, in offset
//     order, or a whole Image snapshot at the voter's applied offset.
//   - No goroutines, no wall clock, no map order reaching behaviour: peers
//     are kept by ID in a slice, pending proposals are walked in sequence
//     order.
package controller
