package broker

import (
	"slices"
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
// lives in its own file named after its key (keyNN_name.go), which
// registers it with its versions, once, in an init function: the file's
// header says what it serves and its deliberate simplifications. Adding
// an API means adding a file, nothing else.
var apis []api

// register adds one API to the table, keeping it sorted by key. It
// panics on a key registered twice or a version range kmsg cannot decode:
// the table may only promise what the broker can parse.
func register(key, min, max int16, handle func(b *Broker, r *request)) {
	if kr := kmsg.RequestForKey(key); kr == nil || max > kr.MaxVersion() || min > max {
		panic("broker: api table advertises a version kmsg cannot decode")
	}
	i := sort.Search(len(apis), func(i int) bool { return apis[i].key >= key })
	if i < len(apis) && apis[i].key == key {
		panic("broker: api key registered twice")
	}
	apis = slices.Insert(apis, i, api{key, min, max, handle})
}

func lookupAPI(key int16) (api, bool) {
	i := sort.Search(len(apis), func(i int) bool { return apis[i].key >= key })
	if i < len(apis) && apis[i].key == key {
		return apis[i], true
	}
	return api{}, false
}
