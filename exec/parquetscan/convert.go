package parquetscan

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// convert returns in as an array of type to (a quern type), sharing in's
// buffers where the layout already matches. The caller releases the result.
func convert(in arrow.Array, to arrow.DataType, alloc memory.Allocator) (arrow.Array, error) {
	from := in.DataType()
	if arrow.TypeEqual(from, to) {
		in.Retain()
		return in, nil
	}
	switch a := in.(type) {
	case *array.Int8:
		return widen[int8, int64](a.Int8Values(), in, to, alloc), nil
	case *array.Int16:
		return widen[int16, int64](a.Int16Values(), in, to, alloc), nil
	case *array.Int32:
		switch to.ID() { // see readAsStored
		case arrow.DECIMAL128:
			return decimalFromInts(a.Int32Values(), in, to, alloc), nil
		case arrow.DATE32: // days since the epoch either way
			nd := array.NewData(to, in.Len(), in.Data().Buffers(), nil, in.NullN(), in.Data().Offset())
			defer nd.Release()
			return array.MakeFromData(nd), nil
		}
		return widen[int32, int64](a.Int32Values(), in, to, alloc), nil
	case *array.Int64: // BIGINT is int64 already: only a DECIMAL gets here
		if to.ID() == arrow.DECIMAL128 {
			return decimalFromInts(a.Int64Values(), in, to, alloc), nil
		}
	case *array.Uint8:
		return widen[uint8, uint64](a.Uint8Values(), in, to, alloc), nil
	case *array.Uint16:
		return widen[uint16, uint64](a.Uint16Values(), in, to, alloc), nil
	case *array.Uint32:
		return widen[uint32, uint64](a.Uint32Values(), in, to, alloc), nil
	case *array.Float32:
		return widen[float32, float64](a.Float32Values(), in, to, alloc), nil
	case *array.Float16:
		out, dst := newFixed[float64](in, to, alloc)
		for i, v := range a.Values() {
			dst[i] = float64(v.Float32())
		}
		return out(), nil
	case *array.Timestamp:
		unit := from.(*arrow.TimestampType).Unit
		if unit == arrow.Microsecond { // only the zone differs: relabel
			return relabel(in, to), nil
		}
		out, dst := newFixed[arrow.Timestamp](in, to, alloc)
		for i, v := range a.TimestampValues() {
			dst[i] = arrow.Timestamp(toMicros(int64(v), unit))
		}
		return out(), nil
	case *array.Binary:
		return relabel(in, to), nil // same layout as utf8; bytes are not validated
	case *array.FixedSizeBinary:
		return copyFixedStrings(a, alloc)
	case *array.Dictionary:
		return expandDictionary(a, to, alloc)
	}
	return nil, fmt.Errorf("internal: parquetscan: no conversion from %s to %s", from, to)
}

// relabel shares in's buffers under another type of the same layout.
func relabel(in arrow.Array, to arrow.DataType) arrow.Array {
	d := in.Data()
	nd := array.NewData(to, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
	defer nd.Release()
	return array.MakeFromData(nd)
}

// newFixed allocates a fixed-width output for in's rows and returns the
// value slice to fill and a function that finishes the array. Validity is
// shared with in when in starts at offset 0, and copied otherwise.
func newFixed[T any](in arrow.Array, to arrow.DataType, alloc memory.Allocator) (func() arrow.Array, []T) {
	n := in.Len()
	var zero T
	width := int(unsafe.Sizeof(zero))
	values := memory.NewResizableBuffer(alloc)
	values.Resize(n * width)
	var dst []T
	if n > 0 {
		dst = unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(values.Bytes()))), n)
	}

	d := in.Data()
	var validity *memory.Buffer
	ownValidity := false
	if in.NullN() > 0 {
		if d.Offset() == 0 {
			validity = d.Buffers()[0]
		} else {
			validity = memory.NewResizableBuffer(alloc)
			validity.Resize(int(bitutil.BytesForBits(int64(n))))
			bitutil.CopyBitmap(d.Buffers()[0].Bytes(), d.Offset(), n, validity.Bytes(), 0)
			ownValidity = true
		}
	}
	finish := func() arrow.Array {
		nd := array.NewData(to, n, []*memory.Buffer{validity, values}, nil, in.NullN(), 0)
		values.Release()
		if ownValidity {
			validity.Release()
		}
		defer nd.Release()
		return array.MakeFromData(nd)
	}
	return finish, dst
}

// widen converts each value with a Go conversion; null slots hold whatever
// the source held, which is harmless behind the validity bitmap.
func widen[S, D int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64](
	src []S, in arrow.Array, to arrow.DataType, alloc memory.Allocator) arrow.Array {
	out, dst := newFixed[D](in, to, alloc)
	for i, v := range src {
		dst[i] = D(v)
	}
	return out()
}

