package planner

import (
	"fmt"
	"sort"
)

// AggFunc declares an aggregate and how it splits across map and reduce
// (DESIGN.md §3): the map side updates State from raw arguments (the
// combiner), the reduce side merges State columns coming from every map task
// and finalizes them into Result. exec implements the kernels for each name;
// nothing else switches on aggregate names.
type AggFunc struct {
	Name string
	// Result is the type of the finished aggregate for the given argument types.
	Result func(args []Type) (Type, error)
	// State lists the partial-state columns for the given argument types.
	State func(args []Type) []Type
	// Arity is the number of arguments (-1: any number >= 1).
	Arity int
}

// Aggregates is the table of every aggregate quern knows.
var Aggregates = map[string]*AggFunc{
	"count_star": {Name: "count_star", Arity: 0,
		Result: func([]Type) (Type, error) { return Int, nil },
		State:  func([]Type) []Type { return []Type{Int} }},
	"count": {Name: "count", Arity: -1,
		Result: func([]Type) (Type, error) { return Int, nil },
		State:  func([]Type) []Type { return []Type{Int} }},
	"sum": {Name: "sum", Arity: 1, Result: sumType,
		State: func(a []Type) []Type { t, _ := sumType(a); return []Type{t} }},
	"avg": {Name: "avg", Arity: 1, Result: avgType,
		State: func(a []Type) []Type { t, _ := sumType(a); return []Type{t, Int} }},
	"min": {Name: "min", Arity: 1, Result: sameType,
		State: func(a []Type) []Type { return []Type{a[0]} }},
	"max": {Name: "max", Arity: 1, Result: sameType,
		State: func(a []Type) []Type { return []Type{a[0]} }},
	// any_value keeps some value of the group; the binder also uses it for
	// columns that are neither grouped nor aggregated when sql_mode lacks
	// ONLY_FULL_GROUP_BY, as MySQL does.
	"any_value": {Name: "any_value", Arity: 1, Result: sameType,
		State: func(a []Type) []Type { return []Type{a[0]} }},
}

// AggNames lists the known aggregate names, sorted.
func AggNames() []string {
	var out []string
	for n := range Aggregates {
		if n != "count_star" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func sameType(a []Type) (Type, error) {
	if a[0].Kind == KindNull {
		return Int, nil
	}
	return a[0], nil
}

// sumType follows MySQL: SUM of an exact number is DECIMAL, of an
// approximate one DOUBLE; strings and dates are summed as DOUBLE.
func sumType(a []Type) (Type, error) {
	switch t := a[0]; t.Kind {
	case KindInt, KindUint, KindBool, KindNull:
		return Decimal(MaxDecimalPrecision, 0), nil
	case KindDecimal:
		return Decimal(MaxDecimalPrecision, t.Scale), nil
	case KindFloat, KindString:
		return Float, nil
	default:
		return Type{}, fmt.Errorf("not supported: SUM/AVG of %s", t)
	}
}

// avgType follows MySQL: AVG of an exact number is DECIMAL with 4 more
// digits of scale (div_precision_increment), of an approximate one DOUBLE.
func avgType(a []Type) (Type, error) {
	t, err := sumType(a)
	if err != nil || t.Kind != KindDecimal {
		return t, err
	}
	return Decimal(MaxDecimalPrecision, t.Scale+4), nil
}

// AggCall is one aggregate in an Aggregate node.
type AggCall struct {
	Func     string  `json:"func"`
	Args     []*Expr `json:"args,omitempty"`
	Distinct bool    `json:"distinct,omitempty"`
	Type     Type    `json:"type"` // result type
	Name     string  `json:"name"` // output column name
}

// StateTypes returns the partial-state column types of the call.
func (a AggCall) StateTypes() []Type {
	return Aggregates[a.Func].State(a.ArgTypes())
}

// ArgTypes returns the argument types.
func (a AggCall) ArgTypes() []Type {
	ts := make([]Type, len(a.Args))
	for i, e := range a.Args {
		ts[i] = e.Type
	}
	return ts
}

// String prints the call for EXPLAIN.
func (a AggCall) String() string {
	if a.Func == "count_star" {
		return "COUNT(*)"
	}
	s := ""
	if a.Distinct {
		s = "DISTINCT "
	}
	for i, e := range a.Args {
		if i > 0 {
			s += ", "
		}
		s += e.String()
	}
	return fmt.Sprintf("%s(%s)", upper(a.Func), s)
}
