package planner

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// Value is a constant of some Type. Which field holds it depends on the kind:
// Bool/Int/Date/Datetime use I (0/1, the integer, days since the epoch,
// microseconds since the epoch), Uint uses U, Float uses F, String uses S and
// Decimal uses Hi/Lo, the unscaled 128-bit integer.
type Value struct {
	Null bool    `json:"null,omitempty"`
	I    int64   `json:"i,omitempty"`
	U    uint64  `json:"u,omitempty"`
	F    float64 `json:"f,omitempty"`
	S    string  `json:"s,omitempty"`
	Hi   int64   `json:"hi,omitempty"`
	Lo   uint64  `json:"lo,omitempty"`
}

// Dec returns the decimal held by v.
func (v Value) Dec() decimal128.Num { return decimal128.New(v.Hi, v.Lo) }

// DecValue makes a Value from a decimal.
func DecValue(n decimal128.Num) Value { return Value{Hi: n.HighBits(), Lo: n.LowBits()} }

// ExprKind says what an Expr node is.
type ExprKind uint8

const (
	ExprColumn  ExprKind = iota + 1 // a column of the input, by Index
	ExprLiteral                     // a constant Value
	ExprCall                        // a scalar function Func applied to Args
)

// Expr is a typed scalar expression over the columns of one input. Exprs are
// immutable values once built; rewrites make new ones. They encode to JSON
// losslessly so that jobs can travel to other processes.
type Expr struct {
	Kind  ExprKind `json:"k"`
	Type  Type     `json:"t"`
	Index int      `json:"i,omitempty"` // ExprColumn: position in the input schema
	Name  string   `json:"n,omitempty"` // ExprColumn: display name; ExprCall: function name
	Args  []*Expr  `json:"a,omitempty"`
	Value Value    `json:"v,omitempty"` // ExprLiteral
	// Hex marks a hexadecimal or bit literal (0x41, X'41', b'1'): a binary
	// string that is a BIGINT UNSIGNED in numeric context (numOperand,
	// Cast), as in MySQL.
	Hex bool `json:"x,omitempty"`
	// Sub is the plan of a subquery placeholder (calls named $scalar_subquery,
	// $in_subquery, $exists_subquery); the engine runs it and replaces the
	// placeholder with its values before the plan is lowered, so it never
	// travels in a job.
	Sub Node `json:"-"`
}

// Subquery placeholder names.
const (
	ScalarSubquery = "$scalar_subquery"
	InSubquery     = "$in_subquery"
	ExistsSubquery = "$exists_subquery"
)

// Col makes a column reference.
func Col(index int, name string, t Type) *Expr {
	return &Expr{Kind: ExprColumn, Index: index, Name: name, Type: t}
}

// Lit makes a literal.
func Lit(v Value, t Type) *Expr { return &Expr{Kind: ExprLiteral, Value: v, Type: t} }

// NullLit is a NULL literal of type t.
func NullLit(t Type) *Expr { return Lit(Value{Null: true}, t) }

// Call makes a function call node; the caller has resolved its type.
func Call(fn string, t Type, args ...*Expr) *Expr {
	return &Expr{Kind: ExprCall, Name: fn, Type: t, Args: args}
}

// Columns appends the input columns e reads to dst.
func (e *Expr) Columns(dst []int) []int {
	switch e.Kind {
	case ExprColumn:
		dst = append(dst, e.Index)
	case ExprCall:
		for _, a := range e.Args {
			dst = a.Columns(dst)
		}
	}
	return dst
}

// Remap returns e with every column index i replaced by m[i].
func (e *Expr) Remap(m map[int]int) *Expr {
	switch e.Kind {
	case ExprColumn:
		c := *e
		c.Index = m[e.Index]
		return &c
	case ExprCall:
		c := *e
		c.Args = make([]*Expr, len(e.Args))
		for i, a := range e.Args {
			c.Args[i] = a.Remap(m)
		}
		return &c
	}
	return e
}

