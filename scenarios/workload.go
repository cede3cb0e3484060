package scenarios

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/loglab/loglab/client"
	"github.com/loglab/loglab/host"
)

// The workload's client nodes. Each is a host.Node whose client records
// every operation in the run's history; the nodes themselves only pace
// the traffic.

// producerNode sends unique values ("<node>/<seq>", padded to the drawn
// size) at plan.rate per second while *producing is on.
type producerNode struct {
	cfg       client.Config
	plan      *plan
	producing *bool
	h         host.Host
	cl        *client.Client
	zipf      *rand.Zipf
	seq       int
}

func (p *producerNode) Start(h host.Host) {
	p.h = h
	p.cl = client.New(h, p.cfg)
	if p.plan.keys.kind == "zipf" {
		p.zipf = rand.NewZipf(h.Rand(), 1.1, 1, uint64(p.plan.keys.n-1))
	}
	p.schedule()
}

func (p *producerNode) schedule() {
	mean := int64(time.Second) / p.plan.rate
	gap := time.Duration(p.h.Rand().Int64N(2*mean+1)) + 1
	p.h.AfterFunc(gap, p.produceOne)
}

func (p *producerNode) produceOne() {
	if !*p.producing {
		return
	}
	p.seq++
	rnd := p.h.Rand()
	v := p.h.Name() + "/" + strconv.Itoa(p.seq)
	if size := int(p.plan.valueBytes.draw(rnd)); size > len(v)+1 {
		v = v + " " + strings.Repeat(".", size-len(v)-1)
	}
	r := client.Record{Topic: p.plan.topics[0], Value: []byte(v)}
	if len(p.plan.topics) > 1 {
		r.Topic = p.plan.topics[rnd.IntN(len(p.plan.topics))]
	}
	switch p.plan.keys.kind {
	case "uniform":
		r.Key = []byte("k" + strconv.Itoa(rnd.IntN(p.plan.keys.n)))
	case "zipf":
		r.Key = []byte("k" + strconv.FormatUint(p.zipf.Uint64(), 10))
	}
	// The history records the outcome; the workload needs nothing more.
	p.cl.Produce(r, func(client.Record, error) {})
	p.schedule()
}

// memberNode is a consumer-group member: it subscribes to every topic
// and auto-commits what it consumed; the client records the group's
// operations. A restarted node is a new member (a new member id).
type memberNode struct {
	cfg         client.Config
	plan        *plan
	incarnation int
}

func (m *memberNode) Start(h host.Host) {
	cfg := m.cfg
	// Each incarnation is its own history process ("consumer-1",
	// "consumer-1.2", ...): operation ids restart with the process.
	cfg.ClientID = h.Name()
	if m.incarnation > 1 {
		cfg.ClientID += "." + strconv.Itoa(m.incarnation)
	}
	cfg.Group, cfg.Topics, cfg.AutoCommit = m.plan.group, m.plan.topics, true
	cfg.Idempotent = false // a consumer produces nothing
	if err := client.New(h, cfg).Subscribe(); err != nil {
		h.Logger().Error("subscribe failed", "err", err)
	}
}

// readerNode reads every partition of every topic from the earliest
// offset; the client records every poll. The final reader also notes when
// it has reached the high watermark of every partition.
type readerNode struct {
	cfg      client.Config
	plan     *plan
	h        host.Host
	cl       *client.Client
	caughtUp bool
}

func (r *readerNode) Start(h host.Host) {
	r.h = h
	r.cl = client.New(h, r.cfg)
	for _, t := range r.plan.topics {
		for p := int32(0); p < r.plan.partitions; p++ {
			r.cl.Assign(t, p, client.Earliest)
		}
	}
	h.AfterFunc(50*time.Millisecond, r.checkCaughtUp)
}

func (r *readerNode) checkCaughtUp() {
	for _, t := range r.plan.topics {
		for p := int32(0); p < r.plan.partitions; p++ {
			pos, hw, ok := r.cl.Position(t, p)
			if !ok || hw < 0 || pos < hw {
				r.h.AfterFunc(50*time.Millisecond, r.checkCaughtUp)
				return
			}
		}
	}
	r.caughtUp = true
}
