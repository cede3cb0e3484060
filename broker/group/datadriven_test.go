package group

// The data-driven tests of the coordinator: each file in testdata/ is a
// walk through the group protocol, one request (or one step of virtual
// time) per directive, and below each directive what it leads to. The
// files are the specification of the transitions; this driver only turns
// directives into requests and states into text.
//
// The coordinator runs on one node of a sim.World, so timers (sessions,
// rebalance timeouts, the initial rebalance delay) fire on virtual time
// only when a directive advances it. Its Log is fakeLog below: every
// record the coordinator writes to __consumer_offsets is printed, decoded
// with the coordinator's own decoder, and kept, so that `reload` can replay
// it into a fresh shard as a new leader would.
//
// Members are named by aliases (a, b, ...): the first JoinGroup of an
// alias without a member id sends an empty id, and the id the coordinator
// hands out is bound to the alias from then on; every id in the output is
// printed as its alias. An alias that was never bound is sent as a member
// id as it is (an id the coordinator never issued).
//
// Directives (arguments in brackets are optional; g is the default group):
//
//	init [partitions=1] [topics=(t:2)] [initial-delay=0] [min-session=6000]
//	     [max-session=1800000] [max-size=0] [metadata-max=4096]
//	     [join-version=9] [stale-commits] [unloaded]
//	    a coordinator with every shard loaded (unless unloaded); topics
//	    are the partitions that exist for commits (name:count).
//	join member=a [id=raw] [group=g] [version=join-version] [session=10000]
//	     [rebalance=20000] [protocols=(range:t)] [type=consumer] [instance=i]
//	    protocols are name:metadata; the client id is the alias.
//	sync member=a gen=N [group=g] [assign=(a:p0,b:p1)] [instance=i]
//	     [type=consumer] [protocol=range]
//	heartbeat member=a gen=N [group=g] [instance=i]
//	leave member=a [group=g]                      (LeaveGroup v1)
//	leave-batch members=(a,b@i1,@i2) [group=g]    (v3: member[@instance])
//	commit [member=a] [gen=-1] offsets=(t/0=5,...) [group=g] [version=7]
//	       [leader-epoch=E] [metadata=m] [instance=i]
//	    without a member: an administrator's commit ("admin").
//	fetch-offsets [group=g] [topics=(t/0,...)] [version=7] [groups=(g,h)]
//	describe [groups=(g,...)]
//	list [states=(Stable,...)]
//	tick ms=N                     advance virtual time
//	writes mode=auto|hold|fail [error=E]
//	    auto: a write commits at once; hold: writes wait for `release`;
//	    fail: every write fails with E.
//	release [error=E]             commit (or fail with E) the held writes
//	begin-load shard=S | replay shard=S | finish-load shard=S | unload shard=S
//	reload shard=S                unload, begin-load, replay, finish-load
//	shard group=g                 the group's shard and Owns' answer
//
// After each directive the driver prints, in this order, the answers
// delivered during it and the records written (in the order they
// happened), the state of the directive's group (for tick and the load
// directives: of every group), the requests still waiting for an answer,
// the clock (for tick) and the rebalance count when it changed.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"github.com/loglab/loglab/host"
	"github.com/loglab/loglab/sim"
	"github.com/loglab/loglab/wire/batch"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		d := &driver{}
		datadriven.RunTest(t, path, d.run)
	})
}

// driver is one test file's world: a node, its coordinator and fake log.
type driver struct {
	w  *sim.World
	h  host.Host
	c  *Coordinator
	fl *fakeLog

	alias   map[string]string // alias → member id
	names   map[string]string // member id → alias
	waiting []*request        // requests whose answer has not come yet
	out     strings.Builder   // what happened during the current directive

	joinVersion int16
	rebalances  int
	printed     int // rebalances last printed
}

// request is one asynchronous request in flight (join, sync, commit).
type request struct {
	who, kind string
	done      bool
}

