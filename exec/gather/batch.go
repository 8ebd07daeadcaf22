package gather

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Batch collects selected rows of batches of one schema in Arrow buffers
// of its own and hands them over as a record without another copy. It is
// what a shuffle partition fills between flushes: an array.RecordBuilder
// would cost a scratch copy and a []bool per fixed-width column and several
// calls per string, where a Batch runs one typed loop per column from the
// source's buffers into its own.
//
//	Append(rec, rows) ─▶ values / offsets+bytes / bits, validity only once a NULL came
//	NewRecord()       ─▶ arrays over those buffers; the Batch starts empty again
//
// Buffers come from the Batch's allocator in power-of-two sizes, and once a
// record has been made each buffer starts at the size its predecessor
// reached, so a pool of power-of-two size classes gets the same sizes back
// batch after batch and a full batch needs no regrowth. A Batch is used by
// one goroutine.
type Batch struct {
	mem      memory.Allocator
	schema   *arrow.Schema
	cols     []column
	n        int // rows held
	lastRows int // rows of the last record made: how much the next one reserves
}

type columnKind uint8

const (
	nullColumn   columnKind = iota // no buffers, every row NULL
	fixedColumn                    // width bytes per value
	boolColumn                     // one bit per value
	stringColumn                   // int32 offsets and bytes
)

type column struct {
	kind    columnKind
	width   int            // fixedColumn: bytes per value
	valid   *memory.Buffer // validity bitmap, nil while every row is valid
	nulls   int
	values  *memory.Buffer // values, bits, or offsets (nil until the first row)
	data    *memory.Buffer // stringColumn: the bytes
	dataLen int
	// lastData is the bytes of the last record's string data: the next
	// record reserves that much at once.
	lastData int
}

// NewBatch returns an empty Batch for rows of schema, whose columns must
// all be Copyable.
func NewBatch(mem memory.Allocator, schema *arrow.Schema) (*Batch, error) {
	if err := Copyable(schema); err != nil {
		return nil, err
	}
	b := &Batch{mem: mem, schema: schema, cols: make([]column, schema.NumFields())}
	for i, f := range schema.Fields() {
		c := &b.cols[i]
		switch f.Type.ID() {
		case arrow.NULL:
			c.kind = nullColumn
		case arrow.BOOL:
			c.kind = boolColumn
		case arrow.STRING:
			c.kind = stringColumn
		default:
			c.kind = fixedColumn
			c.width = f.Type.(arrow.FixedWidthDataType).Bytes()
		}
	}
	return b, nil
}

// Len returns the rows held.
func (b *Batch) Len() int { return b.n }

