package bad

import (
	mrand "math/rand"
	"math/rand/v2"
	"time"
)

func random() {
	_ = rand.IntN(10)       // want `detcheck: rand: rand.IntN uses the process-global random source \(draw from Host.Rand\(\), or from rand.New over a seeded source\)`
	_ = rand.N(time.Second) // want `detcheck: rand: rand.N uses the process-global random source`
	rand.Shuffle(0, nil)    // want `detcheck: rand: rand.Shuffle`
	f := rand.Uint64        // want `detcheck: rand: rand.Uint64`
	_ = f
	_ = mrand.Intn(3) // want `detcheck: rand: rand.Intn`
	mrand.Seed(1)     // want `detcheck: rand: rand.Seed`
}
