package broker

// DeleteTopics (key 20), versions 0-6.
//
// Topics are named (v0-v5 TopicNames; v6 Topics with a name or, when the
// name is null, an id). Unknown names answer UNKNOWN_TOPIC_OR_PARTITION,
// unknown ids UNKNOWN_TOPIC_ID, invalid names INVALID_TOPIC_EXCEPTION. A
// deleted topic disappears at once; the answer waits until the catalogue
// without it is durable; its files are removed after that (the name can
// be reused once they are). TimeoutMillis is not enforced.

import (
	"github.com/loglab/loglab/broker/topics"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

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
		var t *topic
		switch {
		case w.name == nil:
			if t = b.byID[topics.ID(w.id)]; t == nil {
				out.ErrorCode = kerr.UnknownTopicID.Code
			}
		case topics.ValidName(*w.name) != nil:
			out.ErrorCode = kerr.InvalidTopicException.Code
		default:
			if t = b.topics[*w.name]; t == nil {
				out.ErrorCode = kerr.UnknownTopicOrPartition.Code
			}
		}
		if t == nil {
			r.warn("DeleteTopics of a topic that does not exist", "error", kerr.ErrorForCode(out.ErrorCode))
			continue
		}
		name := t.name
		out.Topic, out.TopicID = &name, t.id
		waiting++
		b.deleteTopic(t, func(err error) {
			if err != nil {
				out.ErrorCode = kerr.KafkaStorageError.Code
				msg := err.Error()
				out.ErrorMessage = &msg
			}
			answer()
		})
	}
	answer()
}
