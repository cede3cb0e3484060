// Package other is outside module github.com/loglab/loglab: never checked.
package other

import (
	"math/rand/v2"
	"time"
)

func Other(m map[int]int) int {
	go func() {}()
	for k := range m {
		return k + rand.IntN(3) + int(time.Now().Unix())
	}
	return 0
}
