package agg

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/quernsql/quern/planner"
)

// TestStatsAggregates covers the variance family, BIT_AND/OR/XOR and
// GROUP_CONCAT in Complete mode and split into Partial→Final.
func TestStatsAggregates(t *testing.T) {
	i64 := planner.Int
	sep := func(s string, n int) column {
		vals := make([]any, n)
		for i := range vals {
			vals[i] = s
		}
		return column{"sep", planner.String, vals}
	}
	tests := []struct {
		name   string
		cols   []column
		groups []int
		aggs   []refAgg
		want   []string
	}{{
		name: "variance family",
		cols: []column{
			{"k", i64, ints(int64(1), int64(1), int64(1), int64(1), int64(1), int64(1), int64(1), int64(1), int64(2), int64(3), int64(3))},
			{"x", i64, ints(int64(2), int64(4), int64(4), int64(4), int64(5), int64(5), int64(7), int64(9), int64(3), nil, nil)},
		},
		groups: []int{0},
		aggs: []refAgg{{fn: "var_pop", args: []int{1}}, {fn: "stddev_pop", args: []int{1}},
			{fn: "var_samp", args: []int{1}}, {fn: "stddev_samp", args: []int{1}}},
		// One value: population 0, sample NULL; no value: NULL.
		want: []string{"1 | 4 | 2 | 4.571428571428571 | 2.138089935299395", "2 | 0 | 0 | NULL | NULL", "3 | NULL | NULL | NULL | NULL"},
	}, {
		name: "variance of decimals, doubles and strings",
		cols: []column{
			{"d", planner.Decimal(5, 2), ints(dec("1.50", 2), dec("2.50", 2), nil)},
			{"f", planner.Float, ints(1.5, 2.5, nil)},
			{"s", planner.String, ints("1.5", "2.5x", nil)},
		},
		aggs: []refAgg{{fn: "var_pop", args: []int{0}}, {fn: "var_pop", args: []int{1}}, {fn: "var_pop", args: []int{2}}},
		want: []string{"0.25 | 0.25 | 0.25"},
	}, {
		name: "bit aggregates",
		cols: []column{
			{"k", i64, ints(int64(1), int64(1), int64(1), int64(2), int64(3))},
			{"x", i64, ints(int64(6), int64(3), nil, int64(-1), nil)},
		},
		groups: []int{0},
		aggs:   []refAgg{{fn: "bit_and", args: []int{1}}, {fn: "bit_or", args: []int{1}}, {fn: "bit_xor", args: []int{1}}},
		want: []string{"1 | 2u | 7u | 5u", "2 | 18446744073709551615u | 18446744073709551615u | 18446744073709551615u",
			"3 | 18446744073709551615u | 0u | 0u"},
	}, {
		name: "bit aggregates of other types",
		cols: []column{
			{"u", planner.Uint, ints(uint64(math.MaxUint64), uint64(12))},
			{"f", planner.Float, ints(2.5, 3.5)},
			{"d", planner.Decimal(5, 1), ints(dec("1.5", 1), dec("2.4", 1))},
			{"b", planner.Bool, ints(true, false)},
		},
		aggs: []refAgg{{fn: "bit_and", args: []int{0}}, {fn: "bit_or", args: []int{1}}, {fn: "bit_xor", args: []int{2}}, {fn: "bit_or", args: []int{3}}},
		want: []string{"12u | 6u | 0u | 1u"},
	}, {
		name: "group_concat joins values in byte order with the separator",
		cols: []column{
			{"k", i64, ints(int64(1), int64(1), int64(1), int64(2), int64(2), int64(3))},
			{"s", planner.String, ints("b", "a", "b", nil, "", nil)},
			{"x", i64, ints(int64(10), int64(9), int64(1), int64(5), int64(6), int64(7))},
			sep("; ", 6),
		},
		groups: []int{0},
		aggs:   []refAgg{{fn: "group_concat", args: []int{1, 3}}, {fn: "group_concat", args: []int{2, 1, 3}}},
		want:   []string{`1 | "a; b; b" | "10b; 1b; 9a"`, `2 | "" | "6"`, `3 | NULL | NULL`},
	}, {
		name: "group_concat of other types",
		cols: []column{
			{"d", planner.Decimal(5, 2), ints(dec("1.50", 2), dec("-0.25", 2))},
			{"f", planner.Float, ints(0.5, 1e20)},
			{"b", planner.Bool, ints(true, false)},
			{"t", planner.Date, ints(int64(0), int64(1))},
			sep(",", 2),
		},
		aggs: []refAgg{{fn: "group_concat", args: []int{0, 4}}, {fn: "group_concat", args: []int{1, 4}},
			{fn: "group_concat", args: []int{2, 4}}, {fn: "group_concat", args: []int{3, 4}}},
		want: []string{`"-0.25,1.50" | "0.5,1e20" | "0,1" | "1970-01-01,1970-01-02"`},
	}, {
		name: "group_concat stops at group_concat_max_len",
		cols: func() []column {
			var s []any
			for i := 0; i < 400; i++ {
				s = append(s, "é") // 2 bytes, 3 with the separator: 1199 bytes in all
			}
			return []column{{"s", planner.String, s}, sep(",", 400)}
		}(),
		aggs: []refAgg{{fn: "group_concat", args: []int{0, 1}}},
		// 341 "é," is 1023 bytes; byte 1024 would split the next "é".
		want: []string{strconv.Quote(strings.Repeat("é,", 341))},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkAll(t, tc.cols, tc.groups, tc.aggs, tc.want) })
	}
}

