package order

import (
	"cmp"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quernsql/quern/planner"
)

// sortOneKey is the fast path for the most common ORDER BY, one key of a
// plain type: (value, row) pairs are sorted in one contiguous slice with the
// comparison inlined, instead of going through the row comparator's views.
// NULLs are set apart first. ok is false when the key does not qualify.
func sortOneKey(rec arrow.Record, keys []planner.SortKey) (perm []int32, ok bool) {
	if len(keys) != 1 {
		return nil, false
	}
	col := rec.Column(keys[0].Col)
	desc := keys[0].Desc
	switch c := col.(type) {
	case *array.Int64:
		return sortPairs(c.Int64Values(), col, desc), true
	case *array.Uint64:
		return sortPairs(c.Uint64Values(), col, desc), true
	case *array.Float64:
		return sortPairs(c.Float64Values(), col, desc), true
	case *array.Date32:
		return sortPairs(c.Date32Values(), col, desc), true
	case *array.Timestamp:
		return sortPairs(c.TimestampValues(), col, desc), true
	case *array.String:
		// Value returns a view of the column's bytes, not a copy.
		vals := make([]string, c.Len())
		for i := range vals {
			vals[i] = c.Value(i)
		}
		return sortPairs(vals, col, desc), true
	}
	return nil, false
}

type pair[T cmp.Ordered] struct {
	v T
	i int32
}

func sortPairs[T cmp.Ordered](vals []T, col arrow.Array, desc bool) []int32 {
	nb := nullsOf(col)
	var nullRows []int32
	pairs := make([]pair[T], 0, len(vals))
	for i, v := range vals {
		if nb.null(i) {
			nullRows = append(nullRows, int32(i))
		} else {
			pairs = append(pairs, pair[T]{v, int32(i)})
		}
	}
	if desc {
		slices.SortFunc(pairs, func(a, b pair[T]) int {
			if c := cmp.Compare(b.v, a.v); c != 0 {
				return c
			}
			return cmp.Compare(a.i, b.i)
		})
	} else {
		slices.SortFunc(pairs, func(a, b pair[T]) int {
			if c := cmp.Compare(a.v, b.v); c != 0 {
				return c
			}
			return cmp.Compare(a.i, b.i)
		})
	}
	perm := make([]int32, 0, len(vals))
	if !desc {
		perm = append(perm, nullRows...)
	}
	for _, p := range pairs {
		perm = append(perm, p.i)
	}
	if desc {
		perm = append(perm, nullRows...)
	}
	return perm
}
