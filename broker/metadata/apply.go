package metadata

import (
	"fmt"
	"hash/fnv"
	"slices"
	"sort"

	"github.com/loglab/loglab/broker/topics"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Result is what applying one record produced. Err is nil or a *kerr.Error
// (classify with errors.Is(res.Err, kerr.InvalidReplicationFactor)); a
// rejected record leaves the Image unchanged except for Offset.
type Result struct {
	Err error
	// BrokerEpoch: RegisterBroker's epoch.
	BrokerEpoch int64
	// TopicID: CreateTopic's new topic ID.
	TopicID [16]byte
	// Partition: AlterPartition's new partition state.
	Partition *Partition
	// Elections: ElectLeaders' per-partition outcome.
	Elections []ElectionResult
	// ProducerIDs: AllocateProducerIDs' block, [Start, Start+Len).
	ProducerIDs ProducerIDBlock
}

// ProducerIDBlockSize is how many producer ids one AllocateProducerIDs
// hands out (Kafka's PRODUCER_ID_BLOCK_SIZE).
const ProducerIDBlockSize = 1000

// ProducerIDBlock is a range of producer ids owned by one broker.
type ProducerIDBlock struct {
	Start int64
	Len   int64
}

// ElectionResult is one partition's outcome of ElectLeaders.
type ElectionResult struct {
	Topic     string
	Partition int32
	Err       error // nil: a new leader was elected
}

// Apply applies the record at offset. Offsets must grow; Apply sets
// img.Offset = offset whatever the verdict.
func (img *Image) Apply(offset int64, r *Record) Result {
	if offset <= img.Offset {
		panic(fmt.Sprintf("metadata: apply offset %d after %d", offset, img.Offset))
	}
	img.Offset = offset
	switch r.Type {
	case TypeRegisterBroker:
		return img.registerBroker(offset, r.RegisterBroker)
	case TypeFenceBroker:
		return img.fenceBroker(r.FenceBroker)
	case TypeUnfenceBroker:
		return img.unfenceBroker(r.UnfenceBroker)
	case TypeCreateTopic:
		return img.createTopic(offset, r.CreateTopic)
	case TypeDeleteTopic:
		return img.deleteTopic(r.DeleteTopic)
	case TypeAlterPartition:
		return img.alterPartition(r.AlterPartition)
	case TypeElectLeaders:
		return img.electLeaders(r.ElectLeaders)
	case TypeAllocateProducerIDs:
		if _, err := img.checkEpoch(r.AllocateProducerIDs); err != nil {
			return Result{Err: err}
		}
		block := ProducerIDBlock{Start: img.NextProducerID, Len: ProducerIDBlockSize}
		img.NextProducerID += ProducerIDBlockSize
		return Result{ProducerIDs: block}
	}
	return Result{Err: kerr.InvalidRequest}
}

// SetOffset advances the image over a log entry that carries no record
// (a raft leader's empty entry, a configuration change).
func (img *Image) SetOffset(offset int64) {
	if offset > img.Offset {
		img.Offset = offset
	}
}

func (img *Image) registerBroker(offset int64, rb *RegisterBroker) Result {
	if rb.BrokerID < 0 {
		return Result{Err: kerr.InvalidRequest}
	}
	if b := img.Broker(rb.BrokerID); b != nil {
		if b.Incarnation == rb.Incarnation {
			return Result{BrokerEpoch: b.Epoch} // a retried registration
		}
		if !b.Fenced {
			img.fence(b) // the old process is gone: move its leaderships
		}
		*b = Broker{ID: rb.BrokerID, Addr: rb.Addr, Rack: rb.Rack, Incarnation: rb.Incarnation, Epoch: offset, Fenced: true}
		return Result{BrokerEpoch: offset}
	}
	i := sort.Search(len(img.Brokers), func(i int) bool { return img.Brokers[i].ID >= rb.BrokerID })
	img.Brokers = slices.Insert(img.Brokers, i, Broker{
		ID: rb.BrokerID, Addr: rb.Addr, Rack: rb.Rack, Incarnation: rb.Incarnation, Epoch: offset, Fenced: true,
	})
	return Result{BrokerEpoch: offset}
}

func (img *Image) checkEpoch(ref *BrokerEpochRef) (*Broker, error) {
	b := img.Broker(ref.BrokerID)
	if b == nil {
		return nil, kerr.BrokerIDNotRegistered
	}
	if b.Epoch != ref.BrokerEpoch {
		return nil, kerr.StaleBrokerEpoch
	}
	return b, nil
}

func (img *Image) fenceBroker(ref *BrokerEpochRef) Result {
	b, err := img.checkEpoch(ref)
	if err != nil {
		return Result{Err: err}
	}
	if !b.Fenced {
		img.fence(b)
	}
	return Result{BrokerEpoch: b.Epoch}
}

// fence marks b fenced, removes it from every ISR it is not the last member
// of, and elects new leaders where it led.
func (img *Image) fence(b *Broker) {
	b.Fenced = true
	img.eachPartition(func(t *Topic, p *Partition) {
		inISR := slices.Contains(p.ISR, b.ID)
		if !inISR && p.Leader != b.ID {
			return
		}
		changed := false
		if inISR && len(p.ISR) > 1 {
			p.ISR = slices.DeleteFunc(slices.Clone(p.ISR), func(r int32) bool { return r == b.ID })
			changed = true
		}
		if p.Leader == b.ID {
			img.setLeader(p, img.electLeader(t, p))
			changed = true
		}
		if changed {
			p.PartitionEpoch++
		}
	})
}

func (img *Image) unfenceBroker(ref *BrokerEpochRef) Result {
	b, err := img.checkEpoch(ref)
	if err != nil {
		return Result{Err: err}
	}
	if !b.Fenced {
		return Result{BrokerEpoch: b.Epoch}
	}
	b.Fenced = false
	// Offline partitions this broker can lead come back online.
	img.eachPartition(func(t *Topic, p *Partition) {
		if p.Leader != NoLeader || !slices.Contains(p.Replicas, b.ID) {
			return
		}
		if l := img.electLeader(t, p); l != NoLeader {
			img.setLeader(p, l)
			p.PartitionEpoch++
		}
	})
	return Result{BrokerEpoch: b.Epoch}
}

// electLeader chooses a leader for p: the first usable ISR member in replica
// order; failing that, with unclean election enabled, the first usable
// replica. NoLeader if none.
func (img *Image) electLeader(t *Topic, p *Partition) int32 {
	for _, r := range p.Replicas {
		if slices.Contains(p.ISR, r) && img.Usable(r) {
			return r
		}
	}
	if t.UncleanLeaderElection() || img.UncleanElectionBug { // bugzoo: test-only deliberate bug
		return img.firstUsableReplica(p)
	}
	return NoLeader
}

func (img *Image) firstUsableReplica(p *Partition) int32 {
	for _, r := range p.Replicas {
		if img.Usable(r) {
			return r
		}
	}
	return NoLeader
}

// setLeader makes l the leader (bumping LeaderEpoch). A leader from outside
// the ISR (unclean) becomes the whole ISR. The caller bumps PartitionEpoch.
func (img *Image) setLeader(p *Partition, l int32) {
	if l != NoLeader && !slices.Contains(p.ISR, l) {
		p.ISR = []int32{l}
	}
	p.Leader = l
	p.LeaderEpoch++
}

func (img *Image) eachPartition(f func(t *Topic, p *Partition)) {
	for i := range img.Topics {
		t := &img.Topics[i]
		for j := range t.Partitions {
			f(t, &t.Partitions[j])
		}
	}
}

func (img *Image) createTopic(offset int64, ct *CreateTopic) Result {
	if err := topics.ValidName(ct.Name); err != nil {
		return Result{Err: kerr.InvalidTopicException}
	}
	if img.Topic(ct.Name) != nil {
		return Result{Err: kerr.TopicAlreadyExists}
	}
	configs := slices.Clone(ct.Configs)
	slices.SortStableFunc(configs, func(a, b Config) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	for i, c := range configs {
		if i > 0 && configs[i-1].Key == c.Key {
			return Result{Err: kerr.InvalidConfig}
		}
		if c.Key == UncleanLeaderElectionConfig && c.Value != "true" && c.Value != "false" {
			return Result{Err: kerr.InvalidConfig}
		}
	}
	var assignment [][]int32
	if ct.Assignments != nil {
		if len(ct.Assignments) == 0 {
			return Result{Err: kerr.InvalidReplicaAssignment}
		}
		for _, rs := range ct.Assignments {
			if len(rs) == 0 {
				return Result{Err: kerr.InvalidReplicaAssignment}
			}
			for i, r := range rs {
				if img.Broker(r) == nil || slices.Contains(rs[:i], r) {
					return Result{Err: kerr.InvalidReplicaAssignment}
				}
			}
			assignment = append(assignment, slices.Clone(rs))
		}
	} else {
		if ct.NumPartitions < 1 {
			return Result{Err: kerr.InvalidPartitions}
		}
		live := img.UnfencedBrokers()
		if ct.ReplicationFactor < 1 || int(ct.ReplicationFactor) > len(live) {
			return Result{Err: kerr.InvalidReplicationFactor}
		}
		assignment = assign(ct.Name, ct.NumPartitions, int(ct.ReplicationFactor), live)
	}
	t := Topic{Name: ct.Name, ID: topicID(ct.Name, offset), Configs: configs}
	for i, rs := range assignment {
		p := Partition{Index: int32(i), Replicas: rs, ISR: slices.Clone(rs), Leader: img.firstUsableReplica(&Partition{Replicas: rs})}
		t.Partitions = append(t.Partitions, p)
	}
	i := sort.Search(len(img.Topics), func(i int) bool { return img.Topics[i].Name >= ct.Name })
	img.Topics = slices.Insert(img.Topics, i, t)
	return Result{TopicID: t.ID}
}

// assign spreads partitions round-robin over the live brokers (rack-free,
// like Kafka's rack-unaware assignment): partition p's replicas are the rf
// brokers after a start that is hashed from the topic name, so topics do not
// all put their first leader on the lowest broker. The first replica is the
// preferred leader.
func assign(name string, partitions int32, rf int, live []int32) [][]int32 {
	h := fnv.New32a()
	h.Write([]byte(name))
	n := len(live)
	start := int(h.Sum32() % uint32(n))
	out := make([][]int32, partitions)
	for p := range out {
		rs := make([]int32, rf)
		for r := range rs {
			rs[r] = live[(start+p+r)%n]
		}
		out[p] = rs
	}
	return out
}

// topicID derives a stable UUID (version 4 bits set) from the name and the
// creation offset, so a re-created topic gets a new ID.
func topicID(name string, offset int64) [16]byte {
	h := fnv.New128a()
	h.Write([]byte(name))
	var o [8]byte
	for i := range o {
		o[i] = byte(offset >> (8 * i))
	}
	h.Write(o[:])
	var id [16]byte
	copy(id[:], h.Sum(nil))
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return id
}

func (img *Image) deleteTopic(dt *DeleteTopic) Result {
	i := sort.Search(len(img.Topics), func(i int) bool { return img.Topics[i].Name >= dt.Name })
	if i >= len(img.Topics) || img.Topics[i].Name != dt.Name {
		return Result{Err: kerr.UnknownTopicOrPartition}
	}
	img.Topics = slices.Delete(img.Topics, i, i+1)
	return Result{}
}

func (img *Image) alterPartition(ap *AlterPartition) Result {
	p := img.Partition(ap.Topic, ap.Partition)
	if p == nil {
		return Result{Err: kerr.UnknownTopicOrPartition}
	}
	if _, err := img.checkEpoch(&BrokerEpochRef{BrokerID: ap.BrokerID, BrokerEpoch: ap.BrokerEpoch}); err != nil {
		return Result{Err: err}
	}
	if ap.Offline {
		return img.replicaOffline(img.Topic(ap.Topic), p, ap.BrokerID)
	}
	if ap.BrokerID != p.Leader {
		return Result{Err: kerr.NotLeaderForPartition}
	}
	if ap.LeaderEpoch != p.LeaderEpoch {
		return Result{Err: kerr.FencedLeaderEpoch}
	}
	if ap.PartitionEpoch != p.PartitionEpoch {
		return Result{Err: kerr.InvalidUpdateVersion}
	}
	if ap.StepDown {
		return img.stepDown(p, ap)
	}
	if !slices.Contains(ap.ISR, p.Leader) {
		return Result{Err: kerr.InvalidRequest}
	}
	for i, r := range ap.ISR {
		if slices.Contains(ap.ISR[:i], r) || !slices.Contains(p.Replicas, r) {
			return Result{Err: kerr.InvalidRequest}
		}
		if !slices.Contains(p.ISR, r) && !img.Usable(r) {
			return Result{Err: kerr.IneligibleReplica}
		}
	}
	// Keep the ISR in replica order so equal sets encode equally.
	var isr []int32
	for _, r := range p.Replicas {
		if slices.Contains(ap.ISR, r) {
			isr = append(isr, r)
		}
	}
	if !slices.Equal(isr, p.ISR) { // an unchanged ISR keeps its epoch
		p.ISR = isr
		p.PartitionEpoch++
	}
	cp := *p
	cp.Replicas, cp.ISR = slices.Clone(p.Replicas), slices.Clone(p.ISR)
	return Result{Partition: &cp}
}

// replicaOffline takes replica r, whose copy is offline, out of p's ISR
// (never the last member) and elects a new leader if r led
// (AlterPartition.Offline).
func (img *Image) replicaOffline(t *Topic, p *Partition, r int32) Result {
	if !slices.Contains(p.Replicas, r) {
		return Result{Err: kerr.InvalidRequest}
	}
	if slices.Contains(p.ISR, r) && len(p.ISR) > 1 {
		p.ISR = slices.DeleteFunc(slices.Clone(p.ISR), func(x int32) bool { return x == r })
		if p.Leader == r {
			img.setLeader(p, img.electLeader(t, p))
		}
		p.PartitionEpoch++
	}
	cp := *p
	cp.Replicas, cp.ISR = slices.Clone(p.Replicas), slices.Clone(p.ISR)
	return Result{Partition: &cp}
}

// stepDown removes the leader from the ISR and elects StepDownTo, or the
// first usable remaining member (AlterPartition.StepDown).
func (img *Image) stepDown(p *Partition, ap *AlterPartition) Result {
	want := slices.DeleteFunc(slices.Clone(p.ISR), func(r int32) bool { return r == p.Leader })
	var isr []int32
	for _, r := range p.Replicas {
		if slices.Contains(ap.ISR, r) {
			isr = append(isr, r)
		}
	}
	if len(want) == 0 || !slices.Equal(isr, want) || len(isr) != len(ap.ISR) {
		return Result{Err: kerr.InvalidRequest}
	}
	l := NoLeader
	for _, r := range isr {
		if img.Usable(r) && (ap.StepDownTo == nil || *ap.StepDownTo == r) {
			l = r
			break
		}
	}
	if l == NoLeader {
		return Result{Err: kerr.IneligibleReplica}
	}
	p.ISR = isr
	img.setLeader(p, l)
	p.PartitionEpoch++
	cp := *p
	cp.Replicas, cp.ISR = slices.Clone(p.Replicas), slices.Clone(p.ISR)
	return Result{Partition: &cp}
}

func (img *Image) electLeaders(el *ElectLeaders) Result {
	var res Result
	one := func(t *Topic, p *Partition) {
		er := ElectionResult{Topic: t.Name, Partition: p.Index}
		switch el.Type {
		case ElectPreferred:
			pref := p.PreferredLeader()
			switch {
			case p.Leader == pref:
				er.Err = kerr.ElectionNotNeeded
			case !img.Usable(pref) || !slices.Contains(p.ISR, pref):
				er.Err = kerr.PreferredLeaderNotAvailable
			default:
				img.setLeader(p, pref)
				p.PartitionEpoch++
			}
		case ElectUnclean:
			l := img.electLeader(t, p)
			if l == NoLeader {
				l = img.firstUsableReplica(p)
			}
			switch {
			case p.Leader != NoLeader:
				er.Err = kerr.ElectionNotNeeded
			case l == NoLeader:
				er.Err = kerr.EligibleLeadersNotAvailable
			default:
				img.setLeader(p, l)
				p.PartitionEpoch++
			}
		default:
			er.Err = kerr.InvalidRequest
		}
		res.Elections = append(res.Elections, er)
	}
	if el.Partitions == nil {
		img.eachPartition(one)
		return res
	}
	for _, tp := range el.Partitions {
		t := img.Topic(tp.Topic)
		for _, idx := range tp.Partitions {
			if t == nil || idx < 0 || int(idx) >= len(t.Partitions) {
				res.Elections = append(res.Elections, ElectionResult{Topic: tp.Topic, Partition: idx, Err: kerr.UnknownTopicOrPartition})
				continue
			}
			one(t, &t.Partitions[idx])
		}
	}
	return res
}
