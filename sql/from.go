package sql

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/quernsql/quern/planner"
)

// cte is a named query of a WITH clause, planned where it is used.
type cte struct {
	query ast.ResultSetNode
	cols  []string
}

// fromClause binds FROM: tables, derived tables, CTEs and joins.
func (b *binder) fromClause(sel *ast.SelectStmt) (planner.Node, *scope, error) {
	if sel.From == nil {
		// SELECT without FROM reads one row of no columns.
		return &planner.Values{Rows: [][]*planner.Expr{{}}}, &scope{}, nil
	}
	return b.tableRef(sel.From.TableRefs)
}

func (b *binder) tableRef(n ast.ResultSetNode) (planner.Node, *scope, error) {
	switch x := n.(type) {
	case *ast.Join:
		if x.Right == nil {
			return b.tableRef(x.Left)
		}
		return b.join(x)
	case *ast.TableSource:
		return b.tableSource(x)
	}
	return nil, nil, b.unsupported(n, "this FROM clause")
}

func (b *binder) tableSource(ts *ast.TableSource) (planner.Node, *scope, error) {
	alias := ts.AsName.O
	switch src := ts.Source.(type) {
	case *ast.TableName:
		if src.Schema.O == "" {
			if c, ok := b.ctes[strings.ToLower(src.Name.O)]; ok {
				if alias == "" {
					alias = src.Name.O
				}
				return b.derived(c.query, alias, c.cols)
			}
		}
		t, err := b.lookupTable(src)
		if err != nil {
			return nil, nil, err
		}
		qual := src.Name.O
		if alias != "" {
			qual = alias
		}
		cols := make([]int, len(t.Schema))
		sc := &scope{cols: make(planner.Schema, len(t.Schema))}
		for i, c := range t.Schema {
			cols[i] = i
			c.Table = qual
			sc.cols[i] = c
		}
		return &planner.Scan{Table: t, Columns: cols}, sc, nil
	case *ast.SelectStmt, *ast.SetOprStmt:
		if alias == "" {
			return nil, nil, b.errAt(ts, ErrSyntax, "every derived table must have its own alias")
		}
		return b.derived(src, alias, nil)
	}
	return nil, nil, b.unsupported(ts, "this table source")
}

// derived plans a subquery in FROM (or a CTE) as a table named alias.
func (b *binder) derived(q ast.ResultSetNode, alias string, names []string) (planner.Node, *scope, error) {
	sub := &binder{s: b.s, src: b.src, ctes: b.ctes}
	plan, err := sub.query(q, nil)
	if err != nil {
		return nil, nil, err
	}
	schema := plan.Schema()
	if names != nil && len(names) != len(schema) {
		return nil, nil, b.errAt(q, ErrType, "WITH %s names %d columns, its query has %d", alias, len(names), len(schema))
	}
	sc := &scope{cols: make(planner.Schema, len(schema))}
	for i, c := range schema {
		if names != nil {
			c.Name = names[i]
		}
		c.Table = alias
		sc.cols[i] = c
	}
	return plan, sc, nil
}

