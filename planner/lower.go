package planner

import (
	"fmt"
	"strings"
)

// LowerConfig sets the shape of the jobs Lower builds.
type LowerConfig struct {
	// Reducers is R, the number of reduce partitions.
	Reducers int
	// SplitSize is the target number of bytes one map task reads.
	SplitSize int64
	// MemSplitRows is the number of rows of an in-memory table per map task.
	MemSplitRows int64
}

// DefaultLowerConfig returns the shape used when nothing else is asked.
func DefaultLowerConfig() LowerConfig {
	return LowerConfig{Reducers: 4, SplitSize: 32 << 20, MemSplitRows: 64 << 10}
}

// Plan optimizes a bound logical plan and lowers it into a job.
func Plan(n Node, cfg LowerConfig) (*Job, error) {
	opt, _ := Optimize(n)
	return Lower(opt, cfg)
}

// Lower compiles an optimized logical plan into MapReduce stages:
//
//	map:    scan → filter → project → partial aggregate   (hash-partitioned on the group keys)
//	reduce: shuffle read → final aggregate → HAVING → project → sort/top-k
//	final:  k-way merge → offset/limit
//
// A plan without aggregation is a map-only job.
func Lower(n Node, cfg LowerConfig) (*Job, error) {
	if cfg.Reducers < 1 {
		cfg.Reducers = 1
	}
	if cfg.SplitSize <= 0 {
		cfg.SplitSize = DefaultLowerConfig().SplitSize
	}
	if cfg.MemSplitRows <= 0 {
		cfg.MemSplitRows = DefaultLowerConfig().MemSplitRows
	}
	job := &Job{Schema: n.Schema(), Final: Final{Limit: -1, Width: len(n.Schema())}}

	// Peel what the final merge does: dropping hidden columns, LIMIT, ORDER BY.
	body := n
	if p, ok := body.(*Project); ok && isColumnPrefix(p) {
		if _, ok := p.Input.(*Limit); ok {
			body = p.Input
		} else if _, ok := p.Input.(*Sort); ok {
			body = p.Input
		}
	}
	if l, ok := body.(*Limit); ok {
		job.Final.Offset, job.Final.Limit = l.Offset, l.Count
		body = l.Input
	}
	if s, ok := body.(*Sort); ok {
		job.Final.Keys = s.Keys
		body = s.Input
	}
	if _, ok := body.(*Limit); ok {
		return nil, fmt.Errorf("not supported: LIMIT below ORDER BY")
	}
	// Each task's output is sorted (and cut to offset+limit) so that the
	// final merge is a k-way merge.
	finish := func(op *Op) *Op {
		if len(job.Final.Keys) == 0 {
			if job.Final.Limit >= 0 {
				return &Op{Kind: OpLimit, Input: op, Schema: op.Schema, Limit: job.Final.Offset + job.Final.Limit}
			}
			return op
		}
		if job.Final.Limit >= 0 {
			return &Op{Kind: OpTopK, Input: op, Schema: op.Schema, Keys: job.Final.Keys, Limit: job.Final.Offset + job.Final.Limit}
		}
		return &Op{Kind: OpSort, Input: op, Schema: op.Schema, Keys: job.Final.Keys}
	}

	// Above the aggregate: Project, optionally over a HAVING filter.
	proj, ok := body.(*Project)
	if !ok {
		return nil, fmt.Errorf("internal: expected a projection at the top of the plan, got %s", body.Describe())
	}
	below := proj.Input
	var having *Expr
	if f, ok := below.(*Filter); ok {
		if _, isAgg := f.Input.(*Aggregate); isAgg {
			having, below = f.Cond, f.Input
		}
	}
	agg, isAgg := below.(*Aggregate)
	if !isAgg {
		mapRoot, splits, err := lowerSource(below, cfg)
		if err != nil {
			return nil, err
		}
		root := finish(&Op{Kind: OpProject, Input: mapRoot, Schema: proj.Schema(), Exprs: proj.Exprs})
		job.Stages = append(job.Stages, &Stage{ID: 0, Kind: StageMap, Splits: splits, Tasks: len(splits), Input: -1, Root: root, Note: "map-only"})
		return job, nil
	}

	source, splits, err := lowerSource(agg.Input, cfg)
	if err != nil {
		return nil, err
	}
	nGroups := len(agg.Groups)
	r := cfg.Reducers
	if nGroups == 0 {
		r = 1
	}
	keys := make([]int, nGroups)
	for i := range keys {
		keys[i] = i
	}
	distinct := false
	for _, a := range agg.Aggs {
		distinct = distinct || a.Distinct
	}

	// Map side: evaluate the group keys and aggregate arguments once, then
	// either pre-aggregate (the combiner) or, for DISTINCT aggregates, ship
	// the rows to the reducer that owns their group.
	pre, preAggs := preProjection(agg)
	preOp := &Op{Kind: OpProject, Input: source, Schema: pre.schema, Exprs: pre.exprs}
	var mapRoot *Op
	var reduceAgg *Op
	aggSchema := agg.Schema()
	shuffleRead := func(s Schema) *Op { return &Op{Kind: OpShuffleRead, Schema: s} }
	note := ""
	if distinct {
		mapRoot = preOp
		reduceAgg = &Op{Kind: OpAggregate, Mode: AggComplete, Input: shuffleRead(pre.schema), Schema: aggSchema,
			Groups: columnRefs(pre.schema[:nGroups], 0), Aggs: preAggs}
		note = "DISTINCT aggregate: rows are shuffled on the group keys and aggregated once in the reducer"
	} else if wc := wordCountOp(agg, source); wc != nil {
		mapRoot = wc
		reduceAgg = &Op{Kind: OpAggregate, Mode: AggFinal, Input: shuffleRead(wc.Schema), Schema: aggSchema,
			Groups: columnRefs(wc.Schema[:1], 0), Aggs: preAggs}
		note = "word count: scan and partial aggregate fused"
	} else {
		partialSchema := append(Schema(nil), pre.schema[:nGroups]...)
		for i, a := range preAggs {
			for j, t := range a.StateTypes() {
				partialSchema = append(partialSchema, Column{Name: fmt.Sprintf("%s.state%d", agg.Aggs[i].Name, j), Type: t})
			}
		}
		mapRoot = &Op{Kind: OpAggregate, Mode: AggPartial, Input: preOp, Schema: partialSchema,
			Groups: columnRefs(pre.schema[:nGroups], 0), Aggs: preAggs}
		reduceAgg = &Op{Kind: OpAggregate, Mode: AggFinal, Input: shuffleRead(partialSchema), Schema: aggSchema,
			Groups: columnRefs(partialSchema[:nGroups], 0), Aggs: preAggs}
	}
	job.Stages = append(job.Stages, &Stage{ID: 0, Kind: StageMap, Splits: splits, Tasks: len(splits), Input: -1, Root: mapRoot,
		Partition: &Partitioning{Keys: keys, R: r}, Note: note})
	red := reduceAgg
	if having != nil {
		red = &Op{Kind: OpFilter, Input: red, Schema: red.Schema, Cond: having}
	}
	red = finish(&Op{Kind: OpProject, Input: red, Schema: proj.Schema(), Exprs: proj.Exprs})
	job.Stages = append(job.Stages, &Stage{ID: 1, Kind: StageReduce, Input: 0, Tasks: r, Root: red})
	return job, nil
}

