package repl

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Format
	}{
		{"table", FormatTable}, {"BOX", FormatTable}, {"csv", FormatCSV}, {"tsv", FormatTSV},
		{"json", FormatJSON}, {" JSONL ", FormatJSONL}, {"ndjson", FormatJSONL},
		{"markdown", FormatMarkdown}, {"md", FormatMarkdown}, {"line", FormatLine},
	} {
		got, err := ParseFormat(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, _ := ParseFormat(got.String()); back != got {
			t.Errorf("ParseFormat(%v.String()) = %v", got, back)
		}
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "csv") {
		t.Errorf("ParseFormat(xml) error = %v; want one listing the formats", err)
	}
}

func TestAppendFloat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-2.5, "-2.5"}, {0.1, "0.1"},
		{1.0 / 3, "0.3333333333333333"}, {1e14, "100000000000000"}, {1e15, "1e15"},
		{2.3e15, "2.3e15"}, {1e20, "1e20"}, {1e-15, "0.000000000000001"}, {1e-16, "1e-16"},
		{3.4e-15, "0.0000000000000034"}, {3.4e-16, "3.4e-16"}, {1.2345678901234567e19, "1.2345678901234567e19"},
		{-1e300, "-1e300"}, {123456.789, "123456.789"}, {math.NaN(), "NaN"}, {math.Inf(-1), "-Inf"},
	} {
		if got := string(AppendFloat(nil, tc.v)); got != tc.want {
			t.Errorf("AppendFloat(%v) = %q; want %q", tc.v, got, tc.want)
		}
	}
}

func TestAppendDecimal128(t *testing.T) {
	big, _ := decimal128.FromString("-123456789012345678901234567.89", 38, 2)
	for _, tc := range []struct {
		n     decimal128.Num
		scale int32
		want  string
	}{
		{decimal128.FromI64(350), 2, "3.50"}, {decimal128.FromI64(-5), 3, "-0.005"},
		{decimal128.FromI64(0), 2, "0.00"}, {decimal128.FromI64(7), 0, "7"},
		{decimal128.FromI64(-12), -2, "-1200"}, {decimal128.FromI64(0), -2, "0"},
		{decimal128.FromI64(math.MinInt64), 1, "-922337203685477580.8"},
		{decimal128.FromU64(math.MaxUint64), 4, "1844674407370955.1615"},
		{big, 2, "-123456789012345678901234567.89"},
	} {
		if got := string(AppendDecimal128(nil, tc.n, tc.scale)); got != tc.want {
			t.Errorf("AppendDecimal128(%v, %d) = %q; want %q", tc.n, tc.scale, got, tc.want)
		}
	}
}

// testRecord builds one record holding every type quern produces. Row 1 is
// all NULL.
func testRecord(t *testing.T, mem memory.Allocator) arrow.Record {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "u", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "d", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "dt", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
		{Name: "n", Type: arrow.Null, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{-42, 0, math.MaxInt64}, []bool{true, false, true})
	b.Field(1).(*array.Uint64Builder).AppendValues([]uint64{7, 0, math.MaxUint64}, []bool{true, false, true})
	b.Field(2).(*array.Float64Builder).AppendValues([]float64{0.1, 0, math.Copysign(0, -1)}, []bool{true, false, true})
	b.Field(3).(*array.Decimal128Builder).AppendValues(
		[]decimal128.Num{decimal128.FromI64(350), {}, decimal128.FromI64(-1)}, []bool{true, false, true})
	b.Field(4).(*array.StringBuilder).AppendValues([]string{"a,\"b\"", "", ""}, []bool{true, false, true})
	b.Field(5).(*array.BooleanBuilder).AppendValues([]bool{true, false, false}, []bool{true, false, true})
	b.Field(6).(*array.Date32Builder).AppendValues([]arrow.Date32{19724, 0, -1}, []bool{true, false, true})
	b.Field(7).(*array.TimestampBuilder).AppendValues(
		[]arrow.Timestamp{1704164645_123456, 0, -1}, []bool{true, false, true})
	b.Field(8).(*array.NullBuilder).AppendNulls(3)
	return b.NewRecordBatch()
}

func TestFormatValue(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := testRecord(t, mem)
	defer rec.Release()
	want := [][]string{
		{"-42", "7", "0.1", "3.50", `a,"b"`, "1", "2024-01-02", "2024-01-02 03:04:05.123456", "NULL"},
		{"NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"},
		{"9223372036854775807", "18446744073709551615", "0", "-0.01", "", "0", "1969-12-31", "1969-12-31 23:59:59.999999", "NULL"},
	}
	for r, row := range want {
		for c, w := range row {
			if got := FormatValue(rec.Column(c), r); got != w {
				t.Errorf("FormatValue(%s, %d) = %q; want %q", rec.Schema().Field(c).Name, r, got, w)
			}
		}
	}
}

