package sql

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/quernsql/quern/planner"
)

// scope is the set of columns an expression may name.
type scope struct {
	cols planner.Schema
	// hidden columns (the right side of USING/NATURAL) are left out of *
	// and of unqualified name lookups.
	hidden []bool
}

// aggCollector gathers the aggregates of a query while its expressions are
// bound; a bound aggregate is a placeholder call "$agg" whose Index names
// the collected call.
type aggCollector struct {
	calls []planner.AggCall
}

const aggPlaceholder = "$agg"

func (c *aggCollector) add(call planner.AggCall) *planner.Expr {
	for i, a := range c.calls {
		if a.Equal(call) {
			return &planner.Expr{Kind: planner.ExprCall, Name: aggPlaceholder, Index: i, Type: a.Type}
		}
	}
	c.calls = append(c.calls, call)
	return &planner.Expr{Kind: planner.ExprCall, Name: aggPlaceholder, Index: len(c.calls) - 1, Type: call.Type}
}

func exprsEqual(a, b []*planner.Expr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// exprBinder binds AST expressions against a scope. aggs is nil where
// aggregates are not allowed (WHERE, GROUP BY, inside another aggregate).
type exprBinder struct {
	b     *binder
	scope *scope
	aggs  *aggCollector
	// where names the clause for error messages ("WHERE", "GROUP BY").
	where string
	// from is the query's input, which decorrelating a subquery extends
	// (nil where that is not possible).
	from  *fromState
	depth int
}

// maxExprDepth bounds expression nesting, so that a machine-made query
// gets a clear error instead of exhausting the stack.
const maxExprDepth = 1000

func (x *exprBinder) bind(n ast.ExprNode) (*planner.Expr, error) {
	x.depth++
	defer func() { x.depth-- }()
	if x.depth > maxExprDepth {
		return nil, x.b.errAt(n, ErrUnsupported, "not supported: expression nested more than %d levels deep", maxExprDepth)
	}
	switch e := n.(type) {
	case *ast.ParenthesesExpr:
		return x.bind(e.Expr)
	case *test_driver.ValueExpr:
		return x.literal(e)
	case *ast.ColumnNameExpr:
		return x.column(e)
	case *ast.BinaryOperationExpr:
		return x.binary(e)
	case *ast.UnaryOperationExpr:
		return x.unary(e)
	case *ast.IsNullExpr:
		fn := "isnull"
		if e.Not {
			fn = "isnotnull"
		}
		return x.predicate(n, false, fn, e.Expr)
	case *ast.IsTruthExpr:
		fn := "istrue"
		if e.True == 0 {
			fn = "isfalse"
		}
		return x.predicate(n, e.Not, fn, e.Expr)
	case *ast.PatternInExpr:
		if e.Sel != nil {
			lhs, err := x.bind(e.Expr)
			if err != nil {
				return nil, err
			}
			plan, err := x.subquery(e.Sel, 1)
			if err != nil {
				return nil, err
			}
			if hasOuterRefs(plan) {
				return nil, x.b.unsupported(e.Sel, "correlated IN subquery")
			}
			r := &planner.Expr{Kind: planner.ExprCall, Name: planner.InSubquery, Type: planner.Bool, Args: []*planner.Expr{lhs}, Sub: plan}
			return x.negate(n, e.Not, r, nil)
		}
		return x.predicate(n, e.Not, "in", append([]ast.ExprNode{e.Expr}, e.List...)...)
	case *ast.BetweenExpr:
		args, err := x.bindAll(e.Expr, e.Left, e.Right)
		if err != nil {
			return nil, err
		}
		ge, err := x.call(n, ">=", args[0], args[1])
		if err != nil {
			return nil, err
		}
		le, err := x.call(n, "<=", args[0], args[2])
		if err != nil {
			return nil, err
		}
		r, err := x.call(n, "and", ge, le)
		return x.negate(n, e.Not, r, err)
	case *ast.PatternLikeOrIlikeExpr:
		if !e.IsLike {
			return nil, x.b.unsupported(n, "ILIKE")
		}
		args, err := x.bindAll(e.Expr, e.Pattern)
		if err != nil {
			return nil, err
		}
		esc := planner.Lit(planner.Value{S: string([]byte{e.Escape})}, planner.String)
		r, err := x.call(n, "like", args[0], args[1], esc)
		return x.negate(n, e.Not, r, err)
	case *ast.PatternRegexpExpr:
		return x.predicate(n, e.Not, "regexp", e.Expr, e.Pattern)
	case *ast.CaseExpr:
		return x.caseExpr(e)
	case *ast.FuncCallExpr:
		return x.funcCall(e)
	case *ast.FuncCastExpr:
		return x.cast(e)
	case *ast.AggregateFuncExpr:
		return x.aggregate(e)
	case *ast.SubqueryExpr:
		plan, err := x.subquery(e, 1)
		if err != nil {
			return nil, err
		}
		if hasOuterRefs(plan) {
			return x.decorrelate(e, plan, false)
		}
		return &planner.Expr{Kind: planner.ExprCall, Name: planner.ScalarSubquery, Type: plan.Schema()[0].Type, Sub: plan}, nil
	case *ast.ExistsSubqueryExpr:
		plan, err := x.subquery(e.Sel, -1)
		if err != nil {
			return nil, err
		}
		var r *planner.Expr
		if hasOuterRefs(plan) {
			if r, err = x.decorrelate(e, plan, true); err != nil {
				return nil, err
			}
		} else {
			r = &planner.Expr{Kind: planner.ExprCall, Name: planner.ExistsSubquery, Type: planner.Bool, Sub: plan}
		}
		return x.negate(n, e.Not, r, nil)
	case *ast.CompareSubqueryExpr:
		return nil, x.b.unsupported(n, "ANY/ALL subquery")
	case *ast.RowExpr:
		return nil, x.b.unsupported(n, "row constructor")
	case *ast.WindowFuncExpr:
		return nil, x.b.unsupported(n, "window function")
	case *ast.VariableExpr:
		return nil, x.b.unsupported(n, "variable @"+e.Name)
	case *ast.DefaultExpr:
		return nil, x.b.unsupported(n, "DEFAULT")
	}
	return nil, x.b.unsupported(n, fmt.Sprintf("expression %s", restore(n)))
}

// bindAll binds several expressions.
func (x *exprBinder) bindAll(ns ...ast.ExprNode) ([]*planner.Expr, error) {
	out := make([]*planner.Expr, len(ns))
	for i, a := range ns {
		e, err := x.bind(a)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// predicate binds fn(args…), under NOT when not is set (x NOT LIKE p …).
func (x *exprBinder) predicate(n ast.Node, not bool, fn string, args ...ast.ExprNode) (*planner.Expr, error) {
	bound, err := x.bindAll(args...)
	if err != nil {
		return nil, err
	}
	r, err := x.call(n, fn, bound...)
	return x.negate(n, not, r, err)
}

// negate wraps r in NOT when not is set; it passes an error through.
func (x *exprBinder) negate(n ast.Node, not bool, r *planner.Expr, err error) (*planner.Expr, error) {
	if err != nil || !not {
		return r, err
	}
	return x.call(n, "not", r)
}

func (x *exprBinder) call(n ast.Node, fn string, args ...*planner.Expr) (*planner.Expr, error) {
	e, err := planner.ResolveCall(fn, args)
	if err != nil {
		return nil, x.wrap(n, err)
	}
	if fn == "/" {
		e = planner.DivideWith(e, x.b.s.DivPrecisionIncrement)
	}
	return e, nil
}

// wrap attaches the node's position to an error from the planner.
func (x *exprBinder) wrap(n ast.Node, err error) error {
	if _, ok := err.(*Error); ok {
		return err
	}
	kind := ErrType
	msg := err.Error()
	if strings.HasPrefix(msg, "not supported") {
		kind = ErrUnsupported
	}
	e := x.b.errAt(n, kind, "%s", msg)
	if kind == ErrUnsupported && strings.HasPrefix(msg, "not supported: function ") {
		name := strings.ToLower(strings.TrimPrefix(msg, "not supported: function "))
		cands := append(planner.FunctionNames(), planner.AggNames()...)
		if s := nearest(name, cands); s != "" {
			e.Hint = fmt.Sprintf("did you mean %s?", strings.ToUpper(s))
		}
	}
	return e
}

func (x *exprBinder) column(e *ast.ColumnNameExpr) (*planner.Expr, error) {
	name := e.Name.Name.O
	table := e.Name.Table.O
	found := -1
	for i, c := range x.scope.cols {
		if !strings.EqualFold(c.Name, name) {
			continue
		}
		if table != "" && !strings.EqualFold(c.Table, table) {
			continue
		}
		if table == "" && x.scope.isHidden(i) {
			continue
		}
		if found >= 0 {
			return nil, x.b.errAt(e, ErrName, "column '%s' is ambiguous", name)
		}
		found = i
	}
	if found < 0 && x.b.outer != nil {
		if i := x.b.outer.lookup(name, table); i >= 0 && i < x.b.outerDirect {
			// A correlated reference: a placeholder the decorrelation
			// rewrites (or rejects).
			c := x.b.outer.cols[i]
			return &planner.Expr{Kind: planner.ExprCall, Name: outerRef, Index: i, Type: c.Type, Args: nil}, nil
		}
		if x.b.outer.resolves(name, table) {
			return nil, x.b.unsupported(e, "correlated subquery (it reads "+e.Name.String()+" of the outer query)")
		}
	}
	if found < 0 {
		full := name
		if table != "" {
			full = table + "." + name
		}
		err := x.b.errAt(e, ErrName, "unknown column '%s' in %s", full, x.where)
		names := make([]string, len(x.scope.cols))
		for i, c := range x.scope.cols {
			names[i] = c.Name
		}
		if s := nearest(name, names); s != "" {
			err.Hint = fmt.Sprintf("did you mean '%s'?", s)
		}
		return nil, err
	}
	c := x.scope.cols[found]
	return planner.Col(found, c.Name, c.Type), nil
}

func (x *exprBinder) literal(v *test_driver.ValueExpr) (*planner.Expr, error) {
	d := &v.Datum
	switch d.Kind() {
	case test_driver.KindNull:
		return planner.NullLit(planner.Null), nil
	case test_driver.KindInt64:
		return planner.Lit(planner.Value{I: d.GetInt64()}, planner.Int), nil
	case test_driver.KindUint64:
		return planner.Lit(planner.Value{U: d.GetUint64()}, planner.Uint), nil
	case test_driver.KindFloat32, test_driver.KindFloat64:
		return planner.Lit(planner.Value{F: d.GetFloat64()}, planner.Float), nil
	case test_driver.KindString, test_driver.KindBytes:
		return planner.Lit(planner.Value{S: d.GetString()}, planner.String), nil
	case test_driver.KindMysqlDecimal:
		return decimalLiteral(d.GetMysqlDecimal().String())
	case test_driver.KindBinaryLiteral:
		lit := planner.Lit(planner.Value{S: string(d.GetBinaryLiteral())}, planner.String)
		lit.Hex = true
		return lit, nil
	}
	return nil, x.b.unsupported(v, "literal "+restore(v))
}

// decimalLiteral types "12.50" as DECIMAL(4,2), as MySQL does.
func decimalLiteral(s string) (*planner.Expr, error) {
	digits := strings.TrimLeft(strings.TrimPrefix(s, "-"), "0")
	scale := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		scale = len(s) - i - 1
	}
	prec := len(strings.Replace(digits, ".", "", 1))
	if prec < scale {
		prec = scale
	}
	if prec == 0 {
		prec = 1
	}
	if prec > planner.MaxDecimalPrecision {
		return nil, fmt.Errorf("not supported: decimal literal %s wider than %d digits", s, planner.MaxDecimalPrecision)
	}
	n, err := decimal128.FromString(s, int32(prec), int32(scale))
	if err != nil {
		return nil, fmt.Errorf("bad decimal literal %s: %w", s, err)
	}
	return planner.Lit(planner.DecValue(n), planner.Decimal(prec, scale)), nil
}

var binaryOps = map[opcode.Op]string{
	opcode.LogicAnd: "and", opcode.LogicOr: "or", opcode.LogicXor: "xor",
	opcode.EQ: "=", opcode.NE: "<>", opcode.LT: "<", opcode.LE: "<=", opcode.GT: ">", opcode.GE: ">=",
	opcode.NullEQ: "<=>",
	opcode.Plus:   "+", opcode.Minus: "-", opcode.Mul: "*", opcode.Div: "/", opcode.IntDiv: "div", opcode.Mod: "%",
}

func (x *exprBinder) binary(e *ast.BinaryOperationExpr) (*planner.Expr, error) {
	fn, ok := binaryOps[e.Op]
	if !ok {
		return nil, x.b.unsupported(e, "operator "+e.Op.String())
	}
	l, err := x.bind(e.L)
	if err != nil {
		return nil, err
	}
	r, err := x.bind(e.R)
	if err != nil {
		return nil, err
	}
	return x.call(e, fn, l, r)
}

func (x *exprBinder) unary(e *ast.UnaryOperationExpr) (*planner.Expr, error) {
	arg, err := x.bind(e.V)
	if err != nil {
		return nil, err
	}
	switch e.Op {
	case opcode.Plus:
		return arg, nil
	case opcode.Minus:
		return x.call(e, "neg", arg)
	case opcode.Not, opcode.Not2:
		return x.call(e, "not", arg)
	}
	return nil, x.b.unsupported(e, "operator "+e.Op.String())
}

func (x *exprBinder) caseExpr(e *ast.CaseExpr) (*planner.Expr, error) {
	// CASE v WHEN a THEN … is CASE WHEN v = a THEN …; args alternate
	// condition, result, and end with the ELSE value when there is one.
	var value *planner.Expr
	if e.Value != nil {
		v, err := x.bind(e.Value)
		if err != nil {
			return nil, err
		}
		value = v
	}
	var args []*planner.Expr
	for _, w := range e.WhenClauses {
		cond, err := x.bind(w.Expr)
		if err != nil {
			return nil, err
		}
		if value != nil {
			if cond, err = x.call(w.Expr, "=", value, cond); err != nil {
				return nil, err
			}
		}
		res, err := x.bind(w.Result)
		if err != nil {
			return nil, err
		}
		args = append(args, cond, res)
	}
	if e.ElseClause != nil {
		el, err := x.bind(e.ElseClause)
		if err != nil {
			return nil, err
		}
		args = append(args, el)
	}
	return x.call(e, "case", args...)
}

func (x *exprBinder) funcCall(e *ast.FuncCallExpr) (*planner.Expr, error) {
	name := e.FnName.L
	switch name {
	case ast.DateLiteral, ast.TimestampLiteral, ast.TimeLiteral:
		s, ok := stringLiteral(e.Args[0])
		if !ok {
			return nil, x.b.errAt(e, ErrSyntax, "bad date literal")
		}
		return x.dateLiteral(e, name, s)
	case "date_add", "date_sub", "adddate", "subdate":
		if len(e.Args) == 3 {
			if u, ok := e.Args[2].(*ast.TimeUnitExpr); ok {
				d, err := x.bind(e.Args[0])
				if err != nil {
					return nil, err
				}
				n, err := x.bind(e.Args[1])
				if err != nil {
					return nil, err
				}
				fn := "date_add"
				if name == "date_sub" || name == "subdate" {
					fn = "date_sub"
				}
				unit := planner.Lit(planner.Value{S: strings.ToLower(u.Unit.String())}, planner.String)
				return x.call(e, fn, d, n, unit)
			}
		}
	}
	if name == "trim" {
		for i, a := range e.Args {
			d, ok := a.(*ast.TrimDirectionExpr)
			if !ok {
				continue
			}
			fn := map[ast.TrimDirectionType]string{ast.TrimLeading: "ltrim", ast.TrimTrailing: "rtrim"}[d.Direction]
			if fn == "" {
				fn = "trim"
			}
			var args []*planner.Expr
			for j, a := range e.Args {
				if j == i || a == nil {
					continue
				}
				if v, ok := a.(*test_driver.ValueExpr); ok && v.Datum.Kind() == test_driver.KindNull && j > 0 {
					continue
				}
				b, err := x.bind(a)
				if err != nil {
					return nil, err
				}
				args = append(args, b)
			}
			return x.call(e, fn, args...)
		}
	}
	if _, isAgg := planner.Aggregates[name]; isAgg && !planner.KnownFunction(name) {
		// ANY_VALUE and friends reach the binder as plain calls.
		return x.aggregate(&ast.AggregateFuncExpr{F: name, Args: e.Args})
	}
	args := make([]*planner.Expr, len(e.Args))
	for i, a := range e.Args {
		if u, ok := a.(*ast.TimeUnitExpr); ok {
			args[i] = planner.Lit(planner.Value{S: strings.ToLower(u.Unit.String())}, planner.String)
			continue
		}
		v, err := x.bind(a)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return x.call(e, name, args...)
}

func (x *exprBinder) dateLiteral(n ast.Node, kind, s string) (*planner.Expr, error) {
	switch kind {
	case ast.DateLiteral:
		t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
		if err != nil {
			return nil, x.b.errAt(n, ErrType, "incorrect DATE value: '%s'", s)
		}
		return planner.Lit(planner.Value{I: t.Unix() / 86400}, planner.Date), nil
	case ast.TimestampLiteral:
		for _, layout := range []string{"2006-01-02 15:04:05.999999", "2006-01-02 15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
				return planner.Lit(planner.Value{I: t.UnixMicro()}, planner.Datetime), nil
			}
		}
		return nil, x.b.errAt(n, ErrType, "incorrect DATETIME value: '%s'", s)
	}
	return nil, x.b.unsupported(n, "TIME literal")
}

func (x *exprBinder) cast(e *ast.FuncCastExpr) (*planner.Expr, error) {
	arg, err := x.bind(e.Expr)
	if err != nil {
		return nil, err
	}
	tp := e.Tp
	var t planner.Type
	switch tp.GetType() {
	case mysql.TypeLonglong, mysql.TypeLong, mysql.TypeInt24, mysql.TypeShort, mysql.TypeTiny:
		t = planner.Int
		if mysql.HasUnsignedFlag(tp.GetFlag()) {
			t = planner.Uint
		}
	case mysql.TypeNewDecimal:
		p, s := tp.GetFlen(), tp.GetDecimal()
		if p <= 0 {
			p = 10
		}
		if s < 0 {
			s = 0
		}
		if p > planner.MaxDecimalPrecision {
			return nil, x.b.unsupported(e, fmt.Sprintf("DECIMAL(%d,%d) wider than %d digits", p, s, planner.MaxDecimalPrecision))
		}
		t = planner.Decimal(p, s)
	case mysql.TypeDouble, mysql.TypeFloat:
		t = planner.Float
	case mysql.TypeVarString, mysql.TypeString, mysql.TypeVarchar, mysql.TypeBlob:
		t = planner.String
		if n := tp.GetFlen(); n > 0 {
			// CAST(x AS CHAR(n)) keeps the first n characters.
			c := planner.Cast(arg, t)
			return x.call(e, "left", c, planner.Lit(planner.Value{I: int64(n)}, planner.Int))
		}
	case mysql.TypeDate:
		t = planner.Date
	case mysql.TypeDatetime, mysql.TypeTimestamp:
		t = planner.Datetime
	default:
		return nil, x.b.unsupported(e, "CAST to "+tp.String())
	}
	return planner.Cast(arg, t), nil
}

func (x *exprBinder) aggregate(e *ast.AggregateFuncExpr) (*planner.Expr, error) {
	name := strings.ToLower(e.F)
	if x.aggs == nil {
		if x.where == "aggregate" {
			return nil, x.b.errAt(e, ErrType, "invalid use of an aggregate inside another aggregate: %s", restore(e))
		}
		return nil, x.b.errAt(e, ErrType, "invalid use of aggregate %s in %s", strings.ToUpper(name), x.where)
	}
	if name == "count" && len(e.Args) == 1 && !e.Distinct {
		if v, ok := e.Args[0].(*test_driver.ValueExpr); ok && v.Datum.Kind() != test_driver.KindNull {
			name = "count_star"
		}
	}
	def, ok := planner.Aggregates[name]
	if !ok || name == "count_star" && e.Distinct {
		return nil, x.b.unsupported(e, "aggregate "+strings.ToUpper(e.F))
	}
	if e.Order != nil && !def.Separator {
		return nil, x.b.unsupported(e, "ORDER BY inside "+strings.ToUpper(e.F))
	}
	inner := &exprBinder{b: x.b, scope: x.scope, where: "aggregate"}
	var args []*planner.Expr
	if name != "count_star" {
		for _, a := range e.Args {
			v, err := inner.bind(a)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		}
	}
	var orderDesc []bool
	if e.Order != nil && len(args) > 0 {
		// GROUP_CONCAT(x … ORDER BY k … SEPARATOR s): the keys go just
		// before the separator, the last argument.
		sep := args[len(args)-1]
		args = args[:len(args)-1]
		for _, by := range e.Order.Items {
			if pos, ok := by.Expr.(*ast.PositionExpr); ok {
				return nil, x.b.unsupported(pos, "ordinal in GROUP_CONCAT ORDER BY")
			}
			k, err := inner.bind(by.Expr)
			if err != nil {
				return nil, err
			}
			args = append(args, k)
			orderDesc = append(orderDesc, by.Desc)
		}
		args = append(args, sep)
	}
	if def.Arity >= 0 && len(args) != def.Arity {
		return nil, x.b.errAt(e, ErrType, "%s takes %d argument(s), got %d", strings.ToUpper(e.F), def.Arity, len(args))
	}
	call := planner.AggCall{Func: name, Args: args, Distinct: e.Distinct, OrderDesc: orderDesc}
	call.Name = call.String()
	t, err := def.Result(call.ArgTypes())
	if err == nil && name == "avg" {
		t, err = planner.AvgType(call.ArgTypes(), x.b.s.DivPrecisionIncrement)
	}
	if err != nil {
		return nil, x.wrap(e, err)
	}
	call.Type = t
	return x.aggs.add(call), nil
}

func stringLiteral(e ast.ExprNode) (string, bool) {
	v, ok := e.(*test_driver.ValueExpr)
	if !ok {
		return "", false
	}
	switch v.Datum.Kind() {
	case test_driver.KindString, test_driver.KindBytes:
		return v.Datum.GetString(), true
	}
	return "", false
}

// intLiteral reads a non-negative integer literal (LIMIT, ordinals).
func intLiteral(e ast.ExprNode) (int64, bool) {
	v, ok := e.(*test_driver.ValueExpr)
	if !ok {
		return 0, false
	}
	switch v.Datum.Kind() {
	case test_driver.KindInt64:
		return v.Datum.GetInt64(), true
	case test_driver.KindUint64:
		u := v.Datum.GetUint64()
		if u > 1<<62 {
			return 1 << 62, true
		}
		return int64(u), true
	}
	return 0, false
}

// lookup returns the position of a visible column, or -1.
func (s *scope) lookup(name, table string) int {
	for i, c := range s.cols {
		if strings.EqualFold(c.Name, name) && (table == "" && !s.isHidden(i) || strings.EqualFold(c.Table, table)) {
			return i
		}
	}
	return -1
}

// resolves reports whether a column name is visible in the scope.
func (s *scope) resolves(name, table string) bool {
	for i, c := range s.cols {
		if strings.EqualFold(c.Name, name) && (table == "" && !s.isHidden(i) || strings.EqualFold(c.Table, table)) {
			return true
		}
	}
	return false
}

// subquery binds a subquery in an expression; cols is the number of
// columns it must have (-1: any). A subquery that reads the outer query's
// columns (correlated) is not supported yet.
func (x *exprBinder) subquery(n ast.ExprNode, cols int) (planner.Node, error) {
	q, ok := n.(*ast.SubqueryExpr)
	if !ok {
		return nil, x.b.unsupported(n, "this subquery form")
	}
	outer := x.scope
	if x.b.outer != nil {
		// References may reach any enclosing query.
		outer = &scope{cols: append(append(planner.Schema(nil), x.scope.cols...), x.b.outer.cols...)}
	}
	sub := &binder{s: x.b.s, src: x.b.src, ctes: x.b.ctes, outer: outer, outerDirect: len(x.scope.cols)}
	var plan planner.Node
	var err error
	switch qq := q.Query.(type) {
	case *ast.SelectStmt:
		plan, err = sub.selectStmt(qq)
	case *ast.SetOprStmt:
		plan, err = sub.setOpr(qq)
	default:
		return nil, x.b.unsupported(n, "this subquery form")
	}
	if err != nil {
		return nil, err
	}
	if cols >= 0 && len(plan.Schema()) != cols {
		return nil, x.b.errAt(n, ErrType, "operand should contain %d column(s), the subquery returns %d", cols, len(plan.Schema()))
	}
	return plan, nil
}