func isColumnPrefix(p *Project) bool {
	for i, e := range p.Exprs {
		if e.Kind != ExprColumn || e.Index != i {
			return false
		}
	}
	return len(p.Exprs) < len(p.Input.Schema())
}

func columnRefs(s Schema, from int) []*Expr {
	out := make([]*Expr, len(s))
	for i, c := range s {
		out[i] = Col(from+i, c.Name, c.Type)
	}
	return out
}

type projection struct {
	exprs []*Expr
	schema Schema
}

// preProjection computes, below an aggregate, the group keys followed by
// each distinct aggregate argument; the returned calls read their arguments
// from that projection.
func preProjection(a *Aggregate) (projection, []AggCall) {
	var p projection
	for i, g := range a.Groups {
		p.exprs = append(p.exprs, g)
		p.schema = append(p.schema, Column{Name: a.Names[i], Type: g.Type})
	}
	calls := make([]AggCall, len(a.Aggs))
	for i, c := range a.Aggs {
		args := make([]*Expr, len(c.Args))
		for j, e := range c.Args {
			at := -1
			for k, x := range p.exprs {
				if k >= len(a.Groups) && x.Equal(e) {
					at = k
				}
			}
			if at < 0 {
				at = len(p.exprs)
				p.exprs = append(p.exprs, e)
				p.schema = append(p.schema, Column{Name: e.String(), Type: e.Type})
			}
			args[j] = Col(at, p.schema[at].Name, e.Type)
		}
		c.Args = args
		calls[i] = c
	}
	return p, calls
}

