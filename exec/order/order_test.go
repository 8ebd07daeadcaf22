package order

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/planner"
)

var batchSizes = []int{1, 2, 3, 7, 1024}

func checkedMem(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// table is test data by row: Go values (nil for NULL) for the columns of
// types, the last column a unique sequence number that makes stability
// visible.
type table struct {
	types []planner.Type
	rows  [][]any
}

var allTypes = []planner.Type{planner.Int, planner.Uint, planner.Float, planner.Decimal(9, 2), planner.String,
	planner.Bool, planner.Date, planner.Datetime, planner.Null}

// randomTable has few distinct values per column, so that ties are common.
func randomTable(rng *rand.Rand, n int) table {
	t := table{types: append(slices.Clone(allTypes), planner.Int)}
	for r := 0; r < n; r++ {
		row := make([]any, len(t.types))
		for c, ty := range allTypes {
			if rng.IntN(6) == 0 {
				continue
			}
			x := rng.IntN(5)
			switch ty.Kind {
			case planner.KindInt, planner.KindDatetime:
				row[c] = int64(x*1000 - 2000)
			case planner.KindDate:
				row[c] = int32(x - 2)
			case planner.KindUint:
				row[c] = uint64(x) << 62
			case planner.KindFloat:
				row[c] = []float64{math.Inf(-1), -1.5, 0, 2.25, math.Inf(1)}[x]
			case planner.KindDecimal:
				row[c] = decimal128.FromI64(int64(x*37 - 80))
			case planner.KindString:
				row[c] = []string{"", "A", "a", "a\x00", "\xff"}[x]
			case planner.KindBool:
				row[c] = x%2 == 0
			}
		}
		row[len(row)-1] = int64(r)
		t.rows = append(t.rows, row)
	}
	return t
}

func (t table) schema() *arrow.Schema {
	fs := make([]arrow.Field, len(t.types))
	for i, ty := range t.types {
		fs[i] = arrow.Field{Name: fmt.Sprint("c", i), Type: ty.Arrow(), Nullable: true}
	}
	return arrow.NewSchema(fs, nil)
}

func (t table) record(mem memory.Allocator, rows [][]any) arrow.Record {
	b := array.NewRecordBuilder(mem, t.schema())
	defer b.Release()
	for _, row := range rows {
		for c, v := range row {
			f := b.Field(c)
			if v == nil {
				f.AppendNull()
				continue
			}
			switch f := f.(type) {
			case *array.Int64Builder:
				f.Append(v.(int64))
			case *array.Uint64Builder:
				f.Append(v.(uint64))
			case *array.Float64Builder:
				f.Append(v.(float64))
			case *array.Decimal128Builder:
				f.Append(v.(decimal128.Num))
			case *array.StringBuilder:
				f.Append(v.(string))
			case *array.BooleanBuilder:
				f.Append(v.(bool))
			case *array.Date32Builder:
				f.Append(arrow.Date32(v.(int32)))
			case *array.TimestampBuilder:
				f.Append(arrow.Timestamp(v.(int64)))
			}
		}
	}
	return b.NewRecordBatch()
}

// source serves rows in batches of size, with an empty batch now and then.
type source struct {
	schema *arrow.Schema
	recs   []arrow.Record
	i      int
	pulls  int
	closed bool
}

func newSource(mem memory.Allocator, t table, rows [][]any, size int) *source {
	s := &source{schema: t.schema()}
	for from := 0; from < len(rows); from += size {
		s.recs = append(s.recs, t.record(mem, rows[from:min(from+size, len(rows))]))
		if from%(3*size) == 0 {
			s.recs = append(s.recs, t.record(mem, nil))
		}
	}
	return s
}

func (s *source) Schema() *arrow.Schema { return s.schema }

func (s *source) Next(context.Context) (arrow.Record, error) {
	s.pulls++
	if s.i >= len(s.recs) {
		return nil, io.EOF
	}
	s.i++
	return s.recs[s.i-1], nil
}

func (s *source) Close() error {
	s.closed = true
	for _, r := range s.recs {
		r.Release()
	}
	s.recs = nil
	return nil
}

func cell(a arrow.Array, i int) string {
	if a.DataType().ID() == arrow.NULL || a.IsNull(i) {
		return "NULL"
	}
	return a.ValueStr(i)
}

func drain(t *testing.T, op exec.Operator) []string {
	t.Helper()
	defer op.Close()
	var out []string
	for {
		rec, err := op.Next(context.Background())
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rowsOf(rec)...)
	}
}

