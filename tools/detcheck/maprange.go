package detcheck

import (
	"go/ast"
	"go/types"

	"golang.org/x/tools/go/types/typeutil"
)

const fixMapRange = "range over slices.Sorted(maps.Keys(m)), or add //detcheck:ordered <reason> if order cannot matter"

// checkRange flags ranging over a map (random order) or a channel.
func (c *checker) checkRange(n *ast.RangeStmt) {
	t := c.pass.TypesInfo.TypeOf(n.X)
	if t == nil {
		return
	}
	switch {
	case allTerms(t, func(u types.Type) bool { _, ok := u.(*types.Map); return ok }):
		c.report(n.Pos(), RuleMapRange, "range over map "+types.ExprString(n.X)+" visits keys in random order", fixMapRange)
	case allTerms(t, func(u types.Type) bool { _, ok := u.(*types.Chan); return ok }):
		c.report(n.Pos(), RuleChannel, "range over a channel", fixChannel)
	}
}

// allTerms reports whether t's underlying type satisfies is, or, for a type
// parameter, whether every term of its constraint does (M ~map[K]V).
func allTerms(t types.Type, is func(types.Type) bool) bool {
	tp, ok := types.Unalias(t).(*types.TypeParam)
	if !ok {
		return is(t.Underlying())
	}
	iface, ok := tp.Constraint().Underlying().(*types.Interface)
	if !ok {
		return false
	}
	found := false
	for i := range iface.NumEmbeddeds() {
		var terms []*types.Term
		switch e := iface.EmbeddedType(i).(type) {
		case *types.Union:
			for j := range e.Len() {
				terms = append(terms, e.Term(j))
			}
		default:
			if _, isIface := e.Underlying().(*types.Interface); isIface {
				continue
			}
			terms = append(terms, types.NewTerm(false, e))
		}
		for _, term := range terms {
			if !is(term.Type().Underlying()) {
				return false
			}
			found = true
		}
	}
	return found
}

// mapsIters are the functions of package maps that yield in map order.
var mapsIters = map[string]bool{"Keys": true, "Values": true, "All": true}

// sortedCollectors turn an iter.Seq into a sorted slice, which makes the
// source's order irrelevant.
var sortedCollectors = map[string]bool{"Sorted": true, "SortedFunc": true, "SortedStableFunc": true}

// checkMapsIter flags maps.Keys, maps.Values and maps.All unless the
// sequence goes straight into slices.Sorted (or SortedFunc,
// SortedStableFunc).
func (c *checker) checkMapsIter(call *ast.CallExpr, stack []ast.Node) {
	fn := pkgFunc(c.pass.TypesInfo, call, "maps")
	if fn == nil || !mapsIters[fn.Name()] {
		return
	}
	if len(stack) > 0 {
		if outer, ok := stack[len(stack)-1].(*ast.CallExpr); ok && len(outer.Args) > 0 && ast.Unparen(outer.Args[0]) == call {
			if sorter := pkgFunc(c.pass.TypesInfo, outer, "slices"); sorter != nil && sortedCollectors[sorter.Name()] {
				return
			}
		}
	}
	c.report(call.Pos(), RuleMapRange, "maps."+fn.Name()+" yields in random order",
		"use slices.Sorted(maps.Keys(m)), or add //detcheck:ordered <reason> if order cannot matter")
}

// pkgFunc returns the package-level function of the standard package
// pkgPath that call calls, or nil.
func pkgFunc(info *types.Info, call *ast.CallExpr, pkgPath string) *types.Func {
	fn, ok := typeutil.Callee(info, call).(*types.Func)
	if !ok || fn.Pkg() == nil || fn.Pkg().Path() != pkgPath || fn.Signature().Recv() != nil {
		return nil
	}
	return fn
}
