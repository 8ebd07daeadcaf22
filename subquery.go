package quern

import (
	"context"
	"fmt"

	"github.com/quernsql/quern/exec/expr"
	"github.com/quernsql/quern/planner"
)

// resolveSubqueries runs the uncorrelated subqueries of a plan, innermost
// first, each as a job of its own, and puts their values in place: a
// scalar subquery becomes a literal, IN (SELECT …) an IN list, EXISTS a
// boolean. This is how Hive runs them: as stages before the query.
func (db *DB) resolveSubqueries(ctx context.Context, n planner.Node) (planner.Node, error) {
	return planner.RewriteExprs(n, func(e *planner.Expr) (*planner.Expr, error) {
		if e.Sub == nil {
			return e, nil
		}
		sub, err := db.resolveSubqueries(ctx, e.Sub)
		if err != nil {
			return nil, err
		}
		limit := int64(-1)
		switch e.Name {
		case planner.ScalarSubquery:
			limit = 2
		case planner.ExistsSubquery:
			limit = 1
		}
		vals, err := db.subqueryValues(ctx, sub, limit)
		if err != nil {
			return nil, err
		}
		switch e.Name {
		case planner.ScalarSubquery:
			if len(vals) > 1 {
				return nil, fmt.Errorf("subquery returns more than 1 row")
			}
			if len(vals) == 0 {
				return planner.NullLit(e.Type), nil
			}
			return planner.Lit(vals[0], e.Type), nil
		case planner.ExistsSubquery:
			v := planner.Value{}
			if len(vals) > 0 {
				v.I = 1
			}
			return planner.Lit(v, planner.Bool), nil
		case planner.InSubquery:
			if len(vals) == 0 {
				return planner.Lit(planner.Value{}, planner.Bool), nil // x IN (empty) is false, even for NULL x
			}
			t := sub.Schema()[0].Type
			args := []*planner.Expr{e.Args[0]}
			for _, v := range vals {
				args = append(args, planner.Lit(v, t))
			}
			return planner.ResolveCall("in", args)
		}
		return nil, fmt.Errorf("internal: unknown subquery placeholder %s", e.Name)
	})
}

// subqueryValues runs a plan and returns its first column's values (at
// most limit of them; limit < 0: all).
func (db *DB) subqueryValues(ctx context.Context, plan planner.Node, limit int64) ([]planner.Value, error) {
	if limit >= 0 {
		plan = &planner.Limit{Input: plan, Count: limit}
	}
	job, err := db.planJob(plan)
	if err != nil {
		return nil, err
	}
	res, err := db.engine.run(ctx, job)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	var out []planner.Value
	for res.Next() {
		rec := res.Record()
		if rec.NumCols() == 0 {
			for i := int64(0); i < rec.NumRows(); i++ {
				out = append(out, planner.Value{})
			}
			continue
		}
		col := rec.Column(0)
		for i := 0; i < col.Len(); i++ {
			out = append(out, expr.ValueAt(col, i))
		}
	}
	return out, res.Err()
}