func (d *driver) run(t *testing.T, td *datadriven.TestData) string {
	if td.Cmd != "init" && d.c == nil {
		td.Fatalf(t, "init first")
	}
	d.out.Reset()
	groups := []string{arg(t, td, "group", "g")}
	switch td.Cmd {
	case "init":
		d.init(t, td)
		return "ok"
	case "join":
		d.join(t, td)
	case "sync":
		d.sync(t, td)
	case "heartbeat":
		d.heartbeat(t, td)
	case "leave", "leave-batch":
		d.leave(t, td)
	case "commit":
		d.commit(t, td)
	case "fetch-offsets":
		d.fetchOffsets(t, td)
		groups = nil
	case "describe":
		d.describe(t, td)
		return d.out.String()
	case "list":
		d.list(t, td)
		return d.out.String()
	case "tick":
		d.advance(t, time.Duration(num(t, td, "ms", 0))*time.Millisecond)
		groups = d.c.Groups()
	case "writes":
		d.fl.mode = arg(t, td, "mode", "auto")
		d.fl.err = errorNamed(t, td, arg(t, td, "error", ""))
		return "ok"
	case "release":
		d.fl.release(errorNamed(t, td, arg(t, td, "error", "")))
	case "begin-load", "replay", "finish-load", "unload", "reload":
		d.load(t, td)
		groups = d.c.Groups()
	case "shard":
		id := groups[0]
		fmt.Fprintf(&d.out, "%s: shard %d, %s\n", id, d.c.PartitionFor(id), errName(code(d.c.Owns(id))))
		return d.out.String()
	default:
		td.Fatalf(t, "unknown directive %q", td.Cmd)
	}
	d.advance(t, 0) // what the directive posted: write completions, answers
	for _, id := range groups {
		d.printGroup(id)
	}
	d.printWaiting()
	if td.Cmd == "tick" {
		fmt.Fprintf(&d.out, "clock: %v\n", d.w.Elapsed())
	}
	if d.rebalances != d.printed {
		fmt.Fprintf(&d.out, "rebalances: %d\n", d.rebalances)
		d.printed = d.rebalances
	}
	return d.out.String()
}

func (d *driver) init(t *testing.T, td *datadriven.TestData) {
	d.w, d.h = oneNode()
	d.alias, d.names = map[string]string{}, map[string]string{}
	d.waiting, d.rebalances, d.printed = nil, 0, 0
	d.joinVersion = int16(num(t, td, "join-version", 9))
	d.fl = &fakeLog{d: d, mode: "auto", topics: map[string]int32{}, stored: map[int32][]batch.Record{}}
	for _, s := range list(td, "topics", "t:2") {
		name, n, _ := strings.Cut(s, ":")
		c, err := strconv.Atoi(n)
		if err != nil {
			td.Fatalf(t, "topics: %v", err)
		}
		d.fl.topics[name] = int32(c)
	}
	ms := func(key string, def int) time.Duration {
		return time.Duration(num(t, td, key, def)) * time.Millisecond
	}
	delay := ms("initial-delay", 0)
	if delay == 0 {
		delay = -1 // Config: 0 is the default (3s), negative is none
	}
	cfg := Config{
		NumPartitions:          int32(num(t, td, "partitions", 1)),
		MinSessionTimeout:      ms("min-session", 6000),
		MaxSessionTimeout:      ms("max-session", 1800000),
		InitialRebalanceDelay:  delay,
		MaxSize:                num(t, td, "max-size", 0),
		OffsetMetadataMaxBytes: num(t, td, "metadata-max", 4096),
		OnRebalance:            func() { d.rebalances++ },
		StaleGenerationCommits: td.HasArg("stale-commits"),
	}
	d.c = New(d.h, cfg, d.fl)
	if !td.HasArg("unloaded") {
		for i := range d.c.NumPartitions() {
			d.c.BeginLoad(i)
			d.c.FinishLoad(i)
		}
	}
}

