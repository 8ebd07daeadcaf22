package main

import (
	"os"
	"runtime/debug"
	"runtime/pprof"
	"strings"

	"github.com/quernsql/quern"
)

// parseMemoryLimit reads --memory-limit: a size, or -1 / "none" for no
// limit.
func parseMemoryLimit(s string) (int64, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "-1", "none", "unlimited":
		return -1, nil
	}
	n, err := quern.ParseBytes(s)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return -1, nil
	}
	return n, nil
}

// limitGoHeap tells Go's collector about the memory limit, so the heap is
// collected harder as it nears it instead of growing to twice the live
// data. The operators' reservations take 60% of the limit (see
// exec.OperatorBudget); the rest is headroom for batches in flight and the
// runtime.
func limitGoHeap(limit int64) {
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
}

// startCPUProfile profiles the process into path until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