// wordCountOp fuses a text scan with COUNT(*) GROUP BY word into one
// operator when the query is exactly that.
func wordCountOp(a *Aggregate, source *Op) *Op {
	if source.Kind != OpScan || source.Table.Format != FormatText || source.Cond != nil {
		return nil
	}
	if len(a.Groups) != 1 || len(a.Aggs) != 1 {
		return nil
	}
	g := a.Groups[0]
	if g.Kind != ExprColumn || source.Schema[g.Index].Name != "word" {
		return nil
	}
	c := a.Aggs[0]
	if c.Func != "count_star" && !(c.Func == "count" && len(c.Args) == 1 && c.Args[0].Equal(g)) {
		return nil
	}
	return &Op{Kind: OpWordCount, Table: source.Table, Columns: source.Columns,
		Schema: Schema{{Name: a.Names[0], Type: String}, {Name: c.Name + ".state0", Type: Int}}}
}

// lowerSource turns the plan below an aggregate (or the projection of a
// map-only job) into the map-side source op and its splits.
func lowerSource(n Node, cfg LowerConfig) (*Op, []Split, error) {
	switch x := n.(type) {
	case *Scan:
		op := &Op{Kind: OpScan, Table: x.Table, Columns: x.Columns, Cond: x.Filter, Schema: x.Schema()}
		return op, TableSplits(x.Table, cfg), nil
	case *Filter:
		in, splits, err := lowerSource(x.Input, cfg)
		if err != nil {
			return nil, nil, err
		}
		return &Op{Kind: OpFilter, Input: in, Schema: in.Schema, Cond: x.Cond}, splits, nil
	case *Values:
		return &Op{Kind: OpValues, Schema: x.Cols, Rows: x.Rows}, []Split{{}}, nil
	}
	return nil, nil, fmt.Errorf("not supported: %s below an aggregate", strings.Fields(n.Describe())[0])
}

// TableSplits cuts a table's input into map-task splits of about
// cfg.SplitSize bytes: byte ranges of text formats (the readers align them
// to line starts), groups of Parquet row groups, row ranges of in-memory
// tables.
func TableSplits(t *Table, cfg LowerConfig) []Split {
	var out []Split
	switch t.Format {
	case FormatMemory:
		for lo := int64(0); lo < t.MemRows; lo += cfg.MemSplitRows {
			out = append(out, Split{MemID: t.MemID, RowStart: lo, RowEnd: min(lo+cfg.MemSplitRows, t.MemRows)})
		}
		if len(out) == 0 {
			out = append(out, Split{MemID: t.MemID})
		}
		return out
	case FormatParquet:
		for _, f := range t.Files {
			n := len(f.RowGroups)
			if n == 0 {
				continue
			}
			per := max(1, int(cfg.SplitSize/max(1, f.Size/int64(n))))
			for g := 0; g < n; g += per {
				var groups []int
				for k := g; k < min(g+per, n); k++ {
					groups = append(groups, k)
				}
				out = append(out, Split{Path: f.Path, RowGroups: groups})
			}
		}
	default:
		for _, f := range t.Files {
			if t.Unsplittable || f.Size <= cfg.SplitSize {
				out = append(out, Split{Path: f.Path, Start: 0, End: f.Size})
				continue
			}
			n := (f.Size + cfg.SplitSize - 1) / cfg.SplitSize
			step := (f.Size + n - 1) / n
			for lo := int64(0); lo < f.Size; lo += step {
				out = append(out, Split{Path: f.Path, Start: lo, End: min(lo+step, f.Size)})
			}
		}
	}
	if len(out) == 0 {
		// An empty input still runs one task, so that the job has a shape.
		out = append(out, Split{Path: "", Start: 0, End: 0})
	}
	return out
}