// advance runs the world for dur of virtual time. sim.World.RunFor alone
// can overshoot: World.Step skips a stopped timer at the head of the
// queue and runs the next runnable event even when it is due after
// RunFor's end. A no-op event at the end keeps Step from passing it.
func (d *driver) advance(t *testing.T, dur time.Duration) {
	end := d.w.Elapsed() + dur
	d.w.Schedule(dur, func() {})
	if err := d.w.RunFor(dur); err != nil {
		t.Fatal(err)
	}
	if d.w.Elapsed() != end {
		t.Fatalf("the world ran to %v, not %v", d.w.Elapsed(), end)
	}
}

// oneNode is a new world with one node, started, and its Host.
func oneNode() (*sim.World, host.Host) {
	w := sim.NewWorld(sim.Config{Seed: 1})
	var h host.Host
	w.AddNode("broker-1", func() host.Node { return sim.NodeFunc(func(x host.Host) { h = x }) })
	w.Start("broker-1")
	w.RunFor(0) // the node's Start
	return w, h
}

// memberID is what a request of alias a carries as its member id.
func (d *driver) memberID(a string) string {
	if id, ok := d.alias[a]; ok {
		return id
	}
	return a
}

func (d *driver) bind(a, id string) {
	if _, ok := d.alias[a]; ok || id == "" {
		return
	}
	d.alias[a], d.names[id] = id, a
}

// name prints a member id as its alias.
func (d *driver) name(id string) string {
	if a, ok := d.names[id]; ok {
		return a
	}
	return id
}

func (d *driver) start(who, kind string) *request {
	r := &request{who: who, kind: kind}
	d.waiting = append(d.waiting, r)
	return r
}

func (d *driver) finish(r *request) {
	r.done = true
	d.waiting = slices.DeleteFunc(d.waiting, func(x *request) bool { return x.done })
}

func (d *driver) join(t *testing.T, td *datadriven.TestData) {
	who := arg(t, td, "member", "")
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = int16(num(t, td, "version", int(d.joinVersion)))
	req.Group = arg(t, td, "group", "g")
	req.SessionTimeoutMillis = int32(num(t, td, "session", 10000))
	req.RebalanceTimeoutMillis = int32(num(t, td, "rebalance", 20000))
	if _, bound := d.alias[who]; bound {
		req.MemberID = d.alias[who]
	}
	if id, ok := td.Arg("id"); ok { // a member id of the test's choosing
		req.MemberID = id.SingleVal(t)
	}
	req.InstanceID = optional(t, td, "instance")
	req.ProtocolType = arg(t, td, "type", "consumer")
	for _, p := range list(td, "protocols", "range:t") {
		name, md, _ := strings.Cut(p, ":")
		jp := kmsg.NewJoinGroupRequestProtocol()
		jp.Name, jp.Metadata = name, []byte(md)
		req.Protocols = append(req.Protocols, jp)
	}
	r := d.start(who, "join")
	d.c.JoinGroup(req, who, "/10.0.0.1", func(resp *kmsg.JoinGroupResponse) {
		d.finish(r)
		d.bind(who, resp.MemberID)
		if resp.ErrorCode != 0 {
			fmt.Fprintf(&d.out, "%s: join %s\n", who, errName(resp.ErrorCode))
			return
		}
		var ms []string
		for _, m := range resp.Members {
			ms = append(ms, fmt.Sprintf("%s(%s)", d.name(m.MemberID), m.ProtocolMetadata))
		}
		fmt.Fprintf(&d.out, "%s: join ok gen=%d leader=%s protocol=%s", who, resp.Generation, d.name(resp.LeaderID), deref(resp.Protocol))
		if len(ms) > 0 {
			fmt.Fprintf(&d.out, " members=[%s]", strings.Join(ms, " "))
		}
		d.out.WriteString("\n")
	})
	d.bindNew(who, req.Group)
}

// bindNew binds an unbound alias to the member id the coordinator just
// added for it (a JoinGroup v0-3 or static join that is still waiting
// for its answer has no reply to take the id from yet). Ids start with
// the client id, which is the alias.
func (d *driver) bindNew(who, groupID string) {
	g := d.c.groups[groupID]
	if _, bound := d.alias[who]; bound || g == nil {
		return
	}
	for _, m := range g.members {
		if _, known := d.names[m.id]; !known && strings.HasPrefix(m.id, who+"-") {
			d.bind(who, m.id)
		}
	}
}

