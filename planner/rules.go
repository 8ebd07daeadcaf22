package planner

// Rule is one named rewrite of a logical plan. Apply returns the node
// unchanged (the same pointer) when the rule does not fire.
type Rule struct {
	Name  string
	Apply func(Node) Node
}

// Rules is the rewrite table, applied in order, each bottom-up over the
// whole tree.
var Rules = []Rule{
	{"merge_filters", mergeFilters},
	{"push_filter_into_join", pushFilterIntoJoin},
	{"extract_join_keys", extractJoinKeys},
	{"merge_filters", mergeFilters},
	{"push_filter_into_scan", pushFilterIntoScan},
	{"prune_columns", nil}, // whole-tree rule: see Optimize
}

// Optimize applies every rule and returns the rewritten plan and the names
// of the rules that fired (tests assert on these).
func Optimize(n Node) (Node, []string) {
	var fired []string
	for _, r := range Rules {
		var out Node
		if r.Apply == nil {
			out = pruneColumns(n)
		} else {
			out = rewriteUp(n, r.Apply)
		}
		if !samePlan(out, n) {
			fired = append(fired, r.Name)
		}
		n = out
	}
	return n, fired
}

func rewriteUp(n Node, f func(Node) Node) Node {
	ch := n.Children()
	if len(ch) > 0 {
		nc := make([]Node, len(ch))
		changed := false
		for i, c := range ch {
			nc[i] = rewriteUp(c, f)
			changed = changed || nc[i] != c
		}
		if changed {
			n = n.WithChildren(nc)
		}
	}
	return f(n)
}

func samePlan(a, b Node) bool { return FormatPlan(a) == FormatPlan(b) }

// mergeFilters: Filter(Filter(x)) → Filter(x) with both conditions.
func mergeFilters(n Node) Node {
	f, ok := n.(*Filter)
	if !ok {
		return n
	}
	inner, ok := f.Input.(*Filter)
	if !ok {
		return n
	}
	return &Filter{Input: inner.Input, Cond: And(inner.Cond, f.Cond)}
}

// pushFilterIntoScan: Filter(Scan) → Scan with the filter, so the map task
// filters while it reads.
func pushFilterIntoScan(n Node) Node {
	f, ok := n.(*Filter)
	if !ok {
		return n
	}
	s, ok := f.Input.(*Scan)
	if !ok {
		return n
	}
	c := *s
	if c.Filter == nil {
		c.Filter = f.Cond
	} else {
		c.Filter = And(c.Filter, f.Cond)
	}
	return &c
}

// And conjoins two boolean expressions.
func And(a, b *Expr) *Expr { return Call("and", Bool, a, b) }

// pruneColumns narrows every Scan to the columns the plan above it uses.
func pruneColumns(n Node) Node {
	all := make([]bool, len(n.Schema()))
	for i := range all {
		all[i] = true
	}
	out, _ := prune(n, all)
	return out
}