// TestGroupConcatOrderBy covers GROUP_CONCAT(… ORDER BY …): keys of every
// type, both directions, NULL keys first ascending, ties by text.
func TestGroupConcatOrderBy(t *testing.T) {
	i64 := planner.Int
	cols := []column{
		{"k", i64, ints(int64(1), int64(1), int64(1), int64(1), int64(2), int64(2))},
		{"s", planner.String, ints("a", "b", "c", "d", "x", "y")},
		{"n", i64, ints(int64(2), int64(-5), nil, int64(2), int64(1), int64(1))},
		{"f", planner.Float, ints(-0.5, 2.5, 1.0, math.Copysign(0, -1), 3.0, 3.0)},
		{"t", planner.String, ints("b\x00", "b", "", "a", "q", "p")},
		{"d", planner.Decimal(5, 2), ints(dec("-1.00", 2), dec("1.00", 2), dec("0.50", 2), nil, dec("2.00", 2), dec("1.00", 2))},
		{"sep", planner.String, ints(",", ",", ",", ",", ",", ",")},
	}
	for _, tc := range []struct {
		name string
		keys []int
		desc []bool
		want []string
	}{
		{"int asc, NULL first, ties by text", []int{2}, []bool{false}, []string{`1 | "c,b,a,d"`, `2 | "x,y"`}},
		{"int desc, NULL last", []int{2}, []bool{true}, []string{`1 | "a,d,b,c"`, `2 | "x,y"`}},
		{"double asc, -0 is 0", []int{3}, []bool{false}, []string{`1 | "a,d,c,b"`, `2 | "x,y"`}},
		{"string asc, prefix first", []int{4}, []bool{false}, []string{`1 | "c,d,b,a"`, `2 | "y,x"`}},
		{"string desc", []int{4}, []bool{true}, []string{`1 | "a,b,d,c"`, `2 | "x,y"`}},
		{"decimal desc then int asc", []int{5, 2}, []bool{true, false}, []string{`1 | "b,c,a,d"`, `2 | "x,y"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			argCols := append(append([]int{1}, tc.keys...), 6)
			build := func(mode planner.AggMode) Spec {
				args := make([]*planner.Expr, len(argCols))
				for j, c := range argCols {
					args[j] = planner.Col(c, cols[c].name, cols[c].t)
				}
				c := call("group_concat", false, "gc", args...)
				c.OrderDesc = tc.desc
				s := Spec{Groups: []int{0}, Mode: mode, Aggs: []Agg{{Call: c, Args: argCols}}}
				if mode == planner.AggFinal {
					s.Aggs[0].Args, s.Aggs[0].States = nil, []int{1, 2}
				}
				return s
			}
			for _, bs := range batchSizes {
				mem := checkedMem(t)
				op, err := New(newSource(mem, cols, bs), build(planner.AggComplete), envOf(mem, bs))
				if err != nil {
					t.Fatal(err)
				}
				if got := sortRows(drain(t, op)); !slices.Equal(got, tc.want) {
					t.Errorf("batch %d complete: got %q, want %q", bs, got, tc.want)
				}
				part, err := New(newSource(mem, cols, bs), build(planner.AggPartial), envOf(mem, bs))
				if err != nil {
					t.Fatal(err)
				}
				fin, err := New(part, build(planner.AggFinal), envOf(mem, bs))
				if err != nil {
					t.Fatal(err)
				}
				if got := sortRows(drain(t, fin)); !slices.Equal(got, tc.want) {
					t.Errorf("batch %d partial→final: got %q, want %q", bs, got, tc.want)
				}
			}
		})
	}
}
