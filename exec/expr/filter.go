package expr

import (
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FilterRecord returns the rows of rec where mask (a BOOLEAN array of the
// same length) is TRUE; NULL counts as FALSE. The caller releases the
// result. When every row is selected it is rec itself, retained; a
// contiguous run of rows is a zero-copy slice.
func FilterRecord(rec arrow.Record, mask arrow.Array, alloc memory.Allocator) (arrow.Record, error) {
	n := int(rec.NumRows())
	b, ok := mask.(*array.Boolean)
	if !ok || b.Len() != n {
		return nil, fmt.Errorf("internal: filter mask is %s of %d rows for %d rows", mask.DataType(), mask.Len(), n)
	}
	sel := selection(b)
	count := bitutil.CountSetBits(sel, 0, n)
	switch count {
	case n:
		rec.Retain()
		return rec, nil
	case 0:
		cols := make([]arrow.Array, rec.NumCols())
		for i := range cols {
			cols[i] = array.MakeArrayOfNull(alloc, rec.Column(i).DataType(), 0)
		}
		return newRecord(rec.Schema(), cols, 0), nil
	}
	runs := selectedRuns(sel, n)
	cols := make([]arrow.Array, rec.NumCols())
	if len(runs) == 1 {
		for i := range cols {
			cols[i] = array.NewSlice(rec.Column(i), int64(runs[0].start), int64(runs[0].end))
		}
		return newRecord(rec.Schema(), cols, count), nil
	}
	for i := range cols {
		a, err := takeRuns(alloc, rec.Column(i), runs, count)
		if err != nil {
			releaseArrays(cols[:i])
			return nil, fmt.Errorf("filtering column %s: %w", rec.Schema().Field(i).Name, err)
		}
		cols[i] = a
	}
	return newRecord(rec.Schema(), cols, count), nil
}

// run is a range [start, end) of selected rows.
type run struct{ start, end int }

// selectedRuns lists the runs of set bits of a bitmap of n rows, reading it
// 64 bits at a time.
func selectedRuns(sel []byte, n int) []run {
	var runs []run
	open := -1
	for w := 0; w*64 < n; w++ {
		var word uint64
		for k := 0; k < 8 && w*8+k < len(sel); k++ {
			word |= uint64(sel[w*8+k]) << (8 * k)
		}
		if rem := n - w*64; rem < 64 {
			word &= 1<<rem - 1
		}
		base := w * 64
		switch {
		case word == ^uint64(0):
			if open < 0 {
				open = base
			}
			continue
		case word == 0:
			if open >= 0 {
				runs = append(runs, run{open, base})
				open = -1
			}
			continue
		}
		for b := 0; b < 64; {
			if open >= 0 {
				// Find the end of the current run: the next zero bit.
				z := bits.TrailingZeros64(^word >> b)
				if b+z >= 64 {
					break
				}
				runs = append(runs, run{open, base + b + z})
				open = -1
				b += z
			} else {
				o := bits.TrailingZeros64(word >> b)
				if b+o >= 64 {
					break
				}
				open = base + b + o
				b += o
			}
		}
	}
	if open >= 0 {
		runs = append(runs, run{open, n})
	}
	return runs
}

// takeRuns copies the rows of the runs (count rows in all) into a new
// array.
func takeRuns(alloc memory.Allocator, a arrow.Array, runs []run, count int) (arrow.Array, error) {
	data := a.Data()
	off := data.Offset()
	dt := a.DataType()
	if dt.ID() == arrow.NULL {
		return array.NewNull(count), nil
	}
	var valid *memory.Buffer
	if a.NullN() > 0 {
		valid = newBuf(alloc, bitmapLen(count))
		pos := 0
		for _, r := range runs {
			bitutil.CopyBitmap(a.NullBitmapBytes(), off+r.start, r.end-r.start, valid.Bytes(), pos)
			pos += r.end - r.start
		}
	}
	bufs := data.Buffers()
	switch dt.ID() {
	case arrow.BOOL:
		out, ob := newBits(alloc, count)
		pos := 0
		for _, r := range runs {
			bitutil.CopyBitmap(bufs[1].Bytes(), off+r.start, r.end-r.start, ob, pos)
			pos += r.end - r.start
		}
		return makeArr(dt, count, valid, out), nil
	case arrow.STRING, arrow.BINARY:
		return takeRunsVar[int32](alloc, dt, bufs, off, runs, count, valid, arrow.Int32Traits.CastFromBytes)
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		return takeRunsVar[int64](alloc, dt, bufs, off, runs, count, valid, arrow.Int64Traits.CastFromBytes)
	}
	fw, ok := dt.(arrow.FixedWidthDataType)
	if !ok {
		if valid != nil {
			valid.Release()
		}
		return nil, fmt.Errorf("not supported: selecting rows of type %s", dt)
	}
	w := fw.BitWidth() / 8
	out := newBuf(alloc, count*w)
	src, dst := bufs[1].Bytes(), out.Bytes()
	pos := 0
	for _, r := range runs {
		pos += copy(dst[pos:], src[(off+r.start)*w:(off+r.end)*w])
	}
	return makeArr(dt, count, valid, out), nil
}

func takeRunsVar[O int32 | int64](alloc memory.Allocator, dt arrow.DataType, bufs []*memory.Buffer, off int, runs []run,
	count int, valid *memory.Buffer, cast func([]byte) []O) (arrow.Array, error) {
	offs := cast(bufs[1].Bytes())[off:]
	var data []byte
	if bufs[2] != nil {
		data = bufs[2].Bytes()
	}
	size := 0
	for _, r := range runs {
		size += int(offs[r.end] - offs[r.start])
	}
	w := int(unsafe.Sizeof(O(0)))
	ob := newBuf(alloc, (count+1)*w)
	oo := cast(ob.Bytes())
	db := newBuf(alloc, size)
	d := db.Bytes()
	pos, row := 0, 0
	oo[0] = 0
	for _, r := range runs {
		shift := O(pos) - offs[r.start]
		for k := r.start; k < r.end; k++ {
			row++
			oo[row] = offs[k+1] + shift
		}
		pos += copy(d[pos:], data[offs[r.start]:offs[r.end]])
	}
	return makeArr(dt, count, valid, ob, db), nil
}

// selection returns the mask's TRUE-and-not-NULL rows as a bitmap aligned
// to row 0.
func selection(b *array.Boolean) []byte {
	n := b.Len()
	vals, valid := boolBits(vec{arr: b}, n)
	if valid == nil {
		return vals
	}
	out := make([]byte, bitmapLen(n))
	for i := range out {
		out[i] = vals[i] & valid[i]
	}
	return out
}

// newRecord builds a record and releases the columns it was handed.
func newRecord(schema *arrow.Schema, cols []arrow.Array, rows int) arrow.Record {
	r := array.NewRecordBatch(schema, cols, int64(rows))
	releaseArrays(cols)
	return r
}

func asSlice[T any](b []byte) []T {
	var z T
	if len(b) < int(unsafe.Sizeof(z)) {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/int(unsafe.Sizeof(z)))
}

func takeFixed[T any](src []byte, off int, idx []int32, dst []byte) {
	s, d := asSlice[T](src)[off:], asSlice[T](dst)
	for j, i := range idx {
		if i >= 0 {
			d[j] = s[i]
		}
	}
}

// take gathers rows idx of a into a new array; an index below 0 gives a
// NULL row. It handles every fixed-width type, booleans, strings and
// binaries.
func take(alloc memory.Allocator, a arrow.Array, idx []int32) (arrow.Array, error) {
	n := len(idx)
	data := a.Data()
	off := data.Offset()
	dt := a.DataType()
	if dt.ID() == arrow.NULL {
		return array.NewNull(n), nil
	}
	hasNeg := false
	for _, i := range idx {
		if i < 0 {
			hasNeg = true
			break
		}
	}
	var valid *memory.Buffer
	if a.NullN() > 0 || hasNeg {
		valid = newBuf(alloc, bitmapLen(n))
		vb := valid.Bytes()
		src := a.NullBitmapBytes()
		for j, i := range idx {
			bitutil.SetBitTo(vb, j, i >= 0 && (len(src) == 0 || bitutil.BitIsSet(src, off+int(i))))
		}
	}
	bufs := data.Buffers()
	switch dt.ID() {
	case arrow.BOOL:
		out, ob := newBits(alloc, n)
		src := bufs[1].Bytes()
		for j, i := range idx {
			bitutil.SetBitTo(ob, j, i >= 0 && bitutil.BitIsSet(src, off+int(i)))
		}
		return makeArr(dt, n, valid, out), nil
	case arrow.STRING, arrow.BINARY:
		return takeVar[int32](alloc, dt, bufs, off, idx, valid, arrow.Int32Traits.CastFromBytes)
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		return takeVar[int64](alloc, dt, bufs, off, idx, valid, arrow.Int64Traits.CastFromBytes)
	}
	fw, ok := dt.(arrow.FixedWidthDataType)
	if !ok {
		if valid != nil {
			valid.Release()
		}
		return nil, fmt.Errorf("not supported: selecting rows of type %s", dt)
	}
	w := fw.BitWidth() / 8
	out := newBuf(alloc, n*w)
	src := bufs[1].Bytes()
	switch w {
	case 1:
		takeFixed[uint8](src, off, idx, out.Bytes())
	case 2:
		takeFixed[uint16](src, off, idx, out.Bytes())
	case 4:
		takeFixed[uint32](src, off, idx, out.Bytes())
	case 8:
		takeFixed[uint64](src, off, idx, out.Bytes())
	case 16:
		takeFixed[[2]uint64](src, off, idx, out.Bytes())
	default:
		for j, i := range idx {
			if i >= 0 {
				copy(out.Bytes()[j*w:(j+1)*w], src[(off+int(i))*w:])
			}
		}
	}
	return makeArr(dt, n, valid, out), nil
}

func takeVar[O int32 | int64](alloc memory.Allocator, dt arrow.DataType, bufs []*memory.Buffer, off int, idx []int32,
	valid *memory.Buffer, cast func([]byte) []O) (arrow.Array, error) {
	n := len(idx)
	offs := cast(bufs[1].Bytes())[off:]
	var data []byte
	if bufs[2] != nil {
		data = bufs[2].Bytes()
	}
	size := 0
	for _, i := range idx {
		if i >= 0 {
			size += int(offs[i+1] - offs[i])
		}
	}
	w := int(unsafe.Sizeof(O(0)))
	ob := newBuf(alloc, (n+1)*w)
	oo := cast(ob.Bytes())
	db := newBuf(alloc, size)
	d := db.Bytes()
	pos := 0
	oo[0] = 0
	for j, i := range idx {
		if i >= 0 {
			pos += copy(d[pos:], data[offs[i]:offs[i+1]])
		}
		oo[j+1] = O(pos)
	}
	return makeArr(dt, n, valid, ob, db), nil
}
