//go:build !amd64

package agg

import "unsafe"

// prefetchSlots has no portable form; elsewhere probes take their misses
// one at a time.
func prefetchSlots(base unsafe.Pointer, shift, size uint, hs *uint64, n int) {}
