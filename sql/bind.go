package sql

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"

	"github.com/quernsql/quern/planner"
)

// restore prints an AST node back as SQL text.
func restore(n ast.Node) string {
	var sb strings.Builder
	ctx := format.NewRestoreCtx(format.DefaultRestoreFlags&^format.RestoreNameBackQuotes|format.RestoreStringSingleQuotes, &sb)
	if err := n.Restore(ctx); err != nil {
		return fmt.Sprintf("%T", n)
	}
	return sb.String()
}

// fieldName is the column name MySQL gives a select item without an alias:
// the column's own name, else the expression as written.
func (b *binder) fieldName(f *ast.SelectField) string {
	if f.AsName.O != "" {
		return f.AsName.O
	}
	if c, ok := f.Expr.(*ast.ColumnNameExpr); ok {
		return c.Name.Name.O
	}
	if t := strings.TrimSpace(f.Text()); t != "" {
		return t
	}
	return restore(f.Expr)
}

// findWord locates an identifier in the statement text for errors about
// nodes the parser gave no position.
func (b *binder) findWord(w string) (int, int) {
	if i := strings.Index(b.src, w); i >= 0 {
		if i > 0 && b.src[i-1] == '`' {
			i--
		}
		return position(b.src, i)
	}
	return 0, 0
}

type selectItem struct {
	name string
	ast  ast.ExprNode // nil for columns expanded from *
	expr *planner.Expr
}

func (b *binder) selectStmt(sel *ast.SelectStmt) (planner.Node, error) {
	if err := b.withClause(sel.With); err != nil {
		return nil, err
	}
	if sel.SelectIntoOpt != nil {
		return nil, b.unsupported(sel, "SELECT INTO")
	}
	if len(sel.WindowSpecs) > 0 {
		return nil, b.unsupported(sel, "window")
	}
	if sel.Kind != ast.SelectStmtKindSelect {
		return nil, b.unsupported(sel, "this SELECT form")
	}
	input, sc, err := b.fromClause(sel)
	if err != nil {
		return nil, err
	}
	fs := &fromState{node: input, scope: sc}
	if sel.Where != nil {
		x := &exprBinder{b: b, scope: sc, where: "WHERE", from: fs}
		cond, err := x.bind(sel.Where)
		if err != nil {
			return nil, err
		}
		fs.node = &planner.Filter{Input: fs.node, Cond: asCondition(cond)}
	}
	input = fs.node

	// Select items, with * expanded.
	var fields []*ast.SelectField
	var items []selectItem
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			tbl := f.WildCard.Table.O
			n := 0
			for i, c := range sc.cols {
				if sc.isHidden(i) {
					continue
				}
				if tbl == "" || strings.EqualFold(c.Table, tbl) {
					items = append(items, selectItem{name: c.Name, expr: planner.Col(i, c.Name, c.Type)})
					fields = append(fields, nil)
					n++
				}
			}
			if n == 0 {
				return nil, b.errAt(f, ErrName, "unknown table '%s' in select list", tbl)
			}
			continue
		}
		items = append(items, selectItem{name: b.fieldName(f), ast: f.Expr})
		fields = append(fields, f)
	}

	aggregating := sel.GroupBy != nil || sel.Having != nil || hasAggregate(sel)
	if aggregating {
		return b.aggregateQuery(sel, input, sc, items)
	}
	x := &exprBinder{b: b, scope: sc, where: "field list"}
	if sel.Distinct {
		return b.distinctQuery(sel, input, items, x.bind)
	}
	x.from = fs
	for i := range items {
		if items[i].expr == nil {
			e, err := x.bind(items[i].ast)
			if err != nil {
				return nil, err
			}
			items[i].expr = e
		}
	}
	// ORDER BY may decorrelate too; the projection is built after it.
	ox := &exprBinder{b: b, scope: sc, where: "ORDER BY", from: fs}
	return b.finishFrom(sel, fs, items, func(n ast.ExprNode) (*planner.Expr, error) { return ox.bind(n) })
}

// finishFrom is finish over an input that binding ORDER BY may still
// extend (a correlated subquery in ORDER BY).
func (b *binder) finishFrom(sel *ast.SelectStmt, fs *fromState, items []selectItem, bindOrder func(ast.ExprNode) (*planner.Expr, error)) (planner.Node, error) {
	return b.finishWith(sel, func() planner.Node { return fs.node }, items, bindOrder)
}

