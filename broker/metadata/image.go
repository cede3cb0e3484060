package metadata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
)

// NoLeader is the Leader of an offline partition.
const NoLeader int32 = -1

// UncleanLeaderElectionConfig is the topic config that allows electing an
// out-of-sync replica when no ISR member is usable.
const UncleanLeaderElectionConfig = "unclean.leader.election.enable"

// Broker is one registered broker.
type Broker struct {
	ID          int32  `json:"id"`
	Addr        string `json:"addr"`
	Rack        string `json:"rack,omitempty"`
	Incarnation uint64 `json:"incarnation"`
	// Epoch is the offset of the registration record (KRaft's broker epoch).
	Epoch int64 `json:"epoch"`
	// Fenced brokers lead nothing and may not join an ISR.
	Fenced bool `json:"fenced"`
}

// Partition is one partition's replication state.
type Partition struct {
	Index          int32   `json:"index"`
	Replicas       []int32 `json:"replicas"`
	ISR            []int32 `json:"isr"`
	Leader         int32   `json:"leader"`
	LeaderEpoch    int32   `json:"leaderEpoch"`
	PartitionEpoch int32   `json:"partitionEpoch"`
}

// PreferredLeader is the first replica of the assignment.
func (p *Partition) PreferredLeader() int32 { return p.Replicas[0] }

// Topic is one topic.
type Topic struct {
	Name string `json:"name"`
	// ID is the topic's UUID, derived from its name and creation offset.
	ID         [16]byte    `json:"id"`
	Configs    []Config    `json:"configs,omitempty"` // sorted by Key
	Partitions []Partition `json:"partitions"`        // Partitions[i].Index == i
}

// Config returns a config value ("" when unset).
func (t *Topic) Config(key string) string {
	for _, c := range t.Configs {
		if c.Key == key {
			return c.Value
		}
	}
	return ""
}

// UncleanLeaderElection reports unclean.leader.election.enable.
func (t *Topic) UncleanLeaderElection() bool {
	return t.Config(UncleanLeaderElectionConfig) == "true"
}

// Image is the metadata state at Offset: the result of applying every record
// up to and including Offset. The zero Image is the empty cluster at offset 0.
type Image struct {
	Offset  int64    `json:"offset"`
	Brokers []Broker `json:"brokers"` // sorted by ID
	Topics  []Topic  `json:"topics"`  // sorted by Name
	// NextProducerID is the first producer id not yet handed to a broker:
	// ids are never reused, across controller failovers too.
	NextProducerID int64 `json:"nextProducerId,omitempty"`

	// UncleanElectionBug switches on the bug zoo's "unclean-election"
	// (test-only; package bugzoo): with no usable ISR member, Apply elects
	// the first usable replica whatever the topic config says. It is
	// configuration, not state: it is never encoded (snapshots and records
	// do not carry it), and whoever builds or decodes an Image sets it from
	// its own config (controller.VoterConfig.Bugs, FollowerConfig.Bugs),
	// identically on every voter and broker of a run, so every replica of
	// the metadata log still reaches the same verdicts.
	UncleanElectionBug bool `json:"-"`
}

// Broker returns the registered broker id, or nil.
func (img *Image) Broker(id int32) *Broker {
	i := sort.Search(len(img.Brokers), func(i int) bool { return img.Brokers[i].ID >= id })
	if i < len(img.Brokers) && img.Brokers[i].ID == id {
		return &img.Brokers[i]
	}
	return nil
}

// Topic returns the topic name, or nil.
func (img *Image) Topic(name string) *Topic {
	i := sort.Search(len(img.Topics), func(i int) bool { return img.Topics[i].Name >= name })
	if i < len(img.Topics) && img.Topics[i].Name == name {
		return &img.Topics[i]
	}
	return nil
}

// Partition returns one partition, or nil.
func (img *Image) Partition(topic string, index int32) *Partition {
	t := img.Topic(topic)
	if t == nil || index < 0 || int(index) >= len(t.Partitions) {
		return nil
	}
	return &t.Partitions[index]
}

// Usable reports whether broker id is registered and not fenced: it may lead
// and join ISRs.
func (img *Image) Usable(id int32) bool {
	b := img.Broker(id)
	return b != nil && !b.Fenced
}

