package broker_test

import (
	"errors"
	"testing"

	"github.com/loglab/loglab/broker"
)

func TestConfigValidate(t *testing.T) {
	for _, ok := range []broker.Config{{}, {Listen: "127.0.0.1:0", AdvertisedAddr: "h:9092", MaxFrameBytes: 1 << 20, NumPartitions: 3, DefaultReplicationFactor: 3}} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	for _, bad := range []broker.Config{
		{Listen: "nope"}, {Listen: "h:99999"}, {AdvertisedAddr: "h:x"}, {NodeID: -1},
		{MaxFrameBytes: -1}, {NumPartitions: -1}, {DefaultReplicationFactor: -2},
	} {
		if err := bad.Validate(); !errors.Is(err, broker.ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", bad, err)
		}
	}
}