// prune returns n rewritten to produce only the columns marked in need
// (a Scan drops the rest) and the mapping old column → new column.
func prune(n Node, need []bool) (Node, map[int]int) {
	identity := func(k int) map[int]int {
		m := make(map[int]int, k)
		for i := 0; i < k; i++ {
			m[i] = i
		}
		return m
	}
	switch x := n.(type) {
	case *Scan:
		used := make([]bool, len(x.Columns))
		copy(used, need)
		if x.Filter != nil {
			for _, c := range x.Filter.Columns(nil) {
				used[c] = true
			}
		}
		m := map[int]int{}
		var cols []int
		for i, c := range x.Columns {
			if used[i] {
				m[i] = len(cols)
				cols = append(cols, c)
			}
		}
		c := *x
		c.Columns = cols
		if x.Filter != nil {
			c.Filter = x.Filter.Remap(m)
		}
		return &c, m
	case *Filter:
		inNeed := append([]bool(nil), need...)
		for _, c := range x.Cond.Columns(nil) {
			inNeed[c] = true
		}
		in, m := prune(x.Input, inNeed)
		return &Filter{Input: in, Cond: x.Cond.Remap(m)}, m
	case *Project:
		inNeed := make([]bool, len(x.Input.Schema()))
		for _, e := range x.Exprs {
			for _, c := range e.Columns(nil) {
				inNeed[c] = true
			}
		}
		in, m := prune(x.Input, inNeed)
		exprs := make([]*Expr, len(x.Exprs))
		for i, e := range x.Exprs {
			exprs[i] = e.Remap(m)
		}
		return &Project{Input: in, Exprs: exprs, Names: x.Names}, identity(len(exprs))
	case *Aggregate:
		inNeed := make([]bool, len(x.Input.Schema()))
		for _, e := range x.Groups {
			for _, c := range e.Columns(nil) {
				inNeed[c] = true
			}
		}
		for _, a := range x.Aggs {
			for _, e := range a.Args {
				for _, c := range e.Columns(nil) {
					inNeed[c] = true
				}
			}
		}
		in, m := prune(x.Input, inNeed)
		c := *x
		c.Input = in
		c.Groups = make([]*Expr, len(x.Groups))
		for i, e := range x.Groups {
			c.Groups[i] = e.Remap(m)
		}
		c.Aggs = make([]AggCall, len(x.Aggs))
		for i, a := range x.Aggs {
			a.Args = append([]*Expr(nil), a.Args...)
			for j, e := range a.Args {
				a.Args[j] = e.Remap(m)
			}
			c.Aggs[i] = a
		}
		return &c, identity(len(c.Schema()))
	case *Join:
		nl := len(x.Left.Schema())
		lNeed := make([]bool, nl)
		rNeed := make([]bool, len(x.Right.Schema()))
		for i, n := range need {
			if !n {
				continue
			}
			if i < nl {
				lNeed[i] = true
			} else {
				rNeed[i-nl] = true
			}
		}
		for _, k := range x.LeftKeys {
			lNeed[k.Index] = true
		}
		for _, k := range x.RightKeys {
			rNeed[k.Index] = true
		}
		if x.Cond != nil {
			for _, c := range x.Cond.Columns(nil) {
				if c < nl {
					lNeed[c] = true
				} else {
					rNeed[c-nl] = true
				}
			}
		}
		// Each side keeps what the plan above, the keys and the condition
		// read: a reduce-side join shuffles both sides, so every column
		// dropped here is bytes no map task writes and no reducer reads.
		left, lm := prune(x.Left, lNeed)
		right, rm := prune(x.Right, rNeed)
		newLeft := len(left.Schema())
		m := make(map[int]int, len(lm)+len(rm))
		for o, k := range lm {
			m[o] = k
		}
		for o, k := range rm {
			m[nl+o] = newLeft + k
		}
		c := *x
		c.Left, c.Right = left, right
		c.LeftKeys = make([]*Expr, len(x.LeftKeys))
		for i, k := range x.LeftKeys {
			c.LeftKeys[i] = k.Remap(lm)
		}
		c.RightKeys = make([]*Expr, len(x.RightKeys))
		for i, k := range x.RightKeys {
			c.RightKeys[i] = k.Remap(rm)
		}
		if x.Cond != nil {
			c.Cond = x.Cond.Remap(m)
		}
		return &c, m
	case *Union:
		all := make([]bool, len(x.Schema()))
		for i := range all {
			all[i] = true
		}
		left, _ := prune(x.Left, all)
		right, _ := prune(x.Right, all)
		return &Union{Left: left, Right: right}, identity(len(all))
	case *Sort, *Limit:
		inNeed := append([]bool(nil), need...)
		if s, ok := x.(*Sort); ok {
			for _, k := range s.Keys {
				inNeed[k.Col] = true
			}
		}
		// Sort and Limit pass columns through; keep every column so that
		// sort keys keep their positions.
		for i := range inNeed {
			inNeed[i] = true
		}
		in, _ := prune(x.Children()[0], inNeed)
		return x.WithChildren([]Node{in}), identity(len(x.Schema()))
	}
	return n, identity(len(n.Schema()))
}

