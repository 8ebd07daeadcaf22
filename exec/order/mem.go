package order

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

// sortRowBytes is what sorting by keys costs per row beyond the data: the
// permutation and, on the one-key path (sortPairs), the (value, row) pairs,
// the NULL rows and for a string key the string headers.
func sortRowBytes(schema *arrow.Schema, keys []planner.SortKey) int64 {
	if len(keys) != 1 {
		return 4
	}
	switch schema.Field(keys[0].Col).Type.ID() {
	case arrow.STRING:
		return 4 + 4 + 16 + 24
	case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.DATE32, arrow.TIMESTAMP:
		return 4 + 4 + 16
	}
	return 4
}

// pinnedBytes adds up the buffers behind rec that are not yet in seen and
// adds them to it. Slices of one batch share its buffers, and retaining a
// slice keeps the whole buffers alive, so this counts what holding rec
// really costs, each buffer once however many slices of it are held.
func pinnedBytes(rec arrow.Record, seen map[*memory.Buffer]struct{}) int64 {
	var n int64
	for _, col := range rec.Columns() {
		n += pinnedData(col.Data(), seen)
	}
	return n
}

func pinnedData(d arrow.ArrayData, seen map[*memory.Buffer]struct{}) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b == nil {
			continue
		}
		if _, ok := seen[b]; ok {
			continue
		}
		seen[b] = struct{}{}
		n += int64(b.Len())
	}
	for _, c := range d.Children() {
		n += pinnedData(c, seen)
	}
	return n
}

// logicalBytes is the size of the rows rec covers, not of the buffers a
// slice points into: what a merge charges for looking at one batch of an
// input that owns it.
func logicalBytes(rec arrow.Record) int64 {
	var n int64
	for _, col := range rec.Columns() {
		n += logicalData(col.Data())
	}
	return n
}

func logicalData(d arrow.ArrayData) int64 {
	rows := int64(d.Len())
	bufs := d.Buffers()
	var n int64
	if len(bufs) > 0 && bufs[0] != nil {
		n += (rows + 7) / 8
	}
	switch dt := d.DataType().(type) {
	case *arrow.NullType:
	case *arrow.StringType:
		n += (rows + 1) * 4
		if len(bufs) > 1 && bufs[1] != nil && rows > 0 {
			offs := arrow.Int32Traits.CastFromBytes(bufs[1].Bytes())
			n += int64(offs[d.Offset()+d.Len()] - offs[d.Offset()])
		}
	case arrow.FixedWidthDataType:
		n += (rows*int64(dt.BitWidth()) + 7) / 8
	default:
		// Types the sort keys never use: the whole buffers, an upper bound.
		for i, b := range bufs {
			if i > 0 && b != nil {
				n += int64(b.Len())
			}
		}
		for _, c := range d.Children() {
			n += logicalData(c)
		}
	}
	return n
}
