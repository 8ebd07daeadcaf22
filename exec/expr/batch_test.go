package expr

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

// testTable is a batch with every kind of column and NULLs in each.
var testCols = planner.Schema{
	{Name: "i", Type: planner.Int},
	{Name: "j", Type: planner.Int},
	{Name: "d", Type: planner.Decimal(15, 2)},
	{Name: "f", Type: planner.Float},
	{Name: "s", Type: planner.String},
	{Name: "dt", Type: planner.Date},
	{Name: "ts", Type: planner.Datetime},
	{Name: "b", Type: planner.Bool},
	{Name: "u", Type: planner.Uint},
}

const testRows = 61

func testValue(col, r int) planner.Value {
	if (r+col)%7 == 3 {
		return planner.Value{Null: true}
	}
	switch testCols[col].Name {
	case "i":
		return planner.Value{I: int64(r%13 - 5)}
	case "j":
		return planner.Value{I: int64(r%5 - 2)}
	case "d":
		return planner.DecValue(n64(int64(r*137%2000 - 700)).dec())
	case "f":
		return planner.Value{F: float64(r%9)*1.25 - 3}
	case "s":
		return planner.Value{S: []string{"", "abc", "Straße", "x%y", "  pad ", "12abc", "banana", "ÀÉ"}[r%8]}
	case "dt":
		return planner.Value{I: planner.DayNumber(1998, 8, 1) + int64(r*3)}
	case "ts":
		return planner.Value{I: (planner.DayNumber(2020, 2, 28)+int64(r%3))*86_400_000_000 + int64(r)*3_599_000_001}
	case "b":
		return planner.Value{I: int64(r % 2)}
	case "u":
		return planner.Value{U: uint64(r * 1000)}
	}
	panic("no column")
}

func testRecord(mem memory.Allocator) arrow.Record {
	schema := testCols.Arrow()
	cols := make([]arrow.Array, len(testCols))
	for c, col := range testCols {
		w := newValueWriter(&evalCtx{alloc: mem, n: testRows}, col.Type)
		for r := 0; r < testRows; r++ {
			w.set(r, testValue(c, r))
		}
		a, err := w.finish()
		if err != nil {
			panic(err)
		}
		cols[c] = a
	}
	return newRecord(schema, cols, testRows)
}

func colExpr(name string) *planner.Expr {
	for i, c := range testCols {
		if c.Name == name {
			return planner.Col(i, name, c.Type)
		}
	}
	panic(name)
}

// mk builds a call over columns (by name), literals (other Go values)
// and sub-expressions.
func mk(t testing.TB, name string, args ...any) *planner.Expr {
	es := make([]*planner.Expr, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case *planner.Expr:
			es[i] = a
		case col:
			es[i] = colExpr(string(a))
		default:
			v, typ := toValue(t, a)
			es[i] = planner.Lit(v, typ)
		}
	}
	e, err := planner.ResolveCall(name, es)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return e
}

type col string

