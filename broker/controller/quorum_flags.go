package controller

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Quorum is what a broker's quorum settings configure: the controller
// addresses it registers with, and, in combined mode, its own voter.
type Quorum struct {
	Controllers []string
	Voter       *VoterConfig // nil unless this node is a voter
}

// ParseQuorum checks a broker's quorum settings together, in Kafka's
// terms: voters is controller.quorum.voters (id@host:port,...),
// controllers the addresses to register with (default: the voters'),
// and listen this node's own voter listener (combined mode; nodeID must
// be among the voters at that address). All empty is standalone mode.
// Errors name the flags of `loglab broker`.
func ParseQuorum(nodeID int32, controllers, listen, voters string) (Quorum, error) {
	var q Quorum
	peers, err := parseVoters(voters)
	if err != nil {
		return q, err
	}
	if controllers != "" {
		for _, c := range strings.Split(controllers, ",") {
			c = strings.TrimSpace(c)
			if err := checkHostPort("--controllers", c); err != nil {
				return q, err
			}
			q.Controllers = append(q.Controllers, c)
		}
	} else {
		for _, p := range peers {
			q.Controllers = append(q.Controllers, p.Addr)
		}
	}
	if listen != "" {
		if q.Voter, err = ownVoter(nodeID, listen, voters, peers); err != nil {
			return q, err
		}
	}
	if len(q.Controllers) > 0 && nodeID < 1 {
		return q, fmt.Errorf("--node-id must be at least 1 in cluster mode, got %d", nodeID)
	}
	return q, nil
}

func parseVoters(voters string) ([]Peer, error) {
	if voters == "" {
		return nil, nil
	}
	var peers []Peer
	seen := map[uint64]bool{}
	for _, v := range strings.Split(voters, ",") {
		id, addr, ok := strings.Cut(strings.TrimSpace(v), "@")
		n, err := strconv.ParseUint(id, 10, 31)
		if !ok || err != nil || n < 1 {
			return nil, fmt.Errorf("--voters %q: want id@host:port,... with ids >= 1", voters)
		}
		if err := checkHostPort("--voters", addr); err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, fmt.Errorf("--voters %q: id %d twice", voters, n)
		}
		seen[n] = true
		peers = append(peers, Peer{ID: n, Addr: addr})
	}
	return peers, nil
}

func ownVoter(nodeID int32, listen, voters string, peers []Peer) (*VoterConfig, error) {
	if err := checkHostPort("--controller-listen", listen); err != nil {
		return nil, err
	}
	if len(peers) == 0 {
		return nil, errors.New("--controller-listen needs --voters (the whole quorum, id@host:port,...)")
	}
	var mine *Peer
	for i := range peers {
		if peers[i].ID == uint64(max(nodeID, 0)) {
			mine = &peers[i]
		}
	}
	if mine == nil || nodeID < 1 {
		return nil, fmt.Errorf("--controller-listen: --node-id %d is not among --voters %q", nodeID, voters)
	}
	if mine.Addr != listen {
		return nil, fmt.Errorf("--controller-listen %s: --voters gives voter %d the address %s", listen, nodeID, mine.Addr)
	}
	return &VoterConfig{ID: uint64(nodeID), Voters: peers}, nil
}

// checkHostPort rejects an address that is not HOST:PORT with a numeric
// port (HOST may be a bracketed IPv6 address).
func checkHostPort(flag, addr string) error {
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		return fmt.Errorf("%s %q: want HOST:PORT", flag, addr)
	}
	host := addr[:i]
	if strings.Contains(host, ":") && !(strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]")) {
		return fmt.Errorf("%s %q: want HOST:PORT", flag, addr)
	}
	if p, err := strconv.Atoi(addr[i+1:]); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("%s %q: bad port", flag, addr)
	}
	return nil
}
