package bench

import (
	"bytes"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/loglab/loglab/checkers"
	"github.com/loglab/loglab/checkers/queue"
	"github.com/loglab/loglab/history"
	"github.com/loglab/loglab/reports"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A bench run with RunOptions.History records what its clients did as a
// history (history) and checks it with the queue checker, so one
// run gives throughput, latency and measured loss:
//
//   - every record's value starts with a unique id ("p<producer>-<n>|"),
//     the rest is the workload's random payload; the history's value is
//     the id, so a history stays small (about 150 bytes per operation)
//     whatever the message size;
//   - a produce is a send: invoke when the record is handed to the client,
//     ok with its partition and offset on acknowledgement, info on an
//     error once it had a partition (the client may have sent it: its
//     outcome is unknown), fail on an error before that;
//   - what a consumer receives from one partition in one fetch is a poll;
//     its position is the offset after the last record that consumer read
//     from the partition, and a new assignment (a rebalance, a restarted
//     fetch) is recorded as a seek: the position of its first record.
//
// Times are the process's monotonic clock (one process: comparable).
// After the run the consumers read on until, in every partition, they
// have reached the highest acknowledged offset (at most DrainTimeout); if
// they do, the final reads are complete and an acknowledged record nobody
// read is a lost write; otherwise it is only counted as unseen. (Counting
// records would not do: a rebalance makes consumers read some twice.)

// HistoryCheck is the checkers' verdict on a bench run's history.
type HistoryCheck = reports.HistoryCheck

// recorder appends a bench run's operations to a history.
type recorder struct {
	w     *history.Writer
	start time.Time

	mu  sync.Mutex
	pos map[string]map[int32]int64 // consumer → partition → next offset
	// acked and read are, per partition, the highest offset acknowledged
	// to a producer and the highest any consumer read: the final reads are
	// complete once every partition's read reaches its acked (drained).
	acked, read map[topicPartition]int64
}

type topicPartition struct {
	topic string
	part  int32
}

func newRecorder(w *history.Writer) *recorder {
	w.SetLocker(&sync.Mutex{})
	return &recorder{w: w, start: time.Now(), pos: map[string]map[int32]int64{},
		acked: map[topicPartition]int64{}, read: map[topicPartition]int64{}}
}

// drained reports whether consumers have read up to the highest
// acknowledged offset of every partition.
func (r *recorder) drained() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for tp, o := range r.acked {
		if got, ok := r.read[tp]; !ok || got < o {
			return false
		}
	}
	return true
}

func (r *recorder) now() int64 { return int64(time.Since(r.start)) }

// idValue returns a record value of size bytes that starts with id and '|'.
func idValue(id string, payload []byte) []byte {
	v := make([]byte, len(payload))
	n := copy(v, id)
	if n < len(v) {
		v[n] = '|'
		copy(v[n+1:], payload[n+1:])
	}
	return v
}

// valueID is the id a value starts with (the whole value, up to 64
// bytes, if it has none: a record some other client wrote).
func valueID(v []byte) string {
	if i := bytes.IndexByte(v, '|'); i >= 0 {
		return string(v[:i])
	}
	return string(v[:min(len(v), 64)])
}

// send records a send's invocation and returns its completion.
func (r *recorder) send(proc string, id int64, topic string, key []byte, value string) func(*kgo.Record, error) {
	op := history.Op{Time: r.now(), Process: proc, ID: id, Type: history.Invoke, F: history.Send, Topic: topic,
		Partition: history.NoPartition, Value: value, Offset: history.NoOffset}
	if key != nil {
		op.Key = history.Str(string(key))
	}
	r.w.Append(op)
	return func(rec *kgo.Record, err error) {
		op.Time = r.now()
		switch {
		case err != nil && (rec == nil || rec.Partition < 0):
			// Never partitioned, so never sent.
			op.Type, op.Error = history.Fail, err.Error()
		case err != nil:
			op.Type, op.Error, op.Partition = history.Info, err.Error(), rec.Partition
		default:
			op.Type, op.Partition, op.Offset = history.OK, rec.Partition, rec.Offset
			tp := topicPartition{topic, rec.Partition}
			r.mu.Lock()
			if o, ok := r.acked[tp]; !ok || rec.Offset > o {
				r.acked[tp] = rec.Offset
			}
			r.mu.Unlock()
		}
		r.w.Append(op)
	}
}

// reassigned forgets a consumer's positions in partitions: its next read
// of them is a seek.
func (r *recorder) reassigned(proc string, parts []int32) {
	r.mu.Lock()
	for _, p := range parts {
		delete(r.pos[proc], p)
	}
	r.mu.Unlock()
}

// poll records what consumer proc received from one partition in one fetch.
func (r *recorder) poll(proc string, id int64, topic string, part int32, recs []*kgo.Record) {
	if len(recs) == 0 {
		return
	}
	r.mu.Lock()
	m := r.pos[proc]
	if m == nil {
		m = map[int32]int64{}
		r.pos[proc] = m
	}
	pos, ok := m[part]
	if !ok {
		pos = recs[0].Offset
	}
	last := recs[len(recs)-1].Offset
	m[part] = last + 1
	tp := topicPartition{topic, part}
	if o, ok := r.read[tp]; !ok || last > o {
		r.read[tp] = last
	}
	r.mu.Unlock()
	reads := make([]history.Read, len(recs))
	for i, rec := range recs {
		reads[i] = history.Read{Offset: rec.Offset, Value: valueID(rec.Value)}
		if rec.Key != nil {
			reads[i].Key = history.Str(string(rec.Key))
		}
	}
	t := r.now()
	op := history.Op{Time: t, Process: proc, ID: id, Type: history.Invoke, F: history.Poll, Topic: topic, Partition: part, Offset: pos}
	r.w.Append(op)
	op.Type, op.Records = history.OK, reads
	r.w.Append(op)
}

// check runs the queue checker on the recorded history.
func (r *recorder) check(finalReadsComplete bool) (HistoryCheck, error) {
	if err := r.w.Err(); err != nil {
		return HistoryCheck{}, fmt.Errorf("bench: history: %w", err)
	}
	rep, err := checkers.Check(r.w.Ops(), checkers.Options{Checkers: []string{queue.Name},
		Queue: queue.Options{FinalReadsComplete: finalReadsComplete}})
	if err != nil {
		return HistoryCheck{}, fmt.Errorf("bench: check history: %w", err)
	}
	hc := HistoryCheck{Verdict: string(rep.Verdict), Checkers: []string{queue.Name}, Operations: rep.Operations,
		FinalReadsComplete: finalReadsComplete, Anomalies: map[string]int{}}
	for _, k := range rep.Anomalies {
		hc.Anomalies[k.Kind] += k.Count
	}
	if q := rep.Queue; q != nil {
		hc.SendsOK, hc.SendsFail, hc.SendsInfo = q.Stats.SendsOK, q.Stats.SendsFail, q.Stats.SendsInfo
		hc.RecordsRead, hc.Unseen = q.Stats.RecordsRead, q.Stats.Unseen
	}
	return hc, nil
}

func procName(kind string, i int) string { return kind + "-" + strconv.Itoa(i) }
