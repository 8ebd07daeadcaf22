package agg

import "unsafe"

// prefetchSlots asks the CPU to start loading the slot of each hash in
// hs[:n] (slot i at base + (h&mask)<<shift) without waiting for any: a
// PREFETCHT0 retires at once, so a block's misses overlap with each other
// and with the probes of the block before.
//
//go:noescape
func prefetchSlots(base unsafe.Pointer, mask uint64, shift uint, hs *uint64, n int)
