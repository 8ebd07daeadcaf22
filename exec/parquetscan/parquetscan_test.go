package parquetscan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

var batchSizes = []int{1, 2, 3, 7, 1024}

const (
	numRows      = 23
	rowGroupRows = 5 // row groups of 5, 5, 5, 5, 3
)

// testColumn is one column of the generated file: its Arrow type as
// written, the quern column Inspect should report, and its values. value
// returns the expected rendering of row r as read back, or ok=false for
// null.
type testColumn struct {
	name   string
	typ    arrow.DataType
	want   Column
	value  func(r int) (string, bool)
	append func(b array.Builder, r int)
}

func nullEvery(k int, r int) bool { return (r+k)%5 == 0 }

func intCol[T int8 | int16 | int32 | int64](name string, typ arrow.DataType, k int, f func(r int) T) testColumn {
	return testColumn{
		name: name, typ: typ, want: Column{Name: name, Type: BigInt, Stored: typ.String()},
		value: func(r int) (string, bool) {
			return strconv.FormatInt(int64(f(r)), 10), !nullEvery(k, r)
		},
		append: func(b array.Builder, r int) {
			if nullEvery(k, r) {
				b.AppendNull()
				return
			}
			switch b := b.(type) {
			case *array.Int8Builder:
				b.Append(int8(f(r)))
			case *array.Int16Builder:
				b.Append(int16(f(r)))
			case *array.Int32Builder:
				b.Append(int32(f(r)))
			case *array.Int64Builder:
				b.Append(int64(f(r)))
			}
		},
	}
}

func uintCol[T uint8 | uint32 | uint64](name string, typ arrow.DataType, f func(r int) T) testColumn {
	return testColumn{
		name: name, typ: typ, want: Column{Name: name, Type: BigIntUnsigned, Stored: typ.String()},
		value: func(r int) (string, bool) { return strconv.FormatUint(uint64(f(r)), 10), !nullEvery(1, r) },
		append: func(b array.Builder, r int) {
			if nullEvery(1, r) {
				b.AppendNull()
				return
			}
			switch b := b.(type) {
			case *array.Uint8Builder:
				b.Append(uint8(f(r)))
			case *array.Uint32Builder:
				b.Append(uint32(f(r)))
			case *array.Uint64Builder:
				b.Append(uint64(f(r)))
			}
		},
	}
}

func decCol(name string, p, s int32, unscaled func(r int) decimal128.Num) testColumn {
	typ := &arrow.Decimal128Type{Precision: p, Scale: s}
	return testColumn{
		name: name, typ: typ, want: Column{Name: name, Type: Decimal, Precision: p, Scale: s, Stored: typ.String()},
		value: func(r int) (string, bool) { return unscaled(r).ToString(s), !nullEvery(2, r) },
		append: func(b array.Builder, r int) {
			if nullEvery(2, r) {
				b.AppendNull()
				return
			}
			b.(*array.Decimal128Builder).Append(unscaled(r))
		},
	}
}

func tsCol(name string, typ *arrow.TimestampType, v func(r int) int64, micros func(r int) int64) testColumn {
	return testColumn{
		name: name, typ: typ, want: Column{Name: name, Type: Datetime, Stored: typ.String()},
		value: func(r int) (string, bool) { return strconv.FormatInt(micros(r), 10), !nullEvery(4, r) },
		append: func(b array.Builder, r int) {
			if nullEvery(4, r) {
				b.AppendNull()
				return
			}
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(v(r)))
		},
	}
}

