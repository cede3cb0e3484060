package bad

import (
	"context"
	"time"
)

func clock() {
	_ = time.Now()                   // want `detcheck: wallclock: time.Now reads the wall clock \(use Host.Now, Host.Monotonic or Host.AfterFunc\)`
	_ = time.Since(time.Time{})      // want `detcheck: wallclock: time.Since reads the wall clock`
	_ = time.Until(time.Time{})      // want `detcheck: wallclock: time.Until reads the wall clock`
	time.Sleep(time.Millisecond)     // want `detcheck: wallclock: time.Sleep blocks on the real clock \(schedule the rest with Host.AfterFunc\)`
	_ = time.After(1)                // want `detcheck: wallclock: time.After starts a real timer`
	_ = time.AfterFunc(1, func() {}) // want `detcheck: wallclock: time.AfterFunc starts a real timer`
	_ = time.NewTimer(1)             // want `detcheck: wallclock: time.NewTimer starts a real timer`
	_ = time.NewTicker(1)            // want `detcheck: wallclock: time.NewTicker starts a real ticker`
	_ = time.Tick(1)                 // want `detcheck: wallclock: time.Tick starts a real ticker`
	now := time.Now                  // want `detcheck: wallclock: time.Now reads the wall clock`
	_ = now

	ctx, cancel := context.WithTimeout(context.Background(), time.Second) // want `detcheck: wallclock: context.WithTimeout starts a real timer`
	defer cancel()
	_, _ = context.WithDeadline(ctx, time.Time{}) // want `detcheck: wallclock: context.WithDeadline starts a real timer`
	context.AfterFunc(ctx, func() {})             // want `detcheck: goroutine: context.AfterFunc runs its function on a new goroutine`

	_ = time.Local                  // want `detcheck: os: time.Local depends on the process time zone \(use time.UTC\)`
	_, _ = time.LoadLocation("UTC") // want `detcheck: os: time.LoadLocation reads the OS time zone database`
}