// format renders rows as drain does, through Arrow.
func format(t table, rows [][]any) []string {
	rec := t.record(memory.NewGoAllocator(), rows)
	defer rec.Release()
	out := make([]string, len(rows))
	for i := range out {
		cells := make([]string, rec.NumCols())
		for c := range cells {
			cells[c] = cell(rec.Column(c), i)
		}
		out[i] = strings.Join(cells, "|")
	}
	return out
}

// compareVal orders two values of one column: NULL first.
func compareVal(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch a := a.(type) {
	case int64:
		return cmp.Compare(a, b.(int64))
	case int32:
		return cmp.Compare(a, b.(int32))
	case uint64:
		return cmp.Compare(a, b.(uint64))
	case float64:
		return cmp.Compare(a, b.(float64))
	case decimal128.Num:
		return a.Cmp(b.(decimal128.Num))
	case string:
		return bytes.Compare([]byte(a), []byte(b.(string)))
	case bool:
		x, y := 0, 0
		if a {
			x = 1
		}
		if b.(bool) {
			y = 1
		}
		return x - y
	}
	panic(fmt.Sprintf("compareVal %T", a))
}

// refSort is the oracle: a stable sort of the rows.
func refSort(rows [][]any, keys []planner.SortKey) [][]any {
	out := slices.Clone(rows)
	sort.SliceStable(out, func(i, j int) bool {
		for _, k := range keys {
			c := compareVal(out[i][k.Col], out[j][k.Col])
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	return out
}

func keySets() [][]planner.SortKey {
	var sets [][]planner.SortKey
	for c := range allTypes {
		sets = append(sets, []planner.SortKey{{Col: c}}, []planner.SortKey{{Col: c, Desc: true}})
	}
	return append(sets,
		[]planner.SortKey{{Col: 4}, {Col: 0, Desc: true}},
		[]planner.SortKey{{Col: 5, Desc: true}, {Col: 2}, {Col: 3}},
		[]planner.SortKey{{Col: 6}, {Col: 1, Desc: true}, {Col: 7}, {Col: 4, Desc: true}},
		nil,
	)
}

func keyName(keys []planner.SortKey) string {
	var parts []string
	for _, k := range keys {
		s := "c" + strconv.Itoa(k.Col)
		if k.Desc {
			s += "-desc"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

func TestSort(t *testing.T) {
	tab := randomTable(rand.New(rand.NewPCG(1, 1)), 200)
	for _, keys := range keySets() {
		want := format(tab, refSort(tab.rows, keys))
		for _, bs := range batchSizes {
			t.Run(fmt.Sprintf("%s/batch=%d", keyName(keys), bs), func(t *testing.T) {
				mem := checkedMem(t)
				src := newSource(mem, tab, tab.rows, bs)
				op, err := NewSort(src, keys, exec.Env{Alloc: mem, BatchSize: bs})
				if err != nil {
					t.Fatal(err)
				}
				if got := drain(t, op); !slices.Equal(got, want) {
					t.Fatalf("got\n%s\nwant\n%s", strings.Join(got[:min(10, len(got))], "\n"), strings.Join(want[:10], "\n"))
				}
				if !src.closed {
					t.Fatal("input not closed")
				}
			})
		}
	}
}

func TestSortEmptyAndErrors(t *testing.T) {
	mem := checkedMem(t)
	tab := randomTable(rand.New(rand.NewPCG(1, 1)), 0)
	op, err := NewSort(newSource(mem, tab, nil, 4), []planner.SortKey{{Col: 0}}, exec.Env{Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, op); len(got) != 0 {
		t.Fatalf("sort of nothing gave %d rows", len(got))
	}
	src := newSource(mem, tab, nil, 4)
	defer src.Close()
	if _, err := NewSort(src, []planner.SortKey{{Col: 99}}, exec.Env{}); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("err = %v", err)
	}
	if _, err := NewTopK(src, nil, -1, exec.Env{}); err == nil {
		t.Fatal("top-k with k < 0 accepted")
	}
}

func TestTopK(t *testing.T) {
	small := randomTable(rand.New(rand.NewPCG(2, 2)), 60)
	big := randomTable(rand.New(rand.NewPCG(3, 3)), 3*compactMin+17) // forces compactions
	cases := []struct {
		tab   table
		k     []int64
		sizes []int
	}{
		{small, []int64{0, 1, 5, 59, 60, 100}, batchSizes},
		{big, []int64{10, compactMin + 3, 3*compactMin + 17}, []int{7}},
	}
	keys := [][]planner.SortKey{{{Col: 0}}, {{Col: 4, Desc: true}, {Col: 2}}, {{Col: 5}}, nil}
	for _, tc := range cases {
		for _, ks := range keys {
			sorted := format(tc.tab, refSort(tc.tab.rows, ks))
			for _, k := range tc.k {
				for _, bs := range tc.sizes {
					t.Run(fmt.Sprintf("n=%d/%s/k=%d/batch=%d", len(tc.tab.rows), keyName(ks), k, bs), func(t *testing.T) {
						mem := checkedMem(t)
						src := newSource(mem, tc.tab, tc.tab.rows, bs)
						op, err := NewTopK(src, ks, k, exec.Env{Alloc: mem, BatchSize: bs})
						if err != nil {
							t.Fatal(err)
						}
						want := sorted[:min(int(k), len(sorted))]
						got := drain(t, op)
						if !slices.Equal(got, want) {
							t.Fatalf("got %d rows, want %d; first diff at %d", len(got), len(want), firstDiff(got, want))
						}
						if k == 0 && src.pulls != 0 {
							t.Fatalf("top-0 pulled its input %d times", src.pulls)
						}
					})
				}
			}
		}
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestMerge(t *testing.T) {
	tab := randomTable(rand.New(rand.NewPCG(4, 4)), 150)
	rng := rand.New(rand.NewPCG(5, 5))
	for _, keys := range keySets() {
		for _, nIn := range []int{1, 4} {
			// Deal the rows to inputs; each input is then sorted on its own.
			parts := make([][][]any, nIn)
			for _, r := range tab.rows {
				p := rng.IntN(nIn)
				parts[p] = append(parts[p], r)
			}
			var concat [][]any
			for p := range parts {
				if keys != nil {
					parts[p] = refSort(parts[p], keys)
				}
				concat = append(concat, parts[p]...)
			}
			// A stable sort of the concatenation orders ties by input.
			want := format(tab, concat)
			if keys != nil {
				want = format(tab, refSort(concat, keys))
			}
			for _, bs := range batchSizes {
				t.Run(fmt.Sprintf("%s/inputs=%d/batch=%d", keyName(keys), nIn, bs), func(t *testing.T) {
					mem := checkedMem(t)
					var ins []exec.Operator
					var srcs []*source
					for p := range parts {
						s := newSource(mem, tab, parts[p], bs+p) // uneven batch sizes
						srcs = append(srcs, s)
						ins = append(ins, s)
					}
					op, err := NewMerge(ins, keys, exec.Env{Alloc: mem, BatchSize: bs})
					if err != nil {
						t.Fatal(err)
					}
					if got := drain(t, op); !slices.Equal(got, want) {
						t.Fatalf("got %d rows, want %d; first diff at %d", len(got), len(want), firstDiff(got, want))
					}
					for _, s := range srcs {
						if !s.closed {
							t.Fatal("an input was not closed")
						}
					}
				})
			}
		}
	}
}

func TestMergeSchemaMismatch(t *testing.T) {
	mem := checkedMem(t)
	a := randomTable(rand.New(rand.NewPCG(1, 1)), 3)
	b := table{types: []planner.Type{planner.Int}, rows: [][]any{{int64(1)}}}
	sa, sb := newSource(mem, a, a.rows, 2), newSource(mem, b, b.rows, 2)
	defer sa.Close()
	defer sb.Close()
	if _, err := NewMerge([]exec.Operator{sa, sb}, nil, exec.Env{}); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Fatalf("err = %v", err)
	}
}

func TestLimit(t *testing.T) {
	tab := randomTable(rand.New(rand.NewPCG(6, 6)), 40)
	all := format(tab, tab.rows)
	for _, bs := range batchSizes {
		for _, tc := range []struct{ offset, limit int64 }{
			{0, -1}, {0, 0}, {0, 1}, {0, 40}, {0, 100}, {3, -1}, {3, 5}, {39, 1}, {40, 5}, {50, -1}, {7, 13},
		} {
			t.Run(fmt.Sprintf("batch=%d/offset=%d/limit=%d", bs, tc.offset, tc.limit), func(t *testing.T) {
				mem := checkedMem(t)
				src := newSource(mem, tab, tab.rows, bs)
				op := NewLimit(src, tc.offset, tc.limit, exec.Env{Alloc: mem, BatchSize: bs})
				from := min(int(tc.offset), len(all))
				to := len(all)
				if tc.limit >= 0 {
					to = min(to, from+int(tc.limit))
				}
				if got := drain(t, op); !slices.Equal(got, all[from:to]) {
					t.Fatalf("got %q, want %q", got, all[from:to])
				}
				if tc.limit >= 0 && to < len(all) {
					// Stop pulling once satisfied: at most the batches that
					// hold rows up to the last one returned (plus the empty
					// ones the source interleaves).
					if max := 2*(to+bs-1)/bs + 1; src.pulls > max {
						t.Fatalf("pulled input %d times for %d rows at batch %d", src.pulls, to, bs)
					}
				}
				if !src.closed {
					t.Fatal("input not closed")
				}
			})
		}
	}
}

// benchInput is a million rows of (k, v) in batches of the default size:
// k a random BIGINT or its base-36 string, v the row number.
type benchInput struct {
	name   string
	schema *arrow.Schema
	recs   []arrow.Record
	bytes  int64 // logicalBytes of all the batches
}

func benchInputs() []benchInput {
	rng := rand.New(rand.NewPCG(8, 8))
	mem := memory.NewGoAllocator()
	var out []benchInput
	for _, tc := range []struct {
		name string
		dt   arrow.DataType
	}{{"int64", arrow.PrimitiveTypes.Int64}, {"string", arrow.BinaryTypes.String}} {
		in := benchInput{name: tc.name, schema: arrow.NewSchema([]arrow.Field{{Name: "k", Type: tc.dt, Nullable: true}, {Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)}
		bld := array.NewRecordBuilder(mem, in.schema)
		for i := 0; i < benchRows; i++ {
			x := rng.Int64()
			if sb, ok := bld.Field(0).(*array.StringBuilder); ok {
				sb.Append(strconv.FormatInt(x, 36))
			} else {
				bld.Field(0).(*array.Int64Builder).Append(x)
			}
			bld.Field(1).(*array.Int64Builder).Append(int64(i))
			if (i+1)%exec.DefaultBatchSize == 0 {
				in.recs = append(in.recs, bld.NewRecordBatch())
				in.bytes += logicalBytes(in.recs[len(in.recs)-1])
			}
		}
		bld.Release()
		out = append(out, in)
	}
	return out
}

const benchRows = 1 << 20

func BenchmarkSort(b *testing.B) {
	for _, in := range benchInputs() {
		b.Run(in.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				src := &replay{schema: in.schema, recs: in.recs}
				op, err := NewSort(src, []planner.SortKey{{Col: 0}}, exec.DefaultEnv())
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := op.Next(context.Background()); err != nil {
						break
					}
				}
				op.Close()
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

type replay struct {
	schema *arrow.Schema
	recs   []arrow.Record
	i      int
}

func (r *replay) Schema() *arrow.Schema { return r.schema }
func (r *replay) Close() error          { return nil }
func (r *replay) Next(context.Context) (arrow.Record, error) {
	if r.i >= len(r.recs) {
		return nil, io.EOF
	}
	r.i++
	return r.recs[r.i-1], nil
}
