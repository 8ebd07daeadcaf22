package gather

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var batchSizes = []int{1, 3, 1024}

func checkedMem(t testing.TB) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// copyableTypes are every type Copyable accepts.
var copyableTypes = []arrow.DataType{
	arrow.PrimitiveTypes.Int64,
	arrow.PrimitiveTypes.Uint64,
	arrow.PrimitiveTypes.Float64,
	arrow.FixedWidthTypes.Date32,
	&arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"},
	&arrow.Decimal128Type{Precision: 20, Scale: 3},
	arrow.FixedWidthTypes.Boolean,
	arrow.BinaryTypes.String,
	arrow.Null,
}

// nullPatterns say which rows of a column are NULL.
var nullPatterns = []struct {
	name string
	null func(i int) bool
}{
	{"none", func(int) bool { return false }},
	{"some", func(i int) bool { return i%7 == 2 || i%11 == 0 }},
	{"late", func(i int) bool { return i == 61 }}, // a first NULL deep into a selection
	{"all", func(int) bool { return true }},
}

// testRecord makes n rows of every copyable type, NULL where null says.
// Strings are 0 to 46 bytes long, about one in five empty.
func testRecord(mem memory.Allocator, n int, null func(int) bool, seed uint64) arrow.Record {
	rng := rand.New(rand.NewPCG(seed, 7))
	fields := make([]arrow.Field, len(copyableTypes))
	arrs := make([]arrow.Array, len(copyableTypes))
	for c, dt := range copyableTypes {
		fields[c] = arrow.Field{Name: fmt.Sprint("c", c), Type: dt, Nullable: true}
		if dt.ID() == arrow.NULL {
			arrs[c] = array.NewNull(n)
			continue
		}
		b := array.NewBuilder(mem, dt)
		for i := 0; i < n; i++ {
			if null(i) {
				b.AppendNull()
				continue
			}
			switch b := b.(type) {
			case *array.Int64Builder:
				b.Append(rng.Int64() - rng.Int64())
			case *array.Uint64Builder:
				b.Append(rng.Uint64())
			case *array.Float64Builder:
				b.Append(rng.NormFloat64() * 1e6)
			case *array.Date32Builder:
				b.Append(arrow.Date32(rng.Int32N(40000) - 10000))
			case *array.TimestampBuilder:
				b.Append(arrow.Timestamp(rng.Int64N(4e15)))
			case *array.Decimal128Builder:
				b.Append(decimal128.New(rng.Int64N(1e6)-5e5, rng.Uint64()))
			case *array.BooleanBuilder:
				b.Append(rng.IntN(2) == 0)
			case *array.StringBuilder:
				switch rng.IntN(5) {
				case 0:
					b.Append("")
				case 1: // past the 16-byte moves of short strings
					b.Append(fmt.Sprintf("%03d", i) + strings.Repeat("z", rng.IntN(30)+14))
				default:
					b.Append(fmt.Sprintf("%03d", i) + strings.Repeat(string(rune('a'+i%26)), rng.IntN(10)))
				}
			}
		}
		arrs[c] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// selections are row lists over n rows, as a shuffle or sort makes them.
func selections(n int) map[string][]int32 {
	rng := rand.New(rand.NewPCG(uint64(n), 3))
	var every, third, perm, repeats []int32
	for i := 0; i < n; i++ {
		every = append(every, int32(i))
		if i%3 == 1 {
			third = append(third, int32(i))
		}
		repeats = append(repeats, int32(rng.IntN(n)))
	}
	for _, i := range rng.Perm(n) {
		perm = append(perm, int32(i))
	}
	return map[string][]int32{"every": every, "every third": third, "permutation": perm, "with repeats": repeats}
}

// cell formats one value, NULL apart from any value (an empty string too).
// (Arrow's IsNull is false on a NULL-type array: it has no bitmap.)
func cell(a arrow.Array, i int) string {
	if a.DataType().ID() == arrow.NULL || a.IsNull(i) {
		return "NULL"
	}
	return "'" + a.ValueStr(i) + "'"
}

// checkRows compares got, cell by cell, with rows of src in that order, and
// checks that the arrays are well formed: types, null counts, string
// offsets, and an IPC round trip (which reads buffers by their lengths).
func checkRows(t *testing.T, mem memory.Allocator, got []arrow.Record, src arrow.Record, rows []int32) {
	t.Helper()
	i := 0
	for _, rec := range got {
		if !rec.Schema().Equal(src.Schema()) {
			t.Fatalf("schema %s, want %s", rec.Schema(), src.Schema())
		}
		for c, col := range rec.Columns() {
			nulls := 0
			for r := 0; r < col.Len(); r++ {
				if cell(col, r) == "NULL" {
					nulls++
				}
				if g, w := cell(col, r), cell(src.Column(c), int(rows[i+r])); g != w {
					t.Fatalf("row %d column %s: %s, want %s (source row %d)", i+r, src.Schema().Field(c).Name, g, w, rows[i+r])
				}
			}
			if col.NullN() != nulls {
				t.Fatalf("column %s: NullN %d, but %d rows are NULL", src.Schema().Field(c).Name, col.NullN(), nulls)
			}
			if s, ok := col.(*array.String); ok {
				if err := s.ValidateFull(); err != nil {
					t.Fatalf("column %s: %v", src.Schema().Field(c).Name, err)
				}
			}
		}
		i += int(rec.NumRows())
		checkIPC(t, mem, rec)
	}
	if i != len(rows) {
		t.Fatalf("%d rows, want %d", i, len(rows))
	}
}

func checkIPC(t *testing.T, mem memory.Allocator, rec arrow.Record) {
	t.Helper()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(mem))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := ipc.NewReader(&buf, ipc.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if !r.Next() {
		t.Fatalf("IPC round trip: no batch (%v)", r.Err())
	}
	back := r.RecordBatch()
	for c := range rec.Columns() {
		for i := 0; i < int(rec.NumRows()); i++ {
			if g, w := cell(back.Column(c), i), cell(rec.Column(c), i); g != w {
				t.Fatalf("IPC round trip, row %d column %d: %s, want %s", i, c, g, w)
			}
		}
	}
}

// sources are the records the tests gather from: a whole one, and slices
// at non-zero offsets (not multiples of 8, so bitmaps are read unaligned).
func forEachSource(t *testing.T, fn func(t *testing.T, mem *memory.CheckedAllocator, src arrow.Record)) {
	for _, np := range nullPatterns {
		for _, sl := range []struct {
			name     string
			from, to int64
		}{{"whole", 0, 150}, {"slice", 13, 141}, {"tail", 149, 150}} {
			t.Run(np.name+"/"+sl.name, func(t *testing.T) {
				mem := checkedMem(t)
				all := testRecord(mem, 150, np.null, 1)
				defer all.Release()
				src := all.NewSlice(sl.from, sl.to)
				defer src.Release()
				fn(t, mem, src)
			})
		}
	}
}

// TestBatch feeds a selection to one Batch in pieces of the batch size and
// makes a record whenever it holds that many rows, as the shuffle writer
// does; the Batch is reused across records.
func TestBatch(t *testing.T) {
	forEachSource(t, func(t *testing.T, mem *memory.CheckedAllocator, src arrow.Record) {
		for name, rows := range selections(int(src.NumRows())) {
			for _, bs := range batchSizes {
				t.Run(fmt.Sprintf("%s/batch=%d", name, bs), func(t *testing.T) {
					b, err := NewBatch(mem, src.Schema())
					if err != nil {
						t.Fatal(err)
					}
					defer b.Release()
					var got []arrow.Record
					defer func() {
						for _, r := range got {
							r.Release()
						}
					}()
					// Pieces of uneven length around the batch size.
					for i, from := 0, 0; from < len(rows); i++ {
						to := min(from+1+i%(2*bs), len(rows))
						if _, err := b.Append(src, rows[from:to]); err != nil {
							t.Fatal(err)
						}
						from = to
						if b.Len() >= bs {
							got = append(got, b.NewRecord())
						}
					}
					if b.Len() > 0 {
						got = append(got, b.NewRecord())
					}
					checkRows(t, mem, got, src, rows)
				})
			}
		}
	})
}

// TestBatchBitmapOnlyWithNulls: a column that gets no NULL has no validity
// bitmap, even when its source has NULLs elsewhere.
func TestBatchBitmapOnlyWithNulls(t *testing.T) {
	mem := checkedMem(t)
	src := testRecord(mem, 40, func(i int) bool { return i%4 == 0 }, 2)
	defer src.Release()
	b, err := NewBatch(mem, src.Schema())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	for _, tc := range []struct {
		rows   []int32
		bitmap bool
	}{{[]int32{1, 2, 3, 5, 7}, false}, {[]int32{1, 2, 3, 4}, true}, {[]int32{8}, true}, {[]int32{9, 10}, false}} {
		if _, err := b.Append(src, tc.rows); err != nil {
			t.Fatal(err)
		}
		rec := b.NewRecord()
		for c, col := range rec.Columns() {
			if col.DataType().ID() == arrow.NULL {
				continue
			}
			if has := col.Data().Buffers()[0] != nil; has != tc.bitmap {
				t.Errorf("rows %v, column %d: bitmap %v, want %v", tc.rows, c, has, tc.bitmap)
			}
		}
		checkRows(t, mem, []arrow.Record{rec}, src, tc.rows)
		rec.Release()
	}
}

// TestBatchMixedSources appends in turn from a source with NULLs and one
// without, so a bitmap made for the first must be kept up for the second.
func TestBatchMixedSources(t *testing.T) {
	for _, bs := range batchSizes {
		t.Run(fmt.Sprintf("batch=%d", bs), func(t *testing.T) {
			mem := checkedMem(t)
			srcs := []arrow.Record{
				testRecord(mem, 100, func(i int) bool { return i%9 == 4 }, 5),
				testRecord(mem, 100, func(int) bool { return false }, 6),
			}
			defer srcs[0].Release()
			defer srcs[1].Release()
			b, err := NewBatch(mem, srcs[0].Schema())
			if err != nil {
				t.Fatal(err)
			}
			defer b.Release()
			// want holds the expected cells of the rows not yet made into a record.
			var want [][]string
			check := func(rec arrow.Record) {
				defer rec.Release()
				if int(rec.NumRows()) != len(want) {
					t.Fatalf("%d rows, want %d", rec.NumRows(), len(want))
				}
				for r, cells := range want {
					for c, w := range cells {
						if g := cell(rec.Column(c), r); g != w {
							t.Fatalf("row %d column %d: %s, want %s", r, c, g, w)
						}
					}
				}
				checkIPC(t, mem, rec)
				want = want[:0]
			}
			for i := 0; i < 40; i++ {
				src := srcs[i%2]
				rows := []int32{int32(i), int32(2 * i), int32(99 - i)}[:1+i%3]
				if _, err := b.Append(src, rows); err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					var cells []string
					for c := range src.Columns() {
						cells = append(cells, cell(src.Column(c), int(r)))
					}
					want = append(want, cells)
				}
				if b.Len() >= bs {
					check(b.NewRecord())
				}
			}
			check(b.NewRecord())
		})
	}
}

func TestBatchEmpty(t *testing.T) {
	mem := checkedMem(t)
	src := testRecord(mem, 5, func(i int) bool { return i == 1 }, 3)
	defer src.Release()
	b, err := NewBatch(mem, src.Schema())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if _, err := b.Append(src, nil); err != nil {
		t.Fatal(err)
	}
	rec := b.NewRecord()
	defer rec.Release()
	if rec.NumRows() != 0 || rec.NumCols() != src.NumCols() {
		t.Fatalf("%d rows × %d columns, want 0 × %d", rec.NumRows(), rec.NumCols(), src.NumCols())
	}
	checkRows(t, mem, []arrow.Record{rec}, src, nil)
}

func TestBatchRejects(t *testing.T) {
	mem := checkedMem(t)
	list := arrow.NewSchema([]arrow.Field{{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)}}, nil)
	if _, err := NewBatch(mem, list); err == nil {
		t.Error("NewBatch took a list column")
	}
	src := testRecord(mem, 3, func(int) bool { return false }, 4)
	defer src.Release()
	fields := append([]arrow.Field(nil), src.Schema().Fields()...)
	fields[1].Type = arrow.PrimitiveTypes.Int64 // the source's is uint64
	b, err := NewBatch(mem, arrow.NewSchema(fields, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if _, err := b.Append(src, []int32{0}); err == nil || !strings.Contains(err.Error(), "internal:") {
		t.Errorf("appending a uint64 column to an int64 one: %v", err)
	}
}

// TestRowsRecord covers sort's and spill's path.
func TestRowsRecord(t *testing.T) {
	forEachSource(t, func(t *testing.T, mem *memory.CheckedAllocator, src arrow.Record) {
		var g Rows
		for name, rows := range selections(int(src.NumRows())) {
			t.Run(name, func(t *testing.T) {
				rec, err := g.Record(mem, src, rows)
				if err != nil {
					t.Fatal(err)
				}
				defer rec.Release()
				checkRows(t, mem, []arrow.Record{rec}, src, rows)
			})
		}
	})
}

// TestRowsAppend covers the builder path (join, merge): pieces of a
// selection appended with Append, or runs with AppendRange, to builders
// that are turned into records at the batch size.
func TestRowsAppend(t *testing.T) {
	forEachSource(t, func(t *testing.T, mem *memory.CheckedAllocator, src arrow.Record) {
		var g Rows
		n := int(src.NumRows())
		sels := selections(n)
		for _, bs := range batchSizes {
			for _, mode := range []string{"Append every third", "Append permutation", "AppendRange"} {
				t.Run(fmt.Sprintf("%s/batch=%d", mode, bs), func(t *testing.T) {
					rows := sels["every"]
					switch mode {
					case "Append every third":
						rows = sels["every third"]
					case "Append permutation":
						rows = sels["permutation"]
					}
					b := array.NewRecordBuilder(mem, src.Schema())
					defer b.Release()
					var got []arrow.Record
					defer func() {
						for _, r := range got {
							r.Release()
						}
					}()
					held := 0
					for i, from := 0, 0; from < len(rows); i++ {
						to := min(from+1+i%(2*bs), len(rows))
						for c := 0; c < int(src.NumCols()); c++ {
							var err error
							if mode == "AppendRange" {
								err = g.AppendRange(b.Field(c), src.Column(c), from, to)
							} else {
								_, err = g.Append(b.Field(c), src.Column(c), rows[from:to])
							}
							if err != nil {
								t.Fatal(err)
							}
						}
						held += to - from
						from = to
						if held >= bs {
							got = append(got, b.NewRecordBatch())
							held = 0
						}
					}
					if held > 0 {
						got = append(got, b.NewRecordBatch())
					}
					checkRows(t, mem, got, src, rows)
				})
			}
		}
	})
}

// q10Record is the shape of h2o q10's map output: three short strings,
// three int64 keys, a float64 sum and an int64 count.
func q10Record(mem memory.Allocator, n int, seed uint64) arrow.Record {
	rng := rand.New(rand.NewPCG(seed, 5))
	fields := make([]arrow.Field, 8)
	arrs := make([]arrow.Array, 8)
	for c := 0; c < 3; c++ {
		fields[c] = arrow.Field{Name: fmt.Sprint("id", c+1), Type: arrow.BinaryTypes.String}
		b := array.NewStringBuilder(mem)
		for i := 0; i < n; i++ {
			b.Append(fmt.Sprintf("id%0*d", 3+rng.IntN(8), rng.IntN(1000)))
		}
		arrs[c] = b.NewArray()
		b.Release()
	}
	for c := 3; c < 8; c++ {
		if c == 6 {
			fields[c] = arrow.Field{Name: "v3", Type: arrow.PrimitiveTypes.Float64}
			b := array.NewFloat64Builder(mem)
			for i := 0; i < n; i++ {
				b.Append(rng.Float64() * 100)
			}
			arrs[c] = b.NewArray()
			b.Release()
			continue
		}
		fields[c] = arrow.Field{Name: fmt.Sprint("k", c), Type: arrow.PrimitiveTypes.Int64}
		b := array.NewInt64Builder(mem)
		for i := 0; i < n; i++ {
			b.Append(rng.Int64N(1e6))
		}
		arrs[c] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// BenchmarkGatherHalf copies half the rows of 16K-row batches of q10's
// shape, in random order, into 16K-row records: with a Batch (the shuffle
// writer's path) and with builders through Rows.Append (the path before).
func BenchmarkGatherHalf(b *testing.B) {
	mem := memory.NewGoAllocator()
	const n = 16384
	src := q10Record(mem, n, 1)
	defer src.Release()
	rng := rand.New(rand.NewPCG(1, 1))
	var rows []int32
	for i := 0; i < n; i++ {
		if rng.IntN(2) == 0 {
			rows = append(rows, int32(i))
		}
	}
	b.Run("Batch", func(b *testing.B) {
		bt, _ := NewBatch(mem, src.Schema())
		defer bt.Release()
		for b.Loop() {
			if _, err := bt.Append(src, rows); err != nil {
				b.Fatal(err)
			}
			if bt.Len() >= n {
				bt.NewRecord().Release()
			}
		}
		b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("Rows.Append", func(b *testing.B) {
		var g Rows
		bld := array.NewRecordBuilder(mem, src.Schema())
		defer bld.Release()
		held := 0
		for b.Loop() {
			for c := 0; c < int(src.NumCols()); c++ {
				if _, err := g.Append(bld.Field(c), src.Column(c), rows); err != nil {
					b.Fatal(err)
				}
			}
			if held += len(rows); held >= n {
				bld.NewRecordBatch().Release()
				held = 0
			}
		}
		b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