// memberArgs are what every request of a member names: the group, the
// member (alias and the id sent for it), its generation and instance id.
type memberArgs struct {
	who, group, id string
	gen            int32
	instance       *string
}

func (d *driver) memberArgs(t *testing.T, td *datadriven.TestData, defaultGen int) memberArgs {
	who := arg(t, td, "member", "")
	return memberArgs{who: who, group: arg(t, td, "group", "g"), id: d.memberID(who),
		gen: int32(num(t, td, "gen", defaultGen)), instance: optional(t, td, "instance")}
}

func (d *driver) sync(t *testing.T, td *datadriven.TestData) {
	ma := d.memberArgs(t, td, 0)
	who := ma.who
	req := kmsg.NewPtrSyncGroupRequest()
	req.Group, req.MemberID, req.Generation, req.InstanceID = ma.group, ma.id, ma.gen, ma.instance
	req.ProtocolType = optional(t, td, "type")
	req.Protocol = optional(t, td, "protocol")
	for _, a := range list(td, "assign", "") {
		m, assignment, _ := strings.Cut(a, ":")
		ga := kmsg.NewSyncGroupRequestGroupAssignment()
		ga.MemberID, ga.MemberAssignment = d.memberID(m), []byte(assignment)
		req.GroupAssignment = append(req.GroupAssignment, ga)
	}
	r := d.start(who, "sync")
	d.c.SyncGroup(req, func(resp *kmsg.SyncGroupResponse) {
		d.finish(r)
		if resp.ErrorCode != 0 {
			fmt.Fprintf(&d.out, "%s: sync %s\n", who, errName(resp.ErrorCode))
			return
		}
		fmt.Fprintf(&d.out, "%s: sync ok assignment=%q\n", who, resp.MemberAssignment)
	})
}

func (d *driver) heartbeat(t *testing.T, td *datadriven.TestData) {
	ma := d.memberArgs(t, td, 0)
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group, req.MemberID, req.Generation, req.InstanceID = ma.group, ma.id, ma.gen, ma.instance
	resp := d.c.Heartbeat(req)
	fmt.Fprintf(&d.out, "%s: heartbeat %s\n", ma.who, errName(resp.ErrorCode))
}

func (d *driver) leave(t *testing.T, td *datadriven.TestData) {
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = arg(t, td, "group", "g")
	if td.Cmd == "leave" {
		who := arg(t, td, "member", "")
		req.Version, req.MemberID = 1, d.memberID(who)
		resp := d.c.LeaveGroup(req)
		fmt.Fprintf(&d.out, "%s: leave %s\n", who, errName(resp.ErrorCode))
		return
	}
	req.Version = 3
	for _, s := range list(td, "members", "") {
		who, instance, _ := strings.Cut(s, "@")
		m := kmsg.NewLeaveGroupRequestMember()
		if who != "" {
			m.MemberID = d.memberID(who)
		}
		if instance != "" {
			m.InstanceID = &instance
		}
		req.Members = append(req.Members, m)
	}
	resp := d.c.LeaveGroup(req)
	fmt.Fprintf(&d.out, "leave %s\n", errName(resp.ErrorCode))
	for _, m := range resp.Members {
		fmt.Fprintf(&d.out, "  %s@%s: %s\n", d.name(m.MemberID), deref(m.InstanceID), errName(m.ErrorCode))
	}
}

