package shuffle

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// HashPartition writes the partition of every row of rec into dst (which
// must hold rec.NumRows() entries): hash(keys) mod r, with the hash defined
// in hash.go. With no keys, or r == 1, every row goes to partition 0. Key
// columns must be of a type quern produces (see CheckKeyTypes).
func HashPartition(rec arrow.Record, keys []int, r int, dst []int32) {
	var h hasher
	h.partition(rec, keys, r, dst)
}

// CheckKeyTypes reports whether the key columns of schema can be hashed.
func CheckKeyTypes(schema *arrow.Schema, keys []int) error {
	for _, k := range keys {
		if k < 0 || k >= schema.NumFields() {
			return fmt.Errorf("internal: partition key column %d out of range (schema has %d)", k, schema.NumFields())
		}
		switch dt := schema.Field(k).Type; dt.ID() {
		case arrow.NULL, arrow.BOOL, arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.DECIMAL128,
			arrow.STRING, arrow.DATE32, arrow.TIMESTAMP:
		default:
			return fmt.Errorf("internal: cannot partition on column %s of Arrow type %s", schema.Field(k).Name, dt)
		}
	}
	return nil
}

// hasher keeps the per-row hash scratch between batches.
type hasher struct {
	hashes []uint64
}

func (h *hasher) partition(rec arrow.Record, keys []int, r int, dst []int32) {
	n := int(rec.NumRows())
	dst = dst[:n]
	if len(keys) == 0 || r <= 1 {
		clear(dst)
		return
	}
	if cap(h.hashes) < n {
		h.hashes = make([]uint64, n)
	}
	hs := h.hashes[:n]
	for i := range hs {
		hs[i] = rowSeed
	}
	for _, k := range keys {
		hashColumn(rec.Column(k), hs)
	}
	ur := uint64(r)
	for i, x := range hs {
		dst[i] = int32(x % ur)
	}
}

// hashColumn folds the value hashes of one column into hs, one typed loop
// per type.
func hashColumn(col arrow.Array, hs []uint64) {
	if col.DataType().ID() == arrow.NULL {
		for i := range hs {
			hs[i] = combine(hs[i], nullHash)
		}
		return
	}
	nb := nullsOf(col)
	switch c := col.(type) {
	case *array.Int64:
		for i, v := range c.Int64Values() {
			if nb.null(i) {
				hs[i] = combine(hs[i], nullHash)
			} else {
				hs[i] = combine(hs[i], hash8(uint64(v)))
			}
		}
	case *array.Uint64:
		for i, v := range c.Uint64Values() {
			if nb.null(i) {
				hs[i] = combine(hs[i], nullHash)
			} else {
				hs[i] = combine(hs[i], hash8(v))
			}
		}
	case *array.Timestamp:
		for i, v := range c.TimestampValues() {
			if nb.null(i) {
				hs[i] = combine(hs[i], nullHash)
			} else {
				hs[i] = combine(hs[i], hash8(uint64(v)))
			}
		}
	case *array.Float64:
		for i, v := range c.Float64Values() {
			if nb.null(i) {
				hs[i] = combine(hs[i], nullHash)
			} else {
				hs[i] = combine(hs[i], hash8(floatBits(v)))
			}
		}
	case *array.Date32:
		for i, v := range c.Date32Values() {
			if nb.null(i) {
				hs[i] = combine(hs[i], nullHash)
			} else {
				hs[i] = combine(hs[i], hash4(uint32(v)))
			}
		}
	case *array.Decimal128:
		for i, v := range c.Values() {
			if nb.null(i) {
				hs[i] = combine(hs[i], nullHash)
			} else {
				hs[i] = combine(hs[i], hash16(v.LowBits(), uint64(v.HighBits())))
			}
		}
	case *array.Boolean:
		for i := range hs {
			switch {
			case nb.null(i):
				hs[i] = combine(hs[i], nullHash)
			case c.Value(i):
				hs[i] = combine(hs[i], hash1(1))
			default:
				hs[i] = combine(hs[i], hash1(0))
			}
		}
	case *array.String:
		offs := c.ValueOffsets()
		var data []byte
		if b := c.Data().Buffers()[2]; b != nil {
			data = b.Bytes()
		}
		for i := range hs {
			if nb.null(i) {
				hs[i] = combine(hs[i], nullHash)
			} else {
				hs[i] = combine(hs[i], hashBytes(data[offs[i]:offs[i+1]]))
			}
		}
	default:
		// CheckKeyTypes rejects every other type before data flows; should
		// one slip through, equal keys must still meet, so the column adds
		// nothing to the hash (correct, merely unbalanced).
	}
}

// nulls reads a validity bitmap; bm == nil means no NULLs.
type nulls struct {
	bm  []byte
	off int
}

func nullsOf(a arrow.Array) nulls {
	if a.NullN() == 0 {
		return nulls{}
	}
	return nulls{a.NullBitmapBytes(), a.Data().Offset()}
}

func (n nulls) null(i int) bool { return n.bm != nil && !bitutil.BitIsSet(n.bm, n.off+i) }
