package agg

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/planner"
)

// replay hands out the same records on every pass without giving them up.
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

// benchInput builds n rows of int/string key columns with the given number of
// distinct values each, plus an int64 value column, straight with builders.
func benchInput(n int, keys []planner.Type, distinct []int) (*arrow.Schema, []arrow.Record) {
	rng := rand.New(rand.NewPCG(7, 7))
	mem := memory.NewGoAllocator()
	var fields []arrow.Field
	for i, t := range keys {
		fields = append(fields, arrow.Field{Name: fmt.Sprint("id", i+1), Type: t.Arrow(), Nullable: true})
	}
	fields = append(fields, arrow.Field{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	schema := arrow.NewSchema(fields, nil)
	const batch = exec.DefaultBatchSize
	var recs []arrow.Record
	for from := 0; from < n; from += batch {
		rows := min(batch, n-from)
		b := array.NewRecordBuilder(mem, schema)
		for c, t := range keys {
			for r := 0; r < rows; r++ {
				x := rng.IntN(distinct[c])
				if t.Kind == planner.KindString {
					b.Field(c).(*array.StringBuilder).Append(fmt.Sprintf("id%03d", x))
				} else {
					b.Field(c).(*array.Int64Builder).Append(int64(x))
				}
			}
		}
		for r := 0; r < rows; r++ {
			b.Field(len(keys)).(*array.Int64Builder).Append(int64(rng.IntN(100)))
		}
		recs = append(recs, b.NewRecordBatch())
		b.Release()
	}
	return schema, recs
}

func benchAgg(b *testing.B, n int, keys []planner.Type, distinct []int) {
	benchAggEnv(b, n, keys, distinct, func() exec.Env { return exec.DefaultEnv() })
}

// benchAggEnv runs benchAgg's query with a fresh env for each run.
func benchAggEnv(b *testing.B, n int, keys []planner.Type, distinct []int, newEnv func() exec.Env) {
	schema, recs := benchInput(n, keys, distinct)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	groups := make([]int, len(keys))
	for i := range groups {
		groups[i] = i
	}
	v := planner.Col(len(keys), "v", planner.Int)
	spec := Spec{Groups: groups, Mode: planner.AggComplete, Aggs: []Agg{
		{Call: call("sum", false, "s", v), Args: []int{len(keys)}},
		{Call: call("count_star", false, "c")},
	}}
	var spilled int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		env := newEnv()
		op, err := New(&replay{schema: schema, recs: recs}, spec, env)
		if err != nil {
			b.Fatal(err)
		}
		runToEnd(b, op)
		spilled += env.Budget.Spilled()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	if spilled > 0 {
		b.ReportMetric(float64(spilled)/float64(b.N)/(1<<20), "MiB-spilled/op")
	}
}

func BenchmarkAggregate(b *testing.B) {
	const n = 1 << 20
	s, i := planner.String, planner.Int
	b.Run("int-key/100k-groups", func(b *testing.B) { benchAgg(b, n, []planner.Type{i}, []int{100_000}) })
	b.Run("string-key/100-groups", func(b *testing.B) { benchAgg(b, n, []planner.Type{s}, []int{100}) })
	b.Run("string-key/100k-groups", func(b *testing.B) { benchAgg(b, n, []planner.Type{s}, []int{100_000}) })
	b.Run("2-key/int+string", func(b *testing.B) { benchAgg(b, n, []planner.Type{s, i}, []int{100, 1000}) })
	// h2o q10 shape (id1..id6, nearly one group per row), scaled from 10 M
	// rows to 1 M.
	b.Run("6-key/q10", func(b *testing.B) {
		benchAgg(b, n, []planner.Type{s, s, s, i, i, i}, []int{100, 100, 10_000, 100, 100, 10_000})
	})
}

// BenchmarkAggSpill is BenchmarkAggregate's 100k-group queries (about
// 8 MiB of table) under a 1 MiB budget: each spills its groups as states
// into 16 files and merges them one file at a time; "nolimit" is the same
// with a budget that never refuses, to show what the accounting costs.
func BenchmarkAggSpill(b *testing.B) {
	const n = 1 << 20
	s, i := planner.String, planner.Int
	for _, limit := range []int64{1 << 20, 0} {
		name := "1MiB"
		if limit == 0 {
			name = "nolimit"
		}
		newEnv := func() exec.Env {
			env := exec.DefaultEnv()
			env.Budget = exec.NewBudget(limit)
			env.SpillDir = b.TempDir()
			return env
		}
		b.Run("int-key/100k-groups/"+name, func(b *testing.B) { benchAggEnv(b, n, []planner.Type{i}, []int{100_000}, newEnv) })
		b.Run("string-key/100k-groups/"+name, func(b *testing.B) { benchAggEnv(b, n, []planner.Type{s}, []int{100_000}, newEnv) })
	}
}

// BenchmarkAggregateFinal is the reduce side of h2o q10 (GROUP BY id1..id6,
// sum(v3), count(*) over 10 M rows: the map side passes rows through, so
// each of two reducers merges ~5 M states into ~5 M groups). The input is
// keys plus the partial states (DOUBLE sum, BIGINT count), one row per
// state as pass-through writes them; "peak-MiB" is the growth of the
// process's peak resident set over one run (Linux only), which counts the
// mapped table arrays that the Go heap does not.
func BenchmarkAggregateFinal(b *testing.B) {
	for _, n := range []int{1 << 20, 5_000_000} {
		b.Run(fmt.Sprintf("6-key/q10/%dk-rows", n/1000), func(b *testing.B) { benchFinalQ10(b, n) })
	}
}

func benchFinalQ10(b *testing.B, n int) {
	rng := rand.New(rand.NewPCG(7, 7))
	mem := memory.NewGoAllocator()
	s, i, f := planner.String, planner.Int, planner.Float
	keyTypes := []planner.Type{s, s, s, i, i, i}
	distinct := []int{100, 100, 100_000, 100, 100, 100_000}
	var fields []arrow.Field
	for c, t := range keyTypes {
		fields = append(fields, arrow.Field{Name: fmt.Sprint("id", c+1), Type: t.Arrow(), Nullable: true})
	}
	fields = append(fields,
		arrow.Field{Name: "v3.state0", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		arrow.Field{Name: "count.state0", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	schema := arrow.NewSchema(fields, nil)
	names := make([]string, 100_000)
	for x := range names {
		names[x] = fmt.Sprintf("id%03d", x)
	}
	var recs []arrow.Record
	for from := 0; from < n; from += exec.DefaultBatchSize {
		rows := min(exec.DefaultBatchSize, n-from)
		rb := array.NewRecordBuilder(mem, schema)
		for c, t := range keyTypes {
			for r := 0; r < rows; r++ {
				x := rng.IntN(distinct[c])
				if t.Kind == planner.KindString {
					rb.Field(c).(*array.StringBuilder).Append(names[x])
				} else {
					rb.Field(c).(*array.Int64Builder).Append(int64(x))
				}
			}
		}
		for r := 0; r < rows; r++ {
			rb.Field(6).(*array.Float64Builder).Append(rng.Float64() * 100)
			rb.Field(7).(*array.Int64Builder).Append(1)
		}
		recs = append(recs, rb.NewRecordBatch())
		rb.Release()
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	spec := Spec{Groups: []int{0, 1, 2, 3, 4, 5}, Mode: planner.AggFinal, Aggs: []Agg{
		{Call: call("sum", false, "v3", planner.Col(6, "v3", f)), States: []int{6}},
		{Call: call("count_star", false, "count"), States: []int{7}},
	}}
	var peak int64
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		base := resetPeakRSS()
		op, err := New(&replay{schema: schema, recs: recs}, spec, exec.DefaultEnv())
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := op.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		if base >= 0 {
			peak = max(peak, peakRSS()-base)
		}
		op.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	if peak > 0 {
		b.ReportMetric(float64(peak)/(1<<20), "peak-MiB")
	}
}

// resetPeakRSS runs a collection, resets the process's peak resident set
// to the current one and returns it, or -1 where that is not possible.
func resetPeakRSS() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	if os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) != nil {
		return -1
	}
	return procStatusKB("VmRSS:") << 10
}

// peakRSS is the process's peak resident set since resetPeakRSS.
func peakRSS() int64 { return procStatusKB("VmHWM:") << 10 }

func procStatusKB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb
		}
	}
	return -1
}

// BenchmarkAggregateQ3 is the map side of h2o groupby q3 at scale (SELECT
// id3, sum(v1), avg(v3) … GROUP BY id3 over 16 M rows: 160K distinct
// 12-byte keys "id0000012345"), scaled to 2 M rows per map task: the table
// (slots, key store, states) is several MiB, past L2, so a probe's cost is
// its cache misses. Partial mode, pass-through off, as a combiner that
// keeps aggregating.
func BenchmarkAggregateQ3(b *testing.B) {
	const n, distinct = 2 << 20, 160_000
	rng := rand.New(rand.NewPCG(7, 7))
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id3", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "v1", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "v3", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	names := make([]string, distinct)
	for x := range names {
		names[x] = fmt.Sprintf("id%010d", x)
	}
	var recs []arrow.Record
	for from := 0; from < n; from += exec.DefaultBatchSize {
		rows := min(exec.DefaultBatchSize, n-from)
		rb := array.NewRecordBuilder(mem, schema)
		for r := 0; r < rows; r++ {
			rb.Field(0).(*array.StringBuilder).Append(names[rng.IntN(distinct)])
			rb.Field(1).(*array.Int64Builder).Append(int64(rng.IntN(5)))
			rb.Field(2).(*array.Float64Builder).Append(rng.Float64() * 100)
		}
		recs = append(recs, rb.NewRecordBatch())
		rb.Release()
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	spec := Spec{Groups: []int{0}, Mode: planner.AggPartial, Knobs: TestingKnobs{DisablePassThrough: true}, Aggs: []Agg{
		{Call: call("sum", false, "v1", planner.Col(1, "v1", planner.Int)), Args: []int{1}},
		{Call: call("avg", false, "v3", planner.Col(2, "v3", planner.Float)), Args: []int{2}},
	}}
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		op, err := New(&replay{schema: schema, recs: recs}, spec, exec.DefaultEnv())
		if err != nil {
			b.Fatal(err)
		}
		runToEnd(b, op)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// runToEnd reads op to the end, failing the benchmark on an error, and
// closes it.
func runToEnd(b *testing.B, op exec.Operator) {
	b.Helper()
	for {
		_, err := op.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	op.Close()
}