func (d *driver) commit(t *testing.T, td *datadriven.TestData) {
	ma := d.memberArgs(t, td, -1)
	who := ma.who
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = int16(num(t, td, "version", 7))
	req.Group, req.MemberID, req.Generation, req.InstanceID = ma.group, ma.id, ma.gen, ma.instance
	for _, s := range list(td, "offsets", "") {
		tp, off, _ := strings.Cut(s, "=")
		topic, part := splitTP(t, td, tp)
		o, err := strconv.ParseInt(off, 10, 64)
		if err != nil {
			td.Fatalf(t, "offsets: %v", err)
		}
		if len(req.Topics) == 0 || req.Topics[len(req.Topics)-1].Topic != topic {
			rt := kmsg.NewOffsetCommitRequestTopic()
			rt.Topic = topic
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset = part, o
		rp.LeaderEpoch = int32(num(t, td, "leader-epoch", -1))
		rp.Metadata = optional(t, td, "metadata")
		rt := &req.Topics[len(req.Topics)-1]
		rt.Partitions = append(rt.Partitions, rp)
	}
	if who == "" {
		who = "admin"
	}
	r := d.start(who, "commit")
	d.c.OffsetCommit(req, func(resp *kmsg.OffsetCommitResponse) {
		d.finish(r)
		var parts []string
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				parts = append(parts, fmt.Sprintf("%s/%d=%s", rt.Topic, rp.Partition, errName(rp.ErrorCode)))
			}
		}
		fmt.Fprintf(&d.out, "%s: commit %s\n", who, strings.Join(parts, " "))
	})
}

func (d *driver) fetchOffsets(t *testing.T, td *datadriven.TestData) {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Version = int16(num(t, td, "version", 7))
	var topics []kmsg.OffsetFetchRequestTopic
	if td.HasArg("topics") {
		topics = []kmsg.OffsetFetchRequestTopic{}
	}
	for _, s := range list(td, "topics", "") {
		topic, part := splitTP(t, td, s)
		if len(topics) == 0 || topics[len(topics)-1].Topic != topic {
			rt := kmsg.NewOffsetFetchRequestTopic()
			rt.Topic = topic
			topics = append(topics, rt)
		}
		topics[len(topics)-1].Partitions = append(topics[len(topics)-1].Partitions, part)
	}
	printPart := func(topic string, p int32, offset int64, epoch int32, md *string, ec int16) {
		fmt.Fprintf(&d.out, "  %s/%d offset=%d epoch=%d metadata=%q %s\n", topic, p, offset, epoch, deref(md), errName(ec))
	}
	if req.Version < 8 {
		req.Group, req.Topics = arg(t, td, "group", "g"), topics
		resp := d.c.OffsetFetch(req)
		fmt.Fprintf(&d.out, "%s: %s\n", req.Group, errName(resp.ErrorCode))
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				printPart(rt.Topic, rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata, rp.ErrorCode)
			}
		}
		return
	}
	for _, g := range list(td, "groups", "g") {
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = g
		if topics != nil {
			rg.Topics = []kmsg.OffsetFetchRequestGroupTopic{}
		}
		for _, rt := range topics {
			gt := kmsg.NewOffsetFetchRequestGroupTopic()
			gt.Topic, gt.Partitions = rt.Topic, rt.Partitions
			rg.Topics = append(rg.Topics, gt)
		}
		req.Groups = append(req.Groups, rg)
	}
	resp := d.c.OffsetFetch(req)
	for _, g := range resp.Groups {
		fmt.Fprintf(&d.out, "%s: %s\n", g.Group, errName(g.ErrorCode))
		for _, rt := range g.Topics {
			for _, rp := range rt.Partitions {
				printPart(rt.Topic, rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata, rp.ErrorCode)
			}
		}
	}
}

func (d *driver) describe(t *testing.T, td *datadriven.TestData) {
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = list(td, "groups", "g")
	for _, g := range d.c.DescribeGroups(req).Groups {
		fmt.Fprintf(&d.out, "%s: %s state=%s type=%q protocol=%q\n", g.Group, errName(g.ErrorCode), g.State, g.ProtocolType, g.Protocol)
		for _, m := range g.Members {
			fmt.Fprintf(&d.out, "  %s instance=%s client=%s host=%s metadata=%q assignment=%q\n",
				d.name(m.MemberID), deref(m.InstanceID), m.ClientID, m.ClientHost, m.ProtocolMetadata, m.MemberAssignment)
		}
	}
}

