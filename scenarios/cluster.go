package scenarios

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker/metadata"
	"github.com/loglab/loglab/checkers/liveness"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
	"github.com/loglab/loglab/wire"
)

// Cluster mode (cluster.brokers >= 2). Broker N is node "broker-N", NodeID
// N, client listener "broker-N:9092"; broker-1..broker-V also run a
// controller voter on "broker-N:9093" (combined mode), and every broker's
// Controllers list is the voters' addresses. Before the workload starts:
//
//  1. the admin node creates every topic through CreateTopics (v4), with
//     its partitions, replication factor and configs, retrying retriable
//     errors (no controller yet, a timeout) on the next broker;
//  2. the runner waits until, in the freshest metadata image among the
//     brokers, every partition has a leader and an ISR of all its
//     replicas, and the leader itself serves it as leader;
//
// both bounded by clusterReadyLimit of virtual time, after which the run
// fails with what was missing. Raft's election jitter reads crypto/rand:
// the run installs a reader seeded from the run's seed
// (sim.InstallCryptoRand), which is process-wide, so cluster runs must not
// run in parallel in one process (`sim sweep` runs its workers as separate
// processes).

// clusterReadyLimit bounds topic creation and the wait for full ISRs.
const clusterReadyLimit = 30 * time.Second

// adminName is the node that creates the topics.
const adminName = "admin"

// controllerPort is the voters' controller listener port.
const controllerPort = 9093

// voterAddrs are the controller listeners, broker-1..broker-V.
func (p *plan) voterAddrs() []string {
	out := make([]string, p.voters)
	for i := range out {
		out[i] = brokerName(i+1) + ":" + strconv.Itoa(controllerPort)
	}
	return out
}

// adminNode creates the plan's topics through CreateTopics, over the
// simulated network like any client.
type adminNode struct {
	plan    *plan
	addrs   []string
	h       host.Host
	conn    host.Conn
	next    int // index into addrs of the broker to ask
	corr    int32
	waiting int32 // correlation id awaited (0: none)
	req     *kmsg.CreateTopicsRequest
	timer   host.Timer
	pending []string // topics not yet created
	created bool
	// fatal is a non-retriable answer (INVALID_REPLICATION_FACTOR,
	// INVALID_CONFIG, ...): the run fails with it.
	fatal string
	// last is the latest retriable problem, for the not-ready error.
	last string
}

func (a *adminNode) Start(h host.Host) {
	a.h = h
	a.pending = slices.Clone(a.plan.topics)
	a.send()
}

func (a *adminNode) send() {
	if a.created || a.fatal != "" {
		return
	}
	if a.conn == nil {
		a.conn = a.h.Net().Dial(a.addrs[a.next%len(a.addrs)], host.DialOptions{}, a)
	}
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Version = 4
	req.TimeoutMillis = 5000
	for _, name := range a.pending {
		t := kmsg.NewCreateTopicsRequestTopic()
		t.Topic, t.NumPartitions, t.ReplicationFactor = name, a.plan.partitions, a.plan.rf
		for _, k := range sortedKeys(a.plan.topicConfigs) {
			c := kmsg.NewCreateTopicsRequestTopicConfig()
			c.Name, c.Value = k, kmsg.StringPtr(a.plan.topicConfigs[k])
			t.Configs = append(t.Configs, c)
		}
		req.Topics = append(req.Topics, t)
	}
	a.corr++
	a.waiting = a.corr
	a.req = req
	frame := wire.AppendRequest(nil, req, a.corr, adminName)
	if err := a.conn.Send(frame); err != nil {
		a.retry("send: " + err.Error())
		return
	}
	a.timer = a.h.AfterFunc(7*time.Second, func() { a.retry("no answer within 7s") })
}

// retry moves to the next broker after a backoff.
func (a *adminNode) retry(why string) {
	a.last = fmt.Sprintf("%s (asking %s)", why, a.addrs[a.next%len(a.addrs)])
	a.waiting = 0
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	if c := a.conn; c != nil {
		a.conn = nil
		c.Close()
	}
	a.next++
	a.h.AfterFunc(200*time.Millisecond, a.send)
}

