// Package badexempt tries to opt out without a reason, which does not count.
//
//detcheck:exempt // want `detcheck: directive: //detcheck:exempt needs a reason \(write //detcheck:exempt <reason>\)`
package badexempt
