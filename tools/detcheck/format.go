package detcheck

import (
	"go/ast"
	"go/constant"
	"go/types"
	"strings"

	"golang.org/x/tools/go/types/typeutil"
)

// checkFormat flags a %p verb in the constant format string of a
// printf-like call: any function or method whose name ends in "f" and whose
// last two parameters are (format string, args ...any). That covers fmt's
// Printf family, log.Printf and the project's own wrappers without a list.
func (c *checker) checkFormat(call *ast.CallExpr) {
	fn, ok := typeutil.Callee(c.pass.TypesInfo, call).(*types.Func)
	if !ok || !strings.HasSuffix(fn.Name(), "f") {
		return
	}
	sig := fn.Signature()
	params := sig.Params()
	n := params.Len()
	if !sig.Variadic() || n < 2 || len(call.Args) < n-1 {
		return
	}
	if s, ok := params.At(n - 1).Type().(*types.Slice); !ok || !types.IsInterface(s.Elem()) {
		return
	}
	if b, ok := params.At(n - 2).Type().Underlying().(*types.Basic); !ok || b.Info()&types.IsString == 0 {
		return
	}
	format := call.Args[n-2]
	tv := c.pass.TypesInfo.Types[format]
	if tv.Value == nil || tv.Value.Kind() != constant.String {
		return
	}
	if hasPointerVerb(constant.StringVal(tv.Value)) {
		c.report(format.Pos(), RulePointerFormat, "%p in the format of "+fn.Name()+" prints a per-process address",
			"print a stable identity such as a name, ID or offset")
	}
}

// hasPointerVerb reports whether a fmt format string contains a %p verb,
// with any flags, argument index, width and precision.
func hasPointerVerb(format string) bool {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		// Flags, argument indexes, width and precision, in any order fmt
		// would accept; the verb is the first other byte.
		for i < len(format) && strings.IndexByte("+-# 0123456789.*[]", format[i]) >= 0 {
			i++
		}
		if i < len(format) && format[i] == 'p' {
			return true
		}
	}
	return false
}
