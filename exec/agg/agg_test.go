package agg

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/planner"
)

func specFor(cols []column, groups []int, aggs []refAgg, mode planner.AggMode) Spec {
	s := Spec{Groups: groups, Mode: mode}
	pos := len(groups)
	for i, a := range aggs {
		args := make([]*planner.Expr, len(a.args))
		for j, c := range a.args {
			args[j] = planner.Col(c, cols[c].name, cols[c].t)
		}
		ag := Agg{Call: call(a.fn, a.distinct, fmt.Sprintf("a%d", i), args...), Args: a.args}
		if mode == planner.AggFinal {
			ag.Args = nil
			for range ag.Call.StateTypes() {
				ag.States = append(ag.States, pos)
				pos++
			}
		}
		s.Aggs = append(s.Aggs, ag)
	}
	if mode == planner.AggFinal {
		s.Groups = nil
		for i := range groups {
			s.Groups = append(s.Groups, i)
		}
	}
	return s
}

func envOf(mem memory.Allocator, bs int) exec.Env { return exec.Env{Alloc: mem, BatchSize: bs} }

func runComplete(t *testing.T, mem memory.Allocator, cols []column, groups []int, aggs []refAgg, bs int) []string {
	t.Helper()
	op, err := New(newSource(mem, cols, bs), specFor(cols, groups, aggs, planner.AggComplete), envOf(mem, bs))
	if err != nil {
		t.Fatal(err)
	}
	return sortRows(drain(t, op))
}

// runSplit runs Partial over parts slices of the rows (as map tasks would),
// feeds all partial outputs to one Final, and returns its rows.
func runSplit(t *testing.T, mem memory.Allocator, cols []column, groups []int, aggs []refAgg, bs, parts int, knobs TestingKnobs) []string {
	t.Helper()
	n := len(cols[0].vals)
	var partials []exec.Operator
	for p := 0; p < parts; p++ {
		from, to := n*p/parts, n*(p+1)/parts
		slice := make([]column, len(cols))
		for i, c := range cols {
			slice[i] = column{name: c.name, t: c.t, vals: c.vals[from:to]}
		}
		spec := specFor(cols, groups, aggs, planner.AggPartial)
		spec.Knobs = knobs
		op, err := New(newSource(mem, slice, bs), spec, envOf(mem, bs))
		if err != nil {
			t.Fatal(err)
		}
		partials = append(partials, op)
	}
	in := &concatSource{schema: partials[0].Schema(), ops: partials}
	op, err := New(in, specFor(cols, groups, aggs, planner.AggFinal), envOf(mem, bs))
	if err != nil {
		t.Fatal(err)
	}
	return sortRows(drain(t, op))
}

// checkAll asserts that Complete and Partial→Final both produce want, for
// every batch size.
func checkAll(t *testing.T, cols []column, groups []int, aggs []refAgg, want []string) {
	t.Helper()
	for _, bs := range batchSizes {
		t.Run(fmt.Sprintf("batch=%d", bs), func(t *testing.T) {
			mem := checkedMem(t)
			if got := runComplete(t, mem, cols, groups, aggs, bs); !slices.Equal(got, want) {
				t.Errorf("complete:\n got %q\nwant %q", got, want)
			}
			if slices.ContainsFunc(aggs, func(a refAgg) bool { return a.distinct }) {
				return
			}
			for _, parts := range []int{1, 3} {
				if got := runSplit(t, mem, cols, groups, aggs, bs, parts, TestingKnobs{}); !slices.Equal(got, want) {
					t.Errorf("partial×%d→final:\n got %q\nwant %q", parts, got, want)
				}
			}
		})
	}
}

func ints(vs ...any) []any { return vs }

// halfCols makes two groups whose averages, 1/32 and -1/32, end in an exact
// half at the fifth decimal.
func halfCols() []column {
	var k, x []any
	for g, v := range []int64{1, -1} {
		for i := 0; i < 32; i++ {
			k = append(k, int64(g+1))
			if i == 0 {
				x = append(x, v)
			} else {
				x = append(x, int64(0))
			}
		}
	}
	return []column{{"k", planner.Int, k}, {"x", planner.Int, x}}
}

