package broker

// ApiVersions (key 18).
//
// Advertises exactly the apis table. A version above 5 is answered by
// conn.answerTooNewApiVersions in the v0 format with UNSUPPORTED_VERSION
// and the ranges (KIP-511). The response always uses header v0.
//
// Simplifications: no features (SupportedFeatures, FinalizedFeatures are
// empty), no throttling. v3+ checks the client software name and version
// against Kafka's pattern (INVALID_REQUEST); v5 answers
// REBOOTSTRAP_REQUIRED when the client names another cluster or node
// (KIP-1242) and INVALID_REQUEST when it names only one of the two.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Served versions 0-5.
func init() { register(keyApiVersions, 0, 5, (*Broker).handleApiVersions) }

func apiVersionsResponse(version int16) *kmsg.ApiVersionsResponse {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.SetVersion(version)
	for _, a := range apis {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = a.key, a.min, a.max
		resp.ApiKeys = append(resp.ApiKeys, k)
	}
	return resp
}

func (b *Broker) handleApiVersions(r *request) {
	req := r.kreq.(*kmsg.ApiVersionsRequest)
	resp := apiVersionsResponse(req.Version)
	if req.Version >= 3 && (!validSoftwareID(req.ClientSoftwareName) || !validSoftwareID(req.ClientSoftwareVersion)) {
		r.warn("ApiVersions with invalid client software name or version", "name", req.ClientSoftwareName, "software_version", req.ClientSoftwareVersion)
		resp.ErrorCode = kerr.InvalidRequest.Code
	}
	if req.Version >= 5 && resp.ErrorCode == 0 {
		switch {
		case req.ClusterID == nil && req.NodeID == -1:
		case req.ClusterID == nil || req.NodeID == -1:
			resp.ErrorCode = kerr.InvalidRequest.Code
		case *req.ClusterID != b.cfg.ClusterID || req.NodeID != b.cfg.NodeID:
			resp.ErrorCode = kerr.RebootstrapRequired.Code
		}
	}
	r.respond(resp)
}

// validSoftwareID matches Kafka's [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?
func validSoftwareID(s string) bool {
	if s == "" {
		return false
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }
	if !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '-' && c != '.' {
			return false
		}
	}
	return true
}
