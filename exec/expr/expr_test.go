package expr

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

// --- building test expressions ---

type decLit string  // a DECIMAL literal written as text: decLit("1.50")
type dateLit string // DATE 'YYYY-MM-DD'
type tsLit string   // TIMESTAMP 'YYYY-MM-DD hh:mm:ss'
type nullOf planner.Type

// toValue turns a Go value into a typed constant.
func toValue(t testing.TB, x any) (planner.Value, planner.Type) {
	switch x := x.(type) {
	case nil:
		return planner.Value{Null: true}, planner.Null
	case nullOf:
		return planner.Value{Null: true}, planner.Type(x)
	case bool:
		if x {
			return planner.Value{I: 1}, planner.Bool
		}
		return planner.Value{}, planner.Bool
	case int:
		return planner.Value{I: int64(x)}, planner.Int
	case int64:
		return planner.Value{I: x}, planner.Int
	case uint64:
		return planner.Value{U: x}, planner.Uint
	case float64:
		return planner.Value{F: x}, planner.Float
	case string:
		return planner.Value{S: x}, planner.String
	case decLit:
		s := strings.TrimPrefix(string(x), "-")
		scale := 0
		if i := strings.IndexByte(s, '.'); i >= 0 {
			scale = len(s) - i - 1
		}
		prec := len(strings.Replace(s, ".", "", 1))
		d, ok := planner.ParseDecimalPrefix(string(x), prec, scale)
		if !ok {
			t.Fatalf("bad decimal literal %s", x)
		}
		return planner.DecValue(d), planner.Decimal(prec, scale)
	case dateLit:
		us, _, ok := planner.ParseDatetime(string(x))
		if !ok {
			t.Fatalf("bad date literal %s", x)
		}
		return planner.Value{I: us / 86_400_000_000}, planner.Date
	case tsLit:
		us, _, ok := planner.ParseDatetime(string(x))
		if !ok {
			t.Fatalf("bad timestamp literal %s", x)
		}
		return planner.Value{I: us}, planner.Datetime
	}
	t.Fatalf("no test value for %T", x)
	return planner.Value{}, planner.Type{}
}

// leaves builds one variant of a test expression: each value leaf is a
// literal or a column, as the variant says.
type leaves struct {
	t      testing.TB
	asCol  func(i int) bool
	n      int
	vals   []planner.Value
	types  []planner.Type
	err    error
	strict bool // a planning error fails the test
}

func (l *leaves) v(x any) *planner.Expr {
	val, typ := toValue(l.t, x)
	i := l.n
	l.n++
	if !l.asCol(i) {
		return planner.Lit(val, typ)
	}
	l.vals = append(l.vals, val)
	l.types = append(l.types, typ)
	c := len(l.vals) - 1
	return planner.Col(c, fmt.Sprintf("c%d", c), typ)
}

// lit is a leaf that stays a literal (an INTERVAL unit, an ESCAPE).
func (l *leaves) lit(x any) *planner.Expr {
	val, typ := toValue(l.t, x)
	return planner.Lit(val, typ)
}

func (l *leaves) call(name string, args ...*planner.Expr) *planner.Expr {
	for _, a := range args {
		if a == nil {
			return nil
		}
	}
	e, err := planner.ResolveCall(name, args)
	if err != nil {
		if l.err == nil {
			l.err = err
		}
		return nil
	}
	return e
}

// cast is an explicit CAST node (not folded, so the kernel runs).
func (l *leaves) cast(e *planner.Expr, t planner.Type) *planner.Expr {
	if e == nil {
		return nil
	}
	if e.Type == t {
		return e
	}
	return planner.Call("cast", t, e)
}

func (l *leaves) schema() *arrow.Schema {
	fs := make([]arrow.Field, len(l.types))
	for i, t := range l.types {
		fs[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: t.Arrow(), Nullable: true}
	}
	return arrow.NewSchema(fs, nil)
}

// record holds rows copies of every column value, as a slice starting at
// row 3 of a larger array so that offsets are exercised.
func (l *leaves) record(mem memory.Allocator, rows int) arrow.Record {
	cols := make([]arrow.Array, len(l.vals))
	for i, v := range l.vals {
		full := Constant(mem, v, l.types[i], rows+3)
		cols[i] = array.NewSlice(full, 3, int64(rows+3))
		full.Release()
	}
	return newRecord(l.schema(), cols, rows)
}

func render(a arrow.Array, i int, t planner.Type) string {
	v := ValueAt(a, i)
	switch {
	case v.Null:
		return "NULL"
	case t.Kind == planner.KindBool:
		return fmt.Sprint(v.I)
	}
	return string(planner.AppendValue(nil, v, t))
}

type scalarCase struct {
	name  string
	build func(l *leaves) *planner.Expr
	want  string // rendered value ("NULL", booleans 1/0)
	err   string // a substring of the expected run-time error
	// litOnly: only the all-literal variant applies (literal typing rules).
	litOnly bool
}

