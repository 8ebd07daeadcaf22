package agg

import (
	"context"
	"fmt"
	"io"
	"math"
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

// column is test data: Go values, nil for NULL. Values are int64 (Int,
// Date as days, Datetime as µs), uint64, float64, string, bool or
// decimal128.Num.
type column struct {
	name string
	t    planner.Type
	vals []any
}

func schemaOf(cols []column) *arrow.Schema {
	fs := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fs[i] = arrow.Field{Name: c.name, Type: c.t.Arrow(), Nullable: true}
	}
	return arrow.NewSchema(fs, nil)
}

func buildArray(mem memory.Allocator, t planner.Type, vals []any) arrow.Array {
	if t.Kind == planner.KindNull {
		return array.NewNull(len(vals))
	}
	b := array.NewBuilder(mem, t.Arrow())
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
			b.Append(arrow.Date32(v.(int64)))
		case *array.TimestampBuilder:
			b.Append(arrow.Timestamp(v.(int64)))
		default:
			panic(fmt.Sprintf("no builder for %s", t))
		}
	}
	return b.NewArray()
}

// batches cuts the columns into records of at most size rows.
func batches(mem memory.Allocator, cols []column, size int) []arrow.Record {
	sc := schemaOf(cols)
	n := 0
	if len(cols) > 0 {
		n = len(cols[0].vals)
	}
	var out []arrow.Record
	for from := 0; from < n; from += size {
		to := min(from+size, n)
		arrs := make([]arrow.Array, len(cols))
		for i, c := range cols {
			arrs[i] = buildArray(mem, c.t, c.vals[from:to])
		}
		out = append(out, array.NewRecordBatch(sc, arrs, int64(to-from)))
		for _, a := range arrs {
			a.Release()
		}
	}
	return out
}

// source is an in-memory operator over records it owns.
type source struct {
	schema *arrow.Schema
	recs   []arrow.Record
	i      int
	closed int
}

func newSource(mem memory.Allocator, cols []column, size int) *source {
	return &source{schema: schemaOf(cols), recs: batches(mem, cols, size)}
}

func (s *source) Schema() *arrow.Schema { return s.schema }

func (s *source) Next(context.Context) (arrow.Record, error) {
	if s.i >= len(s.recs) {
		return nil, io.EOF
	}
	s.i++
	return s.recs[s.i-1], nil
}

func (s *source) Close() error {
	s.closed++
	for _, r := range s.recs {
		r.Release()
	}
	s.recs = nil
	return nil
}

// drain reads every batch of op, returns its rows as formatted cells, and
// closes op.
func drain(t testing.TB, op exec.Operator) [][]string {
	t.Helper()
	defer op.Close()
	var rows [][]string
	for {
		rec, err := op.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if !rec.Schema().Equal(op.Schema()) {
			t.Fatalf("record schema %s differs from operator schema %s", rec.Schema(), op.Schema())
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, rec.NumCols())
			for c := range row {
				row[c] = cell(rec.Column(c), i)
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// cell formats one value the way the tests spell expectations.
func cell(a arrow.Array, i int) string {
	if a.DataType().ID() == arrow.NULL || a.IsNull(i) {
		return "NULL"
	}
	switch a := a.(type) {
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.Uint64:
		return strconv.FormatUint(a.Value(i), 10) + "u"
	case *array.Float64:
		return fmtFloat(a.Value(i))
	case *array.String:
		return strconv.Quote(a.Value(i))
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i))
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Date32:
		return "d" + strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Timestamp:
		return "t" + strconv.FormatInt(int64(a.Value(i)), 10)
	}
	return fmt.Sprintf("?%s", a.DataType())
}

func fmtFloat(f float64) string {
	if f == 0 {
		f = 0 // -0 prints as 0
	}
	if math.IsNaN(f) {
		return "NaN"
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func sortRows(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, " | ")
	}
	sort.Strings(out)
	return out
}

func checkedMem(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// call builds an aggregate call over input columns args of the given types.
func call(fn string, distinct bool, name string, args ...*planner.Expr) planner.AggCall {
	ts := make([]planner.Type, len(args))
	for i, a := range args {
		ts[i] = a.Type
	}
	rt, err := planner.Aggregates[fn].Result(ts)
	if err != nil {
		panic(err)
	}
	return planner.AggCall{Func: fn, Args: args, Distinct: distinct, Type: rt, Name: name}
}

// concatSource replays the outputs of several operators as one input (the
// shuffle's role between Partial and Final).
type concatSource struct {
	schema *arrow.Schema
	ops    []exec.Operator
	i      int
}

func (c *concatSource) Schema() *arrow.Schema { return c.schema }

func (c *concatSource) Next(ctx context.Context) (arrow.Record, error) {
	for c.i < len(c.ops) {
		rec, err := c.ops[c.i].Next(ctx)
		if err == io.EOF {
			c.i++
			continue
		}
		return rec, err
	}
	return nil, io.EOF
}

func (c *concatSource) Close() error {
	for _, op := range c.ops {
		op.Close()
	}
	return nil
}

func dec(s string, scale int32) decimal128.Num {
	n, err := decimal128.FromString(s, 38, scale)
	if err != nil {
		panic(err)
	}
	return n
}