// finish adds the projection, ORDER BY and LIMIT over input. bindOrder
// binds an ORDER BY expression that is not a select item.
func (b *binder) finish(sel *ast.SelectStmt, input planner.Node, items []selectItem, bindOrder func(ast.ExprNode) (*planner.Expr, error)) (planner.Node, error) {
	return b.finishWith(sel, func() planner.Node { return input }, items, bindOrder)
}

func (b *binder) finishWith(sel *ast.SelectStmt, inputOf func() planner.Node, items []selectItem, bindOrder func(ast.ExprNode) (*planner.Expr, error)) (planner.Node, error) {
	exprs := make([]*planner.Expr, len(items))
	names := make([]string, len(items))
	for i, it := range items {
		exprs[i], names[i] = it.expr, it.name
	}
	width := len(exprs)
	var keys []planner.SortKey
	if sel.OrderBy != nil {
		for _, by := range sel.OrderBy.Items {
			col, err := b.orderColumn(by.Expr, items, func(n ast.ExprNode) (*planner.Expr, error) {
				e, err := bindOrder(n)
				if err != nil {
					return nil, err
				}
				for i, x := range exprs {
					if x.Equal(e) {
						return planner.Col(i, names[i], x.Type), nil
					}
				}
				exprs = append(exprs, e)
				names = append(names, restore(n))
				return planner.Col(len(exprs)-1, "", e.Type), nil
			})
			if err != nil {
				return nil, err
			}
			keys = append(keys, planner.SortKey{Col: col, Desc: by.Desc})
		}
	}
	var node planner.Node = &planner.Project{Input: inputOf(), Exprs: exprs, Names: names}
	if len(keys) > 0 {
		node = &planner.Sort{Input: node, Keys: keys}
	}
	if sel.Limit != nil {
		lim, err := b.limit(sel.Limit)
		if err != nil {
			return nil, err
		}
		node = lim(node)
	}
	if len(exprs) > width {
		// Drop the hidden ORDER BY columns.
		out := make([]*planner.Expr, width)
		s := node.Schema()
		for i := range out {
			out[i] = planner.Col(i, s[i].Name, s[i].Type)
		}
		node = &planner.Project{Input: node, Exprs: out, Names: names[:width]}
	}
	return node, nil
}

// orderColumn resolves one ORDER BY item to an output column: an ordinal,
// a select alias, or an expression (added as a hidden column by bind).
func (b *binder) orderColumn(n ast.ExprNode, items []selectItem, bind func(ast.ExprNode) (*planner.Expr, error)) (int, error) {
	if pos, ok := n.(*ast.PositionExpr); ok {
		if pos.P != nil {
			return 0, b.unsupported(n, "parameter in ORDER BY")
		}
		if pos.N < 1 || pos.N > len(items) {
			return 0, b.errAt(n, ErrName, "unknown column '%d' in ORDER BY", pos.N)
		}
		return pos.N - 1, nil
	}
	if c, ok := n.(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" {
		match := -1
		for i, it := range items {
			if it.ast != nil && strings.EqualFold(it.name, c.Name.Name.O) {
				if match >= 0 && !items[match].expr.Equal(it.expr) {
					return 0, b.errAt(n, ErrName, "column '%s' in ORDER BY is ambiguous", c.Name.Name.O)
				}
				if match < 0 {
					match = i
				}
			}
		}
		if match >= 0 {
			return match, nil
		}
	}
	e, err := bind(n)
	if err != nil {
		return 0, err
	}
	return e.Index, nil
}

func (b *binder) limit(l *ast.Limit) (func(planner.Node) planner.Node, error) {
	count, ok := intLiteral(l.Count)
	if !ok {
		return nil, b.unsupported(l.Count, "LIMIT that is not an integer literal")
	}
	var off int64
	if l.Offset != nil {
		if off, ok = intLiteral(l.Offset); !ok {
			return nil, b.unsupported(l.Offset, "OFFSET that is not an integer literal")
		}
	}
	return func(n planner.Node) planner.Node { return &planner.Limit{Input: n, Offset: off, Count: count} }, nil
}

