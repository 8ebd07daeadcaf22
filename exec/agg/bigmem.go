package agg

import (
	"sync"
	"unsafe"
)

// The arrays of a big hash table (slots, per-group hashes and key
// locations, key pages) hold no pointers and can reach hundreds of MiB. On
// the Go heap they would count twice: the collector lets the heap grow to
// twice what is live before it runs, and a doubled array's old copy lingers
// as garbage until then. From bigBytes up they are mapped from the kernel
// instead (bigmem_linux.go) and handed back the moment the table is freed,
// so a reducer's memory is what its table holds.
const bigBytes = 1 << 20

// bigMake returns a zeroed slice of n elements (len and cap n), mapped
// outside the Go heap when it is big and the platform allows.
func bigMake[T any](n int) []T {
	var z T
	size := n * int(unsafe.Sizeof(z))
	if size < bigBytes {
		return make([]T, n)
	}
	p := mapBytes(size)
	if p == nil {
		s := make([]T, n)
		heapBacked.Store(unsafe.Pointer(unsafe.SliceData(s)), true)
		return s
	}
	return unsafe.Slice((*T)(p), n)
}

// bigFree gives back a slice from bigMake (or bigGrow), whole: its capacity
// is the size it was made with. It must not be used afterwards.
func bigFree[T any](s []T) {
	var z T
	size := cap(s) * int(unsafe.Sizeof(z))
	if size < bigBytes {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(s[:cap(s)]))
	if _, ok := heapBacked.LoadAndDelete(p); ok {
		return // the collector's
	}
	unmapBytes(p, size)
}

// bigGrow makes room for extra more elements, doubling the capacity (append
// alone grows large slices by 1.25×, which copies a big table's arrays many
// times); the old array is freed.
func bigGrow[T any](s []T, extra int) []T {
	if len(s)+extra <= cap(s) {
		return s
	}
	ns := bigMake[T](max(2*cap(s), len(s)+extra, 64))[:len(s)]
	copy(ns, s)
	bigFree(s)
	return ns
}

// heapBacked remembers the big slices that mapping could not provide (out of
// address space), so that bigFree leaves them to the collector.
var heapBacked sync.Map
