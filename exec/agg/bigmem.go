package agg

import (
	"os"
	"sync"
	"unsafe"
)

// The arrays of a big hash table (slots, per-group hashes and key
// locations, key pages) hold no pointers and can reach hundreds of MiB. On
// the Go heap they would count twice: the collector lets the heap grow to
// twice what is live before it runs, and a doubled array's old copy lingers
// as garbage until then. From bigBytes up they are mapped from the kernel
// instead (bigmem_linux.go) and handed back the moment the table is freed,
// or a front part at a time while its groups are emitted (bigRelease), so
// a reducer's memory is what its table holds.
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
// times).
func bigGrow[T any](s []T, extra int) []T {
	if len(s)+extra <= cap(s) {
		return s
	}
	return bigResize(s, max(2*cap(s), len(s)+extra, 64))
}

// bigResize returns s (same length) with capacity c > cap(s); s must not be
// used afterwards. The new elements are zero. A mapped array grows in place
// or moves by remapping its pages, never by copying: growing a big table's
// arrays then costs neither a pass over what they hold nor, for a moment,
// the old and the new copy both resident.
func bigResize[T any](s []T, c int) []T {
	var z T
	size := c * int(unsafe.Sizeof(z))
	oldSize := cap(s) * int(unsafe.Sizeof(z))
	if oldSize >= bigBytes {
		p := unsafe.Pointer(unsafe.SliceData(s[:cap(s)]))
		if _, heap := heapBacked.Load(p); !heap {
			if q := remapBytes(p, oldSize, size); q != nil {
				return unsafe.Slice((*T)(q), c)[:len(s)]
			}
		}
	}
	ns := bigMake[T](c)[:len(s)]
	copy(ns, s)
	bigFree(s)
	return ns
}

// growState extends an aggregate's state array s to n elements, the new
// ones zero. It keeps s[len:cap] zero (resetState clears what it drops),
// so extending within the capacity writes nothing: the first write of each
// element is the kernel's zero page or the accumulator's own. Big arrays
// are mapped (bigMake) and grow without copying (bigResize); the
// accumulator gives them back with bigFree.
func growState[T any](s []T, n int) []T {
	switch {
	case n <= len(s):
		return s
	case n <= cap(s):
		return s[:n]
	}
	var z T
	c := max(2*cap(s), n, 64)
	if c*int(unsafe.Sizeof(z)) < bigBytes {
		ns := make([]T, n, c)
		copy(ns, s)
		return ns
	}
	return bigResize(s, c)[:n]
}

// resetState empties a state array from growState, keeping its capacity
// and the invariant that what lies past its length is zero.
func resetState[T any](s []T) []T {
	clear(s)
	return s[:0]
}

// An aggregation emits its groups in id order, so once groups [0, n) are
// out, the front of every per-group array is dead while the rest is still
// to be read. bigRelease hands that front back to the kernel a granule at
// a time (the mapping itself stays, and bigFree unmaps it whole as
// before): an OS page, or a whole huge page for arrays of 2 MiB and more,
// which mapBytes advised to use huge pages. Releasing part of a huge page
// would split it, and khugepaged may fill a half-empty huge page back in.
const hugePage = 2 << 20

var osPage = os.Getpagesize()

// releasedEnd returns s's base and how many of its bytes from there lie in
// whole granules below element n: what bigRelease gives back of groups
// [0, n). It is 0 for an array on the Go heap (small, or not mapped).
func releasedEnd[T any](s []T, n int) (unsafe.Pointer, int) {
	var z T
	size := cap(s) * int(unsafe.Sizeof(z))
	if size < bigBytes || n <= 0 {
		return nil, 0
	}
	p := unsafe.Pointer(unsafe.SliceData(s[:cap(s)]))
	if _, heap := heapBacked.Load(p); heap {
		return nil, 0
	}
	g := osPage
	if size >= hugePage {
		g = hugePage
	}
	end := (uintptr(p) + uintptr(min(n, cap(s))*int(unsafe.Sizeof(z)))) &^ uintptr(g-1)
	if end <= uintptr(p) {
		return p, 0
	}
	return p, int(end - uintptr(p))
}

// bigRelease gives back the memory of elements [from, to) of s, a slice
// from bigMake or growState, after [0, from) went back by an earlier call:
// those elements will never be read or written again. Elements below to
// that share a granule with element to stay.
func bigRelease[T any](s []T, from, to int) {
	if to <= from {
		return
	}
	_, a := releasedEnd(s, from)
	p, b := releasedEnd(s, to)
	if b > a {
		releaseBytes(unsafe.Add(p, a), b-a)
	}
}

// heldBytes is what s holds once bigRelease gave back groups [0, done).
func heldBytes[T any](s []T, done int) int64 {
	_, released := releasedEnd(s, done)
	return capBytes(s) - int64(released)
}

// heapBacked remembers the big slices that mapping could not provide (out of
// address space), so that bigFree leaves them to the collector.
var heapBacked sync.Map

// groupVals is the state of most accumulators: a value per group and
// whether the group has had one (NULL until it has), in state arrays that
// grow with the groups (growState) and go back as the groups are emitted
// (bigRelease). Accumulators embed it for resize, reset, emitted, free and
// size.
type groupVals[T any] struct {
	vals []T
	seen []bool
	done int // groups emitted and given back
}

func (s *groupVals[T]) resize(n int) {
	s.vals = growState(s.vals, n)
	s.seen = growState(s.seen, n)
}

func (s *groupVals[T]) reset() {
	s.vals, s.seen, s.done = resetState(s.vals), resetState(s.seen), 0
}

func (s *groupVals[T]) emitted(n int) {
	bigRelease(s.vals, s.done, n)
	bigRelease(s.seen, s.done, n)
	s.done = n
}

func (s *groupVals[T]) free() {
	bigFree(s.vals)
	bigFree(s.seen)
	s.vals, s.seen = nil, nil
}

func (s *groupVals[T]) size() int64 { return heldBytes(s.vals, s.done) + heldBytes(s.seen, s.done) }