func batchExprs(t testing.TB) []*planner.Expr {
	return []*planner.Expr{
		mk(t, "+", col("i"), col("j")),
		mk(t, "-", col("i"), 3),
		mk(t, "*", col("i"), col("d")),
		mk(t, "/", col("i"), col("j")),
		mk(t, "/", col("d"), col("j")),
		mk(t, "div", col("i"), col("j")),
		mk(t, "%", col("i"), col("j")),
		mk(t, "/", col("f"), col("j")),
		mk(t, "*", col("d"), mk(t, "-", 1, col("d"))),
		mk(t, "+", col("u"), mk(t, "abs", col("j"))),
		mk(t, "*", col("u"), 2),
		mk(t, "neg", col("d")),
		mk(t, "abs", col("f")),
		mk(t, "<", col("i"), col("j")),
		mk(t, ">=", col("d"), decLit("1.5")),
		mk(t, "=", col("s"), "abc"),
		mk(t, "<>", col("f"), col("i")),
		mk(t, "<=>", col("i"), col("j")),
		mk(t, "<=", col("dt"), "1998-09-02"),
		mk(t, ">", col("ts"), col("dt")),
		mk(t, "in", col("i"), 1, 2, nil),
		mk(t, "in", col("s"), "abc", "banana"),
		mk(t, "in", col("i"), col("j"), 3),
		mk(t, "and", col("b"), mk(t, ">", col("i"), 0)),
		mk(t, "or", col("b"), mk(t, ">", col("i"), 0)),
		mk(t, "xor", col("b"), col("i")),
		mk(t, "not", col("b")),
		mk(t, "isnull", col("s")),
		mk(t, "istrue", col("i")),
		mk(t, "like", col("s"), "%a%"),
		mk(t, "like", col("s"), "_b_"),
		mk(t, "like", col("s"), col("s")),
		mk(t, "regexp", col("s"), "^[a-z]+$"),
		mk(t, "case", mk(t, ">", col("i"), 0), col("d"), mk(t, "<", col("i"), -2), col("j"), col("f")),
		mk(t, "case", mk(t, ">", col("i"), 0), col("s")),
		mk(t, "if", col("b"), col("dt"), col("ts")),
		mk(t, "coalesce", col("i"), col("j"), 99),
		mk(t, "ifnull", col("s"), "none"),
		mk(t, "nullif", col("i"), col("j")),
		mk(t, "greatest", col("i"), col("j"), col("f")),
		mk(t, "least", col("s"), "b"),
		mk(t, "round", col("d"), 1),
		mk(t, "round", col("f"), col("j")),
		mk(t, "truncate", col("d"), col("j")),
		mk(t, "floor", col("d")),
		mk(t, "ceil", col("f")),
		mk(t, "sign", col("d")),
		mk(t, "sqrt", col("f")),
		mk(t, "log", col("i"), col("f")),
		mk(t, "concat", col("s"), col("i")),
		mk(t, "concat_ws", "-", col("s"), col("i"), col("d")),
		mk(t, "upper", col("s")),
		mk(t, "length", col("s")),
		mk(t, "char_length", col("s")),
		mk(t, "substring", col("s"), col("j"), 2),
		mk(t, "trim", col("s")),
		mk(t, "left", col("s"), col("i")),
		mk(t, "replace", col("s"), "a", "<>"),
		mk(t, "locate", "a", col("s")),
		mk(t, "lpad", col("s"), col("i"), "*"),
		mk(t, "reverse", col("s")),
		mk(t, "repeat", col("s"), col("j")),
		mk(t, "year", col("dt")),
		mk(t, "dayofweek", col("ts")),
		mk(t, "hour", col("ts")),
		mk(t, "datediff", col("ts"), col("dt")),
		mk(t, "date_add", col("dt"), col("i"), "month"),
		mk(t, "date_sub", col("ts"), col("j"), "hour"),
		mk(t, "date_format", col("ts"), "%Y-%m-%d %H:%i %W"),
		planner.Cast(col2(t, "s"), planner.Int),
		planner.Cast(col2(t, "s"), planner.Decimal(10, 3)),
		planner.Cast(col2(t, "d"), planner.String),
		planner.Cast(col2(t, "f"), planner.Decimal(10, 1)),
		planner.Cast(col2(t, "i"), planner.Date),
		planner.Cast(col2(t, "dt"), planner.Float),
		planner.Cast(col2(t, "ts"), planner.String),
		planner.Cast(col2(t, "u"), planner.Int),
		mk(t, "+", 1, 2),
	}
}

func col2(t testing.TB, name string) *planner.Expr { return colExpr(name) }

// evalBatches evaluates e over rec cut into batches of size bs and
// renders every row.
func evalBatches(t *testing.T, mem memory.Allocator, e *planner.Expr, rec arrow.Record, bs int) []string {
	ev, err := Compile(e, rec.Schema())
	if err != nil {
		t.Fatalf("compile %s: %v", e, err)
	}
	var out []string
	for start := 0; start < int(rec.NumRows()); start += bs {
		end := min(start+bs, int(rec.NumRows()))
		batch := rec.NewSlice(int64(start), int64(end))
		a, err := ev.Eval(context.Background(), batch, mem)
		batch.Release()
		if err != nil {
			t.Fatalf("%s over rows %d-%d: %v", e, start, end, err)
		}
		if a.Len() != end-start {
			t.Fatalf("%s: %d rows for a batch of %d", e, a.Len(), end-start)
		}
		for i := 0; i < a.Len(); i++ {
			out = append(out, render(a, i, e.Type))
		}
		a.Release()
	}
	return out
}

// TestBatchesAgree evaluates every expression over the same rows cut into
// batches of 1, 2, 3, 7 and 1024 rows, and row by row as constants (every
// column replaced by its value), and requires the same results.
func TestBatchesAgree(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := testRecord(mem)
	defer rec.Release()
	for _, e := range batchExprs(t) {
		t.Run(e.String(), func(t *testing.T) {
			want := evalBatches(t, mem, e, rec, 1024)
			for _, bs := range []int{1, 2, 3, 7} {
				got := evalBatches(t, mem, e, rec, bs)
				if strings.Join(got, "|") != strings.Join(want, "|") {
					t.Fatalf("batch size %d:\n got %v\nwant %v", bs, got, want)
				}
			}
			empty := arrow.NewSchema(nil, nil)
			for r := 0; r < testRows; r++ {
				subs := make([]*planner.Expr, len(testCols))
				for c, tc := range testCols {
					subs[c] = planner.Lit(testValue(c, r), tc.Type)
				}
				ce := e.Substitute(subs)
				one := array.NewRecordBatch(empty, nil, 1)
				got := evalBatches(t, mem, ce, one, 1)
				one.Release()
				if got[0] != want[r] {
					t.Fatalf("row %d as constants: %s = %s, batch gave %s", r, ce, got[0], want[r])
				}
			}
		})
	}
}

