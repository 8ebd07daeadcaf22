package driver

import (
	"database/sql"
	"database/sql/driver"
	"io"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quernsql/quern"
)

// rows walks a result's records a row at a time, converting each value to
// the Go type the package documentation lists.
type rows struct {
	res    *quern.Result
	schema *arrow.Schema
	cols   []string
	rec    arrow.Record // current record, owned by res
	row    int
	values []func(i int) driver.Value // per column, for rec
	once   sync.Once
}

var (
	_ driver.Rows                           = (*rows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
	_ driver.RowsColumnTypeNullable         = (*rows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*rows)(nil)
)

func newRows(res *quern.Result) *rows {
	r := &rows{res: res, schema: res.Schema()}
	for _, f := range r.schema.Fields() {
		r.cols = append(r.cols, f.Name)
	}
	return r
}

func (r *rows) Columns() []string { return r.cols }

// Close releases the result, which cancels the job if it is still running.
func (r *rows) Close() error {
	r.once.Do(func() {
		r.rec = nil
		r.res.Release()
	})
	return nil
}

func (r *rows) Next(dest []driver.Value) error {
	for r.rec == nil || r.row >= int(r.rec.NumRows()) {
		if !r.res.Next() {
			r.rec = nil
			if err := r.res.Err(); err != nil {
				return err
			}
			return io.EOF
		}
		r.rec, r.row = r.res.Record(), 0
		r.values = r.values[:0]
		for _, col := range r.rec.Columns() {
			r.values = append(r.values, valueFunc(col))
		}
	}
	for c, value := range r.values {
		if r.rec.Column(c).IsNull(r.row) {
			dest[c] = nil
		} else {
			dest[c] = value(r.row)
		}
	}
	r.row++
	return nil
}

// valueFunc returns the converter of one column's values to Go values.
// Strings are copied: the record's buffers are reused after Next.
func valueFunc(arr arrow.Array) func(i int) driver.Value {
	switch a := arr.(type) {
	case *array.Int64:
		return func(i int) driver.Value { return a.Value(i) }
	case *array.Uint64:
		return func(i int) driver.Value { return a.Value(i) }
	case *array.Float64:
		return func(i int) driver.Value { return a.Value(i) }
	case *array.Boolean:
		return func(i int) driver.Value { return a.Value(i) }
	case *array.String:
		return func(i int) driver.Value { return strings.Clone(a.Value(i)) }
	case *array.LargeString:
		return func(i int) driver.Value { return strings.Clone(a.Value(i)) }
	case *array.Binary:
		return func(i int) driver.Value { return string(a.Value(i)) }
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return func(i int) driver.Value { return a.Value(i).ToString(scale) }
	case *array.Date32:
		return func(i int) driver.Value { return time.Unix(int64(a.Value(i))*86400, 0).UTC() }
	case *array.Null:
		return func(int) driver.Value { return nil }
	case *array.Timestamp:
		toTime, err := a.DataType().(*arrow.TimestampType).GetToTimeFunc()
		if err != nil {
			return func(i int) driver.Value { return a.ValueStr(i) }
		}
		return func(i int) driver.Value { return toTime(a.Value(i)).UTC() }
	}
	return func(i int) driver.Value { return arr.ValueStr(i) }
}

// ColumnTypeDatabaseTypeName is the SQL type without its parameters:
// BIGINT, BIGINT UNSIGNED, DOUBLE, DECIMAL, VARCHAR, BOOLEAN, DATE,
// DATETIME.
func (r *rows) ColumnTypeDatabaseTypeName(index int) string {
	switch r.schema.Field(index).Type.(type) {
	case *arrow.Int64Type:
		return "BIGINT"
	case *arrow.Uint64Type:
		return "BIGINT UNSIGNED"
	case *arrow.Float64Type:
		return "DOUBLE"
	case *arrow.Decimal128Type:
		return "DECIMAL"
	case *arrow.StringType, *arrow.LargeStringType, *arrow.BinaryType:
		return "VARCHAR"
	case *arrow.BooleanType:
		return "BOOLEAN"
	case *arrow.Date32Type:
		return "DATE"
	case *arrow.TimestampType:
		return "DATETIME"
	case *arrow.NullType:
		return "NULL"
	}
	return strings.ToUpper(r.schema.Field(index).Type.Name())
}

var (
	scanInt64   = reflect.TypeFor[int64]()
	scanUint64  = reflect.TypeFor[uint64]()
	scanFloat64 = reflect.TypeFor[float64]()
	scanString  = reflect.TypeFor[string]()
	scanBool    = reflect.TypeFor[bool]()
	scanTime    = reflect.TypeFor[time.Time]()
	scanAny     = reflect.TypeFor[any]()

	scanNullInt64   = reflect.TypeFor[sql.NullInt64]()
	scanNullUint64  = reflect.TypeFor[sql.Null[uint64]]()
	scanNullFloat64 = reflect.TypeFor[sql.NullFloat64]()
	scanNullString  = reflect.TypeFor[sql.NullString]()
	scanNullBool    = reflect.TypeFor[sql.NullBool]()
	scanNullTime    = reflect.TypeFor[sql.NullTime]()
)

// ColumnTypeScanType is the Go type a value of the column scans into: the
// sql.Null* type for nullable columns (all of quern's), the plain type
// otherwise.
func (r *rows) ColumnTypeScanType(index int) reflect.Type {
	f := r.schema.Field(index)
	pick := func(plain, null reflect.Type) reflect.Type {
		if f.Nullable {
			return null
		}
		return plain
	}
	switch f.Type.(type) {
	case *arrow.Int64Type:
		return pick(scanInt64, scanNullInt64)
	case *arrow.Uint64Type:
		return pick(scanUint64, scanNullUint64)
	case *arrow.Float64Type:
		return pick(scanFloat64, scanNullFloat64)
	case *arrow.Decimal128Type, *arrow.StringType, *arrow.LargeStringType, *arrow.BinaryType:
		return pick(scanString, scanNullString)
	case *arrow.BooleanType:
		return pick(scanBool, scanNullBool)
	case *arrow.Date32Type, *arrow.TimestampType:
		return pick(scanTime, scanNullTime)
	}
	return scanAny
}

func (r *rows) ColumnTypeNullable(index int) (nullable, ok bool) {
	return r.schema.Field(index).Nullable, true
}

// ColumnTypePrecisionScale reports a DECIMAL column's precision and scale.
func (r *rows) ColumnTypePrecisionScale(index int) (precision, scale int64, ok bool) {
	if d, isDec := r.schema.Field(index).Type.(*arrow.Decimal128Type); isDec {
		return int64(d.Precision), int64(d.Scale), true
	}
	return 0, 0, false
}
