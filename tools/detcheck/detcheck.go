package detcheck

import (
	"cmp"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"
)

// Analyzer reports code in simulated packages that breaks the determinism
// rules. See the package doc for the rules, the scope and the directives.
var Analyzer = &analysis.Analyzer{
	Name: "detcheck",
	Doc: "report nondeterminism (goroutines, channels, wall clock, global randomness, OS access, " +
		"map iteration order, pointer printing) in packages that run in the loglab simulator",
	URL: "https://github.com/loglab/loglab/tree/main/tools/detcheck",
	Run: run,
}

// finding is a diagnostic waiting for directives to suppress it.
type finding struct {
	pos  token.Pos
	rule string
	msg  string
}

type checker struct {
	pass     *analysis.Pass
	findings []finding
}

func run(pass *analysis.Pass) (any, error) {
	if !IsSimulated(pass.Pkg.Path()) {
		return nil, nil
	}
	var files []*ast.File
	for _, f := range pass.Files {
		// Tests never run inside the simulator's world; they may use
		// t.Parallel, timers and real files.
		if !strings.HasSuffix(pass.Fset.File(f.FileStart).Name(), "_test.go") {
			files = append(files, f)
		}
	}
	c := &checker{pass: pass}
	dirs, exempt := c.scanDirectives(files)
	if exempt {
		return nil, nil
	}
	for _, f := range files {
		c.checkImports(f)
		ast.PreorderStack(f, nil, c.visit)
	}
	c.flush(dirs)
	return nil, nil
}

// flush reports every finding no directive suppresses, then the directives
// that suppressed nothing, in source order.
func (c *checker) flush(dirs directives) {
	var out []finding
	for _, f := range c.findings {
		if f.rule == RuleDirective || !dirs.suppress(c.pass.Fset.Position(f.pos), f.rule) {
			out = append(out, f)
		}
	}
	c.findings = nil
	c.reportUnused(dirs)
	out = append(out, c.findings...)
	// Sort by file name and offset, not token.Pos: the loader parses files
	// concurrently, so Pos order differs from run to run.
	fset := c.pass.Fset
	slices.SortStableFunc(out, func(a, b finding) int {
		pa, pb := fset.Position(a.pos), fset.Position(b.pos)
		return cmp.Or(strings.Compare(pa.Filename, pb.Filename), cmp.Compare(pa.Offset, pb.Offset))
	})
	for _, f := range out {
		c.pass.Report(analysis.Diagnostic{Pos: f.pos, Category: f.rule, Message: f.msg})
	}
}

// report records a finding as "detcheck: <rule>: <what> (<fix>)".
func (c *checker) report(pos token.Pos, rule, what, fix string) {
	c.findings = append(c.findings, finding{pos, rule, fmt.Sprintf("detcheck: %s: %s (%s)", rule, what, fix)})
}

func (c *checker) directiveError(pos token.Pos, format string, args ...any) {
	c.findings = append(c.findings, finding{pos, RuleDirective, "detcheck: directive: " + fmt.Sprintf(format, args...)})
}

func (c *checker) checkImports(f *ast.File) {
	for _, spec := range f.Imports {
		path, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			continue
		}
		if fi, ok := lookupImport(path); ok {
			c.report(spec.Pos(), fi.rule, fmt.Sprintf("import of %q %s", path, fi.why), fi.fix)
		}
		if rel, ok := relPath(path); ok && listedExempt(rel) {
			c.report(spec.Pos(), RuleExemptImport,
				fmt.Sprintf("import of %q, which is exempt from detcheck, brings real goroutines, clocks or I/O into simulated code", path),
				"depend on host interfaces and let cmd/ wire in the real implementation")
		}
	}
}

const fixChannel = "simulated code is single-threaded: keep pending work in a slice and deliver it through Host callbacks"

