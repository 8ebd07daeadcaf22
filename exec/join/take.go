package join

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// fixedBuilder is what the typed builders of fixed-width values share.
type fixedBuilder[T any] interface {
	Reserve(int)
	UnsafeAppend(T)
	UnsafeAppendBoolToBitmap(bool)
	NewArray() arrow.Array
	Release()
}

// takeFixed gathers rows idx of a fixed-width column; idx < 0 gives NULL.
func takeFixed[T any](b fixedBuilder[T], col arrow.Array, value func(int) T, idx []int32) arrow.Array {
	defer b.Release()
	b.Reserve(len(idx))
	for _, i := range idx {
		if i < 0 || col.IsNull(int(i)) {
			b.UnsafeAppendBoolToBitmap(false)
		} else {
			b.UnsafeAppend(value(int(i)))
		}
	}
	return b.NewArray()
}

// take gathers col's rows at idx into a new array; an index < 0 gives NULL.
func take(alloc memory.Allocator, col arrow.Array, idx []int32) (arrow.Array, error) {
	switch c := col.(type) {
	case *array.Int64:
		return takeFixed(array.NewInt64Builder(alloc), c, c.Value, idx), nil
	case *array.Uint64:
		return takeFixed(array.NewUint64Builder(alloc), c, c.Value, idx), nil
	case *array.Float64:
		return takeFixed(array.NewFloat64Builder(alloc), c, c.Value, idx), nil
	case *array.Date32:
		return takeFixed(array.NewDate32Builder(alloc), c, c.Value, idx), nil
	case *array.Timestamp:
		return takeFixed(array.NewTimestampBuilder(alloc, c.DataType().(*arrow.TimestampType)), c, c.Value, idx), nil
	case *array.Boolean:
		return takeFixed(array.NewBooleanBuilder(alloc), c, c.Value, idx), nil
	case *array.Decimal128:
		return takeFixed(array.NewDecimal128Builder(alloc, c.DataType().(*arrow.Decimal128Type)), c, c.Value, idx), nil
	case *array.String:
		b := array.NewStringBuilder(alloc)
		defer b.Release()
		b.Reserve(len(idx))
		size := 0
		for _, i := range idx {
			if i >= 0 && c.IsValid(int(i)) {
				size += c.ValueLen(int(i))
			}
		}
		b.ReserveData(size)
		for _, i := range idx {
			if i < 0 || c.IsNull(int(i)) {
				b.AppendNull()
			} else {
				b.Append(c.Value(int(i)))
			}
		}
		return b.NewArray(), nil
	case *array.Null:
		return array.NewNull(len(idx)), nil
	}
	return nil, fmt.Errorf("internal: join cannot copy columns of type %s", col.DataType())
}
