package bad

import . "time"

func dotImport() Time {
	return Now() // want `detcheck: wallclock: time.Now reads the wall clock`
}