// visit checks one node; stack holds its ancestors, innermost last.
func (c *checker) visit(n ast.Node, stack []ast.Node) bool {
	info := c.pass.TypesInfo
	switch n := n.(type) {
	case *ast.GoStmt:
		c.report(n.Pos(), RuleGoroutine, "go statement starts a goroutine the simulator cannot schedule",
			"run the work inline, or defer it with Host.Post or Host.AfterFunc")
	case *ast.SelectStmt:
		c.report(n.Pos(), RuleSelect, "select statement waits on channels",
			"simulated code is single-threaded: react to Host callbacks instead")
	case *ast.ChanType:
		what := "channel type"
		if len(stack) > 0 && isBuiltinCall(info, stack[len(stack)-1], "make") {
			what = "make(chan ...)"
		}
		c.report(n.Pos(), RuleChannel, what, fixChannel)
		return false // one finding per channel type, even for chan chan T
	case *ast.SendStmt:
		c.report(n.Pos(), RuleChannel, "channel send", fixChannel)
	case *ast.UnaryExpr:
		if n.Op == token.ARROW {
			c.report(n.Pos(), RuleChannel, "channel receive", fixChannel)
		}
	case *ast.RangeStmt:
		c.checkRange(n)
	case *ast.CallExpr:
		if isBuiltinCall(info, n, "close") {
			c.report(n.Pos(), RuleChannel, "close of a channel", fixChannel)
		}
		c.checkFormat(n)
		c.checkMapsIter(n, stack)
	case *ast.Ident:
		c.checkUse(n, stack)
	}
	return true
}

// checkUse flags uses (calls or function values) of forbidden package-level
// functions and variables.
func (c *checker) checkUse(id *ast.Ident, stack []ast.Node) {
	obj := c.pass.TypesInfo.Uses[id]
	if obj == nil || obj.Pkg() == nil {
		return
	}
	switch obj := obj.(type) {
	case *types.Func:
		if recv := obj.Signature().Recv(); recv != nil {
			// Methods (time.Time.After, (*rand.Rand).IntN) are
			// deterministic, except a few listed by receiver.
			if named, ok := types.Unalias(derefPointer(recv.Type())).(*types.Named); ok {
				key := obj.Pkg().Path() + "." + named.Obj().Name() + "." + obj.Name()
				if ff, ok := forbiddenMethods[key]; ok {
					c.report(id.Pos(), ff.rule, obj.Pkg().Name()+"."+named.Obj().Name()+"."+obj.Name()+" "+ff.why, ff.fix)
				}
			}
			return
		}
	case *types.Var:
		if obj.IsField() || obj.Parent() != obj.Pkg().Scope() {
			return
		}
	default:
		return
	}
	pos := id.Pos()
	if len(stack) > 0 {
		if sel, ok := stack[len(stack)-1].(*ast.SelectorExpr); ok && sel.Sel == id {
			pos = sel.Pos()
		}
	}
	pkg := obj.Pkg()
	name := pkg.Name() + "." + obj.Name()
	if ff, ok := forbiddenFuncs[pkg.Path()+"."+obj.Name()]; ok {
		c.report(pos, ff.rule, name+" "+ff.why, ff.fix)
		return
	}
	if ctors, ok := randPkgs[pkg.Path()]; ok && !ctors[obj.Name()] {
		if _, isFunc := obj.(*types.Func); isFunc {
			c.report(pos, RuleRand, name+" uses the process-global random source",
				"draw from Host.Rand(), or from rand.New over a seeded source")
		}
	}
}

// isBuiltinCall reports whether n is a call of the named builtin.
func isBuiltinCall(info *types.Info, n ast.Node, name string) bool {
	call, ok := n.(*ast.CallExpr)
	if !ok {
		return false
	}
	id, ok := ast.Unparen(call.Fun).(*ast.Ident)
	if !ok {
		return false
	}
	b, ok := info.Uses[id].(*types.Builtin)
	return ok && b.Name() == name
}

func derefPointer(t types.Type) types.Type {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		return p.Elem()
	}
	return t
}
