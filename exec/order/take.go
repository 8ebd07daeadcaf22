package order

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// copier copies rows between batches with one type switch per column and
// typed loops inside; its slices are reused scratch.
type copier struct {
	i64   []int64
	u64   []uint64
	f64   []float64
	d32   []arrow.Date32
	ts    []arrow.Timestamp
	dec   []decimal128.Num
	bools []bool
	valid []bool
	rows  []int32
}

func gather[T any](dst []T, src []T, rows []int32) []T {
	dst = dst[:0]
	for _, r := range rows {
		dst = append(dst, src[r])
	}
	return dst
}

func (c *copier) validOf(col arrow.Array, rows []int32) []bool {
	nb := nullsOf(col)
	if nb.bm == nil {
		if col.DataType().ID() == arrow.NULL {
			c.valid = c.valid[:0]
			for range rows {
				c.valid = append(c.valid, false)
			}
			return c.valid
		}
		return nil
	}
	c.valid = c.valid[:0]
	for _, r := range rows {
		c.valid = append(c.valid, !nb.null(int(r)))
	}
	return c.valid
}

// take appends the given rows of col to b, in order.
func (c *copier) take(b array.Builder, col arrow.Array, rows []int32) error {
	switch b := b.(type) {
	case *array.Int64Builder:
		c.i64 = gather(c.i64, col.(*array.Int64).Int64Values(), rows)
		b.AppendValues(c.i64, c.validOf(col, rows))
	case *array.Uint64Builder:
		c.u64 = gather(c.u64, col.(*array.Uint64).Uint64Values(), rows)
		b.AppendValues(c.u64, c.validOf(col, rows))
	case *array.Float64Builder:
		c.f64 = gather(c.f64, col.(*array.Float64).Float64Values(), rows)
		b.AppendValues(c.f64, c.validOf(col, rows))
	case *array.Date32Builder:
		c.d32 = gather(c.d32, col.(*array.Date32).Date32Values(), rows)
		b.AppendValues(c.d32, c.validOf(col, rows))
	case *array.TimestampBuilder:
		c.ts = gather(c.ts, col.(*array.Timestamp).TimestampValues(), rows)
		b.AppendValues(c.ts, c.validOf(col, rows))
	case *array.Decimal128Builder:
		c.dec = gather(c.dec, col.(*array.Decimal128).Values(), rows)
		b.AppendValues(c.dec, c.validOf(col, rows))
	case *array.BooleanBuilder:
		a := col.(*array.Boolean)
		c.bools = c.bools[:0]
		for _, r := range rows {
			c.bools = append(c.bools, a.Value(int(r)))
		}
		b.AppendValues(c.bools, c.validOf(col, rows))
	case *array.StringBuilder:
		a := col.(*array.String)
		offs := a.ValueOffsets()
		var data []byte
		if buf := a.Data().Buffers()[2]; buf != nil {
			data = buf.Bytes()
		}
		nb := nullsOf(col)
		total := 0
		for _, r := range rows {
			total += int(offs[r+1] - offs[r])
		}
		b.Reserve(len(rows))
		b.ReserveData(total)
		for _, r := range rows {
			if nb.null(int(r)) {
				b.AppendNull()
			} else {
				b.BinaryBuilder.Append(data[offs[r]:offs[r+1]])
			}
		}
	case *array.NullBuilder:
		b.AppendNulls(len(rows))
	default:
		return fmt.Errorf("internal: cannot copy Arrow type %s", col.DataType())
	}
	return nil
}

// validRange returns the validity of rows [from, to), or nil without NULLs.
func (c *copier) validRange(col arrow.Array, from, to int) []bool {
	nb := nullsOf(col)
	if nb.bm == nil {
		return nil
	}
	c.valid = c.valid[:0]
	for i := from; i < to; i++ {
		c.valid = append(c.valid, !nb.null(i))
	}
	return c.valid
}

// appendRange appends rows [from, to) of col to b.
func (c *copier) appendRange(b array.Builder, col arrow.Array, from, to int) error {
	switch b := b.(type) {
	case *array.Int64Builder:
		b.AppendValues(col.(*array.Int64).Int64Values()[from:to], c.validRange(col, from, to))
	case *array.Uint64Builder:
		b.AppendValues(col.(*array.Uint64).Uint64Values()[from:to], c.validRange(col, from, to))
	case *array.Float64Builder:
		b.AppendValues(col.(*array.Float64).Float64Values()[from:to], c.validRange(col, from, to))
	case *array.Date32Builder:
		b.AppendValues(col.(*array.Date32).Date32Values()[from:to], c.validRange(col, from, to))
	case *array.TimestampBuilder:
		b.AppendValues(col.(*array.Timestamp).TimestampValues()[from:to], c.validRange(col, from, to))
	case *array.Decimal128Builder:
		b.AppendValues(col.(*array.Decimal128).Values()[from:to], c.validRange(col, from, to))
	case *array.NullBuilder:
		b.AppendNulls(to - from)
	default:
		// Booleans and strings have no contiguous value slice to hand over.
		c.rows = c.rows[:0]
		for i := from; i < to; i++ {
			c.rows = append(c.rows, int32(i))
		}
		return c.take(b, col, c.rows)
	}
	return nil
}

// takeRecord builds a new batch of rec's rows in the order of rows.
func (c *copier) takeRecord(mem memory.Allocator, rec arrow.Record, rows []int32) (arrow.Record, error) {
	b := array.NewRecordBuilder(mem, rec.Schema())
	defer b.Release()
	b.Reserve(len(rows))
	for i := 0; i < int(rec.NumCols()); i++ {
		if err := c.take(b.Field(i), rec.Column(i), rows); err != nil {
			return nil, err
		}
	}
	return b.NewRecordBatch(), nil
}

// contiguous reports whether rows are from, from+1, from+2, …, so that a
// zero-copy slice can stand in for a copy.
func contiguous(rows []int32) bool {
	for i, r := range rows {
		if r != rows[0]+int32(i) {
			return false
		}
	}
	return true
}
