package expr

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

const benchRows = 16 * 1024 // exec.DefaultBatchSize

// lineitem builds TPC-H-like columns: extendedprice, discount, tax and
// shipdate, with price/discount/tax as DOUBLE or DECIMAL(15,2).
func lineitem(b *testing.B, mem memory.Allocator, t planner.Type) arrow.Record {
	rng := rand.New(rand.NewPCG(1, 2))
	cols := make([]arrow.Array, 4)
	for c := 0; c < 3; c++ {
		w := newValueWriter(&evalCtx{alloc: mem, n: benchRows}, t)
		for r := 0; r < benchRows; r++ {
			cents := int64(rng.IntN(10_000_000)) // price up to 100000.00
			if c > 0 {
				cents = int64(rng.IntN(11)) // 0.00 to 0.10
			}
			if t.Kind == planner.KindFloat {
				w.set(r, planner.Value{F: float64(cents) / 100})
			} else {
				w.set(r, planner.DecValue(n64(cents).dec()))
			}
		}
		a, _ := w.finish()
		cols[c] = a
	}
	w := newValueWriter(&evalCtx{alloc: mem, n: benchRows}, planner.Date)
	base := planner.DayNumber(1992, 1, 1)
	for r := 0; r < benchRows; r++ {
		w.set(r, planner.Value{I: base + int64(rng.IntN(2526))})
	}
	cols[3], _ = w.finish()
	schema := planner.Schema{{Name: "l_extendedprice", Type: t}, {Name: "l_discount", Type: t},
		{Name: "l_tax", Type: t}, {Name: "l_shipdate", Type: planner.Date}}.Arrow()
	return array.NewRecordBatch(schema, cols, benchRows)
}

func benchEval(b *testing.B, e *planner.Expr, rec arrow.Record, mem memory.Allocator) {
	ev, err := Compile(e, rec.Schema())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		a, err := ev.Eval(ctx, rec, mem)
		if err != nil {
			b.Fatal(err)
		}
		a.Release()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
}

// q1Charge is l_extendedprice * (1 - l_discount) * (1 + l_tax).
func q1Charge(b *testing.B, t planner.Type) *planner.Expr {
	price, disc, tax := planner.Col(0, "l_extendedprice", t), planner.Col(1, "l_discount", t), planner.Col(2, "l_tax", t)
	one := planner.Lit(planner.Value{I: 1}, planner.Int)
	return mk(b, "*", mk(b, "*", price, mk(b, "-", one, disc)), mk(b, "+", one, tax))
}

func BenchmarkQ1ChargeDouble(b *testing.B) {
	mem := newReuseAlloc()
	rec := lineitem(b, mem, planner.Float)
	defer rec.Release()
	benchEval(b, q1Charge(b, planner.Float), rec, mem)
}

func BenchmarkQ1ChargeDecimal(b *testing.B) {
	mem := newReuseAlloc()
	rec := lineitem(b, mem, planner.Decimal(15, 2))
	defer rec.Release()
	benchEval(b, q1Charge(b, planner.Decimal(15, 2)), rec, mem)
}

// BenchmarkShipdateFilter is TPC-H Q1's l_shipdate <= '1998-09-02' plus
// selecting the rows.
func BenchmarkShipdateFilter(b *testing.B) {
	mem := newReuseAlloc()
	rec := lineitem(b, mem, planner.Decimal(15, 2))
	defer rec.Release()
	e := mk(b, "<=", planner.Col(3, "l_shipdate", planner.Date), "1998-09-02")
	ev, err := Compile(e, rec.Schema())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.Run("compare", func(b *testing.B) { benchEval(b, e, rec, mem) })
	b.Run("compare+filter", func(b *testing.B) {
		for b.Loop() {
			m, err := ev.Eval(ctx, rec, mem)
			if err != nil {
				b.Fatal(err)
			}
			out, err := FilterRecord(rec, m, mem)
			if err != nil {
				b.Fatal(err)
			}
			out.Release()
			m.Release()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchRows, "ns/row")
	})
}

// reuseAlloc hands freed buffers back out, so the benchmarks measure the
// kernels rather than Go's allocator and GC (an operator would use a pool).
type reuseAlloc struct{ free map[int][][]byte }

func newReuseAlloc() *reuseAlloc { return &reuseAlloc{free: map[int][][]byte{}} }

func (a *reuseAlloc) Allocate(n int) []byte {
	if l := a.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		a.free[n] = l[:len(l)-1]
		return b
	}
	return make([]byte, n)
}

func (a *reuseAlloc) Reallocate(n int, b []byte) []byte {
	nb := a.Allocate(n)
	copy(nb, b)
	a.Free(b)
	return nb
}

func (a *reuseAlloc) Free(b []byte) { a.free[len(b)] = append(a.free[len(b)], b) }
