package broker

// DeleteTopics (key 20).
//
// Topics are named (v0-v5 TopicNames; v6 Topics with a name or, when the
// name is null, an id). Unknown names answer UNKNOWN_TOPIC_OR_PARTITION,
// unknown ids UNKNOWN_TOPIC_ID, invalid names INVALID_TOPIC_EXCEPTION. A
// deleted topic disappears at once; the answer waits until the catalogue
// without it is durable; its files are removed after that (the name can
// be reused once they are). TimeoutMillis is not enforced.
//
// Cluster mode: the deletion is submitted to the active controller
// (DeleteTopic) and answered once committed; every replica then removes
// the topic's logs when its image drops the topic. Unknown outcome:
// REQUEST_TIMED_OUT; not yet registered and unfenced: NOT_CONTROLLER.

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/broker/topics"
)

// Served versions 0-6.
func init() { register(keyDeleteTopics, 0, 6, (*Broker).handleDeleteTopics) }

func (b *Broker) handleDeleteTopics(r *request) {
	req := r.kreq.(*kmsg.DeleteTopicsRequest)
	type want struct {
		name *string
		id   [16]byte
	}
	var wants []want
	if req.Version < 6 {
		for i := range req.TopicNames {
			wants = append(wants, want{name: &req.TopicNames[i]})
		}
	} else {
		for _, t := range req.Topics {
			wants = append(wants, want{name: t.Topic, id: t.TopicID})
		}
	}
	resp := kmsg.NewPtrDeleteTopicsResponse()
	resp.Topics = make([]kmsg.DeleteTopicsResponseTopic, len(wants))
	waiting := 1
	answer := func() {
		waiting--
		if waiting == 0 {
			r.respond(resp)
		}
	}
	for i, w := range wants {
		out := &resp.Topics[i]
		*out = kmsg.NewDeleteTopicsResponseTopic()
		out.Topic, out.TopicID = w.name, w.id
		waiting++
		b.meta.deleteTopic(r, w.name, w.id, out, answer)
	}
	answer()
}

// deleteTopic deletes the topic named (or, with a nil name, identified by
// id) from the catalogue and its files.
func (s catalogueSource) deleteTopic(r *request, name *string, id [16]byte, out *kmsg.DeleteTopicsResponseTopic, answer func()) {
	b := s.b
	var t *topic
	switch {
	case name == nil:
		if t = b.byID[topics.ID(id)]; t == nil {
			out.ErrorCode = kerr.UnknownTopicID.Code
		}
	case topics.ValidName(*name) != nil:
		out.ErrorCode = kerr.InvalidTopicException.Code
	default:
		if t = b.topics[*name]; t == nil {
			out.ErrorCode = kerr.UnknownTopicOrPartition.Code
		}
	}
	if t == nil {
		r.warn("DeleteTopics of a topic that does not exist", "error", kerr.ErrorForCode(out.ErrorCode))
		answer()
		return
	}
	tname := t.name
	out.Topic, out.TopicID = &tname, t.id
	b.deleteTopic(t, func(err error) {
		if err != nil {
			out.ErrorCode = kerr.KafkaStorageError.Code
			msg := err.Error()
			out.ErrorMessage = &msg
		}
		answer()
	})
}

// deleteTopic submits the deletion to the controller.
func (s imageSource) deleteTopic(_ *request, name *string, id [16]byte, out *kmsg.DeleteTopicsResponseTopic, answer func()) {
	s.b.deleteClusterTopic(name, id, out, answer)
}

// deleteClusterTopic submits the deletion of the topic named (or, with a
// nil name, identified by id) and calls answer once out is filled.
func (b *Broker) deleteClusterTopic(name *string, id [16]byte, out *kmsg.DeleteTopicsResponseTopic, answer func()) {
	img := b.follower.Image()
	var it *metadata.Topic
	switch {
	case name == nil:
		for i := range img.Topics {
			if img.Topics[i].ID == id {
				it = &img.Topics[i]
			}
		}
		if it == nil {
			out.ErrorCode = kerr.UnknownTopicID.Code
		}
	case topics.ValidName(*name) != nil:
		out.ErrorCode = kerr.InvalidTopicException.Code
	default:
		if it = img.Topic(*name); it == nil {
			out.ErrorCode = kerr.UnknownTopicOrPartition.Code
		}
	}
	if it == nil {
		answer()
		return
	}
	if !b.ready() || b.stopping {
		out.ErrorCode = kerr.NotController.Code
		answer()
		return
	}
	n := it.Name
	out.Topic, out.TopicID = &n, it.ID
	b.follower.Submit(metadata.Record{Type: metadata.TypeDeleteTopic, DeleteTopic: &metadata.DeleteTopic{Name: n}}, func(res metadata.Result, err error) {
		var ke *kerr.Error
		switch {
		case err != nil:
			out.ErrorCode = kerr.RequestTimedOut.Code
		case errors.As(res.Err, &ke):
			out.ErrorCode = ke.Code
		case res.Err != nil:
			out.ErrorCode = kerr.UnknownServerError.Code
		}
		answer()
	})
}
