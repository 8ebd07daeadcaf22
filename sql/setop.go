package sql

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/quernsql/quern/planner"
)

// setOpr binds UNION [ALL] chains. UNION without ALL removes duplicates
// with a GROUP BY on every column; ORDER BY and LIMIT apply to the whole.
func (b *binder) setOpr(n *ast.SetOprStmt) (planner.Node, error) {
	if err := b.withClause(n.With); err != nil {
		return nil, err
	}
	list := n.SelectList
	if list.With != nil {
		if err := b.withClause(list.With); err != nil {
			return nil, err
		}
	}
	var acc planner.Node
	for i, s := range list.Selects {
		var plan planner.Node
		var err error
		switch q := s.(type) {
		case *ast.SelectStmt:
			plan, err = b.query(q, b.outer)
		case *ast.SetOprSelectList:
			plan, err = b.setOpr(&ast.SetOprStmt{SelectList: q})
		default:
			return nil, b.unsupported(n, "this UNION operand")
		}
		if err != nil {
			return nil, err
		}
		if i == 0 {
			acc = plan
			continue
		}
		op := ast.Union
		if sel, ok := s.(*ast.SelectStmt); ok && sel.AfterSetOperator != nil {
			op = *sel.AfterSetOperator
		} else if l, ok := s.(*ast.SetOprSelectList); ok && l.AfterSetOperator != nil {
			op = *l.AfterSetOperator
		}
		switch op {
		case ast.Union, ast.UnionAll:
		case ast.Except:
			return nil, b.unsupported(n, "EXCEPT")
		default:
			return nil, b.unsupported(n, "INTERSECT")
		}
		u, err := b.union(n, acc, plan)
		if err != nil {
			return nil, err
		}
		acc = u
		if op == ast.Union {
			acc = distinctAll(acc)
		}
	}
	return b.orderLimit(n, acc, n.OrderBy, n.Limit)
}

// union checks the column counts and casts both sides to common types.
func (b *binder) union(n ast.Node, l, r planner.Node) (planner.Node, error) {
	ls, rs := l.Schema(), r.Schema()
	if len(ls) != len(rs) {
		return nil, b.errAt(n, ErrType, "the used SELECT statements have a different number of columns (%d and %d)", len(ls), len(rs))
	}
	types := make([]planner.Type, len(ls))
	same := true
	for i := range ls {
		t := ls[i].Type
		if ls[i].Type != rs[i].Type {
			c, err := planner.ResolveCall("coalesce", []*planner.Expr{planner.NullLit(ls[i].Type), planner.NullLit(rs[i].Type)})
			if err != nil {
				return nil, b.errAt(n, ErrType, "UNION column %d: %v", i+1, err)
			}
			t = c.Type
			same = false
		}
		types[i] = t
	}
	if !same {
		l, r = castTo(l, types), castTo(r, types)
	}
	return &planner.Union{Left: l, Right: r}, nil
}

func castTo(n planner.Node, types []planner.Type) planner.Node {
	s := n.Schema()
	exprs := make([]*planner.Expr, len(s))
	names := make([]string, len(s))
	for i, c := range s {
		exprs[i] = planner.Cast(planner.Col(i, c.Name, c.Type), types[i])
		names[i] = c.Name
	}
	return &planner.Project{Input: n, Exprs: exprs, Names: names}
}

// distinctAll groups by every column.
func distinctAll(n planner.Node) planner.Node {
	s := n.Schema()
	groups := make([]*planner.Expr, len(s))
	names := make([]string, len(s))
	for i, c := range s {
		groups[i] = planner.Col(i, c.Name, c.Type)
		names[i] = c.Name
	}
	agg := &planner.Aggregate{Input: n, Groups: groups, Names: names}
	exprs := make([]*planner.Expr, len(s))
	for i, c := range s {
		exprs[i] = planner.Col(i, c.Name, c.Type)
	}
	return &planner.Project{Input: agg, Exprs: exprs, Names: names}
}

// orderLimit applies ORDER BY (by output column name or ordinal) and LIMIT
// to a whole UNION.
func (b *binder) orderLimit(n ast.Node, plan planner.Node, ob *ast.OrderByClause, lim *ast.Limit) (planner.Node, error) {
	s := plan.Schema()
	if _, ok := plan.(*planner.Project); !ok {
		exprs := make([]*planner.Expr, len(s))
		names := make([]string, len(s))
		for i, c := range s {
			exprs[i], names[i] = planner.Col(i, c.Name, c.Type), c.Name
		}
		plan = &planner.Project{Input: plan, Exprs: exprs, Names: names}
	}
	if ob != nil {
		items := make([]selectItem, len(s))
		for i, c := range s {
			items[i] = selectItem{name: c.Name, ast: &ast.ColumnNameExpr{}, expr: planner.Col(i, c.Name, c.Type)}
		}
		var keys []planner.SortKey
		sc := &scope{cols: s}
		x := &exprBinder{b: b, scope: sc, where: "ORDER BY"}
		for _, by := range ob.Items {
			col, err := b.orderColumn(by.Expr, items, func(e ast.ExprNode) (*planner.Expr, error) {
				v, err := x.bind(e)
				if err != nil {
					return nil, err
				}
				if v.Kind != planner.ExprColumn {
					return nil, b.unsupported(e, "ORDER BY an expression over a UNION")
				}
				return v, nil
			})
			if err != nil {
				return nil, err
			}
			keys = append(keys, planner.SortKey{Col: col, Desc: by.Desc})
		}
		plan = &planner.Sort{Input: plan, Keys: keys}
	}
	if lim != nil {
		l, err := b.limit(lim)
		if err != nil {
			return nil, err
		}
		plan = l(plan)
	}
	return plan, nil
}
