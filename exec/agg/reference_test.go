package agg

import (
	"bytes"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/quernsql/quern/planner"
)

// This file is a deliberately naive aggregation used as the oracle of the
// randomized tests: maps of formatted keys, math/big arithmetic.

// fmtVal formats a Go test value as cell formats the Arrow value.
func fmtVal(t planner.Type, v any) string {
	if v == nil {
		return "NULL"
	}
	switch t.Kind {
	case planner.KindInt:
		return strconv.FormatInt(v.(int64), 10)
	case planner.KindUint:
		return strconv.FormatUint(v.(uint64), 10) + "u"
	case planner.KindFloat:
		return fmtFloat(v.(float64))
	case planner.KindString:
		return strconv.Quote(v.(string))
	case planner.KindBool:
		return strconv.FormatBool(v.(bool))
	case planner.KindDecimal:
		return v.(decimal128.Num).ToString(int32(t.Scale))
	case planner.KindDate:
		return "d" + strconv.FormatInt(v.(int64), 10)
	case planner.KindDatetime:
		return "t" + strconv.FormatInt(v.(int64), 10)
	}
	return "?"
}

type refAgg struct {
	fn       string
	distinct bool
	args     []int
}

// reference computes the expected output rows of a Complete aggregation.
func reference(cols []column, groups []int, aggs []refAgg) []string {
	n := len(cols[0].vals)
	type group struct {
		key  []string
		rows []int
	}
	var order []*group
	byKey := map[string]*group{}
	for r := 0; r < n; r++ {
		key := make([]string, len(groups))
		for i, g := range groups {
			key[i] = fmtVal(cols[g].t, cols[g].vals[r])
		}
		k := strings.Join(key, "\x00")
		gr := byKey[k]
		if gr == nil {
			gr = &group{key: key}
			byKey[k] = gr
			order = append(order, gr)
		}
		gr.rows = append(gr.rows, r)
	}
	if len(groups) == 0 && len(order) == 0 {
		order = append(order, &group{})
	}
	var out [][]string
	for _, gr := range order {
		row := append([]string(nil), gr.key...)
		for _, a := range aggs {
			row = append(row, refOne(cols, a, gr.rows))
		}
		out = append(out, row)
	}
	return sortRows(out)
}

func refOne(cols []column, a refAgg, rows []int) string {
	if a.fn == "count_star" {
		return strconv.Itoa(len(rows))
	}
	// Rows with a NULL argument never count; DISTINCT keeps first copies.
	var live []int
	seen := map[string]bool{}
	for _, r := range rows {
		var key []string
		ok := true
		for _, c := range a.args {
			v := cols[c].vals[r]
			if v == nil {
				ok = false
				break
			}
			key = append(key, fmtVal(cols[c].t, v))
		}
		if !ok {
			continue
		}
		k := strings.Join(key, "\x00")
		if a.distinct && seen[k] {
			continue
		}
		seen[k] = true
		live = append(live, r)
	}
	if a.fn == "count" {
		return strconv.Itoa(len(live))
	}
	col := cols[a.args[0]]
	t := col.t
	if len(live) == 0 {
		return "NULL"
	}
	switch a.fn {
	case "min", "max", "any_value":
		best := col.vals[live[0]]
		for _, r := range live[1:] {
			v := col.vals[r]
			c := compareVals(t, v, best)
			if a.fn != "max" && c < 0 || a.fn == "max" && c > 0 {
				best = v
			}
		}
		return fmtVal(t, best)
	case "sum", "avg":
		if t.Kind == planner.KindFloat || t.Kind == planner.KindString {
			s := 0.0
			for _, r := range live {
				if t.Kind == planner.KindFloat {
					s += col.vals[r].(float64)
				} else {
					s += parseNumberPrefix([]byte(col.vals[r].(string)))
				}
			}
			if a.fn == "avg" {
				s /= float64(len(live))
			}
			return fmtFloat(s)
		}
		sum := new(big.Int)
		scale := 0
		for _, r := range live {
			switch v := col.vals[r].(type) {
			case int64:
				sum.Add(sum, big.NewInt(v))
			case uint64:
				sum.Add(sum, new(big.Int).SetUint64(v))
			case bool:
				if v {
					sum.Add(sum, big.NewInt(1))
				}
			case decimal128.Num:
				sum.Add(sum, v.BigInt())
				scale = t.Scale
			}
		}
		if a.fn == "sum" {
			return decimal128.FromBigInt(sum).ToString(int32(scale))
		}
		rs := min(scale+4, planner.MaxDecimalPrecision)
		num := new(big.Int).Mul(sum, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(rs-scale)), nil))
		cnt := big.NewInt(int64(len(live)))
		q, m := new(big.Int).QuoRem(num, cnt, new(big.Int))
		if new(big.Int).Mul(new(big.Int).Abs(m), big.NewInt(2)).Cmp(cnt) >= 0 {
			q.Add(q, big.NewInt(int64(num.Sign())))
		}
		return decimal128.FromBigInt(q).ToString(int32(rs))
	}
	panic("reference: " + a.fn)
}

func compareVals(t planner.Type, a, b any) int {
	switch t.Kind {
	case planner.KindInt, planner.KindDate, planner.KindDatetime:
		return cmpOrd(a.(int64), b.(int64))
	case planner.KindUint:
		return cmpOrd(a.(uint64), b.(uint64))
	case planner.KindFloat:
		return cmpOrd(a.(float64), b.(float64))
	case planner.KindString:
		return bytes.Compare([]byte(a.(string)), []byte(b.(string)))
	case planner.KindBool:
		x, y := 0, 0
		if a.(bool) {
			x = 1
		}
		if b.(bool) {
			y = 1
		}
		return x - y
	case planner.KindDecimal:
		return a.(decimal128.Num).Cmp(b.(decimal128.Num))
	}
	panic("compareVals")
}

func cmpOrd[T int64 | uint64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
