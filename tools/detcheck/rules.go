package detcheck

import "strings"

// Rule names. They appear in every diagnostic ("detcheck: <rule>: ...") and
// are what //detcheck:allow <rule> <reason> names.
const (
	RuleGoroutine     = "goroutine"
	RuleSelect        = "select"
	RuleChannel       = "channel"
	RuleWallclock     = "wallclock"
	RuleRand          = "rand"
	RuleCryptoRand    = "crypto-rand"
	RuleOS            = "os"
	RuleSync          = "sync"
	RuleMaphash       = "maphash"
	RuleRuntime       = "runtime"
	RulePointerFormat = "pointer-format"
	RuleMapRange      = "map-range"
	RuleExemptImport  = "exempt-import"
	RuleDirective     = "directive" // malformed or unused directives; cannot be allowed
)

// Rules lists every rule name, in the order the package doc explains them.
var Rules = []string{
	RuleGoroutine, RuleSelect, RuleChannel, RuleWallclock, RuleRand,
	RuleCryptoRand, RuleOS, RuleSync, RuleMaphash, RuleRuntime,
	RulePointerFormat, RuleMapRange, RuleExemptImport, RuleDirective,
}

// forbiddenImport is an import path simulated code must not import at all.
type forbiddenImport struct {
	rule, why, fix string
}

const fixOS = "go through Host.Net/Host.Disk, or move the code to an exempt package"

// forbiddenImports maps import paths to their rule. Paths ending in "/..."
// also cover every package below them.
var forbiddenImports = map[string]forbiddenImport{
	"crypto/rand": {RuleCryptoRand, "reads OS entropy", "draw from Host.Rand()"},

	"os":                       {RuleOS, "reaches the operating system", fixOS},
	"os/exec":                  {RuleOS, "starts processes", fixOS},
	"os/signal":                {RuleOS, "receives OS signals", fixOS},
	"os/user":                  {RuleOS, "reads the OS user database", fixOS},
	"net":                      {RuleOS, "opens real sockets", fixOS},
	"net/http/...":             {RuleOS, "opens real sockets", fixOS},
	"net/rpc/...":              {RuleOS, "opens real sockets", fixOS},
	"net/smtp":                 {RuleOS, "opens real sockets", fixOS},
	"syscall":                  {RuleOS, "calls the OS directly", fixOS},
	"golang.org/x/sys/unix":    {RuleOS, "calls the OS directly", fixOS},
	"golang.org/x/sys/windows": {RuleOS, "calls the OS directly", fixOS},
	"log/syslog":               {RuleOS, "writes to the system log", "log through Host.Logger()"},
	"io/ioutil":                {RuleOS, "reads and writes real files", "use io, and Host.Disk for files"},
	"plugin":                   {RuleOS, "loads code from the file system", fixOS},
	"runtime/pprof":            {RuleOS, "samples the real process", fixOS},
	"runtime/trace":            {RuleOS, "traces the real process", fixOS},
	"expvar":                   {RuleOS, "serves over real HTTP", "use the Host's metrics"},

	"sync":        {RuleSync, "locks or pools shared state", "simulated code is single-threaded and owns its state: drop the lock, or move the code to an exempt package"},
	"sync/atomic": {RuleSync, "shares state between threads", "simulated code is single-threaded and owns its state: use a plain variable"},

	"hash/maphash": {RuleMaphash, "is seeded per process", "use a fixed hash such as hash/fnv or hash/crc32"},

	"weak": {RuleRuntime, "depends on when the garbage collector runs", "hold a strong reference or an explicit cache with a bounded, deterministic policy"},
}

// lookupImport finds the forbiddenImport entry for path: an exact entry, or
// a "p/..." entry for path itself or one of its parents.
func lookupImport(path string) (forbiddenImport, bool) {
	if f, ok := forbiddenImports[path]; ok {
		return f, true
	}
	for p := path; p != ""; p = parentPath(p) {
		if f, ok := forbiddenImports[p+"/..."]; ok {
			return f, true
		}
	}
	return forbiddenImport{}, false
}

// parentPath returns path without its last element ("" at the top).
func parentPath(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return ""
	}
	return path[:i]
}

// forbiddenFunc is a package-level function or variable of an allowed
// package that simulated code must not use.
type forbiddenFunc struct {
	rule, why, fix string
}

const fixClock = "use Host.Now, Host.Monotonic or Host.AfterFunc"