func testColumns() []testColumn {
	listType := arrow.ListOf(arrow.PrimitiveTypes.Int64)
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	structType := arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	return []testColumn{
		intCol("i8", arrow.PrimitiveTypes.Int8, 0, func(r int) int8 { return int8(r*5 - 50) }),
		intCol("i16", arrow.PrimitiveTypes.Int16, 1, func(r int) int16 { return int16(r*1000 - 9000) }),
		intCol("i32", arrow.PrimitiveTypes.Int32, 2, func(r int) int32 { return int32(r*100000 - 1) }),
		intCol("i64", arrow.PrimitiveTypes.Int64, 3, func(r int) int64 { return int64(r)*1e12 - 3 }),
		uintCol("u8", arrow.PrimitiveTypes.Uint8, func(r int) uint8 { return uint8(r * 10) }),
		uintCol("u32", arrow.PrimitiveTypes.Uint32, func(r int) uint32 { return 4e9 - uint32(r) }),
		uintCol("u64", arrow.PrimitiveTypes.Uint64, func(r int) uint64 { return math.MaxUint64 - uint64(r) }),
		{
			name: "f32", typ: arrow.PrimitiveTypes.Float32, want: Column{Name: "f32", Type: Double, Stored: "float32"},
			value: func(r int) (string, bool) { return strconv.FormatFloat(float64(r)/4, 'g', -1, 64), !nullEvery(3, r) },
			append: func(b array.Builder, r int) {
				if nullEvery(3, r) {
					b.AppendNull()
					return
				}
				b.(*array.Float32Builder).Append(float32(r) / 4)
			},
		},
		{
			name: "f64", typ: arrow.PrimitiveTypes.Float64, want: Column{Name: "f64", Type: Double, Stored: "float64"},
			value:  func(r int) (string, bool) { return strconv.FormatFloat(float64(r)*1.5-7, 'g', -1, 64), true },
			append: func(b array.Builder, r int) { b.(*array.Float64Builder).Append(float64(r)*1.5 - 7) },
		},
		decCol("dec", 10, 2, func(r int) decimal128.Num { return decimal128.FromI64(int64(r)*12345 - 99999) }),
		decCol("dec_small", 5, 1, func(r int) decimal128.Num { return decimal128.FromI64(int64(r)*7 - 80) }),
		decCol("dec_wide", 30, 4, func(r int) decimal128.Num {
			return decimal128.FromI64(int64(r) - 11).Mul(decimal128.FromI64(1e18)).Add(decimal128.FromI64(int64(r)))
		}),
		{
			name: "s", typ: arrow.BinaryTypes.String, want: Column{Name: "s", Type: Varchar, Stored: "utf8"},
			value: func(r int) (string, bool) { return fmt.Sprintf("s%02d-é", r), !nullEvery(0, r) },
			append: func(b array.Builder, r int) {
				if nullEvery(0, r) {
					b.AppendNull()
					return
				}
				b.(*array.StringBuilder).Append(fmt.Sprintf("s%02d-é", r))
			},
		},
		{
			name: "bin", typ: arrow.BinaryTypes.Binary, want: Column{Name: "bin", Type: Varchar, Stored: "binary"},
			value:  func(r int) (string, bool) { return string([]byte{0xff, byte(r)}), true },
			append: func(b array.Builder, r int) { b.(*array.BinaryBuilder).Append([]byte{0xff, byte(r)}) },
		},
		{
			name: "b", typ: arrow.FixedWidthTypes.Boolean, want: Column{Name: "b", Type: Boolean, Stored: "bool"},
			value: func(r int) (string, bool) { return strconv.FormatBool(r%3 == 0), !nullEvery(2, r) },
			append: func(b array.Builder, r int) {
				if nullEvery(2, r) {
					b.AppendNull()
					return
				}
				b.(*array.BooleanBuilder).Append(r%3 == 0)
			},
		},
		{
			name: "d", typ: arrow.FixedWidthTypes.Date32, want: Column{Name: "d", Type: Date, Stored: "date32"},
			value: func(r int) (string, bool) {
				return arrow.Date32(r*400 - 3000).FormattedString(), !nullEvery(3, r)
			},
			append: func(b array.Builder, r int) {
				if nullEvery(3, r) {
					b.AppendNull()
					return
				}
				b.(*array.Date32Builder).Append(arrow.Date32(r*400 - 3000))
			},
		},
		tsCol("ts_ms", &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"},
			func(r int) int64 { return int64(r)*86_400_123 - 5e8 },
			func(r int) int64 { return (int64(r)*86_400_123 - 5e8) * 1000 }),
		tsCol("ts_us", &arrow.TimestampType{Unit: arrow.Microsecond},
			func(r int) int64 { return int64(r) * 1_000_001 },
			func(r int) int64 { return int64(r) * 1_000_001 }),
		tsCol("ts_ns", &arrow.TimestampType{Unit: arrow.Nanosecond},
			func(r int) int64 { return int64(r)*1_000_000_999 - 777 },
			func(r int) int64 { return floorDiv(int64(r)*1_000_000_999-777, 1000) }),
		{
			name: "dict", typ: dictType, want: Column{Name: "dict", Type: Varchar, Stored: "utf8"},
			value: func(r int) (string, bool) { return []string{"x", "y", "zz"}[r%3], !nullEvery(1, r) },
			append: func(b array.Builder, r int) {
				if nullEvery(1, r) {
					b.AppendNull()
					return
				}
				if err := b.(*array.BinaryDictionaryBuilder).AppendString([]string{"x", "y", "zz"}[r%3]); err != nil {
					panic(err)
				}
			},
		},
		{
			name: "ls", typ: arrow.BinaryTypes.LargeString, want: Column{Name: "ls", Type: Varchar, Stored: "utf8"},
			value: func(r int) (string, bool) { return strings.Repeat("L", r), !nullEvery(2, r) },
			append: func(b array.Builder, r int) {
				if nullEvery(2, r) {
					b.AppendNull()
					return
				}
				b.(*array.LargeStringBuilder).Append(strings.Repeat("L", r))
			},
		},
		{
			name: "d64", typ: arrow.FixedWidthTypes.Date64, want: Column{Name: "d64", Type: Date, Stored: "date32"},
			value: func(r int) (string, bool) { return arrow.Date32(r*-30 + 100).FormattedString(), true },
			append: func(b array.Builder, r int) {
				b.(*array.Date64Builder).Append(arrow.Date64(int64(r*-30+100) * 86_400_000))
			},
		},
		{
			name: "dec256", typ: &arrow.Decimal256Type{Precision: 20, Scale: 2},
			want: Column{Name: "dec256", Type: Decimal, Precision: 20, Scale: 2, Stored: "decimal(20, 2)"},
			value: func(r int) (string, bool) {
				return decimal128.FromI64(int64(r)*-1e15 + 5).ToString(2), !nullEvery(3, r)
			},
			append: func(b array.Builder, r int) {
				if nullEvery(3, r) {
					b.AppendNull()
					return
				}
				b.(*array.Decimal256Builder).Append(decimal256.FromI64(int64(r)*-1e15 + 5))
			},
		},
		{
			name: "l", typ: listType, want: Column{Name: "l", Type: Unsupported, Stored: "list<element: int64, nullable>"},
			append: func(b array.Builder, r int) {
				lb := b.(*array.ListBuilder)
				lb.Append(true)
				lb.ValueBuilder().(*array.Int64Builder).Append(int64(r))
			},
		},
		{
			name: "st", typ: structType, want: Column{Name: "st", Type: Unsupported, Stored: structType.String()},
			append: func(b array.Builder, r int) {
				sb := b.(*array.StructBuilder)
				sb.Append(true)
				sb.FieldBuilder(0).(*array.Int64Builder).Append(int64(r))
			},
		},
	}
}

