package join

import (
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// intTable indexes the build rows by one integer-like key (BIGINT, BIGINT
// UNSIGNED, DATE, DATETIME: the keys of most joins) with open addressing
// over the key's bits, instead of a Go map from encoded key bytes: no key
// bytes are written, hashed as a string or compared as one, and a probe is
// one multiply and, mostly, one cache line. Rows of one key are chained in
// build order, so matches come out in the order the generic table gives.
type intTable struct {
	keys       []uint64
	head, tail []int32 // a slot's first and last build row, plus one (0: empty slot)
	next       []int32 // per build row: the next row of its key, -1 at the end
	shift      uint
	mask       uint64
}

// intKeyed reports whether a column of type dt can key an intTable, and
// reads its values as bits.
func intKeyed(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT64, arrow.UINT64, arrow.DATE32, arrow.TIMESTAMP:
		return true
	}
	return false
}

// keyBits returns the values of an intKeyed column as bits, in dst's
// storage (NULL rows hold whatever their slot holds: callers skip them).
func keyBits(col arrow.Array, dst []uint64) []uint64 {
	n := col.Len()
	if cap(dst) < n {
		dst = make([]uint64, n)
	}
	dst = dst[:n]
	switch a := col.(type) {
	case *array.Int64:
		for i, v := range a.Int64Values() {
			dst[i] = uint64(v)
		}
	case *array.Uint64:
		copy(dst, a.Uint64Values())
	case *array.Date32:
		for i, v := range a.Date32Values() {
			dst[i] = uint64(uint32(v))
		}
	case *array.Timestamp:
		for i, v := range a.TimestampValues() {
			dst[i] = uint64(v)
		}
	}
	return dst
}

func newIntTable(rows int) *intTable {
	size := 16
	for size < 2*rows {
		size <<= 1
	}
	t := &intTable{
		keys: make([]uint64, size), head: make([]int32, size), tail: make([]int32, size),
		next:  make([]int32, rows),
		shift: uint(64 - bits.TrailingZeros(uint(size))), mask: uint64(size - 1),
	}
	for i := range t.next {
		t.next[i] = -1
	}
	return t
}

func (t *intTable) slot(k uint64) uint64 { return (k * 0x9e3779b97f4a7c15) >> t.shift }

// add indexes build row row under key k; rows are added in order.
func (t *intTable) add(k uint64, row int32) {
	for i := t.slot(k); ; i = (i + 1) & t.mask {
		switch {
		case t.head[i] == 0:
			t.keys[i], t.head[i], t.tail[i] = k, row+1, row+1
			return
		case t.keys[i] == k:
			t.next[t.tail[i]-1] = row
			t.tail[i] = row + 1
			return
		}
	}
}

// first returns the first build row of key k, or -1.
func (t *intTable) first(k uint64) int32 {
	for i := t.slot(k); ; i = (i + 1) & t.mask {
		switch {
		case t.head[i] == 0:
			return -1
		case t.keys[i] == k:
			return t.head[i] - 1
		}
	}
}

// bytes is what the table holds.
func (t *intTable) bytes() int64 { return int64(len(t.keys))*16 + int64(len(t.next))*4 }
