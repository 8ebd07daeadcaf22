package agg

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapBytes maps size zeroed bytes, or returns nil.
func mapBytes(size int) unsafe.Pointer {
	p, err := unix.MmapPtr(-1, 0, nil, uintptr(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil
	}
	if size >= hugePage {
		// Transparent huge pages, where the system allows them: a probe
		// into a table of many MiB then rarely misses the TLB, and the
		// kernel faults it in 2 MiB at a time instead of 4 KiB. A mapping
		// keeps the advice when remapBytes grows it.
		_ = unix.Madvise(unsafe.Slice((*byte)(p), size), unix.MADV_HUGEPAGE)
	}
	return p
}

// remapBytes grows the mapping at p from old to size bytes, in place or
// moved by the kernel (page tables, not bytes), or returns nil and leaves
// it alone. The new bytes are zero.
func remapBytes(p unsafe.Pointer, old, size int) unsafe.Pointer {
	q, err := unix.MremapPtr(p, uintptr(old), nil, uintptr(size), unix.MREMAP_MAYMOVE)
	if err != nil {
		return nil
	}
	if old < hugePage && size >= hugePage {
		_ = unix.Madvise(unsafe.Slice((*byte)(q), size), unix.MADV_HUGEPAGE)
	}
	return q
}

// unmapBytes unmaps what mapBytes or remapBytes mapped.
func unmapBytes(p unsafe.Pointer, size int) {
	_ = unix.MunmapPtr(p, uintptr(size))
}

// releaseBytes gives the kernel back the pages of [p, p+size), both
// page-aligned, keeping the mapping: the pages no longer count in the
// resident set, and read as zeros if touched again.
func releaseBytes(p unsafe.Pointer, size int) {
	_ = unix.Madvise(unsafe.Slice((*byte)(p), size), unix.MADV_DONTNEED)
}