func TestSemantics(t *testing.T) {
	i64 := planner.Int
	d2 := planner.Decimal(10, 2)
	tests := []struct {
		name   string
		cols   []column
		groups []int
		aggs   []refAgg
		want   []string
	}{{
		name: "sum of bigint overflows int64 into decimal",
		cols: []column{{"x", i64, ints(int64(math.MaxInt64), int64(math.MaxInt64), int64(2), nil)}},
		aggs: []refAgg{{fn: "sum", args: []int{0}}, {fn: "count", args: []int{0}}, {fn: "count_star"}},
		want: []string{"18446744073709551616 | 3 | 4"},
	}, {
		name: "sum of negative bigints below int64",
		cols: []column{{"x", i64, ints(int64(math.MinInt64), int64(-1), int64(math.MinInt64), int64(5))}},
		aggs: []refAgg{{fn: "sum", args: []int{0}}, {fn: "min", args: []int{0}}, {fn: "max", args: []int{0}}},
		want: []string{"-18446744073709551612 | -9223372036854775808 | 5"},
	}, {
		name: "avg of bigint has scale 4, rounded half away from zero",
		cols: []column{
			{"k", planner.String, ints("a", "a", "b", "b", "b", "c", "c")},
			{"x", i64, ints(int64(1), int64(2), int64(-1), int64(-1), int64(-2), int64(-1), int64(-15))},
		},
		groups: []int{0},
		aggs:   []refAgg{{fn: "avg", args: []int{1}}},
		want:   []string{`"a" | 1.5000`, `"b" | -1.3333`, `"c" | -8.0000`},
	}, {
		name:   "avg rounds an exact half away from zero",
		cols:   halfCols(),
		groups: []int{0},
		aggs:   []refAgg{{fn: "avg", args: []int{1}}},
		want:   []string{"1 | 0.0313", "2 | -0.0313"},
	}, {
		name: "avg of decimal keeps scale+4",
		cols: []column{{"x", d2, ints(dec("1.00", 2), dec("2.00", 2), dec("2.00", 2), nil)}},
		aggs: []refAgg{{fn: "avg", args: []int{0}}, {fn: "sum", args: []int{0}}, {fn: "max", args: []int{0}}},
		want: []string{"1.666667 | 5.00 | 2.00"},
	}, {
		name: "sum, avg, min, max of an all-NULL group are NULL, count is 0",
		cols: []column{
			{"k", i64, ints(int64(1), int64(1), int64(2))},
			{"x", planner.Float, ints(nil, nil, 2.5)},
		},
		groups: []int{0},
		aggs: []refAgg{{fn: "sum", args: []int{1}}, {fn: "avg", args: []int{1}}, {fn: "min", args: []int{1}},
			{fn: "max", args: []int{1}}, {fn: "count", args: []int{1}}, {fn: "count_star"}},
		want: []string{"1 | NULL | NULL | NULL | NULL | 0 | 2", "2 | 2.5 | 2.5 | 2.5 | 2.5 | 1 | 1"},
	}, {
		name: "no group keys over empty input is one row",
		cols: []column{{"x", i64, nil}},
		aggs: []refAgg{{fn: "count_star"}, {fn: "count", args: []int{0}}, {fn: "sum", args: []int{0}},
			{fn: "avg", args: []int{0}}, {fn: "min", args: []int{0}}},
		want: []string{"0 | 0 | NULL | NULL | NULL"},
	}, {
		name:   "group keys over empty input is no row",
		cols:   []column{{"x", i64, nil}},
		groups: []int{0},
		aggs:   []refAgg{{fn: "count_star"}},
		want:   []string{},
	}, {
		name: "string keys are bytes: invalid UTF-8, NUL, empty and NULL are distinct groups",
		cols: []column{
			{"k", planner.String, ints("\xff", "\xfe\x00", "", nil, "\xff", "\xfe", "", nil)},
			{"x", i64, ints(int64(1), int64(2), int64(3), int64(4), int64(5), int64(6), int64(7), int64(8))},
		},
		groups: []int{0},
		aggs:   []refAgg{{fn: "sum", args: []int{1}}, {fn: "min", args: []int{0}}},
		want:   []string{`"" | 10 | ""`, `"\xfe" | 6 | "\xfe"`, `"\xfe\x00" | 2 | "\xfe\x00"`, `"\xff" | 6 | "\xff"`, `NULL | 12 | NULL`},
	}, {
		name: "min and max of strings are byte-wise",
		cols: []column{{"s", planner.String, ints("a", "Z", "\xff", "ab", nil, "a\x00")}},
		aggs: []refAgg{{fn: "min", args: []int{0}}, {fn: "max", args: []int{0}}},
		want: []string{`"Z" | "\xff"`},
	}, {
		name: "composite keys with NULL parts",
		cols: []column{
			{"a", i64, ints(int64(1), nil, nil, int64(1), nil, int64(1), nil)},
			{"b", planner.String, ints(nil, "x", nil, nil, nil, "x", "x")},
			{"c", i64, ints(int64(10), int64(20), int64(30), int64(40), int64(50), int64(60), int64(70))},
		},
		groups: []int{0, 1},
		aggs:   []refAgg{{fn: "sum", args: []int{2}}, {fn: "count_star"}},
		want:   []string{`1 | "x" | 60 | 1`, `1 | NULL | 50 | 2`, `NULL | "x" | 90 | 2`, `NULL | NULL | 80 | 2`},
	}, {
		name: "fixed-width composite keys with NULL parts",
		cols: []column{
			{"a", planner.Date, ints(int64(1), nil, int64(1), int64(-3))},
			{"b", planner.Bool, ints(true, true, nil, true)},
			{"c", d2, ints(dec("1.50", 2), dec("1.50", 2), dec("1.50", 2), nil)},
		},
		groups: []int{0, 1},
		aggs:   []refAgg{{fn: "sum", args: []int{2}}},
		want:   []string{"NULL | true | 1.50", "d-3 | true | NULL", "d1 | NULL | 1.50", "d1 | true | 1.50"},
	}, {
		name: "-0 and 0 are one group",
		cols: []column{
			{"k", planner.Float, ints(0.0, math.Copysign(0, -1), 1.5, nil)},
			{"x", i64, ints(int64(1), int64(2), int64(3), int64(4))},
		},
		groups: []int{0},
		aggs:   []refAgg{{fn: "sum", args: []int{1}}},
		want:   []string{"0 | 3", "1.5 | 3", "NULL | 4"},
	}, {
		name: "sum and avg of strings use the numeric prefix",
		cols: []column{{"s", planner.String, ints("12abc", "abc", " 3.5e1x", "-1e", nil)}},
		aggs: []refAgg{{fn: "sum", args: []int{0}}, {fn: "avg", args: []int{0}}, {fn: "count", args: []int{0}}},
		want: []string{"46 | 11.5 | 4"},
	}, {
		name: "count of several arguments counts rows where all are non-NULL",
		cols: []column{
			{"a", i64, ints(int64(1), nil, int64(3), int64(4))},
			{"b", planner.String, ints("x", "y", nil, "z")},
		},
		aggs: []refAgg{{fn: "count", args: []int{0, 1}}, {fn: "count", args: []int{1}}},
		want: []string{"2 | 3"},
	}, {
		name: "sum of unsigned and booleans is exact",
		cols: []column{
			{"u", planner.Uint, ints(uint64(math.MaxUint64), uint64(math.MaxUint64), nil)},
			{"b", planner.Bool, ints(true, false, true)},
		},
		aggs: []refAgg{{fn: "sum", args: []int{0}}, {fn: "sum", args: []int{1}}, {fn: "min", args: []int{1}},
			{fn: "max", args: []int{0}}, {fn: "avg", args: []int{0}}},
		want: []string{"36893488147419103230 | 2 | false | 18446744073709551615u | 18446744073709551615.0000"},
	}, {
		name:   "aggregates of a NULL literal",
		cols:   []column{{"n", planner.Null, ints(nil, nil)}, {"k", i64, ints(int64(1), int64(2))}},
		groups: []int{1},
		aggs: []refAgg{{fn: "sum", args: []int{0}}, {fn: "min", args: []int{0}}, {fn: "count", args: []int{0}},
			{fn: "avg", args: []int{0}}},
		want: []string{"1 | NULL | NULL | 0 | NULL", "2 | NULL | NULL | 0 | NULL"},
	}, {
		name:   "group by a NULL literal",
		cols:   []column{{"n", planner.Null, ints(nil, nil)}, {"k", i64, ints(int64(1), int64(2))}},
		groups: []int{0},
		aggs:   []refAgg{{fn: "sum", args: []int{1}}},
		want:   []string{"NULL | 3"},
	}, {
		name: "distinct aggregates",
		cols: []column{
			{"k", i64, ints(int64(1), int64(1), int64(1), int64(1), int64(2), int64(2))},
			{"x", i64, ints(int64(5), int64(5), nil, int64(7), int64(5), int64(5))},
			{"s", planner.String, ints("a", "b", "a", "a", nil, "a")},
		},
		groups: []int{0},
		aggs: []refAgg{{fn: "count", distinct: true, args: []int{1}}, {fn: "sum", distinct: true, args: []int{1}},
			{fn: "count", distinct: true, args: []int{1, 2}}, {fn: "avg", distinct: true, args: []int{1}},
			{fn: "sum", args: []int{1}}},
		want: []string{"1 | 2 | 12 | 3 | 6.0000 | 17", "2 | 1 | 5 | 1 | 5.0000 | 10"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if ref := reference(tc.cols, tc.groups, tc.aggs); !slices.Equal(ref, tc.want) && len(tc.want) > 0 {
				t.Fatalf("the reference disagrees with the test:\n ref %q\nwant %q", ref, tc.want)
			}
			checkAll(t, tc.cols, tc.groups, tc.aggs, tc.want)
		})
	}
}

