package order

import (
	"bytes"
	"cmp"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/quernsql/quern/planner"
)

// keyCol is a typed view of one sort-key column of one batch. Both methods
// order NULL before every value (ascending); the caller flips the sign for
// DESC, which puts NULLs last, as MySQL does.
type keyCol interface {
	// cmpSelf compares rows i and j of this column.
	cmpSelf(i, j int) int
	// cmpOther compares row i of this column with row j of o, a view of the
	// same column in another batch (so of the same concrete type).
	cmpOther(i int, o keyCol, j int) int
}

// checkKeys validates the sort keys against the schema.
func checkKeys(schema *arrow.Schema, keys []planner.SortKey) error {
	for _, k := range keys {
		if k.Col < 0 || k.Col >= schema.NumFields() {
			return fmt.Errorf("internal: sort key column %d out of range (input has %d)", k.Col, schema.NumFields())
		}
		switch dt := schema.Field(k.Col).Type; dt.ID() {
		case arrow.NULL, arrow.BOOL, arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.DECIMAL128,
			arrow.STRING, arrow.DATE32, arrow.TIMESTAMP:
		default:
			return fmt.Errorf("internal: cannot sort by column %s of Arrow type %s", schema.Field(k.Col).Name, dt)
		}
	}
	return nil
}

// nulls reads a validity bitmap; bm == nil means no NULLs.
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

// nullOrder compares two rows of which at least one is NULL.
func nullOrder(ni, nj bool) int {
	switch {
	case ni && nj:
		return 0
	case ni:
		return -1
	}
	return 1
}

// newKeyCol makes the view of column a (of a type checkKeys accepted).
func newKeyCol(a arrow.Array) keyCol {
	nb := nullsOf(a)
	switch c := a.(type) {
	case *array.Int64:
		return &fixedCol[int64]{vals: c.Int64Values(), nb: nb}
	case *array.Uint64:
		return &fixedCol[uint64]{vals: c.Uint64Values(), nb: nb}
	case *array.Float64:
		return &fixedCol[float64]{vals: c.Float64Values(), nb: nb}
	case *array.Date32:
		return &fixedCol[arrow.Date32]{vals: c.Date32Values(), nb: nb}
	case *array.Timestamp:
		return &fixedCol[arrow.Timestamp]{vals: c.TimestampValues(), nb: nb}
	case *array.Decimal128:
		return &decCol{vals: c.Values(), nb: nb}
	case *array.Boolean:
		return &boolCol{arr: c, nb: nb}
	case *array.String:
		var data []byte
		if b := c.Data().Buffers()[2]; b != nil {
			data = b.Bytes()
		}
		return &strCol{offs: c.ValueOffsets(), data: data, nb: nb}
	}
	return nullCol{}
}

type fixedCol[T cmp.Ordered] struct {
	vals []T
	nb   nulls
}

func (c *fixedCol[T]) cmpSelf(i, j int) int {
	if c.nb.bm != nil {
		if ni, nj := c.nb.null(i), c.nb.null(j); ni || nj {
			return nullOrder(ni, nj)
		}
	}
	return cmp.Compare(c.vals[i], c.vals[j])
}

func (c *fixedCol[T]) cmpOther(i int, o keyCol, j int) int {
	d := o.(*fixedCol[T])
	if ni, nj := c.nb.null(i), d.nb.null(j); ni || nj {
		return nullOrder(ni, nj)
	}
	return cmp.Compare(c.vals[i], d.vals[j])
}

type decCol struct {
	vals []decimal128.Num
	nb   nulls
}

func (c *decCol) cmpSelf(i, j int) int {
	if c.nb.bm != nil {
		if ni, nj := c.nb.null(i), c.nb.null(j); ni || nj {
			return nullOrder(ni, nj)
		}
	}
	return c.vals[i].Cmp(c.vals[j])
}

func (c *decCol) cmpOther(i int, o keyCol, j int) int {
	d := o.(*decCol)
	if ni, nj := c.nb.null(i), d.nb.null(j); ni || nj {
		return nullOrder(ni, nj)
	}
	return c.vals[i].Cmp(d.vals[j])
}

type boolCol struct {
	arr *array.Boolean
	nb  nulls
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

func (c *boolCol) cmpSelf(i, j int) int {
	if c.nb.bm != nil {
		if ni, nj := c.nb.null(i), c.nb.null(j); ni || nj {
			return nullOrder(ni, nj)
		}
	}
	return boolCmp(c.arr.Value(i), c.arr.Value(j))
}

func (c *boolCol) cmpOther(i int, o keyCol, j int) int {
	d := o.(*boolCol)
	if ni, nj := c.nb.null(i), d.nb.null(j); ni || nj {
		return nullOrder(ni, nj)
	}
	return boolCmp(c.arr.Value(i), d.arr.Value(j))
}

// strCol compares strings byte-wise (binary collation).
type strCol struct {
	offs []int32
	data []byte
	nb   nulls
}

func (c *strCol) cmpSelf(i, j int) int {
	if c.nb.bm != nil {
		if ni, nj := c.nb.null(i), c.nb.null(j); ni || nj {
			return nullOrder(ni, nj)
		}
	}
	return bytes.Compare(c.data[c.offs[i]:c.offs[i+1]], c.data[c.offs[j]:c.offs[j+1]])
}

func (c *strCol) cmpOther(i int, o keyCol, j int) int {
	d := o.(*strCol)
	if ni, nj := c.nb.null(i), d.nb.null(j); ni || nj {
		return nullOrder(ni, nj)
	}
	return bytes.Compare(c.data[c.offs[i]:c.offs[i+1]], d.data[d.offs[j]:d.offs[j+1]])
}

// nullCol is a column of the Null type: every row is NULL, all equal.
type nullCol struct{}

func (nullCol) cmpSelf(int, int) int          { return 0 }
func (nullCol) cmpOther(int, keyCol, int) int { return 0 }

// rowKeys compares whole rows of one batch by the sort keys.
type rowKeys struct {
	cols []keyCol
	desc []bool
}

func newRowKeys(rec arrow.Record, keys []planner.SortKey) *rowKeys {
	r := &rowKeys{cols: make([]keyCol, len(keys)), desc: make([]bool, len(keys))}
	for i, k := range keys {
		r.cols[i] = newKeyCol(rec.Column(k.Col))
		r.desc[i] = k.Desc
	}
	return r
}

func (r *rowKeys) compare(i, j int) int {
	for k, c := range r.cols {
		if v := c.cmpSelf(i, j); v != 0 {
			if r.desc[k] {
				return -v
			}
			return v
		}
	}
	return 0
}

// compareOther compares row i of r's batch with row j of o's batch.
func (r *rowKeys) compareOther(i int, o *rowKeys, j int) int {
	for k, c := range r.cols {
		if v := c.cmpOther(i, o.cols[k], j); v != 0 {
			if r.desc[k] {
				return -v
			}
			return v
		}
	}
	return 0
}