// TestErrorsIgnoreNullRows: values under NULL slots are not checked, so
// an overflow there is no error, while the same overflow in a row is.
func TestErrorsIgnoreNullRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues([]int64{1, 9223372036854775807, 2}, []bool{true, false, true})
	a := b.NewArray()
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	rec := newRecord(schema, []arrow.Array{a}, 3)
	defer rec.Release()
	for _, c := range []struct {
		op   string
		want string
	}{{"+", "2|NULL|3"}, {"*", "1|NULL|2"}} {
		e := mk(t, c.op, planner.Col(0, "a", planner.Int), 1)
		if got := strings.Join(evalBatches(t, mem, e, rec, 3), "|"); got != c.want {
			t.Errorf("%s = %s, want %s", e, got, c.want)
		}
	}
	big := mk(t, "+", planner.Col(0, "a", planner.Int), int64(9223372036854775807))
	ev, err := Compile(big, schema)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ev.Eval(context.Background(), rec, mem)
	if err == nil || err.Error() != "BIGINT value is out of range in '(a + 9223372036854775807)'" {
		t.Fatalf("got %v", err)
	}
}

func TestCompileErrors(t *testing.T) {
	schema := testCols.Arrow()
	for _, c := range []struct {
		e    *planner.Expr
		want string
	}{
		{planner.Col(42, "zz", planner.Int), "not in the input"},
		{planner.Col(0, "i", planner.String), "column i is int64, the plan says VARCHAR"},
		{planner.Call("frobnicate", planner.Int, colExpr("i")), "not supported: function FROBNICATE"},
		{mk(t, "regexp", col("s"), "(("), "invalid regular expression"},
	} {
		_, err := Compile(c.e, schema)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%s) = %v, want %q", c.e, err, c.want)
		}
	}
}

func TestFilterRecord(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := testRecord(mem)
	defer rec.Release()
	masks := map[string]func(r int) (bool, bool){ // value, valid
		"all":        func(int) (bool, bool) { return true, true },
		"none":       func(int) (bool, bool) { return false, true },
		"nulls":      func(r int) (bool, bool) { return true, r%3 != 0 },
		"range":      func(r int) (bool, bool) { return r >= 5 && r < 40, true },
		"alternate":  func(r int) (bool, bool) { return r%2 == 0, true },
		"first only": func(r int) (bool, bool) { return r == 0, true },
	}
	for name, m := range masks {
		for _, bs := range []int{1, 2, 3, 7, 1024} {
			var want, got []string
			for start := 0; start < testRows; start += bs {
				end := min(start+bs, testRows)
				batch := rec.NewSlice(int64(start), int64(end))
				mb := array.NewBooleanBuilder(mem)
				for r := start; r < end; r++ {
					v, ok := m(r)
					if ok {
						mb.Append(v)
					} else {
						mb.AppendNull()
					}
					if v && ok {
						want = append(want, rowString(rec, r))
					}
				}
				mask := mb.NewArray()
				mb.Release()
				out, err := FilterRecord(batch, mask, mem)
				if err != nil {
					t.Fatal(err)
				}
				for r := 0; r < int(out.NumRows()); r++ {
					got = append(got, rowString(out, r))
				}
				out.Release()
				mask.Release()
				batch.Release()
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("mask %s, batch %d:\n got %v\nwant %v", name, bs, got, want)
			}
		}
	}
}

func rowString(rec arrow.Record, r int) string {
	parts := make([]string, rec.NumCols())
	for c := range parts {
		parts[c] = render(rec.Column(c), r, testCols[c].Type)
	}
	return fmt.Sprint(parts)
}

