package agg

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// This file holds the small typed accessors and constructors the kernels use
// to read Arrow arrays as Go slices and to build result arrays straight into
// allocator buffers, so that no hot loop goes through arrow.Array methods.

// validity reads one array's validity bitmap. bm == nil means every value is
// valid; all means every value is NULL (the Arrow Null type has no bitmap).
type validity struct {
	bm  []byte
	off int
	all bool
}

func validityOf(a arrow.Array) validity {
	if a.DataType().ID() == arrow.NULL {
		return validity{all: true}
	}
	if a.NullN() == 0 {
		return validity{}
	}
	return validity{bm: a.NullBitmapBytes(), off: a.Data().Offset()}
}

// valid reports whether row i holds a value.
func (v validity) valid(i int) bool {
	return v.bm == nil && !v.all || v.bm != nil && bitutil.BitIsSet(v.bm, v.off+i)
}

// castSlice reinterprets an Arrow buffer as a slice of fixed-width values.
func castSlice[T any](b []byte) []T {
	var z T
	n := len(b) / int(unsafe.Sizeof(z))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// fixedValues returns the values of a fixed-width array (int64, uint64,
// float64, date32, timestamp, decimal128), already shifted by its offset.
func fixedValues[T any](a arrow.Array) []T {
	bufs := a.Data().Buffers()
	if len(bufs) < 2 || bufs[1] == nil {
		return nil
	}
	off := a.Data().Offset()
	return castSlice[T](bufs[1].Bytes())[off : off+a.Len()]
}

// boolBits returns the value bitmap of a boolean array and its bit offset.
func boolBits(a arrow.Array) ([]byte, int) {
	bufs := a.Data().Buffers()
	if len(bufs) < 2 || bufs[1] == nil {
		return nil, 0
	}
	return bufs[1].Bytes(), a.Data().Offset()
}

// stringParts returns the absolute offsets (len = Len()+1) and the whole data
// buffer of a string array, so value i is data[offs[i]:offs[i+1]].
func stringParts(a arrow.Array) ([]int32, []byte) {
	s := a.(*array.String)
	var data []byte
	if b := a.Data().Buffers()[2]; b != nil {
		data = b.Bytes()
	}
	return s.ValueOffsets(), data
}

// newBitmap allocates a validity bitmap for n rows from valid, or returns nil
// (and 0 nulls) when every row is valid.
func newBitmap(mem memory.Allocator, valid []bool) (*memory.Buffer, int) {
	nulls := 0
	for _, ok := range valid {
		if !ok {
			nulls++
		}
	}
	if nulls == 0 {
		return nil, 0
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(len(valid)))))
	bm := buf.Bytes()
	clear(bm)
	for i, ok := range valid {
		if ok {
			bitutil.SetBit(bm, i)
		}
	}
	return buf, nulls
}

// makeArray wraps buffers into an array and drops the local references.
func makeArray(dt arrow.DataType, n int, bufs []*memory.Buffer, nulls int) arrow.Array {
	data := array.NewData(dt, n, bufs, nil, nulls, 0)
	arr := array.MakeFromData(data)
	data.Release()
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	return arr
}

// buildFixed makes a fixed-width array of type dt from vals; valid == nil
// means no NULLs.
func buildFixed[T any](mem memory.Allocator, dt arrow.DataType, vals []T, valid []bool) arrow.Array {
	var z T
	size := int(unsafe.Sizeof(z))
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(len(vals) * size)
	copy(castSlice[T](buf.Bytes()), vals)
	vb, nulls := newBitmap(mem, valid)
	return makeArray(dt, len(vals), []*memory.Buffer{vb, buf}, nulls)
}

// buildBool makes a boolean array.
func buildBool(mem memory.Allocator, vals []bool, valid []bool) arrow.Array {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(len(vals)))))
	bm := buf.Bytes()
	clear(bm)
	for i, v := range vals {
		if v {
			bitutil.SetBit(bm, i)
		}
	}
	vb, nulls := newBitmap(mem, valid)
	return makeArray(arrow.FixedWidthTypes.Boolean, len(vals), []*memory.Buffer{vb, buf}, nulls)
}

// stringBuilder assembles a string array directly into its offset and data
// buffers: the caller reserves the total byte size up front.
type stringBuilder struct {
	offs  *memory.Buffer
	data  *memory.Buffer
	o     []int32
	d     []byte
	n     int
	valid []bool
}

func newStringBuilder(mem memory.Allocator, rows, bytes int) (*stringBuilder, error) {
	if bytes > 1<<31-1 {
		return nil, fmt.Errorf("not supported: %d bytes of strings in one batch (the limit is 2 GiB); lower the batch size", bytes)
	}
	b := &stringBuilder{offs: memory.NewResizableBuffer(mem), data: memory.NewResizableBuffer(mem), valid: make([]bool, rows)}
	b.offs.Resize((rows + 1) * 4)
	b.data.Resize(bytes)
	b.o = castSlice[int32](b.offs.Bytes())
	b.d = b.data.Bytes()[:0]
	b.o[0] = 0
	return b, nil
}

func (b *stringBuilder) append(v []byte, ok bool) {
	b.d = append(b.d, v...)
	b.valid[b.n] = ok
	b.n++
	b.o[b.n] = int32(len(b.d))
}

func (b *stringBuilder) finish(mem memory.Allocator) arrow.Array {
	vb, nulls := newBitmap(mem, b.valid)
	return makeArray(arrow.BinaryTypes.String, b.n, []*memory.Buffer{vb, b.offs, b.data}, nulls)
}

// nullsOf returns an all-NULL array of type dt and length n.
func nullsOf(mem memory.Allocator, dt arrow.DataType, n int) arrow.Array {
	if dt.ID() == arrow.NULL {
		return array.NewNull(n)
	}
	return array.MakeArrayOfNull(mem, dt, n)
}
