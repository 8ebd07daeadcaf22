package agg

import (
	"testing"
	"unsafe"
)

// TestGrowState grows state arrays across the size where they move off the
// Go heap and keep growing by remapping: what they held must survive every
// step, new elements must be zero, and after a reset (which keeps the
// mapped capacity) regrowing must see zeros again.
func TestGrowState(t *testing.T) {
	const big = 3 * bigBytes / 8 // int64s: well past the mapped threshold
	var s []int64
	var b []bool
	for _, n := range []int{1, 63, 64, 1000, bigBytes/8 - 1, bigBytes / 8, bigBytes/8 + 1, big / 2, big} {
		old := len(s)
		s = growState(s, n)
		b = growState(b, n)
		if len(s) != n || len(b) != n {
			t.Fatalf("grow to %d: len %d, %d", n, len(s), len(b))
		}
		for i := range old {
			if s[i] != int64(i)*3 || !b[i] {
				t.Fatalf("grow to %d: element %d is %d, %v after growing", n, i, s[i], b[i])
			}
		}
		for i := old; i < n; i++ {
			if s[i] != 0 || b[i] {
				t.Fatalf("grow to %d: new element %d is %d, %v, want zero", n, i, s[i], b[i])
			}
			s[i], b[i] = int64(i)*3, true
		}
	}
	if bytes := cap(s) * int(unsafe.Sizeof(s[0])); bytes < bigBytes {
		t.Fatalf("capacity %d bytes: the test never reached mapped arrays", bytes)
	}
	s, b = resetState(s), resetState(b)
	s, b = growState(s, big), growState(b, big)
	for i := range s {
		if s[i] != 0 || b[i] {
			t.Fatalf("after reset: element %d is %d, %v, want zero", i, s[i], b[i])
		}
	}
	bigFree(s)
	bigFree(b)
}

// TestBigGrow appends past the mapped threshold one element at a time, as
// a table's per-group arrays grow.
func TestBigGrow(t *testing.T) {
	var s []uint64
	for i := range 2 * bigBytes / 8 {
		s = append(bigGrow(s, 1), uint64(i)^0x5555)
	}
	for i, x := range s {
		if x != uint64(i)^0x5555 {
			t.Fatalf("element %d is %#x", i, x)
		}
	}
	bigFree(s)
}
