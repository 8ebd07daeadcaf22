// Package gather copies selected rows of Arrow columns: Rows appends them
// to builders (a merge's runs, a join's output columns), Batch gathers them
// into buffers of its own and hands those over as a record without another
// copy (a shuffle partition, a sort's permutation). The type switch runs
// once per column and batch; the loops inside are typed, and the scratch
// slices are reused.
package gather

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Rows is reusable scratch for copying rows; the zero value is ready. A
// Rows is used by one goroutine.
type Rows struct {
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

func pick[T any](dst []T, src []T, rows []int32) []T {
	dst = dst[:0]
	for _, r := range rows {
		dst = append(dst, src[r])
	}
	return dst
}

type nulls struct {
	bm  []byte
	off int
}

func nullsOf(a arrow.Array) nulls {
	if a.NullN() == 0 || a.DataType().ID() == arrow.NULL {
		return nulls{}
	}
	return nulls{a.NullBitmapBytes(), a.Data().Offset()}
}

func (n nulls) null(i int) bool { return n.bm != nil && !bitutil.BitIsSet(n.bm, n.off+i) }

// validOf returns the validity of the selected rows, or nil when the column
// has no NULLs.
func (g *Rows) validOf(col arrow.Array, rows []int32) []bool {
	nb := nullsOf(col)
	if nb.bm == nil {
		return nil
	}
	g.valid = g.valid[:0]
	for _, r := range rows {
		g.valid = append(g.valid, !nb.null(int(r)))
	}
	return g.valid
}

// Append appends rows of col, in that order, to b, which builds the same
// type, and returns about how many bytes that added.
func (g *Rows) Append(b array.Builder, col arrow.Array, rows []int32) (int, error) {
	size := len(rows) * 8
	switch b := b.(type) {
	case *array.Int64Builder:
		g.i64 = pick(g.i64, col.(*array.Int64).Int64Values(), rows)
		b.AppendValues(g.i64, g.validOf(col, rows))
	case *array.Uint64Builder:
		g.u64 = pick(g.u64, col.(*array.Uint64).Uint64Values(), rows)
		b.AppendValues(g.u64, g.validOf(col, rows))
	case *array.Float64Builder:
		g.f64 = pick(g.f64, col.(*array.Float64).Float64Values(), rows)
		b.AppendValues(g.f64, g.validOf(col, rows))
	case *array.Date32Builder:
		g.d32 = pick(g.d32, col.(*array.Date32).Date32Values(), rows)
		b.AppendValues(g.d32, g.validOf(col, rows))
	case *array.TimestampBuilder:
		g.ts = pick(g.ts, col.(*array.Timestamp).TimestampValues(), rows)
		b.AppendValues(g.ts, g.validOf(col, rows))
	case *array.Decimal128Builder:
		g.dec = pick(g.dec, col.(*array.Decimal128).Values(), rows)
		b.AppendValues(g.dec, g.validOf(col, rows))
		size *= 2
	case *array.BooleanBuilder:
		c := col.(*array.Boolean)
		g.bools = g.bools[:0]
		for _, r := range rows {
			g.bools = append(g.bools, c.Value(int(r)))
		}
		b.AppendValues(g.bools, g.validOf(col, rows))
	case *array.StringBuilder:
		c := col.(*array.String)
		offs := c.ValueOffsets()
		var data []byte
		if buf := c.Data().Buffers()[2]; buf != nil {
			data = buf.Bytes()
		}
		nb := nullsOf(col)
		total := 0
		for _, r := range rows {
			total += int(offs[r+1] - offs[r])
		}
		b.Reserve(len(rows))
		// At least double the data buffer when it grows: the builder
		// itself reserves just what is asked, and callers that append
		// short runs to one builder (a merge takes a few rows from each
		// input in turn) would otherwise move the whole buffer each time.
		if b.DataLen()+total > b.DataCap() {
			b.ReserveData(max(total, b.DataCap()))
		}
		size = total + 4*len(rows)
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
		return 0, fmt.Errorf("internal: cannot copy Arrow type %s", col.DataType())
	}
	return size, nil
}

// validRange returns the validity of rows [from, to), or nil without NULLs.
func (g *Rows) validRange(col arrow.Array, from, to int) []bool {
	nb := nullsOf(col)
	if nb.bm == nil {
		return nil
	}
	g.valid = g.valid[:0]
	for i := from; i < to; i++ {
		g.valid = append(g.valid, !nb.null(i))
	}
	return g.valid
}

// AppendRange appends rows [from, to) of col to b.
func (g *Rows) AppendRange(b array.Builder, col arrow.Array, from, to int) error {
	switch b := b.(type) {
	case *array.Int64Builder:
		b.AppendValues(col.(*array.Int64).Int64Values()[from:to], g.validRange(col, from, to))
	case *array.Uint64Builder:
		b.AppendValues(col.(*array.Uint64).Uint64Values()[from:to], g.validRange(col, from, to))
	case *array.Float64Builder:
		b.AppendValues(col.(*array.Float64).Float64Values()[from:to], g.validRange(col, from, to))
	case *array.Date32Builder:
		b.AppendValues(col.(*array.Date32).Date32Values()[from:to], g.validRange(col, from, to))
	case *array.TimestampBuilder:
		b.AppendValues(col.(*array.Timestamp).TimestampValues()[from:to], g.validRange(col, from, to))
	case *array.Decimal128Builder:
		b.AppendValues(col.(*array.Decimal128).Values()[from:to], g.validRange(col, from, to))
	case *array.NullBuilder:
		b.AppendNulls(to - from)
	default:
		// Booleans and strings have no contiguous value slice to hand over.
		g.rows = g.rows[:0]
		for i := from; i < to; i++ {
			g.rows = append(g.rows, int32(i))
		}
		_, err := g.Append(b, col, g.rows)
		return err
	}
	return nil
}

// Record builds a new batch of rec's rows in the order of rows, gathered
// straight into buffers sized for them (see Batch).
func (g *Rows) Record(mem memory.Allocator, rec arrow.Record, rows []int32) (arrow.Record, error) {
	b, err := NewBatch(mem, rec.Schema())
	if err != nil {
		return nil, err
	}
	defer b.Release()
	if _, err := b.Append(rec, rows); err != nil {
		return nil, err
	}
	return b.NewRecord(), nil
}

// Copyable reports whether Append handles every column of schema.
func Copyable(schema *arrow.Schema) error {
	for _, f := range schema.Fields() {
		switch f.Type.ID() {
		case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.DATE32, arrow.TIMESTAMP, arrow.DECIMAL128,
			arrow.BOOL, arrow.STRING, arrow.NULL:
		default:
			return fmt.Errorf("internal: cannot carry column %s of Arrow type %s", f.Name, f.Type)
		}
	}
	return nil
}