func (a *adminNode) OnFrame(_ host.Conn, frame []byte) {
	corr, _, err := wire.ParseResponseHeader(frame, false)
	if err != nil || corr != a.waiting || a.waiting == 0 {
		return
	}
	a.waiting = 0
	if a.timer != nil {
		a.timer.Stop()
		a.timer = nil
	}
	kresp, err := wire.ReadResponse(frame, a.req, corr)
	if err != nil {
		a.retry("bad CreateTopics response: " + err.Error())
		return
	}
	resp := kresp.(*kmsg.CreateTopicsResponse)
	var again []string
	for _, t := range resp.Topics {
		err := kerr.ErrorForCode(t.ErrorCode)
		switch {
		case err == nil || err == kerr.TopicAlreadyExists:
		case kerr.IsRetriable(err) || err == kerr.NotController || err == kerr.RequestTimedOut ||
			err == kerr.InvalidReplicationFactor: // not every broker has registered yet
			again = append(again, t.Topic)
			a.last = fmt.Sprintf("CreateTopics %s (replication factor %d): %v", t.Topic, a.plan.rf, err)
			if t.ErrorMessage != nil {
				a.last += ": " + *t.ErrorMessage
			}
		default:
			msg := ""
			if t.ErrorMessage != nil {
				msg = ": " + *t.ErrorMessage
			}
			a.fatal = fmt.Sprintf("CreateTopics %s (replication factor %d, %d partitions): %v%s", t.Topic, a.plan.rf, a.plan.partitions, err, msg)
			return
		}
	}
	if len(again) == 0 {
		a.created = true
		if c := a.conn; c != nil {
			a.conn = nil
			c.Close()
		}
		return
	}
	a.pending = again
	a.retry(a.last)
}

func (a *adminNode) OnClose(_ host.Conn, err error) {
	if a.conn == nil {
		return
	}
	a.conn = nil
	if a.waiting != 0 {
		a.retry(fmt.Sprintf("connection closed: %v", err))
	}
}

// partitionState is what a broker knows of one partition it replicates
// (broker.PartitionState).
type partitionState struct {
	Leader, LeaderEpoch int32
	IsLeader            bool
	ISR                 []int32
	HighWatermark       int64
	LogEndOffset        int64
}

// worldView is the clusterView of a running world, over its broker nodes.
type worldView struct {
	w       *sim.World
	brokers []string
}

func (v worldView) running() []string {
	var out []string
	for _, n := range v.brokers {
		if v.w.Up(n) {
			out = append(out, n)
		}
	}
	return out
}

func (v worldView) up(name string) bool {
	return slices.Contains(v.brokers, name) && v.w.Up(name) && !v.w.Paused(name)
}

func (v worldView) image() *metadata.Image {
	var best *metadata.Image
	for _, n := range v.running() {
		if img := nodeImage(v.w.Node(n)); img != nil && (best == nil || img.Offset > best.Offset) {
			best = img
		}
	}
	return best
}

func (v worldView) controller() string {
	best, term := "", uint64(0)
	for _, n := range v.running() {
		if lead, t := nodeVoterLeads(v.w.Node(n)); lead && t > term {
			best, term = n, t
		}
	}
	return best
}

// notReady says what keeps the cluster from serving every partition with
// a full ISR ("" once ready): in the freshest image, every partition of
// every topic has a leader, an ISR of all its replicas, and its leader
// serves it as leader.
func (v worldView) notReady(p *plan) string {
	img := v.image()
	if img == nil {
		return "no broker has a metadata image"
	}
	var missing []string
	for _, t := range p.topics {
		for i := int32(0); i < p.partitions; i++ {
			tp := t + "-" + strconv.Itoa(int(i))
			mp := img.Partition(t, i)
			switch {
			case mp == nil:
				missing = append(missing, tp+" not in the metadata image")
			case mp.Leader == metadata.NoLeader:
				missing = append(missing, fmt.Sprintf("%s has no leader (replicas %v)", tp, mp.Replicas))
			case len(mp.ISR) < len(mp.Replicas) || len(mp.Replicas) != int(p.rf):
				missing = append(missing, fmt.Sprintf("%s: ISR %v of replicas %v", tp, mp.ISR, mp.Replicas))
			default:
				leader := brokerName(int(mp.Leader))
				st, ok := nodePartition(v.w.Node(leader), t, i)
				if !v.w.Up(leader) || !ok || !st.IsLeader || st.LeaderEpoch != mp.LeaderEpoch {
					missing = append(missing, fmt.Sprintf("%s: leader %s (epoch %d) does not serve it yet", tp, leader, mp.LeaderEpoch))
				}
			}
		}
	}
	return joinMissing(missing)
}

// joinMissing says what is missing in one line ("" for nothing).
func joinMissing(missing []string) string {
	if len(missing) == 0 {
		return ""
	}
	if len(missing) > 4 {
		missing = append(missing[:4], fmt.Sprintf("and %d more", len(missing)-4))
	}
	return strings.Join(missing, "; ")
}

