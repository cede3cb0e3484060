package broker_test

import (
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker"
)

func TestApiVersionsAdvertisesServedVersions(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	want := map[int16][2]int16{0: {0, 13}, 1: {4, 18}, 2: {0, 10}, 3: {0, 13},
		8: {0, 9}, 9: {0, 9}, 10: {0, 4}, 11: {0, 9}, 12: {0, 4}, 13: {0, 5}, 14: {0, 5}, 15: {0, 5}, 16: {0, 4}, 22: {0, 4}, 18: {0, 5}, 19: {0, 7}, 20: {0, 6}, 23: {0, 4}, 32: {0, 4}}
	for v := int16(0); v <= 5; v++ {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = v
		req.ClientSoftwareName, req.ClientSoftwareVersion = "loglab-test", "1.0"
		resp := c.do(req).(*kmsg.ApiVersionsResponse)
		if resp.ErrorCode != 0 {
			t.Fatalf("v%d: %s", v, errName(resp.ErrorCode))
		}
		if len(resp.ApiKeys) != len(want) {
			t.Fatalf("v%d: %d keys, want %d", v, len(resp.ApiKeys), len(want))
		}
		for _, k := range resp.ApiKeys {
			if w, ok := want[k.ApiKey]; !ok || w != [2]int16{k.MinVersion, k.MaxVersion} {
				t.Fatalf("v%d: key %d %d-%d, want %v", v, k.ApiKey, k.MinVersion, k.MaxVersion, w)
			}
		}
	}
}

// KIP-511: a too-new ApiVersions gets UNSUPPORTED_VERSION and the ranges
// in the v0 format, whatever the request's header looks like after the
// correlation id.
func TestApiVersionsTooNewAnswersV0(t *testing.T) {
	e := newEnv(t, broker.Config{})
	c := e.connect()
	var f []byte
	f = binary.BigEndian.AppendUint16(f, 18)
	f = binary.BigEndian.AppendUint16(f, 99)
	f = binary.BigEndian.AppendUint32(f, 7)
	f = append(f, 0xde, 0xad) // junk a v99 header might hold
	c.c.Deliver(f)
	req := kmsg.NewPtrApiVersionsRequest() // decode as v0
	resp := c.recv(req, 7).(*kmsg.ApiVersionsResponse)
	if resp.ErrorCode != kerr.UnsupportedVersion.Code {
		t.Fatalf("error %s, want UNSUPPORTED_VERSION", errName(resp.ErrorCode))
	}
	if len(resp.ApiKeys) == 0 {
		t.Fatal("no versions in the fallback answer")
	}
	if c.c.Closed() {
		t.Fatal("connection closed; the client must be able to retry on it")
	}
	// The client retries with v3 on the same connection.
	req3 := kmsg.NewPtrApiVersionsRequest()
	req3.Version, req3.ClientSoftwareName, req3.ClientSoftwareVersion = 3, "x", "1"
	if r := c.do(req3).(*kmsg.ApiVersionsResponse); r.ErrorCode != 0 {
		t.Fatalf("retry: %s", errName(r.ErrorCode))
	}
}

func TestApiVersionsV5ClusterCheck(t *testing.T) {
	e := newEnv(t, broker.Config{NodeID: 3, ClusterID: "c1"})
	c := e.connect()
	for _, tc := range []struct {
		cluster *string
		node    int32
		want    int16
	}{
		{nil, -1, 0},
		{kmsg.StringPtr("c1"), 3, 0},
		{kmsg.StringPtr("c2"), 3, kerr.RebootstrapRequired.Code},
		{kmsg.StringPtr("c1"), 4, kerr.RebootstrapRequired.Code},
		{kmsg.StringPtr("c1"), -1, kerr.InvalidRequest.Code},
	} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version, req.ClientSoftwareName, req.ClientSoftwareVersion = 5, "x", "1"
		req.ClusterID, req.NodeID = tc.cluster, tc.node
		if got := c.do(req).(*kmsg.ApiVersionsResponse).ErrorCode; got != tc.want {
			t.Errorf("cluster %v node %d: %s, want %s", tc.cluster, tc.node, errName(got), errName(tc.want))
		}
	}
}
