package bad

var _ chan int // want `detcheck: channel: channel type \(simulated code is single-threaded`

type pipe chan<- string // want `detcheck: channel: channel type`

func concurrency() {
	go func() {}()         // want `detcheck: goroutine: go statement starts a goroutine the simulator cannot schedule \(run the work inline, or defer it with Host.Post or Host.AfterFunc\)`
	c := make(chan int, 1) // want `detcheck: channel: make\(chan \.\.\.\)`
	c <- 1                 // want `detcheck: channel: channel send`
	<-c                    // want `detcheck: channel: channel receive`
	for range c {          // want `detcheck: channel: range over a channel`
	}
	close(c)  // want `detcheck: channel: close of a channel`
	select {} // want `detcheck: select: select statement waits on channels \(simulated code is single-threaded`
}

func nested() chan chan int { // want `detcheck: channel: channel type`
	return nil
}
