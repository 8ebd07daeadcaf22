//go:build !amd64

package textscan

import "unsafe"

// prefetchSlots has no portable form; other architectures rely on the
// touching loop in addBlock.
func prefetchSlots(base unsafe.Pointer, mask uint64, hs *uint32, n int) {}

const hasPrefetch = false
