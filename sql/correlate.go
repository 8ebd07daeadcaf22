package sql

import (
	"sort"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/quernsql/quern/planner"
)

// outerRef marks, inside a subquery's plan, a column of the enclosing query
// (Index is its position in the enclosing scope).
const outerRef = "$outer"

// fromState is the input of a query being bound; decorrelating a subquery
// joins new columns onto it.
type fromState struct {
	node  planner.Node
	scope *scope
}

func hasOuterRefs(n planner.Node) bool {
	found := false
	planner.RewriteExprs(n, func(e *planner.Expr) (*planner.Expr, error) {
		if e.Kind == planner.ExprCall && e.Name == outerRef {
			found = true
		}
		return e, nil
	})
	return found
}

// decorrelate rewrites a correlated subquery of the forms
//
//	(SELECT agg(…) FROM inner WHERE p(inner, outer))
//	EXISTS (SELECT … FROM inner WHERE p(inner, outer))
//
// into joins, as a MapReduce engine must (there is no per-row execution):
//
//	D = SELECT DISTINCT <outer columns p reads> FROM outer
//	S = SELECT D.*, agg(…) FROM D LEFT JOIN inner ON p GROUP BY D.*
//	outer LEFT JOIN S ON outer.<columns> = D.<columns>
//
// COUNT becomes COUNT of a marker column of inner, so that outer rows
// without a match count 0 (and a NULL correlation value, which never
// joins, is given the value of an empty match). The subquery's value is
// then a column of the new input.
func (x *exprBinder) decorrelate(n ast.Node, plan planner.Node, exists bool) (*planner.Expr, error) {
	fs := x.from
	if fs == nil {
		return nil, x.b.unsupported(n, "correlated subquery here")
	}
	var top *planner.Project
	var agg *planner.Aggregate
	body := plan
	if p, ok := body.(*planner.Project); ok {
		top, body = p, p.Input
	}
	if a, ok := body.(*planner.Aggregate); ok && !exists {
		if len(a.Groups) > 0 {
			return nil, x.b.unsupported(n, "correlated subquery with GROUP BY")
		}
		agg, body = a, a.Input
	}
	if !exists && (agg == nil || top == nil) {
		return nil, x.b.unsupported(n, "correlated subquery that is not an aggregate")
	}
	var cond *planner.Expr
	if f, ok := body.(*planner.Filter); ok {
		cond, body = f.Cond, f.Input
	}
	if cond == nil || hasOuterRefs(body) || (agg != nil && aggsHaveOuterRefs(agg)) || (top != nil && exprsHaveOuterRefs(top.Exprs)) {
		return nil, x.b.unsupported(n, "this correlated subquery")
	}
	inner := body
	ni := len(inner.Schema())

	// The outer columns the condition reads.
	used := map[int]bool{}
	planner.RewriteExprs(&planner.Filter{Input: &planner.Values{}, Cond: cond}, func(e *planner.Expr) (*planner.Expr, error) {
		if e.Kind == planner.ExprCall && e.Name == outerRef {
			used[e.Index] = true
		}
		return e, nil
	})
	var refs []int
	for i := range used {
		refs = append(refs, i)
	}
	sort.Ints(refs)
	nd := len(refs)
	at := map[int]int{}
	outerSchema := fs.node.Schema()
	groups := make([]*planner.Expr, nd)
	names := make([]string, nd)
	for k, r := range refs {
		at[r] = k
		c := outerSchema[r]
		groups[k] = planner.Col(r, c.Name, c.Type)
		names[k] = c.Name
	}
	distinct := &planner.Aggregate{Input: fs.node, Groups: groups, Names: names}

	// inner', with a marker column that is never NULL.
	innerSchema := inner.Schema()
	exprs := make([]*planner.Expr, 0, ni+1)
	inames := make([]string, 0, ni+1)
	for i, c := range innerSchema {
		exprs = append(exprs, planner.Col(i, c.Name, c.Type))
		inames = append(inames, c.Name)
	}
	exprs = append(exprs, planner.Lit(planner.Value{I: 1}, planner.Int))
	inames = append(inames, "$marker")
	marked := &planner.Project{Input: inner, Exprs: exprs, Names: inames}

	// The condition over D ++ inner'.
	shift := map[int]int{}
	for i := 0; i < ni+1; i++ {
		shift[i] = i + nd
	}
	joinCond, err := cond.Remap(shift).Rewrite(func(e *planner.Expr) (*planner.Expr, error) {
		if e.Kind == planner.ExprCall && e.Name == outerRef {
			c := outerSchema[e.Index]
			return planner.Col(at[e.Index], c.Name, c.Type), nil
		}
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	j := &planner.Join{Left: distinct, Right: marked, Kind: planner.JoinLeft, Cond: joinCond}

	// S: per distinct correlation value, the aggregates.
	marker := planner.Col(nd+ni, "$marker", planner.Int)
	var calls []planner.AggCall
	isCount := []bool{}
	if exists {
		calls = []planner.AggCall{{Func: "count", Args: []*planner.Expr{marker}, Type: planner.Int, Name: "exists"}}
		isCount = []bool{true}
	} else {
		for _, a := range agg.Aggs {
			c := a
			c.Args = make([]*planner.Expr, len(a.Args))
			for i, e := range a.Args {
				c.Args[i] = e.Remap(shift)
			}
			if c.Func == "count_star" {
				c.Func, c.Args = "count", []*planner.Expr{marker}
			}
			calls = append(calls, c)
			isCount = append(isCount, c.Func == "count")
		}
	}
	sgroups := make([]*planner.Expr, nd)
	for k := range refs {
		sgroups[k] = planner.Col(k, names[k], groups[k].Type)
	}
	s := &planner.Aggregate{Input: j, Groups: sgroups, Names: names, Aggs: calls}

	// outer LEFT JOIN S on the correlation columns.
	no := len(outerSchema)
	var on *planner.Expr
	for k, r := range refs {
		eq, err := planner.ResolveCall("=", []*planner.Expr{planner.Col(r, outerSchema[r].Name, outerSchema[r].Type), planner.Col(no+k, names[k], groups[k].Type)})
		if err != nil {
			return nil, x.wrap(n, err)
		}
		if on == nil {
			on = eq
		} else {
			on = planner.And(on, eq)
		}
	}
	fs.node = &planner.Join{Left: fs.node, Right: s, Kind: planner.JoinLeft, Cond: on}
	for len(fs.scope.hidden) < len(fs.scope.cols) {
		fs.scope.hidden = append(fs.scope.hidden, false)
	}
	for _, c := range s.Schema() {
		c.Table = ""
		fs.scope.cols = append(fs.scope.cols, c)
		fs.scope.hidden = append(fs.scope.hidden, true)
	}

	// The subquery's value: its projection over S's aggregate columns,
	// with COUNTs of unmatched (or NULL-keyed) rows made 0.
	aggCol := func(k int) (*planner.Expr, error) {
		c := planner.Col(no+nd+k, calls[k].Name, calls[k].Type)
		if !isCount[k] {
			return c, nil
		}
		return planner.ResolveCall("coalesce", []*planner.Expr{c, planner.Lit(planner.Value{}, planner.Int)})
	}
	if exists {
		c, err := aggCol(0)
		if err != nil {
			return nil, err
		}
		return planner.ResolveCall(">", []*planner.Expr{c, planner.Lit(planner.Value{}, planner.Int)})
	}
	subs := make([]*planner.Expr, len(calls))
	for k := range calls {
		if subs[k], err = aggCol(k); err != nil {
			return nil, err
		}
	}
	return top.Exprs[0].Rewrite(func(e *planner.Expr) (*planner.Expr, error) {
		if e.Kind == planner.ExprColumn {
			return subs[e.Index], nil
		}
		return e, nil
	})
}

func aggsHaveOuterRefs(a *planner.Aggregate) bool {
	for _, c := range a.Aggs {
		if exprsHaveOuterRefs(c.Args) {
			return true
		}
	}
	return exprsHaveOuterRefs(a.Groups)
}

func exprsHaveOuterRefs(es []*planner.Expr) bool {
	found := false
	for _, e := range es {
		e.Rewrite(func(x *planner.Expr) (*planner.Expr, error) {
			if x.Kind == planner.ExprCall && x.Name == outerRef {
				found = true
			}
			return x, nil
		})
	}
	return found
}
