package agg

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resident reports, per OS page of b, whether it is in memory.
func resident(t *testing.T, b []byte) []bool {
	t.Helper()
	vec := make([]byte, (len(b)+osPage-1)/osPage)
	_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(unsafe.Pointer(unsafe.SliceData(vec))))
	if errno != 0 {
		t.Fatalf("mincore: %v", errno)
	}
	out := make([]bool, len(vec))
	for i, v := range vec {
		out[i] = v&1 != 0
	}
	return out
}

// TestReleaseBytes checks that releaseBytes gives pages back to the kernel
// (they leave the resident set and read as zeros) and leaves the others
// alone, including across a huge page it splits.
func TestReleaseBytes(t *testing.T) {
	const size = 4 * hugePage
	p := mapBytes(size)
	if p == nil {
		t.Fatal("mapBytes failed")
	}
	defer unmapBytes(p, size)
	b := unsafe.Slice((*byte)(p), size)
	for i := range b {
		b[i] = byte(i%251) + 1
	}
	// Not aligned to a huge page at either end.
	from, to := 3*osPage, hugePage+5*osPage
	releaseBytes(unsafe.Add(p, from), to-from)
	for pg, in := range resident(t, b) {
		if want := pg*osPage < from || pg*osPage >= to; in != want {
			t.Fatalf("page %d resident %v, want %v", pg, in, want)
		}
	}
	for i, c := range b {
		want := byte(i%251) + 1
		if i >= from && i < to {
			want = 0
		}
		if c != want {
			t.Fatalf("byte %d is %d, want %d", i, c, want)
		}
	}
}

// TestBigReleaseResident checks bigRelease on a mapped state array against
// the kernel's view: the pages it counts as given back are not resident.
func TestBigReleaseResident(t *testing.T) {
	const n = 3 * hugePage / 8
	s := growState([]uint64(nil), n)
	defer bigFree(s)
	for i := range s {
		s[i] = uint64(i) | 1
	}
	bigRelease(s, 0, n-1)
	p, released := releasedEnd(s, n-1)
	if released < hugePage {
		t.Fatalf("%d bytes given back of %d emitted: want at least one huge page", released, 8*(n-1))
	}
	in := resident(t, unsafe.Slice((*byte)(p), 8*cap(s)))
	for pg := range released / osPage {
		if in[pg] {
			t.Fatalf("page %d is given back but resident", pg)
		}
	}
	if s[n-1] != uint64(n-1)|1 {
		t.Fatalf("the last element is %d after the release", s[n-1])
	}
}