// conjuncts splits an AND tree.
func conjuncts(e *Expr, out []*Expr) []*Expr {
	if e == nil {
		return out
	}
	if e.Kind == ExprCall && e.Name == "and" && len(e.Args) == 2 {
		return conjuncts(e.Args[1], conjuncts(e.Args[0], out))
	}
	return append(out, e)
}

// conjoin joins expressions with AND (nil for none).
func conjoin(es []*Expr) *Expr {
	var out *Expr
	for _, e := range es {
		if out == nil {
			out = e
		} else {
			out = And(out, e)
		}
	}
	return out
}

// sides reports which inputs of a join an expression over its output reads.
func sides(e *Expr, nl int) (left, right bool) {
	for _, c := range e.Columns(nil) {
		if c < nl {
			left = true
		} else {
			right = true
		}
	}
	return
}

func shift(e *Expr, by int, width int) *Expr {
	m := map[int]int{}
	for i := 0; i < width; i++ {
		m[i+by] = i
	}
	return e.Remap(m)
}

// pushFilterIntoJoin: Filter(inner Join) → the join's condition; over a
// LEFT join only conjuncts on the left input can go below it.
func pushFilterIntoJoin(n Node) Node {
	f, ok := n.(*Filter)
	if !ok {
		return n
	}
	j, ok := f.Input.(*Join)
	if !ok {
		return n
	}
	c := *j
	if j.Kind == JoinInner {
		c.Cond = conjoin(append(conjuncts(j.Cond, nil), conjuncts(f.Cond, nil)...))
		return &c
	}
	nl := len(j.Left.Schema())
	var below, above []*Expr
	for _, e := range conjuncts(f.Cond, nil) {
		if l, r := sides(e, nl); l && !r {
			below = append(below, e)
		} else {
			above = append(above, e)
		}
	}
	if len(below) == 0 {
		return n
	}
	c.Left = &Filter{Input: j.Left, Cond: conjoin(below)}
	if len(above) == 0 {
		return &c
	}
	return &Filter{Input: &c, Cond: conjoin(above)}
}

// extractJoinKeys turns conjuncts "left column = right column" of a join's
// condition into its hash keys, and pushes conjuncts that read one input
// only into that input (for a LEFT join, only those on the right input:
// a condition on the left input decides matches, not which rows exist).
func extractJoinKeys(n Node) Node {
	j, ok := n.(*Join)
	if !ok || j.Cond == nil {
		return n
	}
	nl := len(j.Left.Schema())
	nr := len(j.Right.Schema())
	c := *j
	c.LeftKeys = append([]*Expr(nil), j.LeftKeys...)
	c.RightKeys = append([]*Expr(nil), j.RightKeys...)
	var rest, leftOnly, rightOnly []*Expr
	for _, e := range conjuncts(j.Cond, nil) {
		if e.Kind == ExprCall && e.Name == "=" && len(e.Args) == 2 {
			a, b := e.Args[0], e.Args[1]
			if a.Kind == ExprColumn && b.Kind == ExprColumn && a.Type == b.Type && a.Type.Kind != KindNull {
				if a.Index >= nl && b.Index < nl {
					a, b = b, a
				}
				if a.Index < nl && b.Index >= nl {
					c.LeftKeys = append(c.LeftKeys, a)
					rk := *b
					rk.Index -= nl
					c.RightKeys = append(c.RightKeys, &rk)
					continue
				}
			}
		}
		l, r := sides(e, nl)
		switch {
		case l && !r && j.Kind == JoinInner:
			leftOnly = append(leftOnly, e)
		case r && !l:
			rightOnly = append(rightOnly, shift(e, nl, nr))
		default:
			rest = append(rest, e)
		}
	}
	if len(c.LeftKeys) == len(j.LeftKeys) && len(leftOnly) == 0 && len(rightOnly) == 0 {
		return n
	}
	c.Cond = conjoin(rest)
	if len(leftOnly) > 0 {
		c.Left = &Filter{Input: j.Left, Cond: conjoin(leftOnly)}
	}
	if len(rightOnly) > 0 {
		c.Right = &Filter{Input: j.Right, Cond: conjoin(rightOnly)}
	}
	return &c
}
