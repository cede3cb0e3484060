package client

// supported is the version range this client implements per API key. The
// maxima stop before versions that change semantics we do not implement
// (Produce v13 and Fetch v13 address topics by id).
var supported = map[int16][2]int16{
	0:  {3, 12}, // Produce: v3+ carries v2 record batches
	1:  {4, 12}, // Fetch: v4+ returns v2 record batches
	2:  {1, 8},  // ListOffsets
	3:  {1, 12}, // Metadata
	8:  {2, 8},  // OffsetCommit
	9:  {1, 8},  // OffsetFetch (v8+: batched groups)
	10: {0, 4},  // FindCoordinator (v4+: batched keys)
	11: {0, 7},  // JoinGroup (v4+: MEMBER_ID_REQUIRED, v5+: group.instance.id)
	12: {0, 4},  // Heartbeat
	13: {0, 4},  // LeaveGroup (v3+: members)
	14: {0, 5},  // SyncGroup
	15: {0, 5},  // DescribeGroups
	16: {0, 4},  // ListGroups
	18: {0, 3},  // ApiVersions
	22: {0, 4},  // InitProducerId
}