// runScalar evaluates a case with its leaves as literals, all as columns,
// and one at a time as columns, over several row counts, and checks every
// row.
func runScalar(t *testing.T, c scalarCase) {
	t.Helper()
	probe := &leaves{t: t, asCol: func(int) bool { return false }}
	c.build(probe)
	variants := []func(int) bool{func(int) bool { return false }}
	if !c.litOnly {
		variants = append(variants, func(int) bool { return true })
		for i := 0; i < probe.n && probe.n > 1; i++ {
			variants = append(variants, func(j int) bool { return j == i })
		}
	}
	for vi, asCol := range variants {
		l := &leaves{t: t, asCol: asCol}
		e := c.build(l)
		if l.err != nil {
			t.Fatalf("%s (variant %d): planning: %v", c.name, vi, l.err)
		}
		for _, rows := range []int{1, 5, 17} {
			func() {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				rec := l.record(mem, rows)
				defer rec.Release()
				ev, err := Compile(e, rec.Schema())
				if err != nil && c.err != "" && strings.Contains(err.Error(), c.err) {
					return
				}
				if err != nil {
					t.Fatalf("%s (variant %d): compile %s: %v", c.name, vi, e, err)
				}
				out, err := ev.Eval(context.Background(), rec, mem)
				if c.err != "" {
					if err == nil || !strings.Contains(err.Error(), c.err) {
						if out != nil {
							out.Release()
						}
						t.Fatalf("%s (variant %d, %d rows): %s: got error %v, want %q", c.name, vi, rows, e, err, c.err)
					}
					return
				}
				if err != nil {
					t.Fatalf("%s (variant %d, %d rows): %s: %v", c.name, vi, rows, e, err)
				}
				defer out.Release()
				if out.Len() != rows || !arrow.TypeEqual(out.DataType(), e.Type.Arrow()) {
					t.Fatalf("%s: got %d rows of %s, want %d of %s", c.name, out.Len(), out.DataType(), rows, e.Type.Arrow())
				}
				for r := 0; r < rows; r++ {
					if got := render(out, r, e.Type); got != c.want {
						t.Fatalf("%s (variant %d, row %d of %d): %s = %s, want %s", c.name, vi, r, rows, e, got, c.want)
					}
				}
			}()
		}
	}
}

func TestScalarFunctions(t *testing.T) {
	for _, c := range scalarCases() {
		t.Run(c.name, func(t *testing.T) { runScalar(t, c) })
	}
}

func bin(name string, a, b any) func(l *leaves) *planner.Expr {
	return func(l *leaves) *planner.Expr { return l.call(name, l.v(a), l.v(b)) }
}

func un(name string, a any) func(l *leaves) *planner.Expr {
	return func(l *leaves) *planner.Expr { return l.call(name, l.v(a)) }
}

func fn(name string, args ...any) func(l *leaves) *planner.Expr {
	return func(l *leaves) *planner.Expr {
		es := make([]*planner.Expr, len(args))
		for i, a := range args {
			es[i] = l.v(a)
		}
		return l.call(name, es...)
	}
}

// extractLit is EXTRACT(unit FROM d): the unit is always a literal.
func extractLit(unit string, d any) func(l *leaves) *planner.Expr {
	return func(l *leaves) *planner.Expr { return l.call("extract", l.lit(unit), l.v(d)) }
}

// roundLit is ROUND/TRUNCATE(x, d) with a literal d, which sets the
// result's scale.
func roundLit(name string, x any, d int) func(l *leaves) *planner.Expr {
	return func(l *leaves) *planner.Expr { return l.call(name, l.v(x), l.lit(d)) }
}

func castTo(a any, t planner.Type) func(l *leaves) *planner.Expr {
	return func(l *leaves) *planner.Expr { return l.cast(l.v(a), t) }
}