// TestEveryTypeRandom runs every aggregate over every type, with NULLs,
// under several key shapes, against the naive reference.
func TestEveryTypeRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 1500
	gen := func(t planner.Type, distinct int) []any {
		out := make([]any, n)
		for i := range out {
			if rng.IntN(7) == 0 {
				continue
			}
			r := rng.IntN(distinct)
			switch t.Kind {
			case planner.KindInt, planner.KindDate, planner.KindDatetime:
				out[i] = int64(r - distinct/2)
			case planner.KindUint:
				out[i] = uint64(r) * 1e15
			case planner.KindFloat:
				out[i] = float64(r-distinct/2) / 4
			case planner.KindString:
				out[i] = strings.Repeat("\xfez", r%3) + fmt.Sprint(r)
			case planner.KindBool:
				out[i] = r%2 == 0
			case planner.KindDecimal:
				out[i] = dec(fmt.Sprintf("%d.%02d", r-distinct/2, r%100), int32(t.Scale))
			}
		}
		return out
	}
	valueTypes := []planner.Type{planner.Int, planner.Uint, planner.Float, planner.Decimal(12, 2),
		planner.String, planner.Bool, planner.Date, planner.Datetime}
	shapes := []struct {
		name string
		keys []planner.Type
	}{
		{"none", nil},
		{"int", []planner.Type{planner.Int}},
		{"uint", []planner.Type{planner.Uint}},
		{"date", []planner.Type{planner.Date}},
		{"datetime", []planner.Type{planner.Datetime}},
		{"float", []planner.Type{planner.Float}},
		{"bool", []planner.Type{planner.Bool}},
		{"decimal", []planner.Type{planner.Decimal(5, 1)}},
		{"string", []planner.Type{planner.String}},
		{"fixed composite", []planner.Type{planner.Date, planner.Bool, planner.Decimal(5, 1)}},
		{"var composite", []planner.Type{planner.String, planner.Int}},
	}
	for _, vt := range valueTypes {
		for _, sh := range shapes {
			t.Run(vt.String()+"/"+sh.name, func(t *testing.T) {
				var cols []column
				var groups []int
				for i, kt := range sh.keys {
					cols = append(cols, column{fmt.Sprint("k", i), kt, gen(kt, 13)})
					groups = append(groups, i)
				}
				x := len(cols)
				cols = append(cols, column{"x", vt, gen(vt, 50)})
				aggs := []refAgg{{fn: "count_star"}, {fn: "count", args: []int{x}},
					{fn: "min", args: []int{x}}, {fn: "max", args: []int{x}}, {fn: "any_value", args: []int{x}}}
				if _, err := planner.Aggregates["sum"].Result([]planner.Type{vt}); err == nil &&
					vt.Kind != planner.KindDate && vt.Kind != planner.KindDatetime {
					aggs = append(aggs, refAgg{fn: "sum", args: []int{x}}, refAgg{fn: "avg", args: []int{x}})
				}
				want := reference(cols, groups, aggs)
				for _, bs := range []int{7, 1024} {
					mem := checkedMem(t)
					if got := runComplete(t, mem, cols, groups, aggs, bs); !slices.Equal(got, want) {
						t.Fatalf("complete, batch %d:\n got %q\nwant %q", bs, got[:min(5, len(got))], want[:min(5, len(want))])
					}
					if got := runSplit(t, mem, cols, groups, aggs, bs, 4, TestingKnobs{}); !slices.Equal(got, want) {
						t.Fatalf("partial→final, batch %d:\n got %q\nwant %q", bs, got[:min(5, len(got))], want[:min(5, len(want))])
					}
					if got := runSplit(t, mem, cols, groups, aggs, bs, 4, TestingKnobs{PassThroughCheckRows: 10}); !slices.Equal(got, want) {
						t.Fatalf("partial with pass-through→final, batch %d:\n got %q\nwant %q", bs, got[:min(5, len(got))], want[:min(5, len(want))])
					}
					// DISTINCT over the same data.
					daggs := []refAgg{{fn: "count", distinct: true, args: []int{x}}, {fn: "min", distinct: true, args: []int{x}}}
					if vt.Kind == planner.KindInt || vt.Kind == planner.KindDecimal {
						daggs = append(daggs, refAgg{fn: "sum", distinct: true, args: []int{x}})
					}
					if got, want := runComplete(t, mem, cols, groups, daggs, bs), reference(cols, groups, daggs); !slices.Equal(got, want) {
						t.Fatalf("distinct, batch %d:\n got %q\nwant %q", bs, got[:min(5, len(got))], want[:min(5, len(want))])
					}
				}
			})
		}
	}
}

