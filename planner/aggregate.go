package planner

import (
	"fmt"
	"slices"
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
	// Separator marks an aggregate whose last argument is a separator
	// string constant (GROUP_CONCAT); it prints as SEPARATOR.
	Separator bool
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
	// The variance family keeps Welford's running {count, mean, sum of
	// squared deviations}; partial states merge with Chan's formula.
	// STD and STDDEV are STDDEV_POP, VARIANCE is VAR_POP (the parser maps
	// the names).
	"var_pop":     {Name: "var_pop", Arity: 1, Result: varianceType, State: varianceState},
	"var_samp":    {Name: "var_samp", Arity: 1, Result: varianceType, State: varianceState},
	"stddev_pop":  {Name: "stddev_pop", Arity: 1, Result: varianceType, State: varianceState},
	"stddev_samp": {Name: "stddev_samp", Arity: 1, Result: varianceType, State: varianceState},
	// BIT_AND/OR/XOR fold 64-bit unsigned values; the state is the value
	// so far, starting from all ones (AND) or zero, so an empty group gives
	// 18446744073709551615 or 0, never NULL.
	"bit_and": {Name: "bit_and", Arity: 1, Result: bitType, State: bitState},
	"bit_or":  {Name: "bit_or", Arity: 1, Result: bitType, State: bitState},
	"bit_xor": {Name: "bit_xor", Arity: 1, Result: bitType, State: bitState},
	// GROUP_CONCAT(x, …, [order keys, …,] separator): the binder passes
	// the ORDER BY keys after the values (AggCall.OrderDesc says how many
	// and their directions) and the separator (a string constant) last. The
	// state is the group's entries (each an order-preserving encoding of
	// its keys and its text, length-prefixed) and the separator; the result
	// joins the texts sorted by key, then byte-wise (MySQL leaves the order
	// of ties, and of everything without ORDER BY, unspecified; a fixed one
	// makes every pool configuration agree), cut at group_concat_max_len
	// (1024 bytes) as MySQL's default does.
	"group_concat": {Name: "group_concat", Arity: -1, Result: groupConcatType, Separator: true,
		State: func([]Type) []Type { return []Type{String, String} }},
}

// GroupConcatMaxLen is MySQL's default group_concat_max_len: the longest
// GROUP_CONCAT result, in bytes.
const GroupConcatMaxLen = 1024

func varianceType(a []Type) (Type, error) {
	switch a[0].Kind {
	case KindInt, KindUint, KindBool, KindDecimal, KindFloat, KindString, KindNull:
		return Float, nil
	}
	return Type{}, fmt.Errorf("not supported: STDDEV/VARIANCE of %s", a[0])
}

func varianceState([]Type) []Type { return []Type{Int, Float, Float} }

func bitType(a []Type) (Type, error) {
	switch a[0].Kind {
	case KindInt, KindUint, KindBool, KindDecimal, KindFloat, KindString, KindNull:
		return Uint, nil
	}
	return Type{}, fmt.Errorf("not supported: BIT_AND/BIT_OR/BIT_XOR of %s", a[0])
}

func bitState([]Type) []Type { return []Type{Uint} }

func groupConcatType(a []Type) (Type, error) {
	if len(a) < 2 || a[len(a)-1].Kind != KindString {
		return Type{}, fmt.Errorf("internal: GROUP_CONCAT needs its values and a separator string, got %v", a)
	}
	return String, nil
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
func avgType(a []Type) (Type, error) { return AvgType(a, DivPrecisionIncrement) }

// AvgType is AVG's result type for a session whose div_precision_increment
// is inc: an exact argument's scale plus inc, capped at MaxDecimalScale as
// MySQL caps it (never below the argument's own scale).
func AvgType(a []Type, inc int) (Type, error) {
	t, err := sumType(a)
	if err != nil || t.Kind != KindDecimal {
		return t, err
	}
	return Decimal(MaxDecimalPrecision, max(t.Scale, min(t.Scale+inc, MaxDecimalScale))), nil
}

// AggCall is one aggregate in an Aggregate node.
type AggCall struct {
	Func     string  `json:"func"`
	Args     []*Expr `json:"args,omitempty"`
	Distinct bool    `json:"distinct,omitempty"`
	// OrderDesc is GROUP_CONCAT's ORDER BY: the last len(OrderDesc)
	// arguments before the separator are sort keys, OrderDesc[i] true for
	// DESC.
	OrderDesc []bool `json:"order_desc,omitempty"`
	Type      Type   `json:"type"` // result type
	Name      string `json:"name"` // output column name
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
	args := a.Args
	var sep *Expr
	if f := Aggregates[a.Func]; f != nil && f.Separator && len(args) > 0 {
		args, sep = args[:len(args)-1], args[len(args)-1]
	}
	nv := len(args) - len(a.OrderDesc)
	for i, e := range args {
		switch {
		case i == nv:
			s += " ORDER BY "
		case i > 0:
			s += ", "
		}
		s += e.String()
		if i >= nv && a.OrderDesc[i-nv] {
			s += " DESC"
		}
	}
	if sep != nil {
		s += " SEPARATOR " + sep.String()
	}
	return fmt.Sprintf("%s(%s)", upper(a.Func), s)
}

// Equal reports whether two calls compute the same aggregate.
func (a AggCall) Equal(b AggCall) bool {
	if a.Func != b.Func || a.Distinct != b.Distinct || len(a.Args) != len(b.Args) || !slices.Equal(a.OrderDesc, b.OrderDesc) {
		return false
	}
	for i := range a.Args {
		if !a.Args[i].Equal(b.Args[i]) {
			return false
		}
	}
	return true
}
