package task

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// bufferPool is the allocator of one task's operators. A task makes the
// same buffers batch after batch (a column of 16K decimals, its validity
// bitmap, each intermediate of an expression) and lets the last batch's go
// when it makes the next; on the Go heap each would be fresh memory,
// zeroed, and garbage until the collector ran, which keeps the heap at
// about twice what is live. The pool keeps freed buffers by power-of-two
// size and hands them out again, cleared, so a task's memory stays near
// its working set. Small buffers go straight to the task's allocator.
//
// Buffers may outlive the task (records it published to the spool); once
// the task has ended (close), their Free goes straight to the allocator
// underneath, which is also what the pool returns its held buffers to.
type bufferPool struct {
	under memory.Allocator

	mu     sync.Mutex
	free   [poolClasses][][]byte
	held   int // bytes in free
	closed bool
}

const (
	poolMinShift = 12 // 4 KiB: smaller buffers are not worth pooling
	poolClasses  = 15 // up to 64 MiB
	poolMaxHeld  = 64 << 20
)

func newBufferPool(under memory.Allocator) *bufferPool {
	if under == nil {
		under = memory.DefaultAllocator
	}
	return &bufferPool{under: under}
}

// class returns the size class of a request of size bytes, or -1.
func poolClass(size int) int {
	if size <= 1<<(poolMinShift-1) {
		return -1
	}
	c := bits.Len(uint(size-1)) - poolMinShift
	if c >= poolClasses {
		return -1
	}
	return c
}

func (p *bufferPool) Allocate(size int) []byte {
	c := poolClass(size)
	if c < 0 {
		return p.under.Allocate(size)
	}
	p.mu.Lock()
	if n := len(p.free[c]); n > 0 && !p.closed {
		b := p.free[c][n-1]
		p.free[c] = p.free[c][:n-1]
		p.held -= cap(b)
		p.mu.Unlock()
		b = b[:size]
		clear(b) // callers may rely on fresh memory being zero, as Go's is
		return b
	}
	p.mu.Unlock()
	return p.under.Allocate(1 << (c + poolMinShift))[:size]
}

func (p *bufferPool) Reallocate(size int, b []byte) []byte {
	if !p.owns(b) {
		return p.under.Reallocate(size, b) // its accounting follows len(b)
	}
	if cap(b) >= size {
		if size > len(b) {
			clear(b[len(b):size])
		}
		return b[:size]
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

// owns reports whether b was made by the pool: only the pool makes buffers
// of exactly a class size (the allocator underneath returns what is asked,
// and the pool passes it no class size but its own).
func (p *bufferPool) owns(b []byte) bool {
	c := poolClass(cap(b))
	return c >= 0 && cap(b) == 1<<(c+poolMinShift)
}

func (p *bufferPool) Free(b []byte) {
	if !p.owns(b) {
		p.under.Free(b)
		return
	}
	c := poolClass(cap(b))
	b = b[:cap(b)]
	p.mu.Lock()
	if !p.closed && p.held+cap(b) <= poolMaxHeld {
		p.free[c] = append(p.free[c], b)
		p.held += cap(b)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	p.under.Free(b)
}

// close hands every held buffer back to the allocator underneath; buffers
// freed later go there directly.
func (p *bufferPool) close() {
	p.mu.Lock()
	free := p.free
	p.free = [poolClasses][][]byte{}
	p.held, p.closed = 0, true
	p.mu.Unlock()
	for _, bs := range free {
		for _, b := range bs {
			p.under.Free(b)
		}
	}
}
