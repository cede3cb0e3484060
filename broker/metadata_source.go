package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker/metadata"
)

// metadataSource is where topics, partitions, leaders and producer ids
// come from, so that API handlers never branch on the broker's mode:
//
//   - catalogueSource (standalone): the broker's own catalogue
//     (topics.json, catalogue.go); it leads every partition;
//   - imageSource (cluster mode): the controller's metadata log, through
//     the metadata follower and its image (cluster.go).
//
// Every method runs on the broker's loop. Those that take answer call it
// exactly once, synchronously or later, after filling out.
type metadataSource interface {
	// metadata answers a Metadata request (all: every topic).
	metadata(r *request, req *kmsg.MetadataRequest, all bool)
	// createTopic creates one topic of a CreateTopics request.
	createTopic(r *request, rt kmsg.CreateTopicsRequestTopic, validateOnly bool, out *kmsg.CreateTopicsResponseTopic, answer func())
	// deleteTopic deletes the topic named (or, with a nil name,
	// identified by id).
	deleteTopic(r *request, name *string, id [16]byte, out *kmsg.DeleteTopicsResponseTopic, answer func())
	// allocateProducerIDs hands out a block of producer ids, durably.
	allocateProducerIDs(done func(metadata.ProducerIDBlock, *kerr.Error))
	// coordinator locates the group coordinator owning offsets partition p.
	coordinator(p *partition) (node int32, host string, port int32, err *kerr.Error)
	// createOffsetsTopic creates __consumer_offsets with overrides.
	createOffsetsTopic(overrides map[string]string)
}

// catalogueSource is the standalone broker's metadata.
type catalogueSource struct{ b *Broker }

// imageSource is a cluster member's metadata.
type imageSource struct{ b *Broker }