// TestManyGroups reaches tables big enough to grow many times and to take
// the prefetching probe paths, with NULL keys among them.
func TestManyGroups(t *testing.T) {
	const n = 16000
	k := make([]any, n)
	s := make([]any, n)
	x := make([]any, n)
	for i := range k {
		k[i] = int64(i * 7 % 15013)
		if i%97 == 0 {
			k[i] = nil
		}
		s[i] = fmt.Sprintf("key-%d", i%12011)
		if i%89 == 0 {
			s[i] = nil
		}
		x[i] = int64(i)
	}
	cols := []column{{"k", planner.Int, k}, {"s", planner.String, s}, {"x", planner.Int, x}}
	aggs := []refAgg{{fn: "sum", args: []int{2}}, {fn: "count_star"}, {fn: "max", args: []int{1}}}
	for _, groups := range [][]int{{0}, {1}, {0, 1}} {
		want := reference(cols, groups, aggs)
		for _, bs := range []int{7, 1024} {
			mem := checkedMem(t)
			if got := runComplete(t, mem, cols, groups, aggs, bs); !slices.Equal(got, want) {
				t.Fatalf("groups %v batch %d: %d rows, want %d", groups, bs, len(got), len(want))
			}
			if got := runSplit(t, mem, cols, groups, aggs, bs, 3, TestingKnobs{}); !slices.Equal(got, want) {
				t.Fatalf("groups %v batch %d split: %d rows, want %d", groups, bs, len(got), len(want))
			}
		}
	}
}

