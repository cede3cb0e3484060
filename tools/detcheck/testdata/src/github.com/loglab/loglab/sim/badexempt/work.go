package badexempt

func Work() {
	go func() {}() // want `detcheck: goroutine: go statement`
}
