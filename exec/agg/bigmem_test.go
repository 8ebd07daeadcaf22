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

// TestBigRelease gives back the front of a big state array in uneven
// steps, as emission does: every element from the emitted prefix on must
// keep its value, what bigRelease gave back must read as zero (whole
// granules only), and heldBytes must count down by exactly that.
func TestBigRelease(t *testing.T) {
	const n = 5 * hugePage / 8 // int64s: several huge pages
	s := growState([]int64(nil), n)
	defer bigFree(s)
	for i := range s {
		s[i] = int64(i) + 1
	}
	held := capBytes(s)
	if got := heldBytes(s, 0); got != held {
		t.Fatalf("held %d before any release, want the capacity %d", got, held)
	}
	done := 0
	for _, to := range []int{1, 1000, 1000, 300_001, n / 2, n - 7, n} {
		bigRelease(s, done, to)
		done = to
		_, released := releasedEnd(s, to)
		if released > 8*to {
			t.Fatalf("to %d: %d bytes given back, past the emitted prefix", to, released)
		}
		for i := released / 8; i < n; i++ {
			if s[i] != int64(i)+1 {
				t.Fatalf("to %d: element %d is %d after the release, want %d", to, i, s[i], i+1)
			}
		}
		for i := range released / 8 {
			if s[i] != 0 {
				t.Fatalf("to %d: element %d, given back, reads %d, want 0", to, i, s[i])
			}
		}
		got := heldBytes(s, to)
		if got != capBytes(s)-int64(released) || got > held {
			t.Fatalf("to %d: held %d, want %d and no more than before (%d)", to, got, capBytes(s)-int64(released), held)
		}
		held = got
	}
	if small := growState([]int64(nil), 1000); heldBytes(small, 1000) != capBytes(small) {
		t.Errorf("a Go heap array counts %d bytes held, want all %d", heldBytes(small, 1000), capBytes(small))
	}
}
