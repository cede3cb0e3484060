package client

// Murmur2 is Kafka's murmur2 hash (org.apache.kafka.common.utils.Utils.murmur2,
// seed 0x9747b28c), returned as the Java int it is.
func Murmur2(data []byte) int32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	n := len(data)
	h := seed ^ uint32(n)
	for i := 0; i+4 <= n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	tail := data[n&^3:]
	switch len(tail) {
	case 3:
		h ^= uint32(tail[2]) << 16
		fallthrough
	case 2:
		h ^= uint32(tail[1]) << 8
		fallthrough
	case 1:
		h ^= uint32(tail[0])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return int32(h)
}

// KeyPartition is Kafka's default partition for a keyed record:
// toPositive(murmur2(key)) % numPartitions, toPositive clearing the sign bit
// (not Math.abs, which would fold MinInt onto itself).
func KeyPartition(key []byte, numPartitions int32) int32 {
	return (Murmur2(key) & 0x7fffffff) % numPartitions
}

// stickyPartition returns the topic's current sticky partition for unkeyed
// records, choosing one if there is none (KIP-480: stay on one partition so
// batches fill, move on when a batch is sent).
func (cl *Client) stickyPartition(topic string, n int32) int32 {
	if p, ok := cl.sticky[topic]; ok && p < n {
		return p
	}
	p := cl.choosePartition(topic, n, -1)
	cl.sticky[topic] = p
	return p
}

// nextSticky moves the topic's sticky partition off prev after a batch for
// prev was sent.
func (cl *Client) nextSticky(topic string, prev int32) {
	if p, ok := cl.sticky[topic]; !ok || p != prev {
		return
	}
	tm := cl.topics[topic]
	if tm == nil {
		return
	}
	cl.sticky[topic] = cl.choosePartition(topic, int32(len(tm.partitions)), prev)
}

// choosePartition draws a partition other than avoid, preferring ones with a
// known leader, from the host's random source.
func (cl *Client) choosePartition(topic string, n int32, avoid int32) int32 {
	var avail []int32
	for p := int32(0); p < n; p++ {
		if _, ok := cl.leaderAddr(topic, p); ok && p != avoid {
			avail = append(avail, p)
		}
	}
	if len(avail) == 0 {
		if n > 1 && avoid >= 0 {
			return (avoid + 1 + cl.h.Rand().Int32N(n-1)) % n
		}
		return cl.h.Rand().Int32N(n)
	}
	return avail[cl.h.Rand().IntN(len(avail))]
}
