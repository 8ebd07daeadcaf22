package shuffle

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
)

var batchSizes = []int{1, 2, 3, 7, 1024}

func checkedMem(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// buildColumn makes an array of dt from Go values (nil for NULL).
func buildColumn(mem memory.Allocator, dt arrow.DataType, vals []any) arrow.Array {
	if dt.ID() == arrow.NULL {
		return array.NewNull(len(vals))
	}
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	for _, v := range vals {
		if v == nil {
			b.AppendNull()
			continue
		}
		switch b := b.(type) {
		case *array.Int64Builder:
			b.Append(v.(int64))
		case *array.Uint64Builder:
			b.Append(v.(uint64))
		case *array.Float64Builder:
			b.Append(v.(float64))
		case *array.StringBuilder:
			b.Append(v.(string))
		case *array.BooleanBuilder:
			b.Append(v.(bool))
		case *array.Decimal128Builder:
			b.Append(v.(decimal128.Num))
		case *array.Date32Builder:
			b.Append(arrow.Date32(v.(int32)))
		case *array.TimestampBuilder:
			b.Append(arrow.Timestamp(v.(int64)))
		}
	}
	return b.NewArray()
}

type goldenCase struct {
	name string
	dts  []arrow.DataType
	cols [][]any
	keys []int
	r4   []int32
	r7   []int32
}

func (c goldenCase) record() arrow.Record {
	mem := memory.NewGoAllocator()
	fields := make([]arrow.Field, len(c.dts))
	arrs := make([]arrow.Array, len(c.dts))
	for i, dt := range c.dts {
		fields[i] = arrow.Field{Name: fmt.Sprint("c", i), Type: dt, Nullable: true}
		arrs[i] = buildColumn(mem, dt, c.cols[i])
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(len(c.cols[0])))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

var (
	i64  = arrow.PrimitiveTypes.Int64
	u64  = arrow.PrimitiveTypes.Uint64
	f64  = arrow.PrimitiveTypes.Float64
	str  = arrow.BinaryTypes.String
	boo  = arrow.FixedWidthTypes.Boolean
	d32  = arrow.FixedWidthTypes.Date32
	ts   = &arrow.TimestampType{Unit: arrow.Microsecond}
	dec2 = &arrow.Decimal128Type{Precision: 10, Scale: 2}
)

func goldenCases() []goldenCase {
	return []goldenCase{
		{name: "bigint", dts: []arrow.DataType{i64}, keys: []int{0},
			cols: [][]any{{int64(0), int64(1), int64(-1), int64(42), int64(math.MaxInt64), int64(math.MinInt64), nil, int64(1e12)}},
			r4:   []int32{2, 0, 2, 1, 1, 1, 0, 0}, r7: []int32{3, 6, 6, 0, 3, 0, 0, 0}},
		{name: "bigint unsigned", dts: []arrow.DataType{u64}, keys: []int{0},
			cols: [][]any{{uint64(0), uint64(1), uint64(math.MaxUint64), nil}},
			r4:   []int32{2, 0, 2, 0}, r7: []int32{3, 6, 6, 0}},
		{name: "double", dts: []arrow.DataType{f64}, keys: []int{0},
			cols: [][]any{{0.0, math.Copysign(0, -1), 1.5, -2.25, math.NaN(), -math.NaN(), math.Inf(1), nil}},
			r4:   []int32{2, 2, 0, 3, 1, 1, 3, 0}, r7: []int32{3, 3, 4, 5, 1, 1, 3, 0}},
		{name: "varchar", dts: []arrow.DataType{str}, keys: []int{0},
			cols: [][]any{{"", "a", "The", "the", "\xff\xfe", "a longer string over sixteen bytes", "id001", nil}},
			r4:   []int32{3, 2, 3, 1, 3, 2, 3, 0}, r7: []int32{0, 5, 6, 6, 1, 1, 1, 0}},
		{name: "decimal", dts: []arrow.DataType{dec2}, keys: []int{0},
			cols: [][]any{{decimal128.FromI64(0), decimal128.FromI64(150), decimal128.FromI64(-150), decimal128.New(1, 0), nil}},
			r4:   []int32{3, 0, 2, 0, 0}, r7: []int32{4, 3, 5, 0, 0}},
		{name: "date", dts: []arrow.DataType{d32}, keys: []int{0},
			cols: [][]any{{int32(0), int32(19000), int32(-1), nil}},
			r4:   []int32{0, 1, 0, 0}, r7: []int32{6, 1, 4, 0}},
		{name: "datetime", dts: []arrow.DataType{ts}, keys: []int{0},
			cols: [][]any{{int64(0), int64(1700000000000000), nil}},
			r4:   []int32{2, 3, 0}, r7: []int32{3, 5, 0}},
		{name: "boolean", dts: []arrow.DataType{boo}, keys: []int{0},
			cols: [][]any{{false, true, nil}},
			r4:   []int32{3, 1, 0}, r7: []int32{0, 1, 0}},
		{name: "null type", dts: []arrow.DataType{arrow.Null}, keys: []int{0},
			cols: [][]any{{nil, nil}},
			r4:   []int32{0, 0}, r7: []int32{0, 0}},
		{name: "two keys in order", dts: []arrow.DataType{str, i64}, keys: []int{0, 1},
			cols: [][]any{{"a", "a", "b", nil, "a"}, {int64(1), int64(2), int64(1), int64(1), nil}},
			r4:   []int32{1, 1, 2, 2, 1}, r7: []int32{2, 3, 3, 3, 0}},
		{name: "two keys swapped", dts: []arrow.DataType{str, i64}, keys: []int{1, 0},
			cols: [][]any{{"a", "a", "b", nil, "a"}, {int64(1), int64(2), int64(1), int64(1), nil}},
			r4:   []int32{2, 3, 2, 2, 1}, r7: []int32{2, 5, 4, 0, 5}},
	}
}

// TestPartitionGolden pins key → partition. If it fails, the partitioning
// contract between processes changed: that breaks mixed-version clusters and
// must be a deliberate decision, not an accident.
func TestPartitionGolden(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			rec := c.record()
			defer rec.Release()
			for _, r := range []struct {
				r    int
				want []int32
			}{{4, c.r4}, {7, c.r7}} {
				got := make([]int32, rec.NumRows())
				HashPartition(rec, c.keys, r.r, got)
				if !slices.Equal(got, r.want) {
					t.Errorf("R=%d: partitions %v, want %v", r.r, got, r.want)
				}
			}
		})
	}
	// The raw hash of a few values, for a sharper failure message.
	for _, tc := range []struct {
		got, want uint64
	}{
		{hash8(42), 0x35df09400116c068}, {hashBytes([]byte("id001")), 0x5b3c75a23fa2bcdd}, {combine(rowSeed, nullHash), 0x18fca7fcf467bed0},
	} {
		if tc.got != tc.want {
			t.Errorf("hash %#x, want %#x", tc.got, tc.want)
		}
	}
}

func TestFixedWidthHashesMatchBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var b [16]byte
	for i := 0; i < 1000; i++ {
		lo, hi := rng.Uint64(), rng.Uint64()
		binary.LittleEndian.PutUint64(b[:], lo)
		binary.LittleEndian.PutUint64(b[8:], hi)
		if hash8(lo) != hashBytes(b[:8]) {
			t.Fatalf("hash8(%#x) differs from its bytes", lo)
		}
		if hash4(uint32(lo)) != hashBytes(b[:4]) {
			t.Fatalf("hash4(%#x) differs from its bytes", uint32(lo))
		}
		if hash1(uint8(lo)) != hashBytes(b[:1]) {
			t.Fatalf("hash1(%#x) differs from its bytes", uint8(lo))
		}
		if hash16(lo, hi) != hashBytes(b[:]) {
			t.Fatalf("hash16 differs from its bytes")
		}
	}
}

func TestPartitionSpread(t *testing.T) {
	// Sequential integers and short similar strings must spread evenly.
	const n, r = 70000, 7
	vals := make([]any, n)
	strs := make([]any, n)
	for i := range vals {
		vals[i] = int64(i)
		strs[i] = fmt.Sprintf("id%06d", i)
	}
	c := goldenCase{dts: []arrow.DataType{i64, str}, cols: [][]any{vals, strs}}
	rec := c.record()
	defer rec.Release()
	for _, keys := range [][]int{{0}, {1}} {
		dst := make([]int32, n)
		HashPartition(rec, keys, r, dst)
		counts := make([]int, r)
		for _, p := range dst {
			counts[p]++
		}
		for p, cnt := range counts {
			if cnt < n/r*8/10 || cnt > n/r*12/10 {
				t.Errorf("keys %v: partition %d got %d of %d rows: %v", keys, p, cnt, n, counts)
			}
		}
	}
}

