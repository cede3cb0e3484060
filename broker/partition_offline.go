package broker

import (
	"errors"

	plog "github.com/loglab/loglab/broker/log"
)

// A partition whose log fails goes offline; every handler that touches a
// log reports failures here.

// takeOffline marks a partition whose log failed; it answers
// KAFKA_STORAGE_ERROR until the broker restarts and recovers it.
func (b *Broker) takeOffline(p *partition, err error) {
	if p.offline != nil {
		return
	}
	p.offline = err
	b.log.Error("partition offline: log failed", "topic", p.topic.name, "partition", p.index, "err", err)
	b.h.Post(p.wake)
	b.syncShard(p)
	b.reportOffline(p)
	if p.replicated && errors.Is(err, plog.ErrCorruption) {
		b.reopenRotten(p)
	}
}