func TestMinMaxStringCompaction(t *testing.T) {
	// Ever longer maxima leave dead space behind in the arena until it is
	// compacted.
	const n = 2000
	k := make([]any, n)
	x := make([]any, n)
	for i := range k {
		k[i] = int64(i % 3)
		x[i] = strings.Repeat("ab", i/2) + fmt.Sprint(i%10)
	}
	cols := []column{{"k", planner.Int, k}, {"x", planner.String, x}}
	aggs := []refAgg{{fn: "max", args: []int{1}}, {fn: "min", args: []int{1}}}
	want := reference(cols, []int{0}, aggs)
	mem := checkedMem(t)
	if got := runComplete(t, mem, cols, []int{0}, aggs, 1024); !slices.Equal(got, want) {
		t.Fatalf("got %d rows different from the reference", len(got))
	}
}

func TestPassThrough(t *testing.T) {
	const n = 500
	k := make([]any, n)
	x := make([]any, n)
	for i := range k {
		k[i] = fmt.Sprint(i % 400) // 400 groups in 500 rows: no reduction worth having
		if i%9 != 0 {
			x[i] = int64(i)
		}
	}
	cols := []column{{"k", planner.String, k}, {"x", planner.Int, x}}
	aggs := []refAgg{{fn: "sum", args: []int{1}}, {fn: "avg", args: []int{1}}, {fn: "count", args: []int{1}},
		{fn: "count_star"}, {fn: "min", args: []int{1}}}
	want := reference(cols, []int{0}, aggs)
	for _, bs := range []int{7, 64} {
		mem := checkedMem(t)
		// Partial alone: with pass-through on, rows after the check come out
		// one by one, so the output is longer than the number of groups.
		countRows := func(knobs TestingKnobs) int {
			spec := specFor(cols, []int{0}, aggs, planner.AggPartial)
			spec.Knobs = knobs
			op, err := New(newSource(mem, cols, bs), spec, envOf(mem, bs))
			if err != nil {
				t.Fatal(err)
			}
			return len(drain(t, op))
		}
		if got := countRows(TestingKnobs{PassThroughCheckRows: 100}); got <= 400 {
			t.Errorf("batch %d: pass-through emitted %d rows, want more than the 400 groups", bs, got)
		}
		if got := countRows(TestingKnobs{PassThroughCheckRows: 100, DisablePassThrough: true}); got != 400 {
			t.Errorf("batch %d: disabled pass-through emitted %d rows, want 400", bs, got)
		}
		if got := runSplit(t, mem, cols, []int{0}, aggs, bs, 2, TestingKnobs{PassThroughCheckRows: 100}); !slices.Equal(got, want) {
			t.Errorf("batch %d: partial with pass-through → final:\n got %q\nwant %q", bs, got[:5], want[:5])
		}
	}
}

