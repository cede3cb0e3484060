package broker

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// API keys the broker serves (Kafka's numbers).
const (
	keyProduce              int16 = 0
	keyFetch                int16 = 1
	keyListOffsets          int16 = 2
	keyMetadata             int16 = 3
	keyOffsetCommit         int16 = 8
	keyOffsetFetch          int16 = 9
	keyFindCoordinator      int16 = 10
	keyJoinGroup            int16 = 11
	keyHeartbeat            int16 = 12
	keyLeaveGroup           int16 = 13
	keySyncGroup            int16 = 14
	keyDescribeGroups       int16 = 15
	keyListGroups           int16 = 16
	keyCreateTopics         int16 = 19
	keyDeleteTopics         int16 = 20
	keyApiVersions          int16 = 18
	keyInitProducerID       int16 = 22
	keyOffsetForLeaderEpoch int16 = 23
	keyDescribeConfigs      int16 = 32
)

// api is one served API key: the versions advertised in ApiVersions and
// its handler. A handler must eventually answer its request exactly once
// (respond, noResponse or closeConn), synchronously or later.
type api struct {
	key, min, max int16
	handle        func(b *Broker, r *request)
}

// apis is the table ApiVersions advertises, sorted by key. Each handler
// lives in its own file named after its key, headed by the versions it
// serves and its deliberate simplifications. Adding an API means adding a
// file and a line here, nothing else.
var apis []api

// init breaks the cycle apis → ApiVersions handler → apis.
func init() {
	apis = sortedAPIs([]api{
		{keyProduce, 0, 13, (*Broker).handleProduce},
		{keyFetch, 4, 18, (*Broker).handleFetch},
		{keyListOffsets, 0, 10, (*Broker).handleListOffsets},
		{keyMetadata, 0, 13, (*Broker).handleMetadata},
		{keyOffsetCommit, 0, 9, (*Broker).handleOffsetCommit},
		{keyOffsetFetch, 0, 9, (*Broker).handleOffsetFetch},
		{keyFindCoordinator, 0, 4, (*Broker).handleFindCoordinator},
		{keyJoinGroup, 0, 9, (*Broker).handleJoinGroup},
		{keyHeartbeat, 0, 4, (*Broker).handleHeartbeat},
		{keyLeaveGroup, 0, 5, (*Broker).handleLeaveGroup},
		{keySyncGroup, 0, 5, (*Broker).handleSyncGroup},
		{keyDescribeGroups, 0, 5, (*Broker).handleDescribeGroups},
		{keyListGroups, 0, 4, (*Broker).handleListGroups},
		{keyApiVersions, 0, 5, (*Broker).handleApiVersions},
		{keyCreateTopics, 0, 7, (*Broker).handleCreateTopics},
		{keyDeleteTopics, 0, 6, (*Broker).handleDeleteTopics},
		{keyInitProducerID, 0, 4, (*Broker).handleInitProducerID},
		{keyOffsetForLeaderEpoch, 0, 4, (*Broker).handleOffsetForLeaderEpoch},
		{keyDescribeConfigs, 0, 4, (*Broker).handleDescribeConfigs},
	})
}

func sortedAPIs(a []api) []api {
	sort.Slice(a, func(i, j int) bool { return a[i].key < a[j].key })
	for i := range a {
		// The table may only promise what kmsg can decode.
		if kr := kmsg.RequestForKey(a[i].key); kr == nil || a[i].max > kr.MaxVersion() || a[i].min > a[i].max {
			panic("broker: api table advertises a version kmsg cannot decode")
		}
	}
	return a
}

func lookupAPI(key int16) (api, bool) {
	i := sort.Search(len(apis), func(i int) bool { return apis[i].key >= key })
	if i < len(apis) && apis[i].key == key {
		return apis[i], true
	}
	return api{}, false
}
