// Package group checks consumer-group histories: what the classic group
// protocol promises members and their committed offsets, judged from the
// operations clients record (assign, revoke, commit, fetch-offset, and the
// polls group members make; see history).
//
// Ownership and imports: this package owns the group anomalies and their
// definitions; it imports history and checkers/verdict only.
//
// # Anomalies (per group, topic and partition)
//
//	double-ownership       two members were assigned the same partition in
//	                       one generation
//	skipped                a member's first poll after an assignment started
//	                       past every offset that could have been committed
//	                       (any commit, ok or info, invoked before the
//	                       assignment completed; with none, past the earliest
//	                       record read from the partition) — records between
//	                       were never delivered to the group (at-least-once
//	                       broken); or a record acknowledged to a producer
//	                       below the final committed offset that no poll ever
//	                       returned
//	offset-went-back       an OffsetFetch returned less than a commit that had
//	                       completed ok before the fetch was invoked
//	stale-commit-accepted  a commit carrying generation g completed ok though
//	                       it was invoked after some member of the group had
//	                       been assigned partitions in a generation newer than
//	                       g: the coordinator must have refused it
//	                       (ILLEGAL_GENERATION)
//
// # What it assumes and cannot see
//
//   - Times of different processes are compared, so histories must come
//     from one clock: the simulator's (real runs compare within a process
//     only).
//   - Consumers commit only offsets they reached, and nobody resets a
//     group's offsets (administrator commits, generation -1, are ignored
//     by offset-went-back).
//   - A member that keeps consuming after it was fenced — a zombie — is
//     allowed by the classic protocol (no fencing of fetches), so two
//     members reading one partition in different generations is not an
//     anomaly; only ownership within one generation is checked.
//   - Without a reset policy of earliest (Options.ResetLatest), the
//     no-commit case of skipped is not judged.
package group