// join binds a JOIN: the scope is the left columns then the right ones.
func (b *binder) join(j *ast.Join) (planner.Node, *scope, error) {
	left, ls, err := b.tableRef(j.Left)
	if err != nil {
		return nil, nil, err
	}
	right, rs, err := b.tableRef(j.Right)
	if err != nil {
		return nil, nil, err
	}
	sc := &scope{cols: append(append(planner.Schema(nil), ls.cols...), rs.cols...)}
	sc.hidden = append(append(make([]bool, 0, len(sc.cols)), ls.hiddenAll()...), rs.hiddenAll()...)
	nl := len(ls.cols)
	x := &exprBinder{b: b, scope: sc, where: "on clause"}
	var conds []*planner.Expr
	// USING and NATURAL: equal columns of the same name; the right one is
	// hidden from * and from unqualified names, as MySQL shows it once.
	var using []string
	if j.NaturalJoin {
		for i, l := range ls.cols {
			if ls.isHidden(i) {
				continue
			}
			for k, r := range rs.cols {
				if !rs.isHidden(k) && strings.EqualFold(l.Name, r.Name) {
					using = append(using, l.Name)
				}
			}
		}
	}
	for _, u := range j.Using {
		using = append(using, u.Name.O)
	}
	for _, name := range using {
		li, ri := -1, -1
		for i, c := range ls.cols {
			if !ls.isHidden(i) && strings.EqualFold(c.Name, name) {
				li = i
			}
		}
		for i, c := range rs.cols {
			if !rs.isHidden(i) && strings.EqualFold(c.Name, name) {
				ri = i
			}
		}
		if li < 0 || ri < 0 {
			e := b.errAt(j, ErrName, "unknown column '%s' in USING", name)
			return nil, nil, e
		}
		eq, err := x.call(j, "=", planner.Col(li, ls.cols[li].Name, ls.cols[li].Type), planner.Col(nl+ri, rs.cols[ri].Name, rs.cols[ri].Type))
		if err != nil {
			return nil, nil, err
		}
		conds = append(conds, eq)
		sc.hidden[nl+ri] = true
	}
	if j.On != nil {
		c, err := x.bind(j.On.Expr)
		if err != nil {
			return nil, nil, err
		}
		conds = append(conds, asCondition(c))
	}
	var cond *planner.Expr
	for _, c := range conds {
		if cond == nil {
			cond = c
		} else {
			cond = planner.And(cond, c)
		}
	}
	switch j.Tp {
	case ast.LeftJoin:
		return &planner.Join{Left: left, Right: right, Kind: planner.JoinLeft, Cond: cond}, sc, nil
	case ast.RightJoin:
		// A RIGHT join is the LEFT join with the inputs swapped, then the
		// columns put back in order.
		nr := len(rs.cols)
		m := map[int]int{}
		for i := 0; i < nl; i++ {
			m[i] = nr + i
		}
		for i := 0; i < nr; i++ {
			m[nl+i] = i
		}
		var swapped *planner.Expr
		if cond != nil {
			swapped = cond.Remap(m)
		}
		jn := &planner.Join{Left: right, Right: left, Kind: planner.JoinLeft, Cond: swapped}
		exprs := make([]*planner.Expr, nl+nr)
		names := make([]string, nl+nr)
		for i, c := range sc.cols {
			exprs[i] = planner.Col(m[i], c.Name, c.Type)
			names[i] = c.Name
		}
		return &planner.Project{Input: jn, Exprs: exprs, Names: names}, sc, nil
	}
	return &planner.Join{Left: left, Right: right, Kind: planner.JoinInner, Cond: cond}, sc, nil
}

func (s *scope) isHidden(i int) bool { return i < len(s.hidden) && s.hidden[i] }

func (s *scope) hiddenAll() []bool {
	out := make([]bool, len(s.cols))
	copy(out, s.hidden)
	return out
}

// query binds a SELECT or a UNION; outer is the enclosing query's scope
// (for subqueries), used only to recognise correlated references.
func (b *binder) query(n ast.Node, outer *scope) (planner.Node, error) {
	sub := &binder{s: b.s, src: b.src, ctes: b.ctes, outer: outer}
	switch q := n.(type) {
	case *ast.SelectStmt:
		return sub.selectStmt(q)
	case *ast.SetOprStmt:
		return sub.setOpr(q)
	case *ast.SubqueryExpr:
		return sub.query(q.Query, outer)
	}
	return nil, b.unsupported(n, fmt.Sprintf("query of type %T", n))
}

// withClause registers the CTEs of a WITH clause for the query under it.
func (b *binder) withClause(w *ast.WithClause) error {
	if w == nil {
		return nil
	}
	if w.IsRecursive {
		return b.unsupported(w, "WITH RECURSIVE")
	}
	ctes := map[string]cte{}
	for k, v := range b.ctes {
		ctes[k] = v
	}
	for _, c := range w.CTEs {
		var names []string
		for _, n := range c.ColNameList {
			names = append(names, n.O)
		}
		ctes[strings.ToLower(c.Name.O)] = cte{query: c.Query.Query, cols: names}
	}
	b.ctes = ctes
	return nil
}