// testData makes n random rows of every type, keys in columns 0 and 1.
func testData(mem memory.Allocator, n int, seed uint64) arrow.Record {
	rng := rand.New(rand.NewPCG(seed, 9))
	dts := []arrow.DataType{i64, str, u64, f64, boo, d32, ts, dec2, arrow.Null}
	cols := make([][]any, len(dts))
	for i := range cols {
		cols[i] = make([]any, n)
	}
	for r := 0; r < n; r++ {
		if rng.IntN(10) == 0 {
			continue // a row of NULLs
		}
		cols[0][r] = int64(rng.IntN(50))
		cols[1][r] = strings.Repeat("x", rng.IntN(5)) + fmt.Sprint(rng.IntN(30))
		cols[2][r] = rng.Uint64()
		cols[3][r] = rng.Float64()
		cols[4][r] = rng.IntN(2) == 0
		cols[5][r] = int32(rng.IntN(30000))
		cols[6][r] = rng.Int64()
		cols[7][r] = decimal128.FromI64(rng.Int64N(1e9))
	}
	return recordOf(mem, dts, cols, n)
}

// recordOf builds a batch of n rows whose column c, named "c<c>", has type
// dts[c] and the values cols[c] (nil for NULL).
func recordOf(mem memory.Allocator, dts []arrow.DataType, cols [][]any, n int) arrow.Record {
	fields := make([]arrow.Field, len(dts))
	arrs := make([]arrow.Array, len(dts))
	for i, dt := range dts {
		fields[i] = arrow.Field{Name: fmt.Sprint("c", i), Type: dt, Nullable: true}
		arrs[i] = buildColumn(mem, dt, cols[i])
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// rowsOf formats every row of rec.
func rowsOf(rec arrow.Record) []string {
	out := make([]string, rec.NumRows())
	for i := range out {
		var sb strings.Builder
		for c := 0; c < int(rec.NumCols()); c++ {
			col := rec.Column(c)
			if col.DataType().ID() == arrow.NULL || col.IsNull(i) {
				sb.WriteString("NULL|")
			} else {
				sb.WriteString(col.ValueStr(i) + "|")
			}
		}
		out[i] = sb.String()
	}
	return out
}

func readAll(t *testing.T, op exec.Operator) (rows []string, batches int) {
	t.Helper()
	defer op.Close()
	for {
		rec, err := op.Next(context.Background())
		if err == io.EOF {
			return rows, batches
		}
		if err != nil {
			t.Fatal(err)
		}
		batches++
		rows = append(rows, rowsOf(rec)...)
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	for _, bs := range batchSizes {
		for _, tc := range []struct {
			keys []int
			r    int
		}{{nil, 1}, {[]int{0}, 4}, {[]int{1, 0}, 7}, {[]int{1}, 3}} {
			t.Run(fmt.Sprintf("batch=%d/keys=%v/r=%d", bs, tc.keys, tc.r), func(t *testing.T) {
				mem := checkedMem(t)
				dir := t.TempDir()
				env := exec.Env{Alloc: mem, BatchSize: bs}
				all := testData(mem, 300, uint64(bs))
				defer all.Release()
				w, err := NewWriter(dir, "m0", all.Schema(), tc.keys, tc.r, env)
				if err != nil {
					t.Fatal(err)
				}
				defer w.Abort()
				// Feed the data in uneven slices, as upstream operators would.
				for from := int64(0); from < all.NumRows(); {
					to := min(from+int64(1+from%11), all.NumRows())
					s := all.NewSlice(from, to)
					if err := w.Write(s); err != nil {
						t.Fatal(err)
					}
					s.Release()
					from = to
				}
				infos, err := w.Commit()
				if err != nil {
					t.Fatal(err)
				}
				if len(infos) != tc.r {
					t.Fatalf("%d partitions, want %d", len(infos), tc.r)
				}
				dst := make([]int32, all.NumRows())
				HashPartition(all, tc.keys, tc.r, dst)
				allRows := rowsOf(all)
				for p, info := range infos {
					var want []string
					for i, q := range dst {
						if int(q) == p {
							want = append(want, allRows[i])
						}
					}
					rd, err := NewReader([]string{info.Path}, all.Schema(), env)
					if err != nil {
						t.Fatal(err)
					}
					got, batches := readAll(t, rd)
					if !slices.Equal(got, want) {
						t.Fatalf("partition %d: %d rows differ from the %d expected", p, len(got), len(want))
					}
					if info.Rows != int64(len(want)) {
						t.Errorf("partition %d: info says %d rows, want %d", p, info.Rows, len(want))
					}
					if st, err := os.Stat(info.Path); err != nil || st.Size() != info.Bytes {
						t.Errorf("partition %d: info says %d bytes, file: %v %v", p, info.Bytes, st, err)
					}
					// Coalescing: batches are full except the last one.
					if limit := (len(want)+bs-1)/bs + 1; batches > limit {
						t.Errorf("partition %d: %d batches for %d rows at batch size %d", p, batches, len(want), bs)
					}
				}
			})
		}
	}
}

func TestReaderConcatenatesFilesInOrder(t *testing.T) {
	mem := checkedMem(t)
	dir := t.TempDir()
	env := exec.Env{Alloc: mem, BatchSize: 16}
	var paths, want []string
	var schema *arrow.Schema
	for m := 0; m < 3; m++ {
		rec := testData(mem, 20+m, uint64(m))
		schema = rec.Schema()
		w, err := NewWriter(dir, fmt.Sprint("map", m), schema, []int{0}, 2, env)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		infos, err := w.Commit()
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]int32, rec.NumRows())
		HashPartition(rec, []int{0}, 2, dst)
		for i, r := range rowsOf(rec) {
			if dst[i] == 1 {
				want = append(want, r)
			}
		}
		paths = append(paths, infos[1].Path)
		rec.Release()
	}
	rd, err := NewReader(paths, schema, env)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := readAll(t, rd); !slices.Equal(got, want) {
		t.Fatalf("got %d rows, want %d in map order", len(got), len(want))
	}
}

func TestAtomicPublish(t *testing.T) {
	mem := checkedMem(t)
	env := exec.Env{Alloc: mem, BatchSize: 4}
	rec := testData(mem, 50, 1)
	defer rec.Release()
	finals := func(dir string) []string {
		m, _ := filepath.Glob(filepath.Join(dir, "*.arrow"))
		return m
	}
	all := func(dir string) []string {
		m, _ := filepath.Glob(filepath.Join(dir, "*"))
		return m
	}

	t.Run("no final file before commit", func(t *testing.T) {
		dir := t.TempDir()
		w, err := NewWriter(dir, "m", rec.Schema(), []int{0}, 3, env)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if f := finals(dir); len(f) != 0 {
			t.Fatalf("final files before Commit: %v", f)
		}
		if len(all(dir)) == 0 {
			t.Fatal("nothing written before Commit (expected temporary files at batch size 4)")
		}
		infos, err := w.Commit()
		if err != nil {
			t.Fatal(err)
		}
		if got := finals(dir); len(got) != 3 || len(all(dir)) != 3 {
			t.Fatalf("after Commit: %v", all(dir))
		}
		w.Abort() // no-op after a successful Commit
		for _, info := range infos {
			if _, err := os.Stat(info.Path); err != nil {
				t.Fatalf("Abort after Commit removed %s", info.Path)
			}
		}
		if err := w.Write(rec); err == nil {
			t.Fatal("Write after Commit succeeded")
		}
	})
	t.Run("abort leaves nothing", func(t *testing.T) {
		dir := t.TempDir()
		w, err := NewWriter(dir, "m", rec.Schema(), []int{0}, 3, env)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		w.Abort()
		w.Abort()
		if got := all(dir); len(got) != 0 {
			t.Fatalf("after Abort: %v", got)
		}
	})
	t.Run("empty partitions are published", func(t *testing.T) {
		dir := t.TempDir()
		w, err := NewWriter(dir, "m", rec.Schema(), []int{0}, 5, env)
		if err != nil {
			t.Fatal(err)
		}
		infos, err := w.Commit()
		if err != nil {
			t.Fatal(err)
		}
		for _, info := range infos {
			rd, err := NewReader([]string{info.Path}, rec.Schema(), env)
			if err != nil {
				t.Fatal(err)
			}
			if rows, _ := readAll(t, rd); len(rows) != 0 || info.Rows != 0 {
				t.Fatalf("empty partition has %d rows (info %d)", len(rows), info.Rows)
			}
		}
	})
	t.Run("a missing directory is created, and removed again by Abort", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "stage1", "task2")
		w, err := NewWriter(dir, "m", rec.Schema(), []int{0}, 2, env)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if len(all(dir)) == 0 {
			t.Fatal("no temporary files in the new directory")
		}
		w.Abort()
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("directory left behind: %v", err)
		}
	})
	t.Run("a directory that cannot be made is an error naming it", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "plain")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		w, err := NewWriter(filepath.Join(file, "sub"), "m", rec.Schema(), []int{0}, 2, env)
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.Commit()
		if err == nil || !strings.Contains(err.Error(), "plain") {
			t.Fatalf("err = %v, want one naming the path", err)
		}
	})
}

