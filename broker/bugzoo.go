package broker

import (
	"time"

	"github.com/loglab/loglab/broker/bugzoo"
	plog "github.com/loglab/loglab/broker/log"
	"github.com/loglab/loglab/broker/topics"
	"github.com/loglab/loglab/host"
)

// bugzooLogOpener is defaultLogOpener with the log's share of the bug
// zoo's deliberate bugs switched on (test-only; see package bugzoo). New
// uses it only when Config.Bugs is not empty.
func bugzooLogOpener(bugs bugzoo.Set, onFlush func(time.Duration)) logOpener {
	return func(h host.Host, dir string, cfg topics.Config, scanAll bool) (partitionLog, error) {
		lc := logConfig(cfg)
		lc.Bugs, lc.OnFlush, lc.ScanAll = bugs, onFlush, scanAll
		l, err := plog.Open(h, dir, lc)
		if err != nil {
			return nil, err
		}
		return newDiskLog(l)
	}
}