func (d *driver) list(t *testing.T, td *datadriven.TestData) {
	req := kmsg.NewPtrListGroupsRequest()
	req.StatesFilter = list(td, "states", "")
	resp := d.c.ListGroups(req)
	fmt.Fprintf(&d.out, "%s\n", errName(resp.ErrorCode))
	for _, g := range resp.Groups {
		fmt.Fprintf(&d.out, "  %s %s %s\n", g.Group, g.ProtocolType, g.GroupState)
	}
}

func (d *driver) load(t *testing.T, td *datadriven.TestData) {
	s := int32(num(t, td, "shard", 0))
	replay := func() {
		ok, failed := 0, 0
		for _, r := range d.fl.stored[s] {
			if err := d.c.Replay(s, r.Key, r.Value); err != nil {
				fmt.Fprintf(&d.out, "replay: %v\n", err)
				failed++
				continue
			}
			ok++
		}
		fmt.Fprintf(&d.out, "replayed %d records of shard %d (%d refused)\n", ok, s, failed)
	}
	switch td.Cmd {
	case "begin-load":
		d.c.BeginLoad(s)
	case "replay":
		replay()
	case "finish-load":
		d.c.FinishLoad(s)
	case "unload":
		d.c.Unload(s)
	case "reload":
		d.c.Unload(s)
		d.c.BeginLoad(s)
		replay()
		d.c.FinishLoad(s)
	}
	fmt.Fprintf(&d.out, "shard %d: leads=%t loading=%t\n", s, d.c.Leads(s), d.c.Loading(s))
}

// printGroup prints a group's state as Snapshot shows it.
func (d *driver) printGroup(id string) {
	if e := d.c.Owns(id); e != nil {
		fmt.Fprintf(&d.out, "group %s: %s\n", id, e.Message)
		return
	}
	s, ok := d.c.Group(id)
	if !ok {
		fmt.Fprintf(&d.out, "group %s: unknown\n", id)
		return
	}
	var ms []string
	for _, m := range s.Members {
		ms = append(ms, d.name(m))
	}
	fmt.Fprintf(&d.out, "group %s: %s gen=%d", id, s.State, s.Generation)
	if s.Protocol != "" {
		fmt.Fprintf(&d.out, " protocol=%s", s.Protocol)
	}
	if s.Leader != "" {
		fmt.Fprintf(&d.out, " leader=%s", d.name(s.Leader))
	}
	fmt.Fprintf(&d.out, " members=[%s]", strings.Join(ms, " "))
	if len(s.Offsets) > 0 {
		var os []string
		for _, tp := range sortedTPs(s.Offsets) {
			os = append(os, fmt.Sprintf("%s/%d=%d", tp.Topic, tp.Partition, s.Offsets[tp].Offset))
		}
		fmt.Fprintf(&d.out, " offsets=[%s]", strings.Join(os, " "))
	}
	d.out.WriteString("\n")
}

func (d *driver) printWaiting() {
	if len(d.waiting) == 0 {
		return
	}
	var ws []string
	for _, r := range d.waiting {
		ws = append(ws, r.who+"("+r.kind+")")
	}
	fmt.Fprintf(&d.out, "waiting: %s\n", strings.Join(ws, " "))
}

// fakeLog is the coordinator's __consumer_offsets: it prints every
// append, and commits it (keeping its records for replay), holds it or
// fails it as the `writes` directive says. It answers on a later event,
// never inside Append, as the Log contract requires.
type fakeLog struct {
	d      *driver
	mode   string
	err    *kerr.Error
	topics map[string]int32
	stored map[int32][]batch.Record
	held   []heldWrite
}

type heldWrite struct {
	shard   int32
	records []batch.Record
	done    func(*kerr.Error)
}

func (l *fakeLog) PartitionExists(topic string, partition int32) bool {
	n, ok := l.topics[topic]
	return ok && partition >= 0 && partition < n
}