func scalarCases() []scalarCase {
	return []scalarCase{
		// Arithmetic (MySQL 8 reference manual, arithmetic operators).
		{name: "7/2", build: bin("/", 7, 2), want: "3.5000"},
		{name: "1/3", build: bin("/", 1, 3), want: "0.3333"},
		{name: "2/3 rounds", build: bin("/", 2, 3), want: "0.6667"},
		{name: "-2/3", build: bin("/", -2, 3), want: "-0.6667"},
		{name: "decimal/int", build: bin("/", decLit("1.00"), 8), want: "0.125000"},
		{name: "1/0", build: bin("/", 1, 0), want: "NULL"},
		{name: "1.0/0", build: bin("/", decLit("1.0"), 0), want: "NULL"},
		{name: "double/0", build: bin("/", 1.0, 0), want: "NULL"},
		{name: "double/", build: bin("/", 7.0, 2), want: "3.5"},
		{name: "7 DIV 2", build: bin("div", 7, 2), want: "3"},
		{name: "-7 DIV 2", build: bin("div", -7, 2), want: "-3"},
		{name: "DIV 0", build: bin("div", 7, 0), want: "NULL"},
		{name: "decimal DIV", build: bin("div", decLit("7.5"), 2), want: "3"},
		{name: "5 DIV 0.5", build: bin("div", 5, decLit("0.5")), want: "10"},
		{name: "double DIV", build: bin("div", 7.5, 2), want: "3"},
		{name: "-7 % 3", build: bin("%", -7, 3), want: "-1"},
		{name: "7 % -3", build: bin("%", 7, -3), want: "1"},
		{name: "MOD by 0", build: bin("mod", 7, 0), want: "NULL"},
		{name: "decimal MOD", build: bin("mod", decLit("-7.5"), 2), want: "-1.5"},
		{name: "double MOD", build: bin("%", 7.5, 2), want: "1.5"},
		{name: "1+2", build: bin("+", 1, 2), want: "3"},
		{name: "int+decimal", build: bin("+", 1, decLit("1.5")), want: "2.5"},
		{name: "int+double", build: bin("+", 1, 1.5), want: "2.5"},
		{name: "string+int", build: bin("+", "3", 1), want: "4"},
		{name: "prefix string", build: bin("+", "1.5x", 1), want: "2.5"},
		{name: "non-numeric string", build: bin("+", "abc", 1), want: "1"},
		{name: "0.1+0.2", build: bin("+", decLit("0.1"), decLit("0.2")), want: "0.3"},
		{name: "decimal scales", build: bin("-", decLit("1.10"), decLit("2.5")), want: "-1.40"},
		{name: "decimal*", build: bin("*", decLit("1.5"), decLit("2.25")), want: "3.375"},
		{name: "3*-4", build: bin("*", 3, -4), want: "-12"},
		{name: "bigint overflow +", build: bin("+", int64(9223372036854775807), 1), err: "BIGINT value is out of range"},
		{name: "bigint overflow -", build: bin("-", int64(-9223372036854775808), 1), err: "BIGINT value is out of range"},
		{name: "bigint overflow *", build: bin("*", int64(4294967296), int64(4294967296)), err: "BIGINT value is out of range"},
		{name: "MinInt64 DIV -1", build: bin("div", int64(-9223372036854775808), -1), err: "BIGINT value is out of range"},
		{name: "double overflow", build: bin("*", 1e308, 10), err: "DOUBLE value is out of range"},
		{name: "unsigned+1", build: bin("+", uint64(18446744073709551615), uint64(1)), err: "BIGINT UNSIGNED value is out of range"},
		{name: "unsigned-int negative", build: bin("-", uint64(5), 6), err: "BIGINT UNSIGNED value is out of range"},
		{name: "unsigned-int", build: bin("-", uint64(5), 3), want: "2"},
		{name: "unsigned+negative", build: bin("+", uint64(5), -3), want: "2"},
		{name: "unsigned*", build: bin("*", uint64(3), uint64(4)), want: "12"},
		{name: "int % unsigned", build: bin("%", -7, uint64(3)), want: "-1"},
		{name: "decimal overflow", build: bin("*", decLit("99999999999999999999.9999999999"), decLit("99999999999999999999.99999999")), err: "DECIMAL value is out of range"},
		{name: "wide decimal *", build: bin("*", decLit("12345678901234567890.12"), decLit("3.5")), want: "43209876154320987615.420"},
		{name: "wide decimal /", build: bin("/", decLit("12345678901234567890.12"), decLit("0.7")), want: "17636684144620811271.600000"},
		{name: "arith NULL", build: bin("+", nil, 1), want: "NULL"},
		{name: "typed NULL", build: bin("*", nullOf(planner.Int), 3), want: "NULL"},
		{name: "neg", build: un("neg", 5), want: "-5"},
		{name: "neg decimal", build: un("neg", decLit("1.50")), want: "-1.50"},
		{name: "neg double", build: un("neg", 2.5), want: "-2.5"},
		{name: "neg unsigned", build: un("neg", uint64(9223372036854775808)), want: "-9223372036854775808"},
		{name: "- - 98", build: func(l *leaves) *planner.Expr { return l.call("neg", l.call("neg", l.v(98))) }, want: "98"},
		{name: "abs", build: un("abs", -5), want: "5"},
		{name: "abs decimal", build: un("abs", decLit("-1.50")), want: "1.50"},
		{name: "abs min", build: un("abs", int64(-9223372036854775808)), err: "BIGINT value is out of range"},
		{name: "abs NULL", build: un("abs", nil), want: "NULL"},
		// Comparisons.
		{name: "NULL = NULL", build: bin("=", nil, nil), want: "NULL"},
		{name: "NULL <=> NULL", build: bin("<=>", nil, nil), want: "1"},
		{name: "1 <=> NULL", build: bin("<=>", 1, nullOf(planner.Int)), want: "0"},
		{name: "1 <=> 1", build: bin("<=>", 1, 1), want: "1"},
		{name: "1 = 1.0", build: bin("=", 1, decLit("1.0")), want: "1"},
		{name: "2 = 1.5", build: bin("=", 2, decLit("1.5")), want: "0"},
		{name: "1 < 1.5", build: bin("<", 1, decLit("1.5")), want: "1"},
		{name: "1 = '1'", build: bin("=", 1, "1"), want: "1"},
		{name: "'abc' = 0", build: bin("=", "abc", 0), want: "1"},
		{name: "'a' < 'b'", build: bin("<", "a", "b"), want: "1"},
		{name: "binary collation", build: bin("<", "B", "a"), want: "1"},
		{name: "'abc' >= 'abd'", build: bin(">=", "abc", "abd"), want: "0"},
		{name: "'x' <> 'x'", build: bin("<>", "x", "x"), want: "0"},
		{name: "double >", build: bin(">", 2.5, 2), want: "1"},
		{name: "unsigned <= int", build: bin("<=", uint64(18446744073709551615), -1), want: "0"},
		{name: "date <= string", build: bin("<=", dateLit("1998-09-02"), "1998-09-02"), want: "1"},
		{name: "date < datetime string", build: bin("<", dateLit("1998-09-02"), "1998-09-02 10:00:00"), want: "1"},
		{name: "date > date", build: bin(">", dateLit("1998-09-03"), dateLit("1998-09-02")), want: "1"},
		{name: "date = number", build: bin("=", dateLit("2020-01-02"), 20200102), want: "1"},
		{name: "datetime = string", build: bin("=", tsLit("2020-01-02 03:04:05"), "2020-01-02 03:04:05"), want: "1"},
		{name: "decimal > decimal", build: bin(">", decLit("1.25"), decLit("1.3")), want: "0"},
		{name: "1 IN (2, NULL)", build: fn("in", 1, 2, nil), want: "NULL"},
		{name: "2 IN (2, NULL)", build: fn("in", 2, 2, nil), want: "1"},
		{name: "3 IN (1, 2)", build: fn("in", 3, 1, 2), want: "0"},
		{name: "NULL IN (1)", build: fn("in", nullOf(planner.Int), 1), want: "NULL"},
		{name: "1 IN (1.0, 2)", build: fn("in", 1, decLit("1.0"), 2), want: "1"},
		{name: "string IN", build: fn("in", "a", "b", "a"), want: "1"},
		{name: "date IN", build: fn("in", dateLit("2020-01-02"), "2020-01-01", "2020-01-02"), want: "1"},
		{name: "double IN", build: fn("in", 2.5, 1, 2.5), want: "1"},
		// Logic.
		{name: "TRUE AND NULL", build: bin("and", true, nullOf(planner.Bool)), want: "NULL"},
		{name: "FALSE AND NULL", build: bin("and", false, nullOf(planner.Bool)), want: "0"},
		{name: "NULL AND FALSE", build: bin("and", nullOf(planner.Bool), false), want: "0"},
		{name: "TRUE OR NULL", build: bin("or", true, nullOf(planner.Bool)), want: "1"},
		{name: "FALSE OR NULL", build: bin("or", false, nullOf(planner.Bool)), want: "NULL"},
		{name: "2 AND 3", build: bin("and", 2, 3), want: "1"},
		{name: "0 OR 0.0", build: bin("or", 0, decLit("0.0")), want: "0"},
		{name: "NOT NULL", build: un("not", nullOf(planner.Bool)), want: "NULL"},
		{name: "NOT 0", build: un("not", 0), want: "1"},
		{name: "1 XOR 1", build: bin("xor", 1, 1), want: "0"},
		{name: "1 XOR 0", build: bin("xor", 1, 0), want: "1"},
		{name: "1 XOR NULL", build: bin("xor", 1, nullOf(planner.Bool)), want: "NULL"},
		{name: "NULL IS NULL", build: un("isnull", nullOf(planner.Int)), want: "1"},
		{name: "1 IS NOT NULL", build: un("isnotnull", 1), want: "1"},
		{name: "NULL IS TRUE", build: un("istrue", nullOf(planner.Bool)), want: "0"},
		{name: "0 IS FALSE", build: un("isfalse", 0), want: "1"},
		{name: "NULL IS NOT TRUE", build: un("isnottrue", nullOf(planner.Bool)), want: "1"},
		{name: "1 IS NOT FALSE", build: un("isnotfalse", 1), want: "1"},
		// LIKE and REGEXP.
		{name: "like prefix", build: bin("like", "abc", "a%"), want: "1"},
		{name: "like case", build: bin("like", "abc", "A%"), want: "0"},
		{name: "like _", build: bin("like", "abc", "_b_"), want: "1"},
		{name: "like suffix", build: bin("like", "abc", "%c"), want: "1"},
		{name: "like contains", build: bin("like", "abc", "%b%"), want: "1"},
		{name: "like exact", build: bin("like", "abc", "abc"), want: "1"},
		{name: "like escape", build: bin("like", "a%c", `a\%c`), want: "1"},
		{name: "like escaped no match", build: bin("like", "abc", `a\%c`), want: "0"},
		{name: "like ESCAPE", build: func(l *leaves) *planner.Expr {
			return l.call("like", l.v("a_c"), l.v("a|_c"), l.lit("|"))
		}, want: "1"},
		{name: "like multibyte _", build: bin("like", "ébc", "_bc"), want: "1"},
		{name: "like general", build: bin("like", "abcabc", "%b_a%"), want: "1"},
		{name: "like backtrack", build: bin("like", "aXbXc", "a%b%c"), want: "1"},
		{name: "like no match", build: bin("like", "ab", "a%b%c"), want: "0"},
		{name: "like empty", build: bin("like", "", "%"), want: "1"},
		{name: "like NULL", build: bin("like", nullOf(planner.String), "a"), want: "NULL"},
		{name: "like number", build: bin("like", 123, "1%"), want: "1"},
		{name: "regexp", build: bin("regexp", "abc", "^a.c$"), want: "1"},
		{name: "regexp case", build: bin("regexp", "abc", "B"), want: "0"},
		// Conditionals.
		{name: "case", build: func(l *leaves) *planner.Expr {
			return l.call("case", l.call(">", l.v(1), l.v(2)), l.v("a"), l.call(">", l.v(2), l.v(1)), l.v("b"))
		}, want: "b"},
		{name: "case no match", build: func(l *leaves) *planner.Expr {
			return l.call("case", l.call(">", l.v(1), l.v(2)), l.v("a"))
		}, want: "NULL"},
		{name: "case else", build: func(l *leaves) *planner.Expr {
			return l.call("case", l.call(">", l.v(1), l.v(2)), l.v(1), l.v(decLit("2.5")))
		}, want: "2.5"},
		{name: "case NULL cond", build: func(l *leaves) *planner.Expr {
			return l.call("case", l.v(nullOf(planner.Bool)), l.v(1), l.v(2))
		}, want: "2"},
		{name: "case lazy", build: func(l *leaves) *planner.Expr {
			big := l.v(int64(9223372036854775807))
			return l.call("case", l.call("<", l.v(1), l.v(0)), l.call("+", big, l.v(1)), l.v(7))
		}, want: "7"},
		{name: "if", build: func(l *leaves) *planner.Expr {
			return l.call("if", l.call("<", l.v(1), l.v(2)), l.v(2), l.v(decLit("3.5")))
		}, want: "2.0"},
		{name: "ifnull", build: bin("ifnull", nullOf(planner.Int), 5), want: "5"},
		{name: "ifnull first", build: bin("ifnull", 4, 5), want: "4"},
		{name: "coalesce", build: fn("coalesce", nullOf(planner.String), nullOf(planner.String), "x"), want: "x"},
		{name: "coalesce all NULL", build: fn("coalesce", nullOf(planner.Int), nullOf(planner.Int)), want: "NULL"},
		{name: "coalesce mixed", build: fn("coalesce", nullOf(planner.Int), decLit("1.5")), want: "1.5"},
		{name: "coalesce lazy", build: func(l *leaves) *planner.Expr {
			return l.call("coalesce", l.v(1), l.call("+", l.v(int64(9223372036854775807)), l.v(1)))
		}, want: "1"},
		{name: "nullif equal", build: bin("nullif", 1, 1), want: "NULL"},
		{name: "nullif", build: bin("nullif", 1, 2), want: "1"},
		{name: "nullif string", build: bin("nullif", "1", 1), want: "NULL"},
		{name: "greatest", build: fn("greatest", 1, decLit("2.5"), 0), want: "2.5"},
		{name: "least", build: fn("least", "b", "a", "c"), want: "a"},
		{name: "greatest NULL", build: fn("greatest", 1, nullOf(planner.Int)), want: "NULL"},
		{name: "least double", build: fn("least", 3.5, 2, 7), want: "2"},
		{name: "and lazy", build: func(l *leaves) *planner.Expr {
			return l.call("and", l.call("<", l.v(1), l.v(0)), l.call(">", l.call("+", l.v(int64(9223372036854775807)), l.v(1)), l.v(0)))
		}, want: "0"},
		// Math.
		{name: "ROUND(2.5)", build: un("round", decLit("2.5")), want: "3"},
		{name: "ROUND(-2.5)", build: un("round", decLit("-2.5")), want: "-3"},
		{name: "ROUND(2.5e0)", build: un("round", 2.5), want: "2"},
		{name: "ROUND(3.5e0)", build: un("round", 3.5), want: "4"},
		{name: "ROUND(1.298, 1)", build: roundLit("round", decLit("1.298"), 1), want: "1.3"},
		{name: "ROUND(1.298, 0)", build: roundLit("round", decLit("1.298"), 0), want: "1"},
		{name: "ROUND(23.298, -1)", build: roundLit("round", decLit("23.298"), -1), want: "20"},
		{name: "ROUND(15, -1)", build: roundLit("round", 15, -1), want: "20"},
		{name: "ROUND(-15, -1)", build: roundLit("round", -15, -1), want: "-20"},
		{name: "ROUND(1234.987e0, -2)", build: roundLit("round", 1234.987, -2), want: "1200"},
		{name: "ROUND(9.95, 1)", build: roundLit("round", decLit("9.95"), 1), want: "10.0"},
		{name: "TRUNCATE(1.223, 1)", build: roundLit("truncate", decLit("1.223"), 1), want: "1.2"},
		{name: "TRUNCATE(1.999, 1)", build: roundLit("truncate", decLit("1.999"), 1), want: "1.9"},
		{name: "TRUNCATE(-1.999, 1)", build: roundLit("truncate", decLit("-1.999"), 1), want: "-1.9"},
		{name: "TRUNCATE(122, -2)", build: roundLit("truncate", 122, -2), want: "100"},
		{name: "TRUNCATE(1.999e0, 1)", build: roundLit("truncate", 1.999, 1), want: "1.9"},
		{name: "FLOOR(1.5)", build: un("floor", decLit("1.5")), want: "1"},
		{name: "FLOOR(-1.5)", build: un("floor", decLit("-1.5")), want: "-2"},
		{name: "CEIL(1.2)", build: un("ceil", decLit("1.2")), want: "2"},
		{name: "CEIL(-1.2)", build: un("ceil", decLit("-1.2")), want: "-1"},
		{name: "FLOOR(-1.5e0)", build: un("floor", -1.5), want: "-2"},
		{name: "CEIL(5)", build: un("ceil", 5), want: "5"},
		{name: "SIGN(-3)", build: un("sign", -3), want: "-1"},
		{name: "SIGN(0.0)", build: un("sign", decLit("0.0")), want: "0"},
		{name: "SIGN(2e0)", build: un("sign", 2.0), want: "1"},
		{name: "POW(2, 10)", build: bin("pow", 2, 10), want: "1024"},
		{name: "POW overflow", build: bin("pow", 10, 400), err: "DOUBLE value is out of range"},
		{name: "SQRT(4)", build: un("sqrt", 4), want: "2"},
		{name: "SQRT(-1)", build: un("sqrt", -1), want: "NULL"},
		{name: "EXP(0)", build: un("exp", 0), want: "1"},
		{name: "LN(0)", build: un("ln", 0), want: "NULL"},
		{name: "LOG(2, 8)", build: bin("log", 2, 8), want: "3"},
		{name: "LOG10(100)", build: un("log10", 100), want: "2"},
		{name: "LOG2(8)", build: un("log2", 8), want: "3"},
		// Strings.
		{name: "LOWER", build: un("lower", "AbC"), want: "abc"},
		{name: "UPPER multibyte", build: un("upper", "àbC"), want: "ÀBC"},
		{name: "LENGTH", build: un("length", "héllo"), want: "6"},
		{name: "CHAR_LENGTH", build: un("char_length", "héllo"), want: "5"},
		{name: "CONCAT", build: fn("concat", "a", 1, decLit("2.50")), want: "a12.50"},
		{name: "CONCAT NULL", build: fn("concat", "a", nullOf(planner.String)), want: "NULL"},
		{name: "CONCAT_WS", build: fn("concat_ws", ",", "a", nullOf(planner.String), "b"), want: "a,b"},
		{name: "CONCAT_WS NULL sep", build: fn("concat_ws", nullOf(planner.String), "a"), want: "NULL"},
		{name: "SUBSTRING from", build: bin("substring", "Quadratically", 5), want: "ratically"},
		{name: "SUBSTRING len", build: fn("substring", "Quadratically", 5, 6), want: "ratica"},
		{name: "SUBSTRING negative", build: bin("substring", "Sakila", -3), want: "ila"},
		{name: "SUBSTRING negative len", build: fn("substring", "Sakila", -5, 3), want: "aki"},
		{name: "SUBSTRING 0", build: bin("substring", "abc", 0), want: ""},
		{name: "SUBSTRING multibyte", build: fn("substring", "héllo", 2, 2), want: "él"},
		{name: "TRIM", build: un("trim", "  bar   "), want: "bar"},
		{name: "LTRIM", build: un("ltrim", "  bar "), want: "bar "},
		{name: "RTRIM", build: un("rtrim", "  bar "), want: "  bar"},
		{name: "TRIM BOTH x", build: bin("trim", "xxbarxxx", "x"), want: "bar"},
		{name: "TRIM LEADING x", build: bin("ltrim", "xxbarxxx", "x"), want: "barxxx"},
		{name: "TRIM TRAILING xyz", build: bin("rtrim", "barxxyz", "xyz"), want: "barx"},
		{name: "LEFT", build: bin("left", "foobarbar", 5), want: "fooba"},
		{name: "RIGHT", build: bin("right", "foobarbar", 4), want: "rbar"},
		{name: "REPLACE", build: fn("replace", "www.mysql.com", "w", "Ww"), want: "WwWwWw.mysql.com"},
		{name: "LOCATE", build: bin("locate", "bar", "foobarbar"), want: "4"},
		{name: "LOCATE none", build: bin("locate", "xbar", "foobar"), want: "0"},
		{name: "LOCATE pos", build: fn("locate", "bar", "foobarbar", 5), want: "7"},
		{name: "INSTR", build: bin("instr", "foobarbar", "bar"), want: "4"},
		{name: "LPAD", build: fn("lpad", "hi", 4, "??"), want: "??hi"},
		{name: "LPAD cut", build: fn("lpad", "hi", 1, "??"), want: "h"},
		{name: "RPAD", build: fn("rpad", "hi", 5, "?"), want: "hi???"},
		{name: "LPAD empty pad", build: fn("lpad", "hi", 4, ""), want: "NULL"},
		{name: "REVERSE", build: un("reverse", "abç"), want: "çba"},
		{name: "REPEAT", build: bin("repeat", "ab", 3), want: "ababab"},
		{name: "REPEAT 0", build: bin("repeat", "ab", 0), want: ""},
		// Dates.
		{name: "YEAR", build: un("year", dateLit("1998-09-02")), want: "1998"},
		{name: "MONTH", build: un("month", dateLit("1998-09-02")), want: "9"},
		{name: "DAY", build: un("day", dateLit("1998-09-02")), want: "2"},
		{name: "DAYOFWEEK", build: un("dayofweek", dateLit("1998-09-02")), want: "4"},
		{name: "WEEKDAY", build: un("weekday", dateLit("1998-09-02")), want: "2"},
		{name: "DAYOFYEAR", build: un("dayofyear", "1998-09-02"), want: "245"},
		{name: "QUARTER", build: un("quarter", dateLit("1998-09-02")), want: "3"},
		{name: "YEAR before 1970", build: un("year", dateLit("1969-12-31")), want: "1969"},
		{name: "HOUR", build: un("hour", "2020-01-01 10:11:12"), want: "10"},
		{name: "MINUTE", build: un("minute", tsLit("2020-01-01 10:11:12")), want: "11"},
		{name: "SECOND", build: un("second", tsLit("1960-01-01 10:11:12")), want: "12"},
		{name: "DATEDIFF", build: bin("datediff", "2007-12-31 23:59:59", "2007-12-30"), want: "1"},
		{name: "DATEDIFF negative", build: bin("datediff", "2010-11-30 23:59:59", "2010-12-31"), want: "-31"},
		{name: "DATE_ADD day", build: func(l *leaves) *planner.Expr {
			return l.call("date_add", l.v(dateLit("2018-05-01")), l.v(1), l.lit("day"))
		}, want: "2018-05-02"},
		{name: "DATE_ADD -90 day", build: func(l *leaves) *planner.Expr {
			return l.call("date_add", l.v(dateLit("1998-12-01")), l.v(-90), l.lit("day"))
		}, want: "1998-09-02"},
		{name: "DATE_SUB year", build: func(l *leaves) *planner.Expr {
			return l.call("date_sub", l.v(dateLit("2018-05-01")), l.v(1), l.lit("year"))
		}, want: "2017-05-01"},
		{name: "DATE_ADD month end", build: func(l *leaves) *planner.Expr {
			return l.call("date_add", l.v(dateLit("2020-01-31")), l.v(1), l.lit("month"))
		}, want: "2020-02-29"},
		{name: "DATE_ADD second", build: func(l *leaves) *planner.Expr {
			return l.call("date_add", l.v(tsLit("2020-12-31 23:59:59")), l.v(1), l.lit("second"))
		}, want: "2021-01-01 00:00:00"},
		{name: "DATE_ADD hour to date", build: func(l *leaves) *planner.Expr {
			return l.call("date_add", l.v(dateLit("2020-01-01")), l.v(-1), l.lit("hour"))
		}, want: "2019-12-31 23:00:00"},
		{name: "DATE_ADD week", build: func(l *leaves) *planner.Expr {
			return l.call("date_add", l.v(dateLit("2020-01-01")), l.v(2), l.lit("week"))
		}, want: "2020-01-15"},
		{name: "DATE_ADD out of range", build: func(l *leaves) *planner.Expr {
			return l.call("date_add", l.v(dateLit("9999-12-31")), l.v(1), l.lit("day"))
		}, want: "NULL"},
		{name: "DATE_FORMAT %W %M %Y", build: bin("date_format", tsLit("2009-10-04 22:23:00"), "%W %M %Y"), want: "Sunday October 2009"},
		{name: "DATE_FORMAT %H:%i:%s", build: bin("date_format", tsLit("2007-10-04 22:23:00"), "%H:%i:%s"), want: "22:23:00"},
		{name: "DATE_FORMAT mixed", build: bin("date_format", tsLit("1900-10-04 22:23:00"), "%D %y %a %d %m %b %j"), want: "4th 00 Thu 04 10 Oct 277"},
		{name: "DATE_FORMAT 12h", build: bin("date_format", dateLit("2020-03-05"), "%r %p %e %c %l %%"), want: "12:00:00 AM AM 5 3 12 %"},
		{name: "DATE_FORMAT week", build: bin("date_format", dateLit("1999-01-01"), "%X %V"), want: "1998 52"},
		{name: "DATE_FORMAT weeks 2021-01-03", build: bin("date_format", dateLit("2021-01-03"), "%U %u %V %v %X %x"), want: "01 00 01 53 2021 2020"},
		{name: "DATE_FORMAT weeks 2019-12-30", build: bin("date_format", dateLit("2019-12-30"), "%U %u %V %v %X %x"), want: "52 53 52 01 2019 2020"},
		{name: "EXTRACT(YEAR_MONTH)", build: extractLit("year_month", tsLit("2019-07-02 01:02:03")), want: "201907"},
		{name: "EXTRACT(DAY_MINUTE)", build: extractLit("day_minute", tsLit("2019-07-02 01:02:03")), want: "20102"},
		{name: "EXTRACT(DAY_MICROSECOND)", build: extractLit("day_microsecond", tsLit("2019-07-02 01:02:03.5")), want: "2010203500000"},
		{name: "EXTRACT(WEEK)", build: extractLit("week", dateLit("2021-03-04")), want: "9"},
		{name: "EXTRACT(QUARTER)", build: extractLit("quarter", dateLit("2021-08-04")), want: "3"},
		{name: "STR_TO_DATE date", build: bin("str_to_date", "01,5,2013", "%d,%m,%Y"), want: "2013-05-01", litOnly: true},
		{name: "STR_TO_DATE names", build: bin("str_to_date", "May 1, 2013 11PM", "%M %d,%Y %h%p"), want: "2013-05-01 23:00:00"},
		{name: "STR_TO_DATE %r", build: bin("str_to_date", "3/4/21 1:02:03 PM", "%c/%e/%y %r"), want: "2021-03-04 13:02:03"},
		{name: "STR_TO_DATE %T %f %j", build: bin("str_to_date", "2020 060 10:11:12.5", "%Y %j %T.%f"), want: "2020-02-29 10:11:12.500000"},
		{name: "STR_TO_DATE invalid day", build: bin("str_to_date", "04/31/2004 1", "%m/%d/%Y %H"), want: "NULL"},
		{name: "STR_TO_DATE no digits", build: bin("str_to_date", "x", "%Y %H"), want: "NULL"},
		{name: "STR_TO_DATE zero month", build: bin("str_to_date", "2020", "%Y-%m-%d %H"), want: "NULL"},
		{name: "STR_TO_DATE literal mismatch", build: bin("str_to_date", "2020/01/02", "%Y-%m-%d %H"), want: "NULL"},
		{name: "STR_TO_DATE trailing text", build: bin("str_to_date", "2020-01-02 3 junk", "%Y-%m-%d %H"), want: "2020-01-02 03:00:00"},
		{name: "STR_TO_DATE %p without %h", build: bin("str_to_date", "2020-01-02 PM", "%Y-%m-%d %p"), want: "NULL"},
		// Casts (explicit CAST nodes, so the kernels run).
		{name: "CAST('12abc' AS SIGNED)", build: castTo("12abc", planner.Int), want: "12"},
		{name: "CAST('abc' AS SIGNED)", build: castTo("abc", planner.Int), want: "0"},
		{name: "CAST('1.9' AS SIGNED)", build: castTo("1.9", planner.Int), want: "1"},
		{name: "CAST(1.5 AS SIGNED)", build: castTo(decLit("1.5"), planner.Int), want: "2"},
		{name: "CAST(-1.5 AS SIGNED)", build: castTo(decLit("-1.5"), planner.Int), want: "-2"},
		{name: "CAST(2.5e0 AS SIGNED)", build: castTo(2.5, planner.Int), want: "2"},
		{name: "CAST(-1 AS UNSIGNED)", build: castTo(-1, planner.Uint), want: "18446744073709551615"},
		{name: "CAST(max uint AS SIGNED)", build: castTo(uint64(18446744073709551615), planner.Int), want: "-1"},
		{name: "CAST('-1' AS UNSIGNED)", build: castTo("-1", planner.Uint), want: "18446744073709551615"},
		{name: "CAST(1.5e0 AS UNSIGNED)", build: castTo(1.5, planner.Uint), want: "2"},
		{name: "CAST bad date", build: castTo("2020-02-30", planner.Date), want: "NULL"},
		{name: "CAST leap date", build: castTo("2020-02-29", planner.Date), want: "2020-02-29"},
		{name: "CAST compact date", build: castTo("20200229", planner.Date), want: "2020-02-29"},
		{name: "CAST number AS DATE", build: castTo(20200101, planner.Date), want: "2020-01-01"},
		{name: "CAST short year", build: castTo("98-9-2", planner.Date), want: "1998-09-02"},
		{name: "CAST datetime AS DATE", build: castTo(tsLit("2020-01-01 23:59:59"), planner.Date), want: "2020-01-01"},
		{name: "CAST date AS DATETIME", build: castTo(dateLit("2020-01-01"), planner.Datetime), want: "2020-01-01 00:00:00"},
		{name: "CAST string AS DATETIME", build: castTo("2020-01-01T10:00:00.5", planner.Datetime), want: "2020-01-01 10:00:00.500000"},
		{name: "CAST(1.5e0 AS DECIMAL)", build: castTo(1.5, planner.Decimal(10, 2)), want: "1.50"},
		{name: "CAST(1.005e0 AS DECIMAL)", build: castTo(1.005, planner.Decimal(10, 2)), want: "1.01"},
		{name: "CAST round DECIMAL", build: castTo(decLit("123.456"), planner.Decimal(4, 1)), want: "123.5"},
		{name: "CAST clamp DECIMAL", build: castTo(decLit("12345.6"), planner.Decimal(4, 1)), want: "999.9"},
		{name: "CAST int AS DECIMAL", build: castTo(-42, planner.Decimal(5, 2)), want: "-42.00"},
		{name: "CAST int clamp", build: castTo(123456, planner.Decimal(5, 2)), want: "999.99"},
		{name: "CAST string AS DECIMAL", build: castTo("  42  ", planner.Decimal(5, 1)), want: "42.0"},
		{name: "CAST exponent AS DECIMAL", build: castTo("1.5e2", planner.Decimal(6, 1)), want: "150.0"},
		{name: "CAST double AS CHAR", build: castTo(0.30000000000000004, planner.String), want: "0.30000000000000004"},
		{name: "CAST 1e20 AS CHAR", build: castTo(1e20, planner.String), want: "1e20"},
		{name: "CAST small AS CHAR", build: castTo(0.0001, planner.String), want: "0.0001"},
		{name: "CAST decimal AS CHAR", build: castTo(decLit("-0.50"), planner.String), want: "-0.50"},
		{name: "CAST date AS SIGNED", build: castTo(dateLit("2020-01-02"), planner.Int), want: "20200102"},
		{name: "CAST datetime AS SIGNED", build: castTo(tsLit("2020-01-02 03:04:05"), planner.Int), want: "20200102030405"},
		{name: "CAST date AS DOUBLE", build: castTo(dateLit("2020-01-02"), planner.Float), want: "20200102"},
		{name: "CAST TRUE AS CHAR", build: castTo(true, planner.String), want: "1"},
		{name: "CAST date AS CHAR", build: castTo(dateLit("0999-01-02"), planner.String), want: "0999-01-02"},
		{name: "CAST decimal AS DOUBLE", build: castTo(decLit("-12.125"), planner.Float), want: "-12.125"},
		{name: "CAST string AS DOUBLE", build: castTo(" -1.5e3xyz", planner.Float), want: "-1500"},
		{name: "CAST int AS BOOLEAN", build: castTo(7, planner.Bool), want: "1"},
		{name: "CAST string AS BOOLEAN", build: castTo("0.0", planner.Bool), want: "0"},
		{name: "CAST NULL", build: castTo(nil, planner.Int), want: "NULL"},
		{name: "CAST widen DECIMAL", build: castTo(decLit("1.25"), planner.Decimal(20, 2)), want: "1.25"},
		{name: "CAST decimal scale up", build: castTo(decLit("1.25"), planner.Decimal(20, 4)), want: "1.2500"},
		{name: "strict cast", build: func(l *leaves) *planner.Expr {
			return planner.Call("cast_strict", planner.Int, l.v("12abc"))
		}, err: "incorrect BIGINT value '12abc'"},
		{name: "strict cast ok", build: func(l *leaves) *planner.Expr {
			return planner.Call("cast_strict", planner.Int, l.v(" 12 "))
		}, want: "12"},
		{name: "strict cast decimal", build: func(l *leaves) *planner.Expr {
			return planner.Call("cast_strict", planner.Decimal(3, 1), l.v(decLit("100.25")))
		}, err: "incorrect DECIMAL(3,1) value"},
		{name: "strict cast rounds", build: func(l *leaves) *planner.Expr {
			return planner.Call("cast_strict", planner.Decimal(3, 1), l.v(decLit("1.25")))
		}, want: "1.3"},
		{name: "strict string to int rounds", build: func(l *leaves) *planner.Expr {
			return planner.Call("cast_strict", planner.Int, l.v("1.5"))
		}, want: "2"},
		{name: "strict bad date", build: func(l *leaves) *planner.Expr {
			return planner.Call("cast_strict", planner.Date, l.v("2021-02-29"))
		}, err: "incorrect DATE value '2021-02-29'"},
	}
}