// Substitute returns e with every column i replaced by the expression subs[i].
func (e *Expr) Substitute(subs []*Expr) *Expr {
	switch e.Kind {
	case ExprColumn:
		return subs[e.Index]
	case ExprCall:
		c := *e
		c.Args = make([]*Expr, len(e.Args))
		for i, a := range e.Args {
			c.Args[i] = a.Substitute(subs)
		}
		return &c
	}
	return e
}

// Equal reports structural equality.
func (e *Expr) Equal(o *Expr) bool {
	if e == nil || o == nil {
		return e == o
	}
	if e.Kind != o.Kind || e.Type != o.Type || e.Name != o.Name || e.Index != o.Index || e.Value != o.Value || e.Hex != o.Hex || len(e.Args) != len(o.Args) || e.Sub != o.Sub {
		return false
	}
	for i := range e.Args {
		if !e.Args[i].Equal(o.Args[i]) {
			return false
		}
	}
	return true
}

// String prints the expression in SQL-like form for EXPLAIN.
func (e *Expr) String() string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

var infix = map[string]bool{
	"+": true, "-": true, "*": true, "/": true, "div": true, "%": true,
	"=": true, "<>": true, "<": true, "<=": true, ">": true, ">=": true, "<=>": true,
	"and": true, "or": true, "xor": true, "like": true,
}

func (e *Expr) write(b *strings.Builder) {
	switch e.Kind {
	case ExprColumn:
		if e.Name != "" {
			b.WriteString(e.Name)
		} else {
			fmt.Fprintf(b, "#%d", e.Index)
		}
	case ExprLiteral:
		b.WriteString(FormatLiteral(e.Value, e.Type))
	case ExprCall:
		if infix[e.Name] && len(e.Args) == 2 {
			b.WriteByte('(')
			e.Args[0].write(b)
			b.WriteString(" " + strings.ToUpper(e.Name) + " ")
			e.Args[1].write(b)
			b.WriteByte(')')
			return
		}
		if e.Name == "cast" {
			b.WriteString("CAST(")
			e.Args[0].write(b)
			b.WriteString(" AS " + e.Type.String() + ")")
			return
		}
		b.WriteString(strings.ToUpper(e.Name))
		b.WriteByte('(')
		for i, a := range e.Args {
			if i > 0 {
				b.WriteString(", ")
			}
			a.write(b)
		}
		b.WriteByte(')')
	}
}

// FormatLiteral prints a constant as a SQL literal.
func FormatLiteral(v Value, t Type) string {
	if v.Null {
		return "NULL"
	}
	switch t.Kind {
	case KindBool:
		if v.I != 0 {
			return "TRUE"
		}
		return "FALSE"
	case KindInt:
		return strconv.FormatInt(v.I, 10)
	case KindUint:
		return strconv.FormatUint(v.U, 10)
	case KindFloat:
		if math.IsInf(v.F, 0) || math.IsNaN(v.F) {
			return fmt.Sprint(v.F)
		}
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case KindDecimal:
		return v.Dec().ToString(int32(t.Scale))
	case KindString:
		return "'" + strings.ReplaceAll(v.S, "'", "''") + "'"
	case KindDate:
		return "DATE '" + FormatDate(int32(v.I)) + "'"
	case KindDatetime:
		return "TIMESTAMP '" + FormatDatetime(v.I) + "'"
	}
	return "?"
}

// Rewrite returns e with f applied to every node, children first.
func (e *Expr) Rewrite(f func(*Expr) (*Expr, error)) (*Expr, error) {
	if e == nil {
		return nil, nil
	}
	if e.Kind == ExprCall && len(e.Args) > 0 {
		c := *e
		c.Args = make([]*Expr, len(e.Args))
		for i, a := range e.Args {
			r, err := a.Rewrite(f)
			if err != nil {
				return nil, err
			}
			c.Args[i] = r
		}
		e = &c
	}
	return f(e)
}