func TestReaderErrors(t *testing.T) {
	mem := checkedMem(t)
	env := exec.Env{Alloc: mem, BatchSize: 8}
	rec := testData(mem, 100, 2)
	defer rec.Release()
	dir := t.TempDir()
	w, err := NewWriter(dir, "m", rec.Schema(), nil, 1, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	infos, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	good := infos[0].Path
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name  string
		path  string
		fetch bool
	}{
		{"missing", filepath.Join(dir, "nope.arrow"), true},
		{"empty", write("empty.arrow", nil), true},
		{"cut in the middle", write("half.arrow", data[:len(data)/2]), true},
		{"trailer magic missing", write("nomagic.arrow", data[:len(data)-8]), true},
		{"garbage", write("garbage.arrow", append([]byte("not arrow at all"), trailerMagic[:]...)), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rd, err := NewReader([]string{good, tc.path}, rec.Schema(), env)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			for {
				_, err = rd.Next(context.Background())
				if err != nil {
					break
				}
			}
			wrapped := fmt.Errorf("reduce task 3: %w", err)
			var fe *FetchError
			if !errors.As(wrapped, &fe) {
				t.Fatalf("err = %v, want a *FetchError", err)
			}
			if fe.Path != tc.path || !strings.Contains(err.Error(), tc.path) {
				t.Fatalf("FetchError names %q (%v), want %q", fe.Path, err, tc.path)
			}
		})
	}
	t.Run("schema mismatch is not a fetch failure", func(t *testing.T) {
		other := arrow.NewSchema([]arrow.Field{{Name: "x", Type: i64, Nullable: true}}, nil)
		rd, _ := NewReader([]string{good}, other, env)
		defer rd.Close()
		_, err := rd.Next(context.Background())
		var fe *FetchError
		if err == nil || errors.As(err, &fe) || !strings.Contains(err.Error(), "internal") {
			t.Fatalf("err = %v, want an internal error", err)
		}
	})
}