// writerConfig is one way of writing the test file.
type writerConfig struct {
	name  string
	props *parquet.WriterProperties
	arrow pqarrow.ArrowWriterProperties
	int96 bool // timestamps are written as INT96
	// DECIMALs of up to 18 digits are stored as INT32/INT64, which the
	// Reader reads as integers and widens itself (readAsStored).
	intDecimals bool
}

func writerConfigs() []writerConfig {
	return []writerConfig{
		{
			name:  "plain",
			props: parquet.NewWriterProperties(parquet.WithDictionaryDefault(false), parquet.WithStats(true)),
			arrow: pqarrow.DefaultWriterProps(),
		},
		{
			// Dictionary pages, snappy, decimals as INT32/INT64, and the Arrow
			// schema stored, which the reader must ignore: types come from the
			// Parquet schema, so dictionary, large_utf8, date64 and decimal256
			// columns read as their plain quern types.
			name: "dict-snappy-intdecimal-storedschema",
			props: parquet.NewWriterProperties(parquet.WithDictionaryDefault(true), parquet.WithStats(true),
				parquet.WithCompression(compress.Codecs.Snappy), parquet.WithStoreDecimalAsInteger(true)),
			arrow:       pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()),
			intDecimals: true,
		},
		{
			name:  "int96-timestamps",
			props: parquet.NewWriterProperties(parquet.WithStats(true)),
			arrow: pqarrow.NewArrowWriterProperties(pqarrow.WithDeprecatedInt96Timestamps(true)),
			int96: true,
		},
	}
}