func TestFormatTimestampUnits(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, tc := range []struct {
		unit arrow.TimeUnit
		v    arrow.Timestamp
		want string
	}{
		{arrow.Second, 86400, "1970-01-02 00:00:00"},
		{arrow.Millisecond, 1500, "1970-01-01 00:00:01.500"},
		{arrow.Microsecond, 1_000_000, "1970-01-01 00:00:01"},
		{arrow.Microsecond, 5, "1970-01-01 00:00:00.000005"},
		{arrow.Nanosecond, -1, "1969-12-31 23:59:59.999999999"},
	} {
		b := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: tc.unit})
		b.Append(tc.v)
		arr := b.NewArray()
		if got := FormatValue(arr, 0); got != tc.want {
			t.Errorf("FormatValue(timestamp[%v] %d) = %q; want %q", tc.unit, tc.v, got, tc.want)
		}
		arr.Release()
		b.Release()
	}
}

// writeAll writes the records through a ResultWriter and returns the output.
func writeAll(t *testing.T, f Format, opts WriterOptions, recs ...arrow.Record) string {
	t.Helper()
	var buf bytes.Buffer
	w := NewResultWriter(&buf, f, opts)
	w.WriteSchema(recs[0].Schema())
	for _, r := range recs {
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestResultWriterFormats(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := testRecord(t, mem)
	defer rec.Release()
	tests := []struct {
		f    Format
		opts WriterOptions
		want string
	}{
		{FormatTable, WriterOptions{}, `` +
			`+---------------------+----------------------+------+-------+-------+------+------------+----------------------------+------+
| i                   | u                    | f    | d     | s     | b    | dt         | ts                         | n    |
+---------------------+----------------------+------+-------+-------+------+------------+----------------------------+------+
|                 -42 |                    7 |  0.1 |  3.50 | a,"b" | 1    | 2024-01-02 | 2024-01-02 03:04:05.123456 | NULL |
|                NULL |                 NULL | NULL |  NULL | NULL  | NULL | NULL       | NULL                       | NULL |
| 9223372036854775807 | 18446744073709551615 |    0 | -0.01 |       | 0    | 1969-12-31 | 1969-12-31 23:59:59.999999 | NULL |
+---------------------+----------------------+------+-------+-------+------+------------+----------------------------+------+
(3 rows)
`},
		{FormatCSV, WriterOptions{}, `i,u,f,d,s,b,dt,ts,n
-42,7,0.1,3.50,"a,""b""",1,2024-01-02,2024-01-02 03:04:05.123456,
,,,,,,,,
9223372036854775807,18446744073709551615,0,-0.01,"",0,1969-12-31,1969-12-31 23:59:59.999999,
`},
		{FormatTSV, WriterOptions{NoHeader: true}, "-42\t7\t0.1\t3.50\ta,\"b\"\t1\t2024-01-02\t2024-01-02 03:04:05.123456\t\n" +
			"\t\t\t\t\t\t\t\t\n" +
			"9223372036854775807\t18446744073709551615\t0\t-0.01\t\t0\t1969-12-31\t1969-12-31 23:59:59.999999\t\n"},
		{FormatJSON, WriterOptions{}, `[
{"i":-42,"u":7,"f":0.1,"d":3.50,"s":"a,\"b\"","b":true,"dt":"2024-01-02","ts":"2024-01-02 03:04:05.123456","n":null},
{"i":null,"u":null,"f":null,"d":null,"s":null,"b":null,"dt":null,"ts":null,"n":null},
{"i":9223372036854775807,"u":18446744073709551615,"f":0,"d":-0.01,"s":"","b":false,"dt":"1969-12-31","ts":"1969-12-31 23:59:59.999999","n":null}
]
`},
		{FormatJSONL, WriterOptions{}, `{"i":-42,"u":7,"f":0.1,"d":3.50,"s":"a,\"b\"","b":true,"dt":"2024-01-02","ts":"2024-01-02 03:04:05.123456","n":null}
{"i":null,"u":null,"f":null,"d":null,"s":null,"b":null,"dt":null,"ts":null,"n":null}
{"i":9223372036854775807,"u":18446744073709551615,"f":0,"d":-0.01,"s":"","b":false,"dt":"1969-12-31","ts":"1969-12-31 23:59:59.999999","n":null}
`},
		{FormatMarkdown, WriterOptions{}, `| i | u | f | d | s | b | dt | ts | n |
|---:|---:|---:|---:|---|---|---|---|---|
| -42 | 7 | 0.1 | 3.50 | a,"b" | 1 | 2024-01-02 | 2024-01-02 03:04:05.123456 | NULL |
| NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL |
| 9223372036854775807 | 18446744073709551615 | 0 | -0.01 |  | 0 | 1969-12-31 | 1969-12-31 23:59:59.999999 | NULL |
`},
	}
	for _, tc := range tests {
		t.Run(tc.f.String(), func(t *testing.T) {
			if got := writeAll(t, tc.f, tc.opts, rec); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

// strRecord builds a one-column (or two, with names) string record.
func strRecord(mem memory.Allocator, names []string, rows ...[]string) arrow.Record {
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		fields[i] = arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer b.Release()
	for _, row := range rows {
		for c, v := range row {
			b.Field(c).(*array.StringBuilder).Append(v)
		}
	}
	return b.NewRecordBatch()
}

func TestLineFormat(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r1 := strRecord(mem, []string{"id", "long_name"}, []string{"1", "a\nb"})
	defer r1.Release()
	r2 := strRecord(mem, []string{"id", "long_name"}, []string{"2", "c"})
	defer r2.Release()
	want := "       id = 1\nlong_name = a\\nb\n\n       id = 2\nlong_name = c\n"
	if got := writeAll(t, FormatLine, WriterOptions{}, r1, r2); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestTableCaps(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var recs []arrow.Record
	for i := range 7 {
		recs = append(recs, strRecord(mem, []string{"v"}, []string{string(rune('a' + i))}))
	}
	long := strRecord(mem, []string{"v"}, []string{"ünïcode-and-more"}, []string{"x\ty\x01\xff"})
	recs = append(recs, long)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	// 9 rows, 4 shown: first two, then the last two, which come from the
	// last batch.
	got := writeAll(t, FormatTable, WriterOptions{MaxRows: 4, MaxWidth: 8}, recs...)
	want := `+---------------+
| v             |
+---------------+
| a             |
| b             |
| … 5 more rows |
| ünïcode…      |
| x\ty\x0…      |
+---------------+
(9 rows)
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	// Unlimited caps keep every row and the whole value.
	got = writeAll(t, FormatTable, WriterOptions{MaxRows: -1, MaxWidth: -1}, recs...)
	if !strings.Contains(got, "| ünïcode-and-more |") || !strings.Contains(got, "| g ") || !strings.HasSuffix(got, "(9 rows)\n") {
		t.Errorf("uncapped table lost rows or values:\n%s", got)
	}
}

func TestTableEmptyAndOneRow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	one := strRecord(mem, []string{"x"}, []string{"v"})
	defer one.Release()
	none := strRecord(mem, []string{"x"})
	defer none.Release()
	if got, want := writeAll(t, FormatTable, WriterOptions{}, one), "+---+\n| x |\n+---+\n| v |\n+---+\n(1 row)\n"; got != want {
		t.Errorf("one row: got %q want %q", got, want)
	}
	if got, want := writeAll(t, FormatTable, WriterOptions{}, none), "+---+\n| x |\n+---+\n+---+\n(0 rows)\n"; got != want {
		t.Errorf("no rows: got %q want %q", got, want)
	}
	if got, want := writeAll(t, FormatJSON, WriterOptions{}, none), "[]\n"; got != want {
		t.Errorf("json no rows: got %q want %q", got, want)
	}
	if got, want := writeAll(t, FormatCSV, WriterOptions{}, none), "x\n"; got != want {
		t.Errorf("csv no rows: got %q want %q", got, want)
	}
}

// TestTextRoundTrip feeds awkward strings through CSV and JSON and reads
// them back with the standard library.
func TestTextRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	values := []string{"plain", "", "comma,", "quote\"", "new\nline", "cr\rx", " lead", "tab\tx", "\x00\x1f", "é✓", "bad\xff\xfe", `back\slash`}
	rows := make([][]string, len(values))
	for i, v := range values {
		rows[i] = []string{v, v}
	}
	rec := strRecord(mem, []string{"a", "a"}, rows...)
	defer rec.Release()

	got, err := csv.NewReader(strings.NewReader(writeAll(t, FormatCSV, WriterOptions{}, rec))).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	for i, v := range values {
		if got[i+1][0] != v || got[i+1][1] != v {
			t.Errorf("CSV row %d = %q; want %q twice", i, got[i+1], v)
		}
	}

	out := writeAll(t, FormatJSON, WriterOptions{}, rec)
	if !json.Valid([]byte(out)) {
		t.Fatalf("JSON output is not valid JSON:\n%s", out)
	}
	var objs []map[string]string
	if err := json.Unmarshal([]byte(out), &objs); err != nil {
		t.Fatal(err)
	}
	for i, v := range values {
		want := v
		if v == "bad\xff\xfe" {
			want = "bad\ufffd\ufffd"
		}
		if objs[i]["a"] != want || objs[i]["a_2"] != want {
			t.Errorf("JSON row %d = %q; want %q in a and a_2", i, objs[i], want)
		}
	}

	tsv := writeAll(t, FormatTSV, WriterOptions{NoHeader: true}, rec)
	if lines := strings.Split(strings.TrimSuffix(tsv, "\n"), "\n"); len(lines) != len(values) {
		t.Errorf("TSV has %d lines, want one per row (%d):\n%s", len(lines), len(values), tsv)
	}
}

func TestResultWriterErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := strRecord(mem, []string{"a"}, []string{"x"})
	defer rec.Release()

	w := NewResultWriter(&bytes.Buffer{}, FormatCSV, WriterOptions{})
	w.WriteSchema(arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.BinaryTypes.String}, {Name: "b", Type: arrow.BinaryTypes.String}}, nil))
	if err := w.WriteRecord(rec); err == nil || !strings.Contains(err.Error(), "1 columns") {
		t.Errorf("mismatched record: err = %v", err)
	}

	failing := failWriter{}
	w = NewResultWriter(failing, FormatJSONL, WriterOptions{})
	if err := w.WriteRecord(rec); !errors.Is(err, errDiskFull) {
		t.Errorf("write error = %v; want errDiskFull", err)
	}
	if err := w.Finish(); !errors.Is(err, errDiskFull) {
		t.Errorf("Finish after error = %v; want the sticky errDiskFull", err)
	}
}

func TestResultWriterSeveralResults(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r1 := strRecord(mem, []string{"a"}, []string{"1"})
	defer r1.Release()
	r2 := strRecord(mem, []string{"b"}, []string{"2"}, []string{"3"})
	defer r2.Release()
	var buf bytes.Buffer
	w := NewResultWriter(&buf, FormatJSON, WriterOptions{})
	for _, r := range []arrow.Record{r1, r2} {
		w.WriteSchema(r.Schema())
		if err := w.WriteRecord(r); err != nil {
			t.Fatal(err)
		}
		if err := w.Finish(); err != nil {
			t.Fatal(err)
		}
	}
	want := "[\n{\"a\":\"1\"}\n]\n[\n{\"b\":\"2\"},\n{\"b\":\"3\"}\n]\n"
	if buf.String() != want {
		t.Errorf("got %q want %q", buf.String(), want)
	}
}

var errDiskFull = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestJSONNonFiniteFloats(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{{Name: "f", Type: arrow.PrimitiveTypes.Float64}}, nil))
	defer b.Release()
	b.Field(0).(*array.Float64Builder).AppendValues([]float64{math.NaN(), math.Inf(1), 1e-300}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	got := writeAll(t, FormatJSONL, WriterOptions{}, rec)
	want := "{\"f\":\"NaN\"}\n{\"f\":\"Inf\"}\n{\"f\":1e-300}\n"
	if got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

// BenchmarkResultWriter measures output of 64k rows (int64, double, string)
// per format.
func BenchmarkResultWriter(b *testing.B) {
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64},
		{Name: "word", Type: arrow.BinaryTypes.String},
	}, nil)
	rb := array.NewRecordBuilder(mem, schema)
	const n = 1 << 16
	for i := range n {
		rb.Field(0).(*array.Int64Builder).Append(int64(i) * 7919)
		rb.Field(1).(*array.Float64Builder).Append(float64(i) / 3)
		rb.Field(2).(*array.StringBuilder).Append("word, \"quoted\" " + strings.Repeat("x", i%17))
	}
	rec := rb.NewRecordBatch()
	rb.Release()
	defer rec.Release()
	for _, f := range []Format{FormatTable, FormatCSV, FormatTSV, FormatJSON, FormatJSONL, FormatMarkdown, FormatLine} {
		b.Run(f.String(), func(b *testing.B) {
			for b.Loop() {
				w := NewResultWriter(io.Discard, f, WriterOptions{})
				if err := w.WriteRecord(rec); err != nil {
					b.Fatal(err)
				}
				if err := w.Finish(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkSplitStatements(b *testing.B) {
	script := strings.Repeat("INSERT INTO t VALUES (1, 'a;b', \"c\"); -- note; here\n/* block; */ SELECT `x;y` FROM t;\n", 10000)
	b.SetBytes(int64(len(script)))
	for b.Loop() {
		if got := len(SplitStatements(script)); got != 20000 {
			b.Fatalf("%d statements", got)
		}
	}
}

func TestAppendDisplay(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain é✓", "plain é✓"},
		{"a\tb\nc\rd", `a\tb\nc\rd`},
		{"\x00\x1b[31m\x7f", `\x00\x1b[31m\x7f`},
		{"bad\xff", `bad\xff`},
		{"c1\u0085", `c1\u0085`},
	} {
		if got := string(appendDisplay(nil, tc.in)); got != tc.want {
			t.Errorf("appendDisplay(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