// Append copies rows of rec, in that order, into the batch and returns about
// how many bytes that added (the measure Rows.Append gives, which the
// shuffle's flush threshold is set in). rec's columns must have the types
// of the Batch's schema; their names do not matter. An error from a column
// leaves the Batch fit only for Release.
func (b *Batch) Append(rec arrow.Record, rows []int32) (int, error) {
	if int(rec.NumCols()) != len(b.cols) {
		return 0, fmt.Errorf("internal: gathering %d columns into a batch of %d", rec.NumCols(), len(b.cols))
	}
	for i := range b.cols {
		if got, want := rec.Column(i).DataType().ID(), b.schema.Field(i).Type.ID(); got != want {
			return 0, fmt.Errorf("internal: gathering a column of Arrow type %s into column %s of type %s",
				rec.Column(i).DataType(), b.schema.Field(i).Name, b.schema.Field(i).Type)
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	size := 0
	for i := range b.cols {
		n, err := b.appendColumn(&b.cols[i], rec.Column(i).Data(), rows)
		if err != nil {
			return 0, fmt.Errorf("gathering column %s: %w", b.schema.Field(i).Name, err)
		}
		size += n
	}
	b.n += len(rows)
	return size, nil
}

func (b *Batch) appendColumn(c *column, src arrow.ArrayData, rows []int32) (int, error) {
	n, end := b.n, b.n+len(rows)
	size := len(rows) * 8
	switch c.kind {
	case nullColumn:
		c.nulls += len(rows)
		return size, nil
	case fixedColumn:
		c.values = b.grow(c.values, end*c.width, b.lastRows*c.width)
		gatherFixed(c.values.Buf(), c.width, n, src, rows)
		if c.width == 16 {
			size *= 2
		}
	case boolColumn:
		c.values = b.grow(c.values, bitmapBytes(end), bitmapBytes(b.lastRows))
		gatherBits(c.values.Buf(), n, src.Buffers()[1], src.Offset(), rows)
	case stringColumn:
		total, err := b.gatherStrings(c, src, rows)
		if err != nil {
			return 0, err
		}
		size = total + 4*len(rows)
	}
	b.gatherValidity(c, src, rows)
	return size, nil
}

// gatherFixed copies the selected values of a fixed-width column into dst
// from value n on. Values are moved as bits, so every type of a width
// shares one loop.
func gatherFixed(dst []byte, width, n int, src arrow.ArrayData, rows []int32) {
	buf := src.Buffers()[1]
	if buf == nil || buf.Len() == 0 {
		// No values buffer at all: only an all-NULL column has none, and
		// its values are never read, but they are zero rather than stale.
		clear(dst[n*width : (n+len(rows))*width])
		return
	}
	off := src.Offset()
	switch width {
	case 4:
		gatherValues(arrow.Uint32Traits.CastFromBytes(dst)[n:], arrow.Uint32Traits.CastFromBytes(buf.Bytes())[off:], rows)
	case 8:
		gatherValues(arrow.Uint64Traits.CastFromBytes(dst)[n:], arrow.Uint64Traits.CastFromBytes(buf.Bytes())[off:], rows)
	case 16:
		gatherValues(arrow.Decimal128Traits.CastFromBytes(dst)[n:], arrow.Decimal128Traits.CastFromBytes(buf.Bytes())[off:], rows)
	default:
		panic(fmt.Sprintf("internal: gathering values %d bytes wide", width))
	}
}

func gatherValues[T uint32 | uint64 | decimal128.Num](dst, src []T, rows []int32) {
	dst = dst[:len(rows)]
	for i, r := range rows {
		dst[i] = src[r]
	}
}

// gatherBits copies the selected bits of src (from bit off) into dst from
// bit n on. Every bit is written, set or not: grown buffers are not zeroed.
func gatherBits(dst []byte, n int, src *memory.Buffer, off int, rows []int32) {
	if src == nil {
		bitutil.SetBitsTo(dst, int64(n), int64(len(rows)), false)
		return
	}
	bm := src.Bytes()
	for i, r := range rows {
		bitutil.SetBitTo(dst, n+i, bitutil.BitIsSet(bm, off+int(r)))
	}
}

// gatherStrings appends the selected strings: their offsets in one loop,
// then their bytes, copied once from the source's data. A NULL row gets no
// bytes, whatever its source slot holds. It returns the bytes added.
func (b *Batch) gatherStrings(c *column, src arrow.ArrayData, rows []int32) (int, error) {
	n, end := b.n, b.n+len(rows)
	fresh := c.values == nil
	c.values = b.grow(c.values, (end+1)*4, (b.lastRows+1)*4)
	dstOffs := arrow.Int32Traits.CastFromBytes(c.values.Buf())[:end+1]
	if fresh {
		dstOffs[0] = 0
	}
	srcOffs := arrow.Int32Traits.CastFromBytes(src.Buffers()[1].Bytes())[src.Offset():]
	out := dstOffs[n+1:]
	o := int64(c.dataLen)
	if src.NullN() == 0 {
		for i, r := range rows {
			o += int64(srcOffs[r+1] - srcOffs[r])
			out[i] = int32(o)
		}
	} else {
		bm, off := src.Buffers()[0].Bytes(), src.Offset()
		for i, r := range rows {
			if bitutil.BitIsSet(bm, off+int(r)) {
				o += int64(srcOffs[r+1] - srcOffs[r])
			}
			out[i] = int32(o)
		}
	}
	if o > math.MaxInt32 {
		return 0, fmt.Errorf("internal: %d bytes of strings in one batch, more than 32-bit offsets address", o)
	}
	// Room for 16 bytes past the end: short strings (most keys, most
	// words) are moved as one 16-byte block, without the call to memmove
	// that copy makes. The bytes past a string's end are overwritten by the
	// next one, or lie beyond the data's length.
	c.data = b.grow(c.data, int(o)+16, c.lastData)
	var srcData []byte
	if buf := src.Buffers()[2]; buf != nil {
		srcData = buf.Bytes()
	}
	dst := c.data.Buf()
	from := c.dataLen
	for i, r := range rows {
		to, s := int(out[i]), int(srcOffs[r])
		if to-from <= 16 && s+16 <= len(srcData) {
			*(*[16]byte)(dst[from:]) = *(*[16]byte)(srcData[s:])
		} else {
			copy(dst[from:to], srcData[s:])
		}
		from = to
	}
	added := int(o) - c.dataLen
	c.dataLen = int(o)
	return added, nil
}

// gatherValidity records which of the selected rows are NULL. The bitmap is
// made only when the first NULL arrives (most columns never see one), with
// every row before it valid.
func (b *Batch) gatherValidity(c *column, src arrow.ArrayData, rows []int32) {
	n, end := b.n, b.n+len(rows)
	if src.NullN() == 0 {
		if c.valid != nil {
			c.valid = b.grow(c.valid, bitmapBytes(end), 0)
			bitutil.SetBitsTo(c.valid.Buf(), int64(n), int64(len(rows)), true)
		}
		return
	}
	bm, off := src.Buffers()[0].Bytes(), src.Offset()
	if c.valid == nil {
		first := -1
		for i, r := range rows {
			if !bitutil.BitIsSet(bm, off+int(r)) {
				first = i
				break
			}
		}
		if first < 0 {
			return
		}
		c.valid = b.grow(nil, bitmapBytes(end), bitmapBytes(b.lastRows))
		bitutil.SetBitsTo(c.valid.Buf(), 0, int64(n+first), true)
		n, rows = n+first, rows[first:]
	} else {
		c.valid = b.grow(c.valid, bitmapBytes(end), 0)
	}
	dst := c.valid.Buf()
	for i, r := range rows {
		bitutil.SetBitTo(dst, n+i, bitutil.BitIsSet(bm, off+int(r)))
	}
	c.nulls += len(rows) - bitutil.CountSetBits(dst, n, len(rows))
}

// grow returns buf (made if nil) with room for need bytes, keeping its
// contents. A buffer's first size is exact when there is no earlier record
// to go by (Rows.Record makes one record of known size); otherwise sizes
// are powers of two, at least hint (what the last record's took), so growth
// is geometric and pooled buffers come back in the same size classes.
func (b *Batch) grow(buf *memory.Buffer, need, hint int) *memory.Buffer {
	if buf == nil {
		buf = memory.NewResizableBuffer(b.mem)
	}
	if need <= buf.Cap() {
		return buf
	}
	size := need
	if buf.Cap() > 0 || hint > 0 {
		size = 1 << bits.Len(uint(max(need, hint)-1))
	}
	buf.Reserve(size)
	return buf
}

func bitmapBytes(rows int) int { return int(bitutil.BytesForBits(int64(rows))) }

// NewRecord returns the rows held as a record of the Batch's schema, made
// over the Batch's buffers, and leaves the Batch empty.
func (b *Batch) NewRecord() arrow.Record {
	arrs := make([]arrow.Array, len(b.cols))
	for i := range b.cols {
		arrs[i] = b.finish(&b.cols[i], b.schema.Field(i).Type)
	}
	rec := array.NewRecordBatch(b.schema, arrs, int64(b.n))
	for _, a := range arrs {
		a.Release()
	}
	b.lastRows, b.n = b.n, 0
	return rec
}

// finish makes column c's array of the rows held and hands its buffers over.
func (b *Batch) finish(c *column, dt arrow.DataType) arrow.Array {
	n := b.n
	var bufs []*memory.Buffer
	switch c.kind {
	case nullColumn:
		bufs = []*memory.Buffer{nil}
	case fixedColumn:
		c.values = b.grow(c.values, n*c.width, 0)
		c.values.ResizeNoShrink(n * c.width)
		bufs = []*memory.Buffer{c.valid, c.values}
	case boolColumn:
		c.values = b.grow(c.values, bitmapBytes(n), 0)
		c.values.ResizeNoShrink(bitmapBytes(n))
		bufs = []*memory.Buffer{c.valid, c.values}
	case stringColumn:
		if c.values == nil {
			// No rows: an empty string array still has its one offset.
			c.values = b.grow(nil, 4, 0)
			arrow.Int32Traits.CastFromBytes(c.values.Buf())[0] = 0
		}
		c.values.ResizeNoShrink((n + 1) * 4)
		if c.data == nil {
			c.data = memory.NewResizableBuffer(b.mem)
		}
		c.data.ResizeNoShrink(c.dataLen)
		bufs = []*memory.Buffer{c.valid, c.values, c.data}
	}
	if c.valid != nil {
		c.valid.ResizeNoShrink(bitmapBytes(n))
	}
	nulls := c.nulls
	if c.kind == nullColumn {
		nulls = n
	}
	data := array.NewData(dt, n, bufs, nil, nulls, 0)
	arr := array.MakeFromData(data)
	data.Release()
	c.lastData = c.dataLen
	c.release()
	return arr
}

// release drops the column's buffers (after NewData took its own
// references, or when the Batch is discarded) and its counts.
func (c *column) release() {
	releaseBuffer(&c.valid)
	releaseBuffer(&c.values)
	releaseBuffer(&c.data)
	c.nulls, c.dataLen = 0, 0
}

func releaseBuffer(buf **memory.Buffer) {
	if *buf != nil {
		(*buf).Release()
		*buf = nil
	}
}

// Release frees the rows held.
func (b *Batch) Release() {
	for i := range b.cols {
		b.cols[i].release()
	}
	b.n = 0
}