// UnfencedBrokers returns the IDs of usable brokers, ascending.
func (img *Image) UnfencedBrokers() []int32 {
	var ids []int32
	for _, b := range img.Brokers {
		if !b.Fenced {
			ids = append(ids, b.ID)
		}
	}
	return ids
}

// Clone returns a deep copy.
func (img *Image) Clone() *Image {
	c := &Image{Offset: img.Offset, Brokers: slices.Clone(img.Brokers), UncleanElectionBug: img.UncleanElectionBug}
	if img.Topics != nil {
		c.Topics = make([]Topic, len(img.Topics))
	}
	for i, t := range img.Topics {
		t.Configs = slices.Clone(t.Configs)
		ps := make([]Partition, len(t.Partitions))
		for j, p := range t.Partitions {
			p.Replicas = slices.Clone(p.Replicas)
			p.ISR = slices.Clone(p.ISR)
			ps[j] = p
		}
		t.Partitions = ps
		c.Topics[i] = t
	}
	return c
}

// Encode returns the image's snapshot encoding: version byte, then JSON.
func (img *Image) Encode() []byte {
	b, err := json.Marshal(img)
	if err != nil {
		panic("metadata: encode image: " + err.Error())
	}
	return append([]byte{RecordVersion}, b...)
}

// DecodeImage parses Encode's output and checks the invariants.
func DecodeImage(b []byte) (*Image, error) {
	if len(b) == 0 || b[0] != RecordVersion {
		return nil, fmt.Errorf("%w: image version", ErrCorruptRecord)
	}
	dec := json.NewDecoder(bytes.NewReader(b[1:]))
	dec.DisallowUnknownFields()
	img := &Image{}
	if err := dec.Decode(img); err != nil {
		return nil, fmt.Errorf("%w: image: %v", ErrCorruptRecord, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: image: trailing data", ErrCorruptRecord)
	}
	if err := img.Check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptRecord, err)
	}
	return img, nil
}

// ErrInvariant classifies an Image that breaks the package invariants.
var ErrInvariant = errors.New("metadata: invariant violated")

// Check verifies the invariants listed in the package doc.
func (img *Image) Check() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvariant}, args...)...)
	}
	for i := 1; i < len(img.Brokers); i++ {
		if img.Brokers[i-1].ID >= img.Brokers[i].ID {
			return fail("brokers not sorted at %d", i)
		}
	}
	for i := range img.Topics {
		t := &img.Topics[i]
		if i > 0 && img.Topics[i-1].Name >= t.Name {
			return fail("topics not sorted at %q", t.Name)
		}
		if len(t.Partitions) == 0 {
			return fail("topic %q has no partitions", t.Name)
		}
		for j := 1; j < len(t.Configs); j++ {
			if t.Configs[j-1].Key >= t.Configs[j].Key {
				return fail("topic %q configs not sorted", t.Name)
			}
		}
		for j := range t.Partitions {
			if err := img.checkPartition(t, &t.Partitions[j], int32(j)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (img *Image) checkPartition(t *Topic, p *Partition, index int32) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s-%d: "+format, append([]any{ErrInvariant, t.Name, index}, args...)...)
	}
	if p.Index != index {
		return fail("index %d", p.Index)
	}
	if len(p.Replicas) == 0 {
		return fail("no replicas")
	}
	for i, r := range p.Replicas {
		if slices.Contains(p.Replicas[:i], r) {
			return fail("duplicate replica %d", r)
		}
		if img.Broker(r) == nil {
			return fail("replica %d not registered", r)
		}
	}
	if len(p.ISR) == 0 {
		return fail("empty ISR")
	}
	pos := -1
	for _, r := range p.ISR {
		k := slices.Index(p.Replicas, r)
		if k < 0 {
			return fail("ISR member %d not a replica", r)
		}
		if k <= pos {
			return fail("ISR %v not in replica order %v", p.ISR, p.Replicas)
		}
		pos = k
	}
	if p.Leader != NoLeader {
		if !slices.Contains(p.ISR, p.Leader) {
			return fail("leader %d not in ISR %v", p.Leader, p.ISR)
		}
		if !img.Usable(p.Leader) {
			return fail("leader %d is fenced", p.Leader)
		}
	}
	if p.LeaderEpoch < 0 || p.PartitionEpoch < 0 {
		return fail("negative epoch")
	}
	return nil
}
