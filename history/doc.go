// Package history defines the history format every loglab client records and
// every checker reads: one JSON object per line (JSONL), Jepsen-style.
//
// Ownership and imports: this package owns the record layout, its writer,
// its parser and the pairing of invocations with completions. It imports the
// standard library only, does no I/O of its own (the caller hands it an
// io.Writer or io.Reader) and runs in simulation as in real runs.
//
// # Operations
//
// Every client operation is an invoke record followed, later in the same
// history, by exactly one completion record of the same process and id:
//
//	type    meaning
//	invoke  the operation began
//	ok      it happened; a send carries the offset it was assigned, a poll
//	        the records it read
//	fail    it definitely did not happen; error says why (a Kafka error
//	        name such as NOT_LEADER_OR_FOLLOWER, or the client's reason)
//	info    its outcome is unknown: a request timed out, or the connection
//	        was lost after the request was sent, or acks=0. A checker must
//	        allow both "it happened" and "it did not" (for a poll, which has
//	        no effect, info is equivalent to fail).
//
// An invoke that has no completion when the history ends is pending, and is
// treated as info. Records of different operations interleave freely, since a
// client pipelines many sends.
//
// # Fields
//
//	field      type     on            meaning
//	index      int      every record  position in the history; strictly
//	                                  increasing (the Writer numbers 0, 1, ...)
//	time       int ns   every record  virtual time in simulation, the
//	                                  client's monotonic clock in real runs;
//	                                  comparable only within one process in
//	                                  real runs
//	process    string   every record  the client that ran the operation
//	id         int      every record  operation id, unique within its process;
//	                                  (process, id) pairs invoke and completion
//	type       string   every record  invoke | ok | fail | info
//	f          string   every record  send | poll | assign | revoke |
//	                                  commit | fetch-offset (the last four:
//	                                  consumer groups, below)
//	topic      string   every record  the topic
//	partition  int      every record  the partition; -1 on a send invoke whose
//	                                  partition was not chosen yet (the
//	                                  completion then carries it), and on
//	                                  the fail of a send never partitioned
//	key        string   send          the record key; absent = null key
//	value      string   send          the record value; workloads make every
//	                                  sent value unique
//	offset     int      send ok       the offset the broker assigned
//	                    poll          the fetch position the poll read from
//	records    array    poll ok       the records read, in offset order:
//	                                  {"offset", "key", "value"}
//	error      string   fail, info    why (required on fail)
//	group      string   group ops,    the consumer group; on a poll, the
//	                    member polls  member's group
//	member     string   as group      the member id the coordinator gave
//	generation int      with group    the generation the op ran in (-1: an
//	                                  administrator's commit)
//	partitions array    assign,       the partitions of topic that the member
//	                    revoke        starts / stops owning (ascending)
//
// Group operations: assign and revoke are written as an invoke and its ok
// together (partition -1); commit is an OffsetCommit of one partition
// whose invoke carries the committed offset (the next to consume);
// fetch-offset is an OffsetFetch of one partition whose ok carries the
// committed offset (absent: none). Only the group checker reads them.
//
// Keys and values are strings. Kafka's are bytes; workloads use printable
// values so the history reads and round-trips exactly (bytes that are not
// valid UTF-8 are not preserved by JSON).
//
// # Example
//
//	{"index":0,"time":1000000,"process":"client-1","id":1,"type":"invoke","f":"send","topic":"t","partition":-1,"key":"k1","value":"v1"}
//	{"index":1,"time":1200000,"process":"client-1","id":2,"type":"invoke","f":"send","topic":"t","partition":0,"value":"v2"}
//	{"index":2,"time":3500000,"process":"client-1","id":1,"type":"ok","f":"send","topic":"t","partition":2,"key":"k1","value":"v1","offset":17}
//	{"index":3,"time":4000000,"process":"client-2","id":1,"type":"invoke","f":"poll","topic":"t","partition":2,"offset":17}
//	{"index":4,"time":4800000,"process":"client-2","id":1,"type":"ok","f":"poll","topic":"t","partition":2,"offset":17,"records":[{"offset":17,"key":"k1","value":"v1"}]}
//	{"index":5,"time":9000000,"process":"client-1","id":2,"type":"info","f":"send","topic":"t","partition":0,"value":"v2","error":"request timed out"}
//
// # Invariants
//
// Parse accepts exactly what Writer writes and Marshal/Parse round-trip
// (fuzzed). Every parse error is an *Error carrying the 1-based line number
// and wrapping ErrMalformed. Pair checks well-formedness across records
// (ErrIllFormed): each completion follows its invoke, with the same process,
// id, f and topic, at a time no earlier; ids are not reused.
package history
