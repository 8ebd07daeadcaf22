package textscan

import "unsafe"

// prefetchSlots asks the CPU to start loading the home slot of each hash in
// hs[:n] (slot i is at base + 32*(h&mask)) and the slot after it, which for
// an odd home is on the next cache line and is where a displaced word
// usually sits, without waiting for any of them:
// a PREFETCHT0 retires at once, so the misses of a whole block overlap with
// the work that follows instead of stalling the instruction window.
//
//go:noescape
func prefetchSlots(base unsafe.Pointer, mask uint64, hs *uint32, n int)

const hasPrefetch = true
