// Package detcheck is loglab's determinism checker: a go/analysis Analyzer
// that fails CI when code that runs inside the simulator could behave
// differently between two runs with the same seed.
//
// The simulator promises that one seed reproduces one run bit for bit (the
// same trace hash, always). That holds only if simulated code takes every
// input from its Host — virtual time, the seeded random stream, simulated
// network and disk — and never from the process it happens to run in: the
// wall clock, the OS, the Go scheduler, the garbage collector, map hash
// seeds or heap addresses. The end-to-end test (run a scenario twice,
// compare hashes) catches a leak only when a run happens to hit it; this
// check rejects the known sources before they are ever run. It is the
// static half of the determinism rules (docs/ARCHITECTURE.md §4); the
// run-twice hash test is the dynamic half.
//
// CI runs, from the module root:
//
//	go run ./tools/detcheck/cmd/detcheck ./...
//
// It prints one "file:line:col: detcheck: <rule>: <what> (<fix>)" line per
// finding and exits with status 3 if there is any (1 if packages fail to
// load).
//
// # Scope
//
// A package is simulated, and checked, when it belongs to module
// github.com/loglab/loglab (ModulePath) and is not exempt. Exempt packages
// are listed in one place, the Exempt variable:
//
//	host/realhost/...  the real Host (event-loop goroutine, TCP, os.File, fsync)
//	cmd/...            the CLI
//	bench              the real-socket benchmark driver package itself only
//	reports/...        reports from finished runs
//	tools/...          developer tools, this one included
//
// "p/..." covers p and everything below it; a bare "p" covers p alone. bench
// is deliberately exact: a new package below bench (say a simulated load
// generator) is checked unless it is listed or opts out, so nothing escapes
// the check by accident.
//
// A package that never runs in simulation can also opt out in its package
// doc comment (in doc.go, before the package clause), with a reason:
//
//	// Package driver runs benchmarks against real Kafka clusters.
//	//
//	//detcheck:exempt drives real sockets, never runs in simulation
//	package driver
//
// Test files (_test.go) are never checked: tests may use t.Parallel, real
// timers and temporary files. Generated test mains are skipped too.
//
// # Rules
//
// Each rule has a name, shown in its diagnostics and used to allow it.
//
//   - goroutine: go statements, and context.AfterFunc. The simulator runs a
//     whole cluster on one goroutine and decides the order of every event;
//     another goroutine's interleaving is chosen by the Go scheduler. Run the
//     work inline or defer it with Host.Post / Host.AfterFunc.
//   - select: select statements. Waiting is not something a single-threaded
//     state machine does; it reacts to Host callbacks.
//   - channel: channel types (chan T), make(chan ...), send, receive,
//     close, and range over a channel. Channels exist to talk between
//     goroutines; keep pending work in a slice instead.
//   - wallclock: time.Now, Since, Until, Sleep, After, AfterFunc, NewTimer,
//     NewTicker, Tick, and context.WithTimeout/WithDeadline (and their Cause
//     forms), which start real timers. Use Host.Now, Host.Monotonic and
//     Host.AfterFunc. time.Duration arithmetic, time.Unix, time.Date and
//     time.Time methods are fine: they compute, they do not read a clock.
//   - rand: every package-level function of math/rand and math/rand/v2
//     (rand.IntN, rand.Shuffle, rand.Seed, ...) draws from or reseeds the
//     process-global source. The constructors rand.New, rand.NewPCG,
//     rand.NewChaCha8, rand.NewZipf (and v1's rand.NewSource) are allowed,
//     as are all methods of *rand.Rand: draw from Host.Rand() or from a
//     generator built from a seed.
//   - crypto-rand: importing crypto/rand, which reads OS entropy.
//   - os: importing os, os/exec, os/signal, os/user, net, net/http and
//     below, net/rpc and below, net/smtp, syscall, golang.org/x/sys/unix and
//     windows, log/syslog, io/ioutil, plugin, runtime/pprof, runtime/trace,
//     expvar; using time.Local or time.LoadLocation (the process time zone);
//     using filepath.Abs, EvalSymlinks, Glob, Walk, WalkDir (the real file
//     system). Everything outside the process goes through Host.Net and
//     Host.Disk. Pure packages stay allowed: io, io/fs, path, path/filepath's
//     string functions, net/netip, net/url.
//   - sync: importing sync or sync/atomic. Simulated code is single-threaded
//     and owns its state, so a lock or an atomic means something is shared
//     with another thread — a bug here — and sync.Pool hands back objects
//     whose reuse depends on the garbage collector.
//   - maphash: importing hash/maphash, whose seed differs per process; use a
//     fixed hash such as hash/fnv or hash/crc32.
//   - runtime: runtime.Gosched, Goexit, GC, GOMAXPROCS, NumCPU, NumGoroutine,
//     NumCgoCall, ReadMemStats, SetFinalizer, AddCleanup, LockOSThread,
//     UnlockOSThread, Stack, and importing weak: they depend on the
//     scheduler, the garbage collector or the machine.
//   - pointer-format: a %p verb in the constant format string of a
//     printf-like call — any function or method whose name ends in "f" and
//     whose last parameters are (format string, args ...any), so fmt's
//     Printf family, log.Printf and the project's own Logf wrappers are all
//     covered. Heap addresses differ between runs; print a name, ID or
//     offset.
//   - map-range: ranging over a map (including named map types and type
//     parameters constrained to maps), maps.Keys/Values/All unless the
//     sequence goes straight into slices.Sorted, SortedFunc or
//     SortedStableFunc, and reflect.Value.MapKeys/MapRange. Go randomises
//     map iteration order per run; iterate slices.Sorted(maps.Keys(m)), or
//     state why the order cannot matter (see below).
//   - exempt-import: a simulated package importing a package listed in
//     Exempt (host/realhost, say). The import would bring that package's
//     goroutines, clocks and I/O into simulated code; depend on host
//     interfaces and let cmd/ wire in the real implementation.
//   - directive: a malformed, misplaced or unused detcheck directive. This
//     rule cannot be allowed.
//
// Not checked (left to review and to the run-twice hash test): pointers
// printed with %v, order leaking from iterators the project writes over
// maps, unstable sorts where order is observable, floats in decisions, and
// code in dependencies outside the module.
//
// # Directives
//
// Directives are line comments with no space after "//", like //go:
// directives. Each needs a reason: the reason is the review record of why
// the exception is safe. Text after a second "//" is a remark, not part of
// the reason.
//
//	//detcheck:ordered <reason>
//
// allows map-range on the same line or the line below, when iteration order
// cannot reach behaviour or output:
//
//	//detcheck:ordered keys are sorted right after the loop
//	for k := range m {
//		keys = append(keys, k)
//	}
//	slices.Sort(keys)
//
//	for _, v := range m { //detcheck:ordered addition is commutative
//		total += v
//	}
//
//	//detcheck:allow <rule>[,<rule>...] <reason>
//
// allows any other rule on the same line or the line below.
//
//	//detcheck:exempt <reason>
//
// exempts the whole package; it belongs in the package doc comment.
//
// A directive that suppresses nothing is reported, so exceptions do not
// outlive the code they excused.
//
// # Imports
//
// This package imports golang.org/x/tools/go/analysis and the standard
// library; it is a tool and never runs in simulation (it is under tools/).
package detcheck
