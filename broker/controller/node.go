package controller

import "github.com/loglab/loglab/host"

// Node is a dedicated controller: a host.Node that runs only a voter
// (Kafka's process.roles=controller). For combined mode (process.roles=
// broker,controller) a broker node calls StartVoter on its own Host next to
// its broker and its Follower; the voter needs nothing else from the node.
type Node struct {
	Config VoterConfig
	// OnStart, when set, is called with the voter once it has started
	// (to install Voter.OnApply, say).
	OnStart func(v *Voter)

	voter *Voter
	err   error
}

// Start implements host.Node.
func (n *Node) Start(h host.Host) {
	n.voter, n.err = StartVoter(h, n.Config)
	if n.err != nil {
		h.Logger().Error("controller did not start", "err", n.err)
		return
	}
	if n.OnStart != nil {
		n.OnStart(n.voter)
	}
}

// Stop implements host.Stopper.
func (n *Node) Stop(done func()) {
	if n.voter != nil {
		n.voter.Stop()
	}
	done()
}

// Voter is the running voter (nil if Start failed).
func (n *Node) Voter() *Voter { return n.voter }

// Err is why Start failed, or why the voter stopped.
func (n *Node) Err() error {
	if n.err == nil && n.voter != nil {
		return n.voter.Err()
	}
	return n.err
}
