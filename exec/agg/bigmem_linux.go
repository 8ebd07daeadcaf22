package agg

import (
	"syscall"
	"unsafe"
)

// mapBytes maps size zeroed bytes, or returns nil.
func mapBytes(size int) unsafe.Pointer {
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil
	}
	if size >= 2<<20 {
		// Transparent huge pages, where the system allows them: a probe
		// into a table of many MiB then rarely misses the TLB, and the
		// kernel faults it in 2 MiB at a time instead of 4 KiB.
		_ = syscall.Madvise(mem, syscall.MADV_HUGEPAGE)
	}
	return unsafe.Pointer(unsafe.SliceData(mem))
}

// unmapBytes unmaps what mapBytes mapped.
func unmapBytes(p unsafe.Pointer, size int) {
	_ = syscall.Munmap(unsafe.Slice((*byte)(p), size))
}