func TestFilterRecordShortcuts(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := testRecord(mem)
	defer rec.Release()
	mk := func(f func(int) bool) arrow.Array {
		b := array.NewBooleanBuilder(mem)
		defer b.Release()
		for r := 0; r < testRows; r++ {
			b.Append(f(r))
		}
		return b.NewArray()
	}
	all := mk(func(int) bool { return true })
	defer all.Release()
	out, err := FilterRecord(rec, all, mem)
	if err != nil || out != rec {
		t.Fatalf("all true: got %v, %v; want the record itself", out, err)
	}
	out.Release()
	none := mk(func(int) bool { return false })
	defer none.Release()
	out, err = FilterRecord(rec, none, mem)
	if err != nil || out.NumRows() != 0 || out.NumCols() != rec.NumCols() {
		t.Fatalf("all false: %v rows, %v", out, err)
	}
	out.Release()
	short := mk(func(int) bool { return true })
	defer short.Release()
	three := rec.NewSlice(0, 3)
	defer three.Release()
	if _, err := FilterRecord(three, short, mem); err == nil {
		t.Fatal("a mask of the wrong length was accepted")
	}
}

// TestSelectedRuns compares the word-at-a-time run finder with a bit loop
// on bitmaps that cross 64-row words.
func TestSelectedRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for iter := 0; iter < 500; iter++ {
		n := rng.IntN(300)
		sel := make([]byte, bitmapLen(n)+rng.IntN(2))
		density := rng.Float64()
		for i := 0; i < n; i++ {
			if rng.Float64() < density {
				sel[i/8] |= 1 << (i % 8)
			}
		}
		if rng.IntN(4) == 0 { // long runs of ones
			for i := rng.IntN(n + 1); i < n && i < 200; i++ {
				sel[i/8] |= 1 << (i % 8)
			}
		}
		var want []run
		for i := 0; i < n; i++ {
			if sel[i/8]&(1<<(i%8)) == 0 {
				continue
			}
			if len(want) > 0 && want[len(want)-1].end == i {
				want[len(want)-1].end++
			} else {
				want = append(want, run{i, i + 1})
			}
		}
		got := selectedRuns(sel, n)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("n=%d: got %v, want %v", n, got, want)
		}
	}
}

// TestLazyBranches: a branch that would overflow on rows that do not reach
// it is evaluated again on the rows that do, with unused columns of types
// the row selection does not handle left alone.
func TestLazyBranches(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{1, 9223372036854775807, 5, -3}, []bool{true, true, true, false})
	a := ib.NewArray()
	ib.Release()
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int8)
	for i := 0; i < 4; i++ {
		lb.Append(true)
	}
	l := lb.NewArray()
	lb.Release()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "l", Type: l.DataType(), Nullable: true},
	}, nil)
	rec := newRecord(schema, []arrow.Array{a, l}, 4)
	defer rec.Release()
	ca := planner.Col(0, "a", planner.Int)
	small := mk(t, "<", ca, 100)
	double := mk(t, "*", ca, 2)
	for _, c := range []struct {
		e    *planner.Expr
		want string
	}{
		{mk(t, "case", small, double, 0), "2|0|10|0"},
		{mk(t, "if", mk(t, ">=", ca, 100), 0, double), "2|0|10|NULL"},
		{mk(t, "and", small, mk(t, ">", double, 0)), "1|0|1|NULL"},
		{mk(t, "or", mk(t, ">=", ca, 100), mk(t, ">", double, 4)), "0|1|1|NULL"},
		{mk(t, "coalesce", mk(t, "nullif", ca, 1), mk(t, "+", ca, 1)), "2|9223372036854775807|5|NULL"},
	} {
		for _, bs := range []int{1, 2, 3, 4} {
			if got := strings.Join(evalBatches(t, mem, c.e, rec, bs), "|"); got != c.want {
				t.Errorf("%s (batch %d) = %s, want %s", c.e, bs, got, c.want)
			}
		}
	}
	// The same branch taken by the big row is still an error.
	e := mk(t, "case", mk(t, ">", ca, 0), double, 0)
	ev, err := Compile(e, schema)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ev.Eval(context.Background(), rec, mem); err == nil || !strings.Contains(err.Error(), "BIGINT value is out of range in '(a * 2)'") {
		t.Fatalf("got %v", err)
	}
}

// TestEvalDeclaredType: a column of a narrower DECIMAL comes back with the
// plan's type.
func TestEvalDeclaredType(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	db := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 12, Scale: 2})
	db.Append(n64(1234).dec())
	a := db.NewArray()
	db.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "p", Type: a.DataType(), Nullable: true}}, nil)
	rec := newRecord(schema, []arrow.Array{a}, 1)
	defer rec.Release()
	e := planner.Col(0, "p", planner.Decimal(15, 2))
	ev, err := Compile(e, schema)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ev.Eval(context.Background(), rec, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if !arrow.TypeEqual(out.DataType(), e.Type.Arrow()) || render(out, 0, e.Type) != "12.34" {
		t.Fatalf("got %s %s", out.DataType(), render(out, 0, e.Type))
	}
}
