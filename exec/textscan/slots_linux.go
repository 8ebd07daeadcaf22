package textscan

import (
	"syscall"
	"unsafe"
)

// hugeSlots is the table size from which slots live in their own mapping.
// A big table is probed at random, so with 4 KiB pages nearly every cold
// probe also misses the TLB; a mapping of its own can ask for transparent
// huge pages (2 MiB), and it goes back to the kernel the moment the table is
// freed instead of waiting for the garbage collector, which keeps the peak
// memory of a map stage at the tables actually in use.
const hugeSlots = 4 << 20 / int(unsafe.Sizeof(slot{}))

// allocSlots returns n zeroed slots.
func allocSlots(n int) []slot {
	size := n * int(unsafe.Sizeof(slot{}))
	if n < hugeSlots {
		return make([]slot, n)
	}
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return make([]slot, n) // no address space: let the Go heap try
	}
	_ = syscall.Madvise(mem, syscall.MADV_HUGEPAGE) // advice only: fine if refused
	return unsafe.Slice((*slot)(unsafe.Pointer(unsafe.SliceData(mem))), n)
}

// freeSlots releases slots from allocSlots; s must not be used afterwards.
func freeSlots(s []slot) {
	if len(s) < hugeSlots {
		return // Go memory
	}
	mem := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(slot{})))
	_ = syscall.Munmap(mem)
}