func (l *fakeLog) Append(shard int32, records []batch.Record, done func(*kerr.Error)) {
	for _, r := range records {
		fmt.Fprintf(&l.d.out, "write %d: %s\n", shard, l.d.describeRecord(r))
	}
	w := heldWrite{shard, records, done}
	switch l.mode {
	case "hold":
		l.held = append(l.held, w)
	case "fail":
		l.d.h.Post(func() { done(l.err) })
	default:
		l.commit(w)
	}
}

func (l *fakeLog) commit(w heldWrite) {
	l.stored[w.shard] = append(l.stored[w.shard], w.records...)
	l.d.h.Post(func() { w.done(nil) })
}

// release answers the held writes: committed (e nil) or failed with e.
func (l *fakeLog) release(e *kerr.Error) {
	held := l.held
	l.held = nil
	for _, w := range held {
		if e == nil {
			l.commit(w)
			continue
		}
		l.d.h.Post(func() { w.done(e) })
	}
	fmt.Fprintf(&l.d.out, "released %d writes\n", len(held))
}

// describeRecord decodes a written record with the coordinator's own
// decoder (what a new leader will replay).
func (d *driver) describeRecord(r batch.Record) string {
	rec, err := decodeRecord(r.Key, r.Value)
	switch {
	case err != nil:
		return "undecodable: " + err.Error()
	case rec.offset != nil && rec.deleted:
		return fmt.Sprintf("offset %s %s/%d deleted", rec.group, rec.offset.tp.Topic, rec.offset.tp.Partition)
	case rec.offset != nil:
		e := rec.offset.entry
		return fmt.Sprintf("offset %s %s/%d=%d epoch=%d metadata=%q", rec.group, rec.offset.tp.Topic, rec.offset.tp.Partition, e.Offset, e.LeaderEpoch, e.Metadata)
	case rec.deleted:
		return "group " + rec.group + " deleted"
	}
	v := rec.meta
	var ms []string
	for _, m := range v.Members {
		ms = append(ms, fmt.Sprintf("%s(%s)=%q", d.name(m.MemberID), m.Subscription, m.Assignment))
	}
	return fmt.Sprintf("group %s gen=%d type=%s protocol=%s leader=%s members=[%s]",
		rec.group, v.Generation, v.ProtocolType, deref(v.Protocol), d.name(deref(v.Leader)), strings.Join(ms, " "))
}

// Argument helpers.

func arg(t *testing.T, td *datadriven.TestData, key, def string) string {
	a, ok := td.Arg(key)
	if !ok {
		return def
	}
	return a.SingleVal(t)
}

func optional(t *testing.T, td *datadriven.TestData, key string) *string {
	if !td.HasArg(key) {
		return nil
	}
	s := arg(t, td, key, "")
	return &s
}

func num(t *testing.T, td *datadriven.TestData, key string, def int) int {
	s := arg(t, td, key, "")
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		td.Fatalf(t, "%s: %v", key, err)
	}
	return n
}

func list(td *datadriven.TestData, key, def string) []string {
	a, ok := td.Arg(key)
	if !ok {
		if def == "" {
			return nil
		}
		return []string{def}
	}
	return slices.DeleteFunc(slices.Clone(a.Vals), func(v string) bool { return v == "" })
}

func splitTP(t *testing.T, td *datadriven.TestData, s string) (string, int32) {
	topic, p, _ := strings.Cut(s, "/")
	n, err := strconv.Atoi(p)
	if err != nil {
		td.Fatalf(t, "partition %q: %v", s, err)
	}
	return topic, int32(n)
}

func errorNamed(t *testing.T, td *datadriven.TestData, name string) *kerr.Error {
	if name == "" {
		return nil
	}
	for c := int16(-1); c < 200; c++ {
		if e, ok := kerr.ErrorForCode(c).(*kerr.Error); ok && e.Message == name {
			return e
		}
	}
	td.Fatalf(t, "no Kafka error %q", name)
	return nil
}

// errName is an error code's Kafka name ("ok" for none).
func errName(c int16) string {
	if c == 0 {
		return "ok"
	}
	if e, ok := kerr.ErrorForCode(c).(*kerr.Error); ok {
		return e.Message
	}
	return fmt.Sprintf("code-%d", c)
}

func deref(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}
