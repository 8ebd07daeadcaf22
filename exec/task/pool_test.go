package task

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestBufferPool checks that the pool reuses freed buffers (cleared), keeps
// the allocator underneath balanced whatever the order of frees (before and
// after close, through Reallocate), and leaves small buffers alone.
func TestBufferPool(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := newBufferPool(mem)

	a := p.Allocate(5000) // class 8 KiB
	if len(a) != 5000 || cap(a) != 8192 {
		t.Fatalf("Allocate(5000): len %d cap %d, want 5000 and 8192", len(a), cap(a))
	}
	for i := range a {
		a[i] = 0xff
	}
	p.Free(a)
	b := p.Allocate(6000)
	if &b[0] != &a[0] {
		t.Errorf("a freed buffer of the same class was not reused")
	}
	for i, x := range b {
		if x != 0 {
			t.Fatalf("reused buffer not cleared at %d", i)
		}
	}
	b[5999] = 1
	b = p.Reallocate(7000, b) // grows in place, the new tail cleared
	if len(b) != 7000 || b[5999] != 1 || b[6500] != 0 {
		t.Fatalf("Reallocate in place: len %d, kept %d, tail %d", len(b), b[5999], b[6500])
	}
	b = p.Reallocate(20000, b) // moves to the 32 KiB class, keeping the bytes
	if cap(b) != 32768 || b[5999] != 1 {
		t.Fatalf("Reallocate across classes: cap %d, kept %d", cap(b), b[5999])
	}

	small := p.Allocate(100) // not pooled: the allocator's own
	small = p.Reallocate(50, small)
	small = p.Reallocate(3000, small)
	later := p.Allocate(1 << 20)
	p.Free(small)
	p.Free(b)
	if mem.CurrentAlloc() == 0 {
		t.Fatal("held buffers should still count against the allocator")
	}
	p.close()
	p.Free(later) // after close: straight to the allocator
	huge := p.Allocate(100 << 20)
	p.Free(huge)
}
