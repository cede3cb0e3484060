package scenarios

import (
	"fmt"
	"sort"
	"strings"

	"github.com/loglab/loglab/faults"
	"github.com/loglab/loglab/netsim"
)

// checkHealed proves a schedule ends healed, so that a liveness phase can
// follow: every crashed or stopped node restarted, every paused node
// resumed, every partition healed, every slowed link restored and every
// disk's faults cleared. Bit rot and clock moves are permanent by nature
// and allowed. The error says what is left and how to heal it.
func checkHealed(s faults.Schedule) error {
	down := map[string]string{} // node -> why
	paused := map[string]bool{} // node
	disks := map[string]bool{}  // node with disk faults set
	links := map[string]bool{}  // "from>to" set to a non-base link
	partitioned := ""           // the step that partitioned, until heal
	for _, st := range s.Sorted().Steps {
		switch a := st.Action.(type) {
		case faults.Crash:
			down[a.Node] = st.String()
		case faults.Stop:
			down[a.Node] = st.String()
		case faults.Restart:
			delete(down, a.Node)
		case faults.Pause:
			paused[a.Node] = true
		case faults.Resume:
			delete(paused, a.Node)
		case faults.Isolate, faults.Split, faults.OneWay, faults.Bridge:
			partitioned = st.String()
		case faults.Heal:
			partitioned = ""
		case faults.DiskFaults:
			if a.Faults == (faults.ClearDisk(a.Node)).Faults {
				delete(disks, a.Node)
			} else {
				disks[a.Node] = true
			}
		case faults.Latency:
			// The last setting of each link counts: back to the network's
			// default link is healed.
			if a.Link == netsim.DefaultConfig().DefaultLink {
				delete(links, a.From+">"+a.To)
			} else {
				links[a.From+">"+a.To] = true
			}
		}
	}
	var left []string
	for _, n := range sortedBoolKeys(paused) {
		left = append(left, fmt.Sprintf("%s paused (add: at T resume %s)", n, n))
	}
	for _, n := range sortedStrKeys(down) {
		left = append(left, fmt.Sprintf("%s down after %q (add: at T restart %s)", n, down[n], n))
	}
	if partitioned != "" {
		left = append(left, fmt.Sprintf("the network partitioned by %q (add: at T heal)", partitioned))
	}
	for _, n := range sortedBoolKeys(disks) {
		left = append(left, fmt.Sprintf("%s's disk faulty (add: at T disk %s none)", n, n))
	}
	for _, l := range sortedBoolKeys(links) {
		if links[l] {
			left = append(left, fmt.Sprintf("link %s slowed (add: at T latency *>* base=...)", l))
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("the schedule does not end healed, so no liveness phase can follow: %s", strings.Join(left, "; "))
	}
	return nil
}

func sortedBoolKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m { //detcheck:ordered keys are sorted below
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedStrKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m { //detcheck:ordered keys are sorted below
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