func TestColumnNamesMayDiffer(t *testing.T) {
	mem := checkedMem(t)
	env := exec.Env{Alloc: mem, BatchSize: 2}
	rec := testData(mem, 10, 1)
	defer rec.Release()
	renamed := func(s *arrow.Schema, prefix string) *arrow.Schema {
		fs := slices.Clone(s.Fields())
		for i := range fs {
			fs[i].Name = prefix + fs[i].Name
		}
		return arrow.NewSchema(fs, nil)
	}
	w, err := NewWriter(t.TempDir(), "m", renamed(rec.Schema(), "w."), nil, 1, env)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	infos, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	want := renamed(rec.Schema(), "r.")
	rd, err := NewReader([]string{infos[0].Path}, want, env)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	n := 0
	for {
		got, err := rd.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !got.Schema().Equal(want) {
			t.Fatalf("batch schema %s, want %s", got.Schema(), want)
		}
		n += int(got.NumRows())
	}
	if n != 10 {
		t.Fatalf("read %d rows, want 10", n)
	}
}

func TestWriterRejectsBadSpecs(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int32, Nullable: true}, {Name: "y", Type: i64}}, nil)
	for _, tc := range []struct {
		keys []int
		r    int
		want string
	}{{[]int{1}, 0, "0 partitions"}, {[]int{5}, 2, "out of range"}, {[]int{0}, 2, "cannot partition"}, {[]int{1}, 2, "cannot carry"}} {
		if _, err := NewWriter(t.TempDir(), "m", sc, tc.keys, tc.r, exec.Env{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("keys %v r %d: err = %v, want %q", tc.keys, tc.r, err, tc.want)
		}
	}
}

func BenchmarkPartitionWrite(b *testing.B) {
	mem := memory.NewGoAllocator()
	var recs []arrow.Record
	for i := 0; i < 64; i++ {
		recs = append(recs, testData(mem, 16384, uint64(i)))
	}
	rows := 64 * 16384
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, err := NewWriter(dir, fmt.Sprint("m", i), recs[0].Schema(), []int{0, 1}, 16, exec.DefaultEnv())
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := w.Write(r); err != nil {
				b.Fatal(err)
			}
		}
		infos, err := w.Commit()
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		for _, in := range infos {
			os.Remove(in.Path)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkRead(b *testing.B) {
	mem := memory.NewGoAllocator()
	dir := b.TempDir()
	var schema *arrow.Schema
	w, _ := NewWriter(dir, "m", testData(mem, 1, 0).Schema(), nil, 1, exec.DefaultEnv())
	for i := 0; i < 64; i++ {
		r := testData(mem, 16384, uint64(i))
		schema = r.Schema()
		w.Write(r)
		r.Release()
	}
	infos, err := w.Commit()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rd, _ := NewReader([]string{infos[0].Path}, schema, exec.DefaultEnv())
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
	b.ReportMetric(float64(infos[0].Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(infos[0].Bytes)*float64(b.N)/b.Elapsed().Seconds()/1e6, "MB/s")
}