func TestErrors(t *testing.T) {
	mem := checkedMem(t)
	cols := []column{{"x", planner.Int, ints(int64(1), int64(2))}, {"d", planner.Decimal(38, 0), ints(dec("99999999999999999999999999999999999999", 0), dec("1", 0))}}
	intArg := planner.Col(0, "x", planner.Int)
	tests := []struct {
		name string
		spec Spec
		want string
	}{
		{"distinct in partial", Spec{Mode: planner.AggPartial, Aggs: []Agg{{Call: call("count", true, "c", intArg), Args: []int{0}}}}, "not supported: DISTINCT"},
		{"distinct in final", Spec{Mode: planner.AggFinal, Aggs: []Agg{{Call: call("count", true, "c", intArg), States: []int{0}}}}, "not supported: DISTINCT"},
		{"unknown function", Spec{Mode: planner.AggComplete, Aggs: []Agg{{Call: planner.AggCall{Func: "median", Args: []*planner.Expr{intArg}}, Args: []int{0}}}}, `not supported: aggregate "median"`},
		{"argument type mismatch", Spec{Mode: planner.AggComplete, Aggs: []Agg{{Call: call("sum", false, "s", planner.Col(0, "x", planner.Float)), Args: []int{0}}}}, "internal: input column 0 is int64, want float64"},
		{"wrong result type", Spec{Mode: planner.AggComplete, Aggs: []Agg{{Call: planner.AggCall{Func: "sum", Args: []*planner.Expr{intArg}, Type: planner.Int}, Args: []int{0}}}}, "internal: result type BIGINT"},
		{"group column out of range", Spec{Mode: planner.AggComplete, Groups: []int{5}}, "out of range"},
		{"unknown mode", Spec{Mode: "sideways"}, "unknown mode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := newSource(mem, cols, 10)
			defer src.Close()
			_, err := New(src, tc.spec, envOf(mem, 10))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	t.Run("decimal sum overflow", func(t *testing.T) {
		op, err := New(newSource(mem, cols, 1), specFor(cols, nil, []refAgg{{fn: "sum", args: []int{1}}}, planner.AggComplete), envOf(mem, 1))
		if err != nil {
			t.Fatal(err)
		}
		defer op.Close()
		_, err = op.Next(context.Background())
		if !errors.Is(err, ErrOutOfRange) {
			t.Fatalf("err = %v, want ErrOutOfRange", err)
		}
		if _, err2 := op.Next(context.Background()); err2 == nil {
			t.Fatal("Next after an error succeeded")
		}
	})
}

// TestKernelsCoverPlanner keeps the kernel table and planner.Aggregates in
// step.
func TestKernelsCoverPlanner(t *testing.T) {
	for name := range planner.Aggregates {
		if _, ok := kernels[name]; !ok {
			t.Errorf("planner declares %q but agg has no kernel", name)
		}
	}
	for name := range kernels {
		if _, ok := planner.Aggregates[name]; !ok {
			t.Errorf("kernel %q is not declared by the planner", name)
		}
	}
}

func TestCancelled(t *testing.T) {
	mem := checkedMem(t)
	cols := []column{{"x", planner.Int, ints(int64(1), int64(2))}}
	op, err := New(newSource(mem, cols, 1), specFor(cols, []int{0}, []refAgg{{fn: "count_star"}}, planner.AggComplete), envOf(mem, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer op.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := op.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestCloseIsIdempotentAndClosesInput(t *testing.T) {
	mem := checkedMem(t)
	cols := []column{{"x", planner.Int, ints(int64(1), int64(2))}}
	src := newSource(mem, cols, 1)
	op, err := New(src, specFor(cols, []int{0}, []refAgg{{fn: "count_star"}}, planner.AggComplete), envOf(mem, 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := op.Close(); err != nil {
		t.Fatal(err)
	}
	if err := op.Close(); err != nil {
		t.Fatal(err)
	}
	if src.closed == 0 {
		t.Fatal("input not closed")
	}
}

func TestParseNumberPrefix(t *testing.T) {
	for in, want := range map[string]float64{
		"12abc": 12, "abc": 0, " 3.5e1x": 35, "-1e": -1, "+.5": 0.5, ".": 0, "1e+": 1, "-": 0, "": 0, "\t7\n": 7, "2E-1": 0.2,
	} {
		if got := parseNumberPrefix([]byte(in)); got != want {
			t.Errorf("parseNumberPrefix(%q) = %v, want %v", in, got, want)
		}
	}
}

// TestCompositeStringLengths groups by strings around the length where the
// packed key switches from a one-byte to a five-byte length, next to an
// integer key, with NULL and empty strings (distinct groups).
func TestCompositeStringLengths(t *testing.T) {
	var s, k, x []any
	for i, l := range []int{0, 1, 254, 255, 256, 1000, 70000, -1} {
		for j := range 3 {
			var v any
			if l >= 0 {
				v = strings.Repeat(string(rune('a'+i)), l)
			}
			s = append(s, v)
			k = append(k, int64(j%2))
			x = append(x, int64(i*10+j))
		}
	}
	cols := []column{{"s", planner.String, s}, {"k", planner.Int, k}, {"x", planner.Int, x}}
	aggs := []refAgg{{fn: "sum", args: []int{2}}, {fn: "count_star"}}
	for _, groups := range [][]int{{0, 1}, {1, 0}} {
		want := reference(cols, groups, aggs)
		if len(want) != 16 {
			t.Fatalf("reference has %d groups, want 16", len(want))
		}
		for _, bs := range []int{1, 2, 3, 7, 1024} {
			mem := checkedMem(t)
			if got := runComplete(t, mem, cols, groups, aggs, bs); !slices.Equal(got, want) {
				t.Fatalf("groups %v batch %d:\n got %q\nwant %q", groups, bs, got, want)
			}
			if got := runSplit(t, mem, cols, groups, aggs, bs, 3, TestingKnobs{}); !slices.Equal(got, want) {
				t.Fatalf("groups %v batch %d split:\n got %q\nwant %q", groups, bs, got, want)
			}
		}
	}
}