// forbiddenFuncs maps "pkgpath.Name" to its rule. Methods never appear here:
// time.Time and *rand.Rand methods are deterministic.
var forbiddenFuncs = map[string]forbiddenFunc{
	"time.Now":       {RuleWallclock, "reads the wall clock", fixClock},
	"time.Since":     {RuleWallclock, "reads the wall clock", fixClock},
	"time.Until":     {RuleWallclock, "reads the wall clock", fixClock},
	"time.Sleep":     {RuleWallclock, "blocks on the real clock", "schedule the rest with Host.AfterFunc"},
	"time.After":     {RuleWallclock, "starts a real timer", fixClock},
	"time.AfterFunc": {RuleWallclock, "starts a real timer", fixClock},
	"time.NewTimer":  {RuleWallclock, "starts a real timer", fixClock},
	"time.NewTicker": {RuleWallclock, "starts a real ticker", "re-arm Host.AfterFunc from its callback"},
	"time.Tick":      {RuleWallclock, "starts a real ticker", "re-arm Host.AfterFunc from its callback"},

	"context.WithTimeout":       {RuleWallclock, "starts a real timer", "carry a deadline in Host.Monotonic terms and check it in a Host.AfterFunc callback"},
	"context.WithTimeoutCause":  {RuleWallclock, "starts a real timer", "carry a deadline in Host.Monotonic terms and check it in a Host.AfterFunc callback"},
	"context.WithDeadline":      {RuleWallclock, "starts a real timer", "carry a deadline in Host.Monotonic terms and check it in a Host.AfterFunc callback"},
	"context.WithDeadlineCause": {RuleWallclock, "starts a real timer", "carry a deadline in Host.Monotonic terms and check it in a Host.AfterFunc callback"},
	"context.AfterFunc":         {RuleGoroutine, "runs its function on a new goroutine", "call the function directly, or schedule it with Host.Post"},

	"time.Local":        {RuleOS, "depends on the process time zone", "use time.UTC"},
	"time.LoadLocation": {RuleOS, "reads the OS time zone database", "use time.UTC or time.FixedZone"},

	"path/filepath.Abs":          {RuleOS, "reads the working directory", "use Host.Disk paths as given"},
	"path/filepath.EvalSymlinks": {RuleOS, "reads the real file system", "use Host.Disk"},
	"path/filepath.Glob":         {RuleOS, "reads the real file system", "use Host.Disk"},
	"path/filepath.Walk":         {RuleOS, "reads the real file system", "use Host.Disk"},
	"path/filepath.WalkDir":      {RuleOS, "reads the real file system", "use Host.Disk"},

	"runtime.Gosched":        {RuleRuntime, "yields to the Go scheduler", "simulated code is single-threaded: remove it"},
	"runtime.Goexit":         {RuleRuntime, "ends the goroutine", "return an error to the caller"},
	"runtime.GC":             {RuleRuntime, "depends on the real heap", "remove it"},
	"runtime.GOMAXPROCS":     {RuleRuntime, "depends on the machine", "take the value from configuration"},
	"runtime.NumCPU":         {RuleRuntime, "depends on the machine", "take the value from configuration"},
	"runtime.NumGoroutine":   {RuleRuntime, "depends on the real process", "remove it"},
	"runtime.NumCgoCall":     {RuleRuntime, "depends on the real process", "remove it"},
	"runtime.ReadMemStats":   {RuleRuntime, "depends on the real heap", "remove it"},
	"runtime.SetFinalizer":   {RuleRuntime, "runs when the garbage collector decides", "release resources explicitly"},
	"runtime.AddCleanup":     {RuleRuntime, "runs when the garbage collector decides", "release resources explicitly"},
	"runtime.LockOSThread":   {RuleRuntime, "binds to a real thread", "remove it"},
	"runtime.UnlockOSThread": {RuleRuntime, "binds to a real thread", "remove it"},
	"runtime.Stack":          {RuleRuntime, "prints goroutine ids and addresses", "report a stable description instead"},
}

// forbiddenMethods maps "pkgpath.Type.Method" to its rule.
var forbiddenMethods = map[string]forbiddenFunc{
	"reflect.Value.MapKeys":  {RuleMapRange, "returns keys in random order", "sort the keys before use, or add //detcheck:ordered <reason>"},
	"reflect.Value.MapRange": {RuleMapRange, "iterates in random order", "collect and sort the keys first, or add //detcheck:ordered <reason>"},
}

// randPkgs are the math/rand packages: every package-level function uses
// (or reseeds) the process-global source except these constructors, which
// build a generator from an explicit seed.
var randPkgs = map[string]map[string]bool{
	"math/rand":    {"New": true, "NewSource": true, "NewZipf": true},
	"math/rand/v2": {"New": true, "NewPCG": true, "NewChaCha8": true, "NewZipf": true},
}
