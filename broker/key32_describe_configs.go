package broker

// DescribeConfigs (key 32).
//
// TOPIC resources list every supported topic config (package topics):
// topic overrides with source DYNAMIC_TOPIC_CONFIG, the rest with the
// broker default as DEFAULT_CONFIG; synonyms (v1+, when asked) name the
// broker-level config behind each. BROKER resources (name "" or this
// node's id) list the broker-level defaults as STATIC_BROKER_CONFIG.
// Other resource types answer INVALID_REQUEST. No config is sensitive;
// documentation (v3+) is not provided. In cluster mode a topic's
// overrides are the configs the metadata image holds for it.

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/loglab/loglab/broker/topics"
)

// Served versions 0-4.
func init() { register(keyDescribeConfigs, 0, 4, (*Broker).handleDescribeConfigs) }

func (b *Broker) handleDescribeConfigs(r *request) {
	req := r.kreq.(*kmsg.DescribeConfigsRequest)
	resp := kmsg.NewPtrDescribeConfigsResponse()
	for _, res := range req.Resources {
		out := kmsg.NewDescribeConfigsResponseResource()
		out.ResourceType, out.ResourceName = res.ResourceType, res.ResourceName
		var entries []topics.Entry
		source := kmsg.ConfigSourceDefaultConfig
		switch res.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			t := b.topics[res.ResourceName]
			if t == nil {
				code := kerr.UnknownTopicOrPartition
				if topics.ValidName(res.ResourceName) != nil {
					code = kerr.InvalidTopicException
				}
				setDescribeError(&out, code)
				resp.Resources = append(resp.Resources, out)
				continue
			}
			entries = topics.Describe(b.cfg.TopicDefaults, t.overrides)
		case kmsg.ConfigResourceTypeBroker:
			if res.ResourceName != "" && res.ResourceName != strconv.Itoa(int(b.cfg.NodeID)) {
				setDescribeError(&out, kerr.InvalidRequest)
				resp.Resources = append(resp.Resources, out)
				continue
			}
			entries = topics.DescribeBroker(b.cfg.TopicDefaults)
			source = kmsg.ConfigSourceStaticBrokerConfig
		default:
			setDescribeError(&out, kerr.InvalidRequest)
			resp.Resources = append(resp.Resources, out)
			continue
		}
		wanted := map[string]bool{}
		for _, n := range res.ConfigNames {
			wanted[n] = true
		}
		for _, e := range entries {
			if res.ConfigNames != nil && !wanted[e.Name] {
				continue
			}
			c := kmsg.NewDescribeConfigsResponseResourceConfig()
			c.Name = e.Name
			v := e.Value
			c.Value = &v
			c.Source = source
			c.IsDefault = !e.Override
			c.ConfigType = kmsg.ConfigType(e.Type)
			if e.Override {
				c.Source = kmsg.ConfigSourceDynamicTopicConfig
			}
			if req.IncludeSynonyms {
				if e.Override {
					s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
					s.Name, s.Value, s.Source = e.Name, &v, kmsg.ConfigSourceDynamicTopicConfig
					c.ConfigSynonyms = append(c.ConfigSynonyms, s)
				}
				s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
				d := e.Default
				s.Name, s.Value, s.Source = e.BrokerName, &d, kmsg.ConfigSourceDefaultConfig
				c.ConfigSynonyms = append(c.ConfigSynonyms, s)
			}
			out.Configs = append(out.Configs, c)
		}
		resp.Resources = append(resp.Resources, out)
	}
	r.respond(resp)
}

func setDescribeError(out *kmsg.DescribeConfigsResponseResource, e *kerr.Error) {
	out.ErrorCode = e.Code
	msg := e.Description
	out.ErrorMessage = &msg
}
