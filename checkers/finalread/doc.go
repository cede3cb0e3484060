// Package finalread judges a history by its final read: the polls of one
// process (Options.FinalReader, "final-reader" by default) that, after every
// fault was repaired and every send had its outcome, read every partition
// from its start to its end. The final read is the log as it survived;
// every acknowledgement and every earlier read is compared with it. It is
// the durability checker of loglab's single-broker crash scenarios and of
// log-crash, which drives a partition log with no client (package
// scenarios).
//
// It differs from package queue on purpose. queue calls a value lost only
// if no poll ever returned it, and calls any offset observed with two
// values divergent; a consumer that read a record just before a power loss
// erased it then hides the loss, and the offset the loss freed (handed out
// again) shows as divergent-offset. Here the final read alone decides what
// survived, and an offset reused after a loss is the lost write's mark, not
// a second anomaly.
//
// # Anomalies
//
//	kind              definition
//	lost-write        a send acknowledged ok (partition p, offset o, value
//	                  v) whose value is absent from the final read of p
//	divergent-offset  an acknowledgement the final read contradicts although
//	                  the value survived (v is in the final read of p, not
//	                  at o), or a final read holding two values at one offset
//	unstable-read     a poll returned v at (p, o) but the final read holds
//	                  something else (or nothing) there, and v is not a lost
//	                  write already reported: a reader saw a record the log
//	                  later took back (an unsynced record a power loss erased
//	                  and a retry appended again elsewhere). Whether reads
//	                  must be stable is the caller's spec: a scenario that
//	                  allows them tolerates the kind
//	phantom           a poll returned a value no send carried, or one whose
//	                  send definitely failed
//
// Duplicates (one value at two offsets of the final read) are allowed, since
// a producer that is not idempotent retries; they are counted in the stats.
//
// A history with no ok poll by the final reader cannot be judged: the
// verdict is unknown.
//
// Ownership and imports: this package imports history and checkers/verdict
// only, and does no I/O. It iterates no map in an order that reaches its
// result: anomalies come out in history order, then verdict.Sort.
package finalread
