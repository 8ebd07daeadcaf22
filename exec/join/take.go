package join

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// take gathers col's rows at idx into a new array; an index < 0 gives NULL.
func take(alloc memory.Allocator, col arrow.Array, idx []int32) (arrow.Array, error) {
	switch c := col.(type) {
	case *array.Int64:
		b := array.NewInt64Builder(alloc)
		b.Reserve(len(idx))
		for _, i := range idx {
			if i < 0 || c.IsNull(int(i)) {
				b.UnsafeAppendBoolToBitmap(false)
			} else {
				b.UnsafeAppend(c.Value(int(i)))
			}
		}
		return b.NewArray(), nil
	case *array.Uint64:
		b := array.NewUint64Builder(alloc)
		b.Reserve(len(idx))
		for _, i := range idx {
			if i < 0 || c.IsNull(int(i)) {
				b.UnsafeAppendBoolToBitmap(false)
			} else {
				b.UnsafeAppend(c.Value(int(i)))
			}
		}
		return b.NewArray(), nil
	case *array.Float64:
		b := array.NewFloat64Builder(alloc)
		b.Reserve(len(idx))
		for _, i := range idx {
			if i < 0 || c.IsNull(int(i)) {
				b.UnsafeAppendBoolToBitmap(false)
			} else {
				b.UnsafeAppend(c.Value(int(i)))
			}
		}
		return b.NewArray(), nil
	case *array.Date32:
		b := array.NewDate32Builder(alloc)
		b.Reserve(len(idx))
		for _, i := range idx {
			if i < 0 || c.IsNull(int(i)) {
				b.UnsafeAppendBoolToBitmap(false)
			} else {
				b.UnsafeAppend(c.Value(int(i)))
			}
		}
		return b.NewArray(), nil
	case *array.Timestamp:
		b := array.NewTimestampBuilder(alloc, c.DataType().(*arrow.TimestampType))
		b.Reserve(len(idx))
		for _, i := range idx {
			if i < 0 || c.IsNull(int(i)) {
				b.UnsafeAppendBoolToBitmap(false)
			} else {
				b.UnsafeAppend(c.Value(int(i)))
			}
		}
		return b.NewArray(), nil
	case *array.Boolean:
		b := array.NewBooleanBuilder(alloc)
		b.Reserve(len(idx))
		for _, i := range idx {
			if i < 0 || c.IsNull(int(i)) {
				b.UnsafeAppendBoolToBitmap(false)
			} else {
				b.UnsafeAppend(c.Value(int(i)))
			}
		}
		return b.NewArray(), nil
	case *array.Decimal128:
		b := array.NewDecimal128Builder(alloc, c.DataType().(*arrow.Decimal128Type))
		b.Reserve(len(idx))
		for _, i := range idx {
			if i < 0 || c.IsNull(int(i)) {
				b.UnsafeAppendBoolToBitmap(false)
			} else {
				b.UnsafeAppend(c.Value(int(i)))
			}
		}
		return b.NewArray(), nil
	case *array.String:
		b := array.NewStringBuilder(alloc)
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
