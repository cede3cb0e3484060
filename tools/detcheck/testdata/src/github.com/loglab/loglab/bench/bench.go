package bench

import "time"

// Run measures real time.
func Run() time.Duration {
	start := time.Now()
	go func() {}()
	return time.Since(start)
}
