package bad

import (
	"math/rand/v2"
	"time"
)

func directives(m map[int]int) {
	//detcheck:allow wallclock // want `detcheck: directive: //detcheck:allow needs a rule and a reason \(write //detcheck:allow <rule> <reason>\)`
	_ = time.Now() // want `detcheck: wallclock: time.Now`

	//detcheck:allow nosuchrule because // want `detcheck: directive: unknown rule "nosuchrule" in //detcheck:allow`
	//detcheck:allow map-range because // want `detcheck: directive: map-range is allowed with //detcheck:ordered`
	//detcheck:ordered // want `detcheck: directive: //detcheck:ordered needs a reason`
	//detcheck:frobnicate x // want `detcheck: directive: unknown directive //detcheck:frobnicate \(use allow, ordered or exempt\)`
	// detcheck:allow wallclock spaced out // want `detcheck: directive: a space after // makes this an ordinary comment`
	//detcheck:exempt not here // want `detcheck: directive: //detcheck:exempt must be in the package doc comment`

	//detcheck:allow rand nothing below draws // want `detcheck: directive: //detcheck:allow rand suppresses no diagnostic on this line or the next \(remove it\)`
	_ = 1

	//detcheck:ordered nothing below ranges // want `detcheck: directive: //detcheck:ordered suppresses no diagnostic`
	_ = 2

	// A directive names the rule it allows; it does not hide other rules.
	//detcheck:allow rand a different rule
	_, _ = time.Now(), rand.IntN(2) // want `detcheck: wallclock: time.Now`

	// A directive covers its own line and the next, not the one after.
	//detcheck:allow wallclock only the next line
	_ = time.Now()
	_ = time.Now() // want `detcheck: wallclock: time.Now`

	for k := range m { //detcheck:ordered too far away from the next map range
		_ = k
	}
	for k := range m { // want `detcheck: map-range: range over map m`
		_ = k
	}
}
