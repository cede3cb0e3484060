package detcheck

import (
	"go/ast"
	"go/token"
	"slices"
	"strings"
)

// Directive comments. Like //go: directives they have no space after "//".
const (
	directivePrefix = "//detcheck:"
	verbAllow       = "allow"   // //detcheck:allow <rule>[,<rule>...] <reason>
	verbOrdered     = "ordered" // //detcheck:ordered <reason>   (map-range only)
	verbExempt      = "exempt"  // //detcheck:exempt <reason>    (package doc only)
)

// directive is one well-formed allow or ordered comment. It suppresses
// findings of its rules on its own line and on the line below it.
type directive struct {
	pos   token.Pos
	text  string // as written, for the unused-directive message
	rules []string
	used  bool
}

// directives indexes a package's directives by file name and line.
type directives map[string]map[int][]*directive

// suppress reports whether a directive covers a finding of rule at posn,
// marking that directive used.
func (d directives) suppress(posn token.Position, rule string) bool {
	lines := d[posn.Filename]
	for _, line := range []int{posn.Line, posn.Line - 1} {
		for _, dir := range lines[line] {
			if slices.Contains(dir.rules, rule) {
				dir.used = true
				return true
			}
		}
	}
	return false
}

// scanDirectives parses every detcheck directive in files, reporting the
// malformed ones (those can never be suppressed). exempt is true when a
// well-formed //detcheck:exempt sits in a file header, before the package
// clause.
func (c *checker) scanDirectives(files []*ast.File) (dirs directives, exempt bool) {
	dirs = directives{}
	for _, f := range files {
		for _, group := range f.Comments {
			for _, cm := range group.List {
				d, isExempt := c.parseDirective(cm, group.End() < f.Package)
				if isExempt {
					exempt = true
				}
				if d == nil {
					continue
				}
				posn := c.pass.Fset.Position(cm.Pos())
				if dirs[posn.Filename] == nil {
					dirs[posn.Filename] = map[int][]*directive{}
				}
				dirs[posn.Filename][posn.Line] = append(dirs[posn.Filename][posn.Line], d)
			}
		}
	}
	return dirs, exempt
}

// parseDirective parses one comment. It returns the directive if cm is a
// well-formed allow or ordered directive, and isExempt if cm is a
// well-formed exempt directive in the file header.
func (c *checker) parseDirective(cm *ast.Comment, inHeader bool) (d *directive, isExempt bool) {
	text := cm.Text
	if rest, ok := strings.CutPrefix(text, "// detcheck:"); ok && len(strings.Fields(rest)) > 0 {
		c.directiveError(cm.Pos(), "a space after // makes this an ordinary comment (write //detcheck:%s with no space)", strings.Fields(rest)[0])
		return nil, false
	}
	body, ok := strings.CutPrefix(text, directivePrefix)
	if !ok {
		return nil, false
	}
	// A second "//" starts a trailing remark that is not part of the reason.
	body, _, _ = strings.Cut(body, "//")
	fields := strings.Fields(body)
	verb := ""
	if len(fields) > 0 {
		verb = fields[0]
	}
	switch verb {
	case verbAllow:
		if len(fields) < 3 {
			c.directiveError(cm.Pos(), "//detcheck:allow needs a rule and a reason (write //detcheck:allow <rule> <reason>)")
			return nil, false
		}
		rules := strings.Split(fields[1], ",")
		for _, r := range rules {
			switch {
			case r == RuleMapRange:
				c.directiveError(cm.Pos(), "map-range is allowed with //detcheck:ordered (write //detcheck:ordered <reason>)")
				return nil, false
			case r == RuleDirective || !slices.Contains(Rules, r):
				c.directiveError(cm.Pos(), "unknown rule %q in //detcheck:allow (rules: %s)", r, strings.Join(Rules[:len(Rules)-1], ", "))
				return nil, false
			}
		}
		return &directive{pos: cm.Pos(), text: directivePrefix + verbAllow + " " + fields[1], rules: rules}, false
	case verbOrdered:
		if len(fields) < 2 {
			c.directiveError(cm.Pos(), "//detcheck:ordered needs a reason (say why iteration order cannot matter)")
			return nil, false
		}
		return &directive{pos: cm.Pos(), text: directivePrefix + verbOrdered, rules: []string{RuleMapRange}}, false
	case verbExempt:
		if !inHeader {
			c.directiveError(cm.Pos(), "//detcheck:exempt must be in the package doc comment (move it above the package clause in doc.go)")
			return nil, false
		}
		if len(fields) < 2 {
			c.directiveError(cm.Pos(), "//detcheck:exempt needs a reason (write //detcheck:exempt <reason>)")
			return nil, false
		}
		return nil, true
	default:
		c.directiveError(cm.Pos(), "unknown directive %s%s (use allow, ordered or exempt)", directivePrefix, verb)
		return nil, false
	}
}

// reportUnused flags directives that suppressed nothing: a stale allow hides
// the next real problem written on that line.
func (c *checker) reportUnused(dirs directives) {
	for _, lines := range dirs {
		for _, ds := range lines {
			for _, d := range ds {
				if !d.used {
					c.directiveError(d.pos, "%s suppresses no diagnostic on this line or the next (remove it)", d.text)
				}
			}
		}
	}
}