func writeTestFile(t testing.TB, cols []testColumn, cfg writerConfig) string {
	t.Helper()
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.name, Type: c.typ, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	for r := range numRows {
		for i, c := range cols {
			c.append(b.Field(i), r)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	path := filepath.Join(t.TempDir(), "t.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// WriteTable closes f once the footer is written.
	if err := pqarrow.WriteTable(tbl, f, rowGroupRows, cfg.props, cfg.arrow); err != nil {
		t.Fatal(err)
	}
	return path
}

// render turns a record's rows into "a|b|c" strings, NULL for nulls.
func render(t *testing.T, rec arrow.Record) []string {
	rows := make([]string, rec.NumRows())
	for r := range rows {
		parts := make([]string, rec.NumCols())
		for c := range parts {
			col := rec.Column(c)
			if col.IsNull(r) {
				parts[c] = "NULL"
				continue
			}
			switch a := col.(type) {
			case *array.Int64:
				parts[c] = strconv.FormatInt(a.Value(r), 10)
			case *array.Uint64:
				parts[c] = strconv.FormatUint(a.Value(r), 10)
			case *array.Float64:
				parts[c] = strconv.FormatFloat(a.Value(r), 'g', -1, 64)
			case *array.Decimal128:
				parts[c] = a.Value(r).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
			case *array.String:
				parts[c] = a.Value(r)
			case *array.Boolean:
				parts[c] = strconv.FormatBool(a.Value(r))
			case *array.Date32:
				parts[c] = a.Value(r).FormattedString()
			case *array.Timestamp:
				parts[c] = strconv.FormatInt(int64(a.Value(r)), 10)
			default:
				t.Fatalf("unexpected array type %s", col.DataType())
			}
		}
		rows[r] = strings.Join(parts, "|")
	}
	return rows
}

func expectRows(cols []testColumn, projection []int, rows []int) []string {
	var out []string
	for _, r := range rows {
		parts := make([]string, len(projection))
		for i, k := range projection {
			v, ok := cols[k].value(r)
			if !ok {
				v = "NULL"
			}
			parts[i] = v
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

func rowsOf(groups []int) []int {
	var rows []int
	for _, g := range groups {
		for r := g * rowGroupRows; r < min((g+1)*rowGroupRows, numRows); r++ {
			rows = append(rows, r)
		}
	}
	return rows
}

func readAll(t *testing.T, rd *Reader, batchSize int) ([]string, int64, error) {
	t.Helper()
	var rows []string
	var n int64
	for {
		rec, err := rd.Next(context.Background())
		if err == io.EOF {
			return rows, n, nil
		}
		if err != nil {
			return rows, n, err
		}
		if rec.NumRows() > int64(batchSize) {
			t.Fatalf("record of %d rows exceeds batch size %d", rec.NumRows(), batchSize)
		}
		if !rec.Schema().Equal(rd.Schema()) {
			t.Fatalf("record schema %v differs from reader schema %v", rec.Schema(), rd.Schema())
		}
		n += rec.NumRows()
		rows = append(rows, render(t, rec)...)
	}
}

func TestInspect(t *testing.T) {
	cols := testColumns()
	for _, cfg := range writerConfigs() {
		t.Run(cfg.name, func(t *testing.T) {
			path := writeTestFile(t, cols, cfg)
			info, err := Inspect(path)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range cols {
				got := info.Columns[i]
				want := c.want
				if cfg.int96 && c.name == "ts_ns" {
					want.Stored = "timestamp[ns, tz=UTC]" // how pqarrow reads INT96
				}
				if got != want {
					t.Errorf("column %d = %+v, want %+v", i, got, want)
				}
			}
			if len(info.Columns) != len(cols) {
				t.Fatalf("%d columns, want %d", len(info.Columns), len(cols))
			}
			var groupRows []int64
			for _, rg := range info.RowGroups {
				groupRows = append(groupRows, rg.NumRows)
				if rg.Bytes <= 0 {
					t.Errorf("row group size %d", rg.Bytes)
				}
			}
			if want := []int64{5, 5, 5, 5, 3}; !reflect.DeepEqual(groupRows, want) || info.NumRows() != numRows {
				t.Fatalf("row groups %v (total %d), want %v", groupRows, info.NumRows(), want)
			}

			// Row group 1 holds rows 5..9.
			stats := func(name string) ColumnStats {
				for i, c := range cols {
					if c.name == name {
						return info.RowGroups[1].Stats[i]
					}
				}
				t.Fatalf("no column %s", name)
				return ColumnStats{}
			}
			d := func(v int64) (int64, uint64) { n := decimal128.FromI64(v); return n.HighBits(), n.LowBits() }
			decLoHi, decLoLo := d(5*12345 - 99999) // dec is null at row 8
			decHiHi, decHiLo := d(9*12345 - 99999)
			tests := []struct {
				name string
				want ColumnStats
			}{
				// i32 nulls at rows where (r+2)%5==0: row 8.
				{"i32", ColumnStats{true, Value{Int: 5*100000 - 1}, Value{Int: 9*100000 - 1}, true, 1}},
				// u64 nulls at row 9; unsigned order, above MaxInt64.
				{"u64", ColumnStats{true, Value{Uint: math.MaxUint64 - 8}, Value{Uint: math.MaxUint64 - 5}, true, 1}},
				{"f64", ColumnStats{true, Value{Float: 5*1.5 - 7}, Value{Float: 9*1.5 - 7}, true, 0}},
				{"dec", ColumnStats{true, Value{DecHi: decLoHi, DecLo: decLoLo}, Value{DecHi: decHiHi, DecLo: decHiLo}, true, 1}},
				// s nulls at row 5.
				{"s", ColumnStats{true, Value{Bytes: []byte("s06-é")}, Value{Bytes: []byte("s09-é")}, true, 1}},
				{"b", ColumnStats{true, Value{Bool: false}, Value{Bool: true}, true, 1}},
				// d nulls at row 7.
				{"d", ColumnStats{true, Value{Int: 5*400 - 3000}, Value{Int: 9*400 - 3000}, true, 1}},
				// ts_ms nulls at row 6.
				{"ts_ms", ColumnStats{true, Value{Int: (5*86_400_123 - 5e8) * 1000}, Value{Int: (9*86_400_123 - 5e8) * 1000}, true, 1}},
				{"ts_ns", ColumnStats{true, Value{Int: floorDiv(5*1_000_000_999-777, 1000)}, Value{Int: floorDiv(9*1_000_000_999-777, 1000)}, true, 1}},
			}
			for _, tt := range tests {
				if cfg.int96 && tt.name == "ts_ns" {
					tt.want = ColumnStats{} // INT96 has no defined sort order, so no statistics
				}
				if got := stats(tt.name); !reflect.DeepEqual(got, tt.want) {
					t.Errorf("stats %s = %+v, want %+v", tt.name, got, tt.want)
				}
			}
			if got := info.RowGroups[1].Stats[len(cols)-1]; !reflect.DeepEqual(got, ColumnStats{}) {
				t.Errorf("unsupported column has stats %+v", got)
			}

			// Info is plain data: it survives a JSON round trip.
			b, err := json.Marshal(info)
			if err != nil {
				t.Fatal(err)
			}
			var back Info
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, info) {
				t.Fatalf("JSON round trip changed the info:\n%s", b)
			}
		})
	}
}

func TestReader(t *testing.T) {
	cols := testColumns()
	var supported []int
	for i, c := range cols {
		if c.want.Type != Unsupported {
			supported = append(supported, i)
		}
	}
	allGroups := []int{0, 1, 2, 3, 4}
	tests := []struct {
		name      string
		columns   []int
		rowGroups []int
	}{
		{"all supported columns", supported, allGroups},
		{"reordered with a repeat", []int{16, 0, 12, 0, 9}, allGroups},
		{"row groups out of order", []int{3, 12}, []int{4, 1, 2}},
		{"no columns", nil, allGroups},
		{"no row groups", []int{0}, []int{}},
	}
	for _, cfg := range writerConfigs() {
		path := writeTestFile(t, cols, cfg)
		info, err := Inspect(path)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.intDecimals {
			checkStored(t, path, map[string]parquet.Type{"dec": parquet.Types.Int64, "dec_small": parquet.Types.Int32})
		}
		for _, tt := range tests {
			for _, bs := range batchSizes {
				t.Run(fmt.Sprintf("%s/%s/batch=%d", cfg.name, tt.name, bs), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					rd, err := NewReader(path, tt.rowGroups, tt.columns, mem, bs)
					if err != nil {
						t.Fatal(err)
					}
					defer rd.Close()
					fields := make([]arrow.Field, len(tt.columns))
					for i, k := range tt.columns {
						fields[i] = info.Schema().Field(k)
					}
					if want := arrow.NewSchema(fields, nil); !rd.Schema().Equal(want) {
						t.Fatalf("schema %v, want %v", rd.Schema(), want)
					}
					got, n, err := readAll(t, rd, bs)
					if err != nil {
						t.Fatal(err)
					}
					want := expectRows(cols, tt.columns, rowsOf(tt.rowGroups))
					if n != int64(len(want)) {
						t.Fatalf("read %d rows, want %d", n, len(want))
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("rows:\n%q\nwant:\n%q", got, want)
					}
					if err := rd.Close(); err != nil {
						t.Fatal(err)
					}
					if err := rd.Close(); err != nil {
						t.Fatalf("second Close: %v", err)
					}
				})
			}
		}
	}
}

// checkStored fails the test unless the named columns of path have the
// given physical types: the cases a writer configuration exists for.
func checkStored(t *testing.T, path string, want map[string]parquet.Type) {
	t.Helper()
	f, err := open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := f.MetaData().Schema
	for name, typ := range want {
		i := sc.ColumnIndexByName(name)
		if i < 0 {
			t.Fatalf("%s: no column %q", path, name)
		}
		if got := sc.Column(i).PhysicalType(); got != typ {
			t.Fatalf("%s: column %q stored as %s, want %s", path, name, got, typ)
		}
	}
}

// TestSplitsUnion reads each split of a file alone and checks that together
// they read exactly the rows of one whole-file read.
func TestSplitsUnion(t *testing.T) {
	cols := testColumns()
	path := writeTestFile(t, cols, writerConfigs()[0])
	info, err := Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	projection := []int{3, 12, 9}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	read := func(groups []int, bs int) []string {
		rd, err := NewReader(path, groups, projection, mem, bs)
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		rows, _, err := readAll(t, rd, bs)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	whole := read([]int{0, 1, 2, 3, 4}, 1024)
	for _, target := range []int64{0, 1, 2 * info.RowGroups[0].Bytes, 1 << 30} {
		for _, bs := range []int{3, 1024} {
			var got []string
			splits := info.Splits(target)
			for _, s := range splits {
				got = append(got, read(s, bs)...)
			}
			if !reflect.DeepEqual(got, whole) {
				t.Fatalf("target %d: splits %v read %d rows, whole file %d", target, splits, len(got), len(whole))
			}
		}
	}
}

func TestInfoSplits(t *testing.T) {
	info := Info{RowGroups: []RowGroup{{Bytes: 10}, {Bytes: 10}, {Bytes: 30}, {Bytes: 5}}}
	tests := []struct {
		target int64
		want   [][]int
	}{
		{0, [][]int{{0}, {1}, {2}, {3}}},
		{20, [][]int{{0, 1}, {2}, {3}}},
		{40, [][]int{{0, 1}, {2, 3}}},
		{100, [][]int{{0, 1, 2, 3}}},
	}
	for _, tt := range tests {
		if got := info.Splits(tt.target); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Splits(%d) = %v, want %v", tt.target, got, tt.want)
		}
	}
	if got := (Info{}).Splits(10); !reflect.DeepEqual(got, [][]int{nil}) {
		t.Errorf("Splits of a file without row groups = %v, want one empty split", got)
	}
}

func TestUnsupportedColumn(t *testing.T) {
	cols := testColumns()
	path := writeTestFile(t, cols, writerConfigs()[0])
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, k := range []int{len(cols) - 2, len(cols) - 1} {
		_, err := NewReader(path, []int{0}, []int{0, k}, mem, 8)
		want := fmt.Sprintf("not supported: parquet column %q of type %s", cols[k].name, cols[k].want.Stored)
		if err == nil || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("reading %s: error %v, want one containing %q and the path", cols[k].name, err, want)
		}
	}
}

func TestCorruptFiles(t *testing.T) {
	cols := testColumns()
	good, err := os.ReadFile(writeTestFile(t, cols, writerConfigs()[1]))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// Files whose footer cannot be read: both Inspect and NewReader fail.
	for name, b := range map[string][]byte{
		"empty.parquet":     {},
		"text.parquet":      []byte("id,name\n1,ann\n"),
		"truncated.parquet": good[:len(good)-100],
		"halved.parquet":    good[:len(good)/2],
		"badmagic.parquet":  append(append([]byte{}, good[:len(good)-4]...), "PAR2"...),
		"badfooter.parquet": append(append(append([]byte{}, good[:len(good)-40]...), bytes.Repeat([]byte{0xee}, 32)...), good[len(good)-8:]...),
	} {
		path := write(name, b)
		if _, err := Inspect(path); err == nil || !strings.Contains(err.Error(), path) || !errors.Is(err, ErrCorrupt) {
			t.Errorf("Inspect(%s) error = %v, want a corrupt-file error naming the path", name, err)
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		if _, err := NewReader(path, []int{0}, []int{0}, mem, 8); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("NewReader(%s) error = %v, want an error naming the path", name, err)
		}
		mem.AssertSize(t, 0)
	}

	// Damaged data pages under an intact footer: every column must either read
	// or fail with an error naming the file; never panic, never leak.
	var all []int
	for i, c := range cols {
		if c.want.Type != Unsupported {
			all = append(all, i)
		}
	}
	tried, failures := 0, 0
	for off := 4; off < len(good)-2048; off += 97 {
		b := append([]byte{}, good...)
		for i := off; i < off+6; i++ {
			b[i] ^= 0x5a
		}
		path := write("damaged.parquet", b)
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		rd, err := NewReader(path, []int{0, 1, 2, 3, 4}, all, mem, 7)
		if err == nil {
			_, _, err = readAll(t, rd, 7)
			rd.Close()
		}
		mem.AssertSize(t, 0)
		tried++
		if err != nil {
			failures++
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("damage at %d: error %q does not name the file", off, err)
			}
		}
	}
	if failures == 0 {
		t.Fatal("no damaged file was reported as corrupt")
	}
	// Parquet pages carry no checksum Arrow Go verifies, so damage inside
	// plain values reads as other values; headers and encodings catch the rest.
	t.Logf("%d of %d damaged variants reported as errors", failures, tried)
}

func TestNewReaderErrors(t *testing.T) {
	cols := testColumns()
	path := writeTestFile(t, cols, writerConfigs()[0])
	missing := filepath.Join(t.TempDir(), "missing.parquet")
	tests := []struct {
		name      string
		path      string
		rowGroups []int
		columns   []int
		want      string
	}{
		{"missing file", missing, []int{0}, []int{0}, missing},
		{"row group out of range", path, []int{5}, []int{0}, "row group 5 out of range"},
		{"column out of range", path, []int{0}, []int{len(cols)}, "column index"},
	}
	for _, tt := range tests {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		if _, err := NewReader(tt.path, tt.rowGroups, tt.columns, mem, 8); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
		mem.AssertSize(t, 0)
	}
	if _, err := Inspect(missing); err == nil || !strings.Contains(err.Error(), missing) || errors.Is(err, ErrCorrupt) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Inspect of a missing file: %v", err)
	}
}

func TestReaderCancelled(t *testing.T) {
	path := writeTestFile(t, testColumns(), writerConfigs()[0])
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rd, err := NewReader(path, []int{0}, []int{0}, mem, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := rd.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next on a cancelled context = %v", err)
	}
}

// BenchmarkReader reads a lineitem-like file: keys, decimals, a date and
// short strings, 600k rows in row groups of 100k.
func BenchmarkReader(b *testing.B) {
	const rows = 600_000
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "l_orderkey", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "l_quantity", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}, Nullable: true},
		{Name: "l_extendedprice", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}, Nullable: true},
		{Name: "l_returnflag", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "l_shipdate", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "l_linenumber", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	bld := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer bld.Release()
	for r := range rows {
		bld.Field(0).(*array.Int64Builder).Append(int64(r / 4))
		bld.Field(1).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(r%50+1) * 100))
		bld.Field(2).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(r%100000) * 37))
		bld.Field(3).(*array.StringBuilder).Append(string("ANR"[r%3]))
		bld.Field(4).(*array.Date32Builder).Append(arrow.Date32(8000 + r%2500))
		bld.Field(5).(*array.Int32Builder).Append(int32(r%7 + 1))
	}
	rec := bld.NewRecordBatch()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	rec.Release()
	path := filepath.Join(b.TempDir(), "lineitem.parquet")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithStoreDecimalAsInteger(true))
	if err := pqarrow.WriteTable(tbl, f, 100_000, props, pqarrow.DefaultWriterProps()); err != nil {
		b.Fatal(err)
	}
	tbl.Release()
	info, err := Inspect(path)
	if err != nil {
		b.Fatal(err)
	}
	groups := info.Splits(0)
	// A recycling allocator, as a task's pool is: B/op is then the garbage
	// the scan makes, not the batches the consumer gives back for reuse.
	alloc := &recyclingAllocator{}
	b.ReportAllocs()
	for b.Loop() {
		for _, g := range groups {
			rd, err := NewReader(path, g, []int{0, 1, 2, 3, 4, 5}, alloc, 16*1024)
			if err != nil {
				b.Fatal(err)
			}
			for {
				_, err := rd.Next(context.Background())
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			rd.Close()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}