func hasAggregate(sel *ast.SelectStmt) bool {
	v := &aggFinder{}
	for _, f := range sel.Fields.Fields {
		if f.Expr != nil {
			f.Expr.Accept(v)
		}
	}
	if sel.OrderBy != nil {
		for _, by := range sel.OrderBy.Items {
			by.Expr.Accept(v)
		}
	}
	return v.found
}

type aggFinder struct{ found bool }

func (v *aggFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch f := n.(type) {
	case *ast.AggregateFuncExpr:
		v.found = true
		return n, true
	case *ast.FuncCallExpr:
		if _, isAgg := planner.Aggregates[f.FnName.L]; isAgg && !planner.KnownFunction(f.FnName.L) {
			v.found = true
			return n, true
		}
	case *ast.SubqueryExpr:
		return n, true
	}
	return n, false
}
func (v *aggFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// distinctQuery plans SELECT DISTINCT as a GROUP BY on every select item.
func (b *binder) distinctQuery(sel *ast.SelectStmt, input planner.Node, items []selectItem, bind func(ast.ExprNode) (*planner.Expr, error)) (planner.Node, error) {
	groups := make([]*planner.Expr, len(items))
	names := make([]string, len(items))
	for i := range items {
		if items[i].expr == nil {
			e, err := bind(items[i].ast)
			if err != nil {
				return nil, err
			}
			items[i].expr = e
		}
		groups[i], names[i] = items[i].expr, items[i].name
	}
	agg := &planner.Aggregate{Input: input, Groups: groups, Names: names}
	out := make([]selectItem, len(items))
	for i, it := range items {
		out[i] = selectItem{name: it.name, ast: it.ast, expr: planner.Col(i, it.name, it.expr.Type)}
	}
	return b.finish(sel, agg, out, func(n ast.ExprNode) (*planner.Expr, error) {
		e, err := bind(n)
		if err != nil {
			return nil, err
		}
		for i, g := range groups {
			if g.Equal(e) {
				return planner.Col(i, names[i], g.Type), nil
			}
		}
		return nil, b.errAt(n, ErrType, "ORDER BY term %s is not in the select list of SELECT DISTINCT", restore(n))
	})
}

// aggregateQuery plans a query with GROUP BY or aggregates: Aggregate over
// the input, then HAVING, the select list and ORDER BY over its output.
func (b *binder) aggregateQuery(sel *ast.SelectStmt, input planner.Node, sc *scope, items []selectItem) (planner.Node, error) {
	aggs := &aggCollector{}
	gx := &exprBinder{b: b, scope: sc, where: "GROUP BY"}
	var groups []*planner.Expr
	var groupNames []string
	if sel.GroupBy != nil {
		if sel.GroupBy.Rollup {
			return nil, b.unsupported(sel.GroupBy, "WITH ROLLUP")
		}
		for _, by := range sel.GroupBy.Items {
			e, name, err := b.groupItem(by.Expr, items, sc, gx)
			if err != nil {
				return nil, err
			}
			dup := false
			for _, g := range groups {
				dup = dup || g.Equal(e)
			}
			if !dup {
				groups = append(groups, e)
				groupNames = append(groupNames, name)
			}
		}
	}
	// Bind every expression over the input, collecting aggregates.
	ax := &exprBinder{b: b, scope: sc, aggs: aggs, where: "field list"}
	raw := make([]*planner.Expr, len(items))
	for i, it := range items {
		if it.expr != nil {
			raw[i] = it.expr
			continue
		}
		e, err := ax.bind(it.ast)
		if err != nil {
			return nil, err
		}
		raw[i] = e
	}
	var having *planner.Expr
	if sel.Having != nil {
		hx := &exprBinder{b: b, scope: sc, aggs: aggs, where: "HAVING"}
		e, err := b.bindWithAliases(sel.Having.Expr, items, raw, hx)
		if err != nil {
			return nil, err
		}
		having = e
	}
	// ORDER BY expressions that are not select items are bound now too, so
	// their aggregates are computed with the rest.
	type orderExpr struct {
		n ast.ExprNode
		e *planner.Expr
	}
	var orderExprs []orderExpr
	if sel.OrderBy != nil {
		ox := &exprBinder{b: b, scope: sc, aggs: aggs, where: "ORDER BY"}
		for _, by := range sel.OrderBy.Items {
			if isItemRef(by.Expr, items) {
				continue
			}
			e, err := ox.bind(by.Expr)
			if err != nil {
				return nil, err
			}
			orderExprs = append(orderExprs, orderExpr{by.Expr, e})
		}
	}

	agg := &planner.Aggregate{Input: input, Groups: groups, Names: groupNames, Aggs: nil}
	lift := func(n ast.Node, e *planner.Expr) (*planner.Expr, error) {
		return b.lift(n, e, groups, groupNames, aggs, sc)
	}
	out := make([]selectItem, len(items))
	for i, it := range items {
		e, err := lift(it.ast, raw[i])
		if err != nil {
			return nil, err
		}
		out[i] = selectItem{name: it.name, ast: it.ast, expr: e}
	}
	var liftedHaving *planner.Expr
	if having != nil {
		e, err := lift(sel.Having.Expr, having)
		if err != nil {
			return nil, err
		}
		liftedHaving = e
	}
	lifted := map[ast.ExprNode]*planner.Expr{}
	for _, o := range orderExprs {
		e, err := lift(o.n, o.e)
		if err != nil {
			return nil, err
		}
		lifted[o.n] = e
	}
	agg.Aggs = aggs.calls
	var node planner.Node = agg
	if liftedHaving != nil {
		node = &planner.Filter{Input: node, Cond: asCondition(liftedHaving)}
	}
	if sel.Distinct {
		// SELECT DISTINCT over groups: a second aggregation on the
		// selected values.
		exprs := make([]*planner.Expr, len(out))
		names := make([]string, len(out))
		for i, it := range out {
			exprs[i], names[i] = it.expr, it.name
		}
		proj := &planner.Project{Input: node, Exprs: exprs, Names: names}
		refs := make([]selectItem, len(out))
		for i, it := range out {
			refs[i] = selectItem{name: it.name, ast: it.ast, expr: planner.Col(i, it.name, it.expr.Type)}
		}
		return b.distinctQuery(sel, proj, refs, func(n ast.ExprNode) (*planner.Expr, error) {
			e, ok := lifted[n]
			if !ok {
				return nil, b.errAt(n, ErrType, "ORDER BY term %s is not in the select list of SELECT DISTINCT", restore(n))
			}
			for i, x := range exprs {
				if x.Equal(e) {
					return planner.Col(i, names[i], x.Type), nil
				}
			}
			return nil, b.errAt(n, ErrType, "ORDER BY term %s is not in the select list of SELECT DISTINCT", restore(n))
		})
	}
	return b.finish(sel, node, out, func(n ast.ExprNode) (*planner.Expr, error) {
		if e, ok := lifted[n]; ok {
			return e, nil
		}
		return nil, b.errAt(n, ErrType, "internal: ORDER BY term %s was not bound", restore(n))
	})
}

func isItemRef(n ast.ExprNode, items []selectItem) bool {
	if _, ok := n.(*ast.PositionExpr); ok {
		return true
	}
	if c, ok := n.(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" {
		for _, it := range items {
			if it.ast != nil && strings.EqualFold(it.name, c.Name.Name.O) {
				return true
			}
		}
	}
	return false
}

// groupItem binds a GROUP BY item: an ordinal, a column of the input, or
// (as MySQL allows) a select alias, or an expression.
func (b *binder) groupItem(n ast.ExprNode, items []selectItem, sc *scope, gx *exprBinder) (*planner.Expr, string, error) {
	if pos, ok := n.(*ast.PositionExpr); ok {
		if pos.N < 1 || pos.N > len(items) {
			return nil, "", b.errAt(n, ErrName, "unknown column '%d' in GROUP BY", pos.N)
		}
		it := items[pos.N-1]
		if it.expr != nil {
			return it.expr, it.name, nil
		}
		if hasAggregateExpr(it.ast) {
			return nil, "", b.errAt(n, ErrType, "cannot group on '%s'", it.name)
		}
		e, err := gx.bind(it.ast)
		return e, it.name, err
	}
	if c, ok := n.(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" {
		inInput := false
		for _, col := range sc.cols {
			inInput = inInput || strings.EqualFold(col.Name, c.Name.Name.O)
		}
		if !inInput {
			for _, it := range items {
				if it.ast != nil && strings.EqualFold(it.name, c.Name.Name.O) {
					if hasAggregateExpr(it.ast) {
						return nil, "", b.errAt(n, ErrType, "cannot group on '%s'", it.name)
					}
					e, err := gx.bind(it.ast)
					return e, it.name, err
				}
			}
		}
	}
	e, err := gx.bind(n)
	if err != nil {
		return nil, "", err
	}
	name := restore(n)
	if c, ok := n.(*ast.ColumnNameExpr); ok {
		name = c.Name.Name.O
	}
	return e, name, nil
}

func hasAggregateExpr(n ast.ExprNode) bool {
	v := &aggFinder{}
	n.Accept(v)
	return v.found
}

// bindWithAliases binds a HAVING expression in which a bare name may be a
// select alias (MySQL resolves HAVING names against the select list first).
func (b *binder) bindWithAliases(n ast.ExprNode, items []selectItem, raw []*planner.Expr, x *exprBinder) (*planner.Expr, error) {
	sc := *x.scope
	ext := &scope{cols: append(planner.Schema(nil), sc.cols...)}
	aliasAt := map[int]*planner.Expr{}
	for i, it := range items {
		if it.ast == nil {
			continue
		}
		if _, isCol := it.ast.(*ast.ColumnNameExpr); isCol && strings.EqualFold(restore(it.ast), it.name) {
			continue
		}
		shadow := false
		for _, c := range sc.cols {
			shadow = shadow || strings.EqualFold(c.Name, it.name)
		}
		if shadow {
			continue
		}
		aliasAt[len(ext.cols)] = raw[i]
		ext.cols = append(ext.cols, planner.Column{Name: it.name, Type: raw[i].Type})
	}
	if len(aliasAt) == 0 {
		return x.bind(n)
	}
	hx := &exprBinder{b: b, scope: ext, aggs: x.aggs, where: x.where}
	e, err := hx.bind(n)
	if err != nil {
		return nil, err
	}
	return substituteAliases(e, aliasAt), nil
}

func substituteAliases(e *planner.Expr, at map[int]*planner.Expr) *planner.Expr {
	switch e.Kind {
	case planner.ExprColumn:
		if r, ok := at[e.Index]; ok {
			return r
		}
	case planner.ExprCall:
		c := *e
		c.Args = make([]*planner.Expr, len(e.Args))
		for i, a := range e.Args {
			c.Args[i] = substituteAliases(a, at)
		}
		return &c
	}
	return e
}

// lift rewrites an expression bound over the input into one over the
// Aggregate's output: group expressions become group columns, aggregate
// placeholders become aggregate columns. A column that is neither grouped
// nor inside an aggregate is an error under ONLY_FULL_GROUP_BY and an
// ANY_VALUE otherwise, as in MySQL.
func (b *binder) lift(n ast.Node, e *planner.Expr, groups []*planner.Expr, names []string, aggs *aggCollector, sc *scope) (*planner.Expr, error) {
	for i, g := range groups {
		if g.Equal(e) {
			return planner.Col(i, names[i], g.Type), nil
		}
	}
	switch e.Kind {
	case planner.ExprLiteral:
		return e, nil
	case planner.ExprColumn:
		if b.s.onlyFullGroupBy() {
			err := b.errAt(n, ErrType, "expression '%s' is neither in GROUP BY nor inside an aggregate (sql_mode=only_full_group_by)", e.Name)
			if err.Line == 0 {
				err.Line, err.Col = b.findWord(e.Name)
			}
			return nil, err
		}
		p := aggs.add(planner.AggCall{Func: "any_value", Args: []*planner.Expr{e}, Type: e.Type, Name: e.Name})
		return planner.Col(len(groups)+p.Index, e.Name, e.Type), nil
	case planner.ExprCall:
		if e.Name == aggPlaceholder {
			return planner.Col(len(groups)+e.Index, aggs.calls[e.Index].Name, e.Type), nil
		}
		c := *e
		c.Args = make([]*planner.Expr, len(e.Args))
		for i, a := range e.Args {
			la, err := b.lift(n, a, groups, names, aggs, sc)
			if err != nil {
				return nil, err
			}
			c.Args[i] = la
		}
		return &c, nil
	}
	return e, nil
}

// asCondition makes a WHERE/HAVING/ON expression boolean the way MySQL
// reads it: a number is true when it is not 0, a string when its numeric
// value is not 0.
func asCondition(e *planner.Expr) *planner.Expr {
	if e.Type.Kind == planner.KindBool {
		return e
	}
	return planner.Cast(e, planner.Bool)
}
