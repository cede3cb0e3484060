package broker

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/loglab/loglab/broker/topics"
)

// The catalogue changes in two steps so that clients never see a topic
// the broker could forget in a crash: a new topic becomes visible only
// after its catalogue entry is durable, and a deleted topic disappears
// at once but its files go only after the catalogue without it is
// durable (a crash in between leaves orphan directories that recovery
// removes).

// catalogueState is what the catalogue file should say now: the live
// topics plus those being created, sorted by name.
func (b *Broker) catalogueState() topics.State {
	var st topics.State
	for _, name := range b.sortedTopicNames() {
		t := b.topics[name]
		st.Topics = append(st.Topics, topics.Topic{Name: t.name, ID: t.id, Partitions: int32(len(t.partitions)), Overrides: t.overrides})
	}
	for _, name := range slices.Sorted(maps.Keys(b.creating)) {
		tt := b.creating[name]
		st.Topics = append(st.Topics, *tt)
	}
	sort.Slice(st.Topics, func(i, j int) bool { return st.Topics[i].Name < st.Topics[j].Name })
	return st
}

// newTopicID draws a random version-4 UUID that no live or pending topic
// uses, from the host's seeded source.
func (b *Broker) newTopicID() topics.ID {
	for {
		var id topics.ID
		r := b.h.Rand()
		for i := 0; i < len(id); i += 8 {
			v := r.Uint64()
			for j := 0; j < 8; j++ {
				id[i+j] = byte(v >> (8 * j))
			}
		}
		id[6] = id[6]&0x0f | 0x40
		id[8] = id[8]&0x3f | 0x80
		if _, used := b.byID[id]; used {
			continue
		}
		clash := false
		//detcheck:ordered an "any" over the values: order cannot matter
		for _, tt := range b.creating {
			clash = clash || tt.ID == id
		}
		if !clash {
			return id
		}
	}
}

// createTopic starts creating a validated topic. The name must not be
// reserved. done runs once the topic is live (nil) or has failed.
func (b *Broker) createTopic(name string, partitions int32, overrides map[string]string, done func(t *topic, err error)) {
	tt := &topics.Topic{Name: name, ID: b.newTopicID(), Partitions: partitions, Overrides: overrides}
	b.reserved[name] = true
	b.creating[name] = tt
	b.beginBusy()
	b.store.Save(b.catalogueState(), func(err error) {
		defer b.endBusy()
		delete(b.creating, name)
		delete(b.reserved, name)
		if err != nil {
			b.log.Error("topic creation failed: catalogue not durable", "topic", name, "err", err)
			done(nil, err)
			return
		}
		t, err := b.openTopic(*tt)
		if err != nil {
			done(nil, err)
			return
		}
		b.topics[name] = t
		b.byID[t.id] = t
		b.log.Info("topic created", "topic", name, "id", t.id.String(), "partitions", partitions)
		b.syncAllShards()
		done(t, nil)
	})
}

// deleteTopic removes a live topic: invisible at once, its files removed
// once the catalogue without it is durable. done runs at that point.
func (b *Broker) deleteTopic(t *topic, done func(err error)) {
	delete(b.topics, t.name)
	delete(b.byID, t.id)
	b.reserved[t.name] = true
	for _, p := range t.partitions {
		p.wake() // waiting fetches re-read and find the topic gone
	}
	b.beginBusy()
	b.store.Save(b.catalogueState(), func(err error) {
		if err != nil {
			// Durability unknown: the topic may come back after a
			// restart. It stays invisible now; its files stay too.
			b.log.Error("topic deletion not durable", "topic", t.name, "err", err)
			delete(b.reserved, t.name)
			b.endBusy()
			done(err)
			return
		}
		done(nil)
		b.removeTopicFiles(t)
	})
}

// removeTopicFiles closes the deleted topic's logs and removes their
// directories, then frees the name.
func (b *Broker) removeTopicFiles(t *topic) {
	left := len(t.partitions) + 1
	finish := func() {
		left--
		if left > 0 {
			return
		}
		for _, p := range t.partitions {
			if err := removeAll(b.h.Disk(), partitionDir(t.name, p.index)); err != nil {
				b.log.Warn("removing deleted partition failed; recovery will retry", "topic", t.name, "partition", p.index, "err", err)
			}
		}
		b.h.Disk().SyncDir("", func(err error) {
			if err != nil {
				b.log.Warn("sync after topic deletion failed", "err", err)
			}
			delete(b.reserved, t.name)
			b.log.Info("topic deleted", "topic", t.name)
			b.endBusy()
		})
	}
	for _, p := range t.partitions {
		if p.log == nil {
			finish()
			continue
		}
		p.log.Close(func(err error) {
			if err != nil {
				b.log.Warn("closing deleted partition log failed", "topic", t.name, "partition", p.index, "err", fmt.Errorf("%w", err))
			}
			finish()
		})
	}
	finish()
}