// decimalFromInts widens the unscaled values of a DECIMAL stored as INT32 or
// INT64 to decimal128: the low word is the value, the high word its sign.
func decimalFromInts[S int32 | int64](src []S, in arrow.Array, to arrow.DataType, alloc memory.Allocator) arrow.Array {
	out, dst := newFixed[decimal128.Num](in, to, alloc)
	for i, v := range src {
		dst[i] = decimal128.New(int64(v)>>63, uint64(int64(v)))
	}
	return out()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

// copyFixedStrings rebuilds fixed-length byte strings as utf8. Rare (plain
// FIXED_LEN_BYTE_ARRAY columns), so a builder is good enough.
func copyFixedStrings(a *array.FixedSizeBinary, alloc memory.Allocator) (arrow.Array, error) {
	b := array.NewStringBuilder(alloc)
	defer b.Release()
	width := a.DataType().(*arrow.FixedSizeBinaryType).ByteWidth
	if int64(a.Len())*int64(width) > 1<<31-1 {
		return nil, fmt.Errorf("a batch holds more than 2 GiB of strings; use a smaller batch size")
	}
	b.Reserve(a.Len())
	b.ReserveData(a.Len() * width)
	for i := range a.Len() {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		b.BinaryBuilder.Append(a.Value(i))
	}
	return b.NewArray(), nil
}

// expandDictionary turns dictionary-encoded strings (read so by the Reader,
// see SetReadDict there) into a plain utf8 array: one pass to size the
// data, one to copy each value's bytes.
func expandDictionary(a *array.Dictionary, to arrow.DataType, alloc memory.Allocator) (arrow.Array, error) {
	var offs []int32
	var data []byte
	switch d := a.Dictionary().(type) {
	case *array.String:
		offs, data = d.ValueOffsets(), stringData(d.Data())
	case *array.Binary:
		offs, data = d.ValueOffsets(), stringData(d.Data())
	default:
		return nil, fmt.Errorf("internal: parquetscan: dictionary of %s", a.Dictionary().DataType())
	}
	n := a.Len()
	var idx []int32 // the dictionary index of each row; a null's is any index
	if ix, ok := a.Indices().(*array.Int32); ok {
		idx = ix.Int32Values() // what pqarrow produces: read in place
	} else {
		idx = make([]int32, n)
		for i := range n {
			if a.IsValid(i) {
				idx[i] = int32(a.GetValueIndex(i))
			}
		}
	}
	var nulls []byte
	if a.NullN() > 0 {
		nulls = a.NullBitmapBytes()
	}
	off := a.Data().Offset()
	valid := func(i int) bool { return nulls == nil || bitutil.BitIsSet(nulls, off+i) }
	var total int64
	longest := int32(0)
	for i, k := range idx {
		if valid(i) {
			l := offs[k+1] - offs[k]
			total += int64(l)
			longest = max(longest, l)
		}
	}
	if total > 1<<31-1 {
		return nil, fmt.Errorf("a batch holds more than 2 GiB of strings; use a smaller batch size")
	}
	offBuf := memory.NewResizableBuffer(alloc)
	offBuf.Resize((n + 1) * 4)
	dataBuf := memory.NewResizableBuffer(alloc)
	dataBuf.Resize(int(total))
	out := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())
	dst := dataBuf.Bytes()
	at := int32(0)
	out[0] = 0
	if longest <= 16 {
		// Flags, codes, short names: a call to copy per value would cost
		// more than the bytes it moves.
		for i, k := range idx {
			if valid(i) {
				for j := offs[k]; j < offs[k+1]; j++ {
					dst[at] = data[j]
					at++
				}
			}
			out[i+1] = at
		}
	} else {
		for i, k := range idx {
			if valid(i) {
				at += int32(copy(dst[at:], data[offs[k]:offs[k+1]]))
			}
			out[i+1] = at
		}
	}
	d := a.Data()
	var validity *memory.Buffer
	if a.NullN() > 0 {
		validity = memory.NewResizableBuffer(alloc)
		validity.Resize(int(bitutil.BytesForBits(int64(n))))
		bitutil.CopyBitmap(d.Buffers()[0].Bytes(), d.Offset(), n, validity.Bytes(), 0)
		defer validity.Release()
	}
	nd := array.NewData(to, n, []*memory.Buffer{validity, offBuf, dataBuf}, nil, a.NullN(), 0)
	offBuf.Release()
	dataBuf.Release()
	defer nd.Release()
	return array.MakeFromData(nd), nil
}

func stringData(d arrow.ArrayData) []byte {
	if b := d.Buffers()[2]; b != nil {
		return b.Bytes()
	}
	return nil
}
