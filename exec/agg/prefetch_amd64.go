package agg

import "unsafe"

// prefetchSlots asks the CPU to start loading the home slot of each hash in
// hs[:n] (slot h>>shift, at base + (h>>shift)<<size) without waiting for any: a
// PREFETCHT0 retires at once, so a block's misses overlap with each other
// and with the probes of the block before.
//
//go:noescape
func prefetchSlots(base unsafe.Pointer, shift, size uint, hs *uint64, n int)
