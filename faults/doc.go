// Package faults is loglab's nemesis: fault actions (crash, restart, stop,
// pause and resume a node; partitions and heal; link latency; connection
// resets; storage faults, bit rot; clock skew and jumps), schedules that
// put them on a timeline, a text form of schedules that reads back, and a
// swarm generator that draws a schedule from a seed.
//
// Ownership and imports: faults owns the vocabulary of faults and their
// schedules. It imports sim (the world it acts on), netsim and sim/disk
// (their fault models and types) and the standard library. It runs inside
// the simulator, so the determinism rules hold: its only randomness is the
// *rand.Rand it is given (Swarm) or the world's "faults" stream (random
// resets and bit rot), and no map order reaches its output.
//
// # Actions and schedules
//
// An Action is one fault or repair; a Step is an Action at a time; a
// Schedule is a list of Steps. Apply turns every step into a world event
// (sim.World.Schedule) at its time after the call, in time order (steps at
// the same instant keep their order), and traces each as ("", "fault",
// "at 10s crash broker-1 mode=power-loss") when it fires. Schedules are
// values: Without, Truncate and Sorted return new ones, for the shrinker.
//
// Node names are concrete by default. ApplyWith takes a Resolver that maps
// a name to the world's nodes when the step fires: the hook for symbolic
// names such as "leader:events-0", which only the running cluster can
// answer. The resolver is told the action too, and RoleOf says whether the
// action breaks something (crash, stop, pause, a partition, disk faults, a
// slow link), repairs it (restart, resume, heal, disk none, the default
// link) or is instant, so a resolver can bind a symbolic name when a fault
// strikes and give its repair the same nodes. A name that resolves to a
// node the world does not have is skipped and traced as "fault.skip"; an
// action never panics on a name.
//
// # The text form
//
// One step per line; '#' starts a comment; blank lines are ignored. Every
// line is
//
//	at TIME ACTION ARGS...
//
// TIME is a Go duration from the start of the schedule (10s, 1m30s,
// 12.5s, 250ms). Node names are any text without spaces or the characters
// , | > = # *. The actions:
//
//	at 10s crash broker-1 mode=power-loss      # mode: power-loss (default), keep-random-pages,
//	                                           #       torn-sector, process-kill
//	at 10s kill broker-1                       # = crash broker-1 mode=process-kill
//	at 12.5s restart broker-1                  # boot a node that is down
//	at 13s stop broker-2                       # clean shutdown (restart it later)
//	at 14s pause broker-3                      # SIGSTOP / a long GC pause ...
//	at 15s resume broker-3                     # ... until resume
//	at 20s isolate broker-2                    # cut off both ways
//	at 21s split broker-1,broker-2 | broker-3  # both directions between the sides
//	at 22s one-way broker-1>broker-2           # frames broker-1 -> broker-2 blocked
//	at 23s bridge broker-1 | broker-2 | broker-3   # sides 1 and 3 apart; broker-2 talks to both
//	at 30s heal                                # every partition removed
//	at 8s latency broker-1>broker-2 base=10ms jitter=exponential:2ms
//	at 8s latency *>broker-3 base=50ms jitter=pareto:5ms alpha=1 cap=500ms bytes-per-second=1000000
//	at 8s latency *>* base=500us               # the default link of the network
//	at 9s reset-conns broker-1                 # reset every connection of broker-1
//	at 9s reset-random-conn                    # reset one live connection, drawn
//	at 5s disk broker-1 read-error=100ppm sync-error=1000ppm
//	at 5s disk broker-1 slow-sync=1000ppm slow-sync-factor=10 slow-sync-extra=5000000ns
//	at 5s disk broker-1 capacity=1048576       # ENOSPC beyond 1 MiB
//	at 6s disk broker-1 none                   # clear the disk's faults
//	at 6s bit-rot broker-1                     # one bit anywhere on the media
//	at 6s bit-rot broker-1 file=p0/00000.log offset=4096
//	at 6s bit-rot broker-1 file=p0/00000.log   # a random byte of the file
//	at 6s bit-rot broker-1 file=events-0/      # a random byte of a segment (*.log) in the directory
//	at 7s clock-jump broker-1 +5m              # move the wall clock by a signed duration
//	at 7s clock-skew broker-2 -200ms           # set the wall-clock offset
//
// Disk faults are sim/disk's ParseFaults form: read-error, bit-flip-on-read,
// write-error, sync-error and slow-sync in ppm (per million), then
// slow-sync-factor, slow-sync-extra (ns) and capacity (bytes). jitter is
// DIST:SCALE with DIST none, uniform, exponential or pareto.
//
// Schedule.String prints this form (each action in one canonical spelling,
// in time order) and Parse reads it: Parse(name, s.String()) equals
// s.Sorted() for every valid s, so a failing run's faults paste into a
// scenario file. Parse never panics; a bad line is one *ParseError naming
// the file, the line and the field, wrapping ErrInvalid:
//
//	faults.txt:3: field "mode": unknown crash mode "x" (valid: power-loss, keep-random-pages, torn-sector, process-kill)
//	faults.txt:4: field "action": unknown action "crsh" (valid: bit-rot, bridge, ...)
//
// # Swarm testing
//
// Swarm draws a schedule from a seed the way TigerBeetle's VOPR does: each
// fault kind is on with probability 1/2, and the seed picks each kind's
// rate, how long its faults last, the crash modes, the partition shapes and
// the disk fault rates (SwarmKnobs, printed before the run). Every fault is
// repaired by the end of the given duration, so a liveness phase can follow
// the safety phase. The result is an ordinary Schedule.
//
// For clusters, SwarmOptions.Shapes restricts the partition shapes,
// SwarmOptions.BitRot gives the bit rots to pick from (a follower's
// segment of a partition, by symbolic name), and the kind "disk-slow"
// (ExtraKinds: drawn only when named, never by "all", so naming it does
// not change any other schedule) slows fsyncs without failing them.
package faults
