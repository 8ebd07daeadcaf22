package shuffle

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// gathered is reusable scratch for copying selected rows: values are
// gathered into a typed slice and handed to the builder in one call.
type gathered struct {
	i64   []int64
	u64   []uint64
	f64   []float64
	d32   []arrow.Date32
	ts    []arrow.Timestamp
	dec   []decimal128.Num
	bools []bool
	valid []bool
}

func gather[T any](dst []T, src []T, rows []int32) []T {
	dst = dst[:0]
	for _, r := range rows {
		dst = append(dst, src[r])
	}
	return dst
}

// validOf returns the validity of the selected rows, or nil when the column
// has no NULLs.
func (g *gathered) validOf(col arrow.Array, rows []int32) []bool {
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

// appendRows appends rows of col to b, which builds the same type, and
// returns about how many bytes that added. The type switch runs once per
// column and batch; the loops inside are typed.
func (g *gathered) appendRows(b array.Builder, col arrow.Array, rows []int32) (int, error) {
	size := len(rows) * 8
	switch b := b.(type) {
	case *array.Int64Builder:
		g.i64 = gather(g.i64, col.(*array.Int64).Int64Values(), rows)
		b.AppendValues(g.i64, g.validOf(col, rows))
	case *array.Uint64Builder:
		g.u64 = gather(g.u64, col.(*array.Uint64).Uint64Values(), rows)
		b.AppendValues(g.u64, g.validOf(col, rows))
	case *array.Float64Builder:
		g.f64 = gather(g.f64, col.(*array.Float64).Float64Values(), rows)
		b.AppendValues(g.f64, g.validOf(col, rows))
	case *array.Date32Builder:
		g.d32 = gather(g.d32, col.(*array.Date32).Date32Values(), rows)
		b.AppendValues(g.d32, g.validOf(col, rows))
	case *array.TimestampBuilder:
		g.ts = gather(g.ts, col.(*array.Timestamp).TimestampValues(), rows)
		b.AppendValues(g.ts, g.validOf(col, rows))
	case *array.Decimal128Builder:
		g.dec = gather(g.dec, col.(*array.Decimal128).Values(), rows)
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
		b.ReserveData(total)
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
		return 0, fmt.Errorf("internal: shuffle cannot copy Arrow type %s", col.DataType())
	}
	return size, nil
}

// checkCopyable reports whether appendRows handles every column of schema.
func checkCopyable(schema *arrow.Schema) error {
	for _, f := range schema.Fields() {
		switch f.Type.ID() {
		case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.DATE32, arrow.TIMESTAMP, arrow.DECIMAL128,
			arrow.BOOL, arrow.STRING, arrow.NULL:
		default:
			return fmt.Errorf("internal: shuffle cannot carry column %s of Arrow type %s", f.Name, f.Type)
		}
	}
	return nil
}