// notWhole is notReady and more, for convergence after faults: every
// replica is up, registered and unfenced, and holds its partition up to
// the leader's high watermark. (A broker just restarted still sits in
// the ISRs of the image it left until it registers again, which then
// removes it; notReady alone would call that whole.)
func (v worldView) notWhole(p *plan) string {
	if why := v.notReady(p); why != "" {
		return why
	}
	img := v.image()
	var missing []string
	for _, t := range p.topics {
		for i := int32(0); i < p.partitions; i++ {
			mp := img.Partition(t, i)
			lst, _ := nodePartition(v.w.Node(brokerName(int(mp.Leader))), t, i)
			for _, r := range mp.Replicas {
				name := brokerName(int(r))
				st, ok := nodePartition(v.w.Node(name), t, i)
				switch {
				case !v.w.Up(name) || !img.Usable(r):
					missing = append(missing, fmt.Sprintf("%s-%d: broker %d not registered and unfenced", t, i, r))
				case !ok || st.LogEndOffset < lst.HighWatermark:
					missing = append(missing, fmt.Sprintf("%s-%d: broker %d holds it to %d, below the high watermark %d", t, i, r, st.LogEndOffset, lst.HighWatermark))
				}
			}
		}
	}
	return joinMissing(missing)
}

// startCluster boots the brokers and the admin node, creates the topics
// and waits until every partition has a leader and a full ISR (bounded by
// clusterReadyLimit of virtual time). It returns an error naming what was
// missing.
func startCluster(w *sim.World, p *plan, name string) error {
	addrs := make([]string, len(p.brokers))
	for i, b := range p.brokers {
		addrs[i] = b + ":9092"
	}
	admin := &adminNode{plan: p, addrs: addrs}
	w.AddNode(adminName, func() host.Node { return admin })
	for _, b := range p.brokers {
		w.Start(b)
	}
	w.Start(adminName)
	view := worldView{w: w, brokers: p.brokers}
	start := w.Elapsed()
	ready, why := false, ""
	var poll func()
	poll = func() {
		if admin.created {
			why = view.notReady(p)
			ready = why == ""
		} else {
			why = "topics not created yet"
			if admin.last != "" {
				why += ": " + admin.last
			}
		}
		if !ready && admin.fatal == "" {
			w.Schedule(50*time.Millisecond, poll)
		}
	}
	w.Schedule(50*time.Millisecond, poll)
	if err := w.RunUntil(func() bool { return ready || admin.fatal != "" || w.Elapsed()-start > clusterReadyLimit }, 0); err != nil {
		return err
	}
	switch {
	case admin.fatal != "":
		return fmt.Errorf("scenario %s: creating the topics: %s", name, admin.fatal)
	case !ready:
		return fmt.Errorf("scenario %s: the cluster was not ready %v after start (every partition needs a leader and a full ISR before the workload): %s",
			name, clusterReadyLimit, why)
	}
	return nil
}

// convergence watches, from the last fault's repair, for the cluster to
// be whole again (worldView.notWhole says nothing is missing): VOPR's
// liveness phase (liveness.converge).
type convergence struct {
	watching bool
	done     bool
	after    time.Duration // from the repair to whole
	why      string        // what was missing at the last look
	lastWhy  string        // what was missing at the last look before whole
}

func (cv *convergence) watch(w *sim.World, v worldView, p *plan, healAt time.Duration) {
	cv.watching = true
	var look func()
	start := w.Elapsed() + healAt
	look = func() {
		if cv.why = v.notWhole(p); cv.why == "" {
			cv.done, cv.after = true, w.Elapsed()-start
			return
		}
		cv.lastWhy = cv.why
		w.Schedule(50*time.Millisecond, look)
	}
	w.Schedule(healAt, look)
}

// judge reports a cluster not whole within bound of the repair.
func (cv *convergence) judge(res *Result, bound time.Duration) {
	switch {
	case !cv.watching:
	case !cv.done:
		res.AddFinding(liveness.Kind, "the cluster never became whole after the last repair (every partition led and served, full ISR): %s", cv.why)
	case cv.after > bound:
		res.AddFinding(liveness.Kind, "the cluster became whole %v after the last repair, more than the bound %v (until then: %s)", cv.after, bound, cv.lastWhy)
	}
	if cv.done {
		if res.Stats == nil {
			res.Stats = map[string]int64{}
		}
		res.Stats["converged_after_heal_ms"] = cv.after.Milliseconds()
	}
}
