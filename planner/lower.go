package planner

import (
	"fmt"
	"slices"
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
	// Workers is the pool's size, which caps the map tasks of big inputs
	// (see MapTasksPerWorker); 0 means Reducers.
	Workers int
	// BroadcastBytes: a join whose right input reads at most this many
	// bytes is a broadcast join; larger ones are reduce-side joins. Zero
	// always broadcasts, negative never does.
	BroadcastBytes int64
}

// DefaultLowerConfig returns the shape used when nothing else is asked.
func DefaultLowerConfig() LowerConfig {
	return LowerConfig{Reducers: 4, SplitSize: 32 << 20, MemSplitRows: 64 << 10, BroadcastBytes: 16 << 20}
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
// Every aggregate is a shuffle, so a plan with aggregates on top of
// aggregates (SELECT DISTINCT over a GROUP BY) is a chain of reduce stages.
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
	l := &lowering{cfg: cfg, job: job}
	open, err := l.lower(body)
	if err != nil {
		return nil, err
	}
	// Each task's output is sorted (and cut to offset+limit) so that the
	// final merge is a k-way merge.
	root := open.root
	switch {
	case len(job.Final.Keys) > 0 && job.Final.Limit >= 0:
		root = &Op{Kind: OpTopK, Input: root, Schema: root.Schema, Keys: job.Final.Keys, Limit: job.Final.Offset + job.Final.Limit}
	case len(job.Final.Keys) > 0:
		root = &Op{Kind: OpSort, Input: root, Schema: root.Schema, Keys: job.Final.Keys}
	case job.Final.Limit >= 0:
		root = &Op{Kind: OpLimit, Input: root, Schema: root.Schema, Limit: job.Final.Offset + job.Final.Limit}
	}
	open.stage.Root = root
	order(job, open.stage)
	if len(job.Stages) == 1 && job.Stages[0].Note == "" {
		job.Stages[0].Note = "map-only"
	}
	return job, nil
}

// lowering builds a job's stages bottom-up. The stage being built is
// "open": operators are appended to its fragment until a shuffle closes it.
type lowering struct {
	cfg LowerConfig
	job *Job
}

type openStage struct {
	stage *Stage
	root  *Op
	// part says how the rows of a reduce stage are partitioned: part[i]
	// lists the columns of root equal to shuffle key i (nil: not known to
	// be partitioned). An aggregate whose group keys cover every shuffle key
	// needs no shuffle of its own.
	part [][]int
}

func (l *lowering) newStage(kind StageKind) *Stage {
	s := &Stage{ID: len(l.job.Stages), Kind: kind}
	l.job.Stages = append(l.job.Stages, s)
	return s
}

// shuffle closes the open stage with a hash partitioning and opens the
// reduce stage that reads it.
func (l *lowering) shuffle(o openStage, keys []int, r int) openStage {
	o.stage.Root = o.root
	o.stage.Partition = &Partitioning{Keys: keys, R: r}
	red := l.newStage(StageReduce)
	red.Inputs = []StageInput{{Stage: o.stage.ID}}
	red.Tasks = r
	var part [][]int
	for _, k := range keys {
		part = append(part, []int{k})
	}
	return openStage{stage: red, root: &Op{Kind: OpShuffleRead, Schema: o.root.Schema, From: o.stage.ID}, part: part}
}

// close ends the open stage with a partitioning and returns the read of
// its output that a consumer stage puts in its fragment.
func (l *lowering) close(o openStage, keys []int, r int, broadcast bool) *Op {
	o.stage.Root = o.root
	o.stage.Partition = &Partitioning{Keys: keys, R: r}
	return &Op{Kind: OpShuffleRead, Schema: o.root.Schema, From: o.stage.ID, Broadcast: broadcast}
}

// join lowers a join as a broadcast (map-side) join when the build side is
// small, else as a reduce-side join: both inputs hash-partitioned on their
// keys into the same R partitions, joined partition by partition.
func (l *lowering) join(j *Join) (openStage, error) {
	lo, err := l.lower(j.Left)
	if err != nil {
		return lo, err
	}
	ro, err := l.lower(j.Right)
	if err != nil {
		return ro, err
	}
	schema := j.Schema()
	lk, rk := columnIndexes(j.LeftKeys), columnIndexes(j.RightKeys)
	op := &Op{Kind: OpHashJoin, Schema: schema, ProbeKeys: lk, BuildKeys: rk, LeftJoin: j.Kind == JoinLeft, Cond: j.Cond}
	if l.broadcast(j.Right) {
		op.Build = l.close(ro, nil, 1, true)
		op.Input = lo.root
		lo.root = op
		lo.stage.Inputs = append(lo.stage.Inputs, StageInput{Stage: op.Build.From, Broadcast: true})
		lo.stage.Note = joinNote(lo.stage.Note, "broadcast join: the right input is sent whole to every task")
		return lo, nil
	}
	r := l.cfg.Reducers
	if len(lk) == 0 {
		r = 1
	}
	op.Input = l.close(lo, lk, r, false)
	op.Build = l.close(ro, rk, r, false)
	red := l.newStage(StageReduce)
	red.Tasks = r
	red.Inputs = []StageInput{{Stage: op.Input.From}, {Stage: op.Build.From}}
	red.Note = "reduce-side join: both inputs partitioned on the join keys"
	nl := len(j.Left.Schema())
	var part [][]int
	for i := range lk {
		eq := []int{lk[i]}
		if j.Kind == JoinInner {
			eq = append(eq, nl+rk[i])
		}
		part = append(part, eq)
	}
	return openStage{stage: red, root: op, part: part}, nil
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// broadcast decides the join strategy from the build side's input size.
func (l *lowering) broadcast(n Node) bool {
	switch {
	case l.cfg.BroadcastBytes < 0:
		return false
	case l.cfg.BroadcastBytes == 0:
		return true
	}
	return EstimateBytes(n) <= l.cfg.BroadcastBytes
}

// EstimateBytes bounds the bytes a plan reads: its inputs' sizes (filters
// and aggregates only shrink them).
func EstimateBytes(n Node) int64 {
	if s, ok := n.(*Scan); ok {
		if s.Table.Format == FormatMemory {
			return s.Table.MemRows * int64(8*max(1, len(s.Table.Schema)))
		}
		return s.Table.Bytes()
	}
	var sum int64
	for _, c := range n.Children() {
		sum += EstimateBytes(c)
	}
	return sum
}

func columnIndexes(es []*Expr) []int {
	out := make([]int, len(es))
	for i, e := range es {
		out[i] = e.Index
	}
	return out
}

func (l *lowering) lower(n Node) (openStage, error) {
	switch x := n.(type) {
	case *Scan:
		st := l.newStage(StageMap)
		st.Splits = TableSplits(x.Table, l.cfg)
		st.Tasks = len(st.Splits)
		return openStage{stage: st, root: &Op{Kind: OpScan, Table: x.Table, Columns: x.Columns, Cond: x.Filter, Schema: x.Schema()}}, nil
	case *Values:
		st := l.newStage(StageMap)
		st.Splits, st.Tasks = []Split{{}}, 1
		return openStage{stage: st, root: &Op{Kind: OpValues, Schema: x.Cols, Rows: x.Rows}}, nil
	case *Filter:
		o, err := l.lower(x.Input)
		if err != nil {
			return o, err
		}
		o.root = &Op{Kind: OpFilter, Input: o.root, Schema: o.root.Schema, Cond: x.Cond}
		return o, nil
	case *Project:
		o, err := l.lower(x.Input)
		if err != nil {
			return o, err
		}
		o.root = &Op{Kind: OpProject, Input: o.root, Schema: x.Schema(), Exprs: x.Exprs}
		o.part = projectPart(o.part, x.Exprs)
		return o, nil
	case *Aggregate:
		return l.aggregate(x)
	case *Join:
		return l.join(x)
	case *Union:
		return l.union(x)
	case *Sort, *Limit:
		// Below the top, ORDER BY and LIMIT need every row in one place.
		o, err := l.lower(x.Children()[0])
		if err != nil {
			return o, err
		}
		o = l.shuffle(o, nil, 1)
		o.part = nil
		o.stage.Note = "single partition: " + strings.ToLower(strings.Fields(x.Describe())[0]) + " over all rows"
		if s, ok := x.(*Sort); ok {
			o.root = &Op{Kind: OpSort, Input: o.root, Schema: o.root.Schema, Keys: s.Keys}
		} else {
			lim := x.(*Limit)
			o.root = &Op{Kind: OpLimit, Input: o.root, Schema: o.root.Schema, Offset: lim.Offset, Limit: lim.Count}
		}
		return o, nil
	}
	return openStage{}, fmt.Errorf("not supported: %s", strings.Fields(n.Describe())[0])
}

// aggregate appends the map side of an aggregate (the combiner) to the
// open stage, shuffles on the group keys, and opens the reduce stage that
// merges and finishes it.
func (l *lowering) aggregate(agg *Aggregate) (openStage, error) {
	o, err := l.lower(agg.Input)
	if err != nil {
		return o, err
	}
	nGroups := len(agg.Groups)
	r := l.cfg.Reducers
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
	pre, preAggs := preProjection(agg)
	aggSchema := agg.Schema()
	source := o.root
	if covered, newPart := groupsCover(o.part, agg.Groups); covered {
		// The rows are already partitioned by keys the groups include: every
		// group is whole in one task, so aggregate here, without a shuffle.
		preOp := &Op{Kind: OpProject, Input: source, Schema: pre.schema, Exprs: pre.exprs}
		o.root = &Op{Kind: OpAggregate, Mode: AggComplete, Input: preOp, Schema: aggSchema,
			Groups: columnRefs(pre.schema[:nGroups], 0), Aggs: preAggs}
		o.part = newPart
		o.stage.Note = joinNote(o.stage.Note, "aggregate shares the shuffle above: its groups include the partition keys")
		return o, nil
	}
	note := ""
	var final func(in *Op) *Op
	switch wc := wordCountOp(agg, source); {
	case distinct && dedupeFirst(preAggs, len(pre.schema)-nGroups):
		// Every aggregate is one of COUNT, SUM, AVG, MIN, MAX over DISTINCT
		// x, the same x: the same as the plain aggregate over the distinct
		// (keys, x) rows. Finding those is a GROUP BY keys, x, with a
		// combiner on the map side and a table that spills like any, where
		// keeping every x of a group in one filter could not.
		dedupe := pre.schema // keys, then the argument: all grouped on
		preOp := &Op{Kind: OpProject, Input: source, Schema: pre.schema, Exprs: pre.exprs}
		o.root = &Op{Kind: OpAggregate, Mode: AggPartial, Input: preOp, Schema: dedupe, Groups: columnRefs(dedupe, 0)}
		plain := make([]AggCall, len(preAggs))
		for i, a := range preAggs {
			a.Distinct = false
			plain[i] = a
		}
		final = func(in *Op) *Op {
			unique := &Op{Kind: OpAggregate, Mode: AggFinal, Input: in, Schema: dedupe, Groups: columnRefs(dedupe, 0)}
			return &Op{Kind: OpAggregate, Mode: AggComplete, Input: unique, Schema: aggSchema, Groups: columnRefs(dedupe[:nGroups], 0), Aggs: plain}
		}
		note = "DISTINCT aggregate: (group keys, argument) pairs are deduplicated on both sides of the shuffle, then aggregated in the reducer"
	case distinct:
		o.root = &Op{Kind: OpProject, Input: source, Schema: pre.schema, Exprs: pre.exprs}
		final = func(in *Op) *Op {
			return &Op{Kind: OpAggregate, Mode: AggComplete, Input: in, Schema: aggSchema, Groups: columnRefs(pre.schema[:nGroups], 0), Aggs: preAggs}
		}
		note = "DISTINCT aggregate: rows are shuffled on the group keys and aggregated once in the reducer"
	case wc != nil:
		o.root = wc
		final = func(in *Op) *Op {
			return &Op{Kind: OpAggregate, Mode: AggFinal, Input: in, Schema: aggSchema, Groups: columnRefs(wc.Schema[:1], 0), Aggs: preAggs}
		}
		note = "word count: scan and partial aggregate fused"
	default:
		partialSchema := append(Schema(nil), pre.schema[:nGroups]...)
		for i, a := range preAggs {
			for j, t := range a.StateTypes() {
				partialSchema = append(partialSchema, Column{Name: fmt.Sprintf("%s.state%d", agg.Aggs[i].Name, j), Type: t})
			}
		}
		preOp := &Op{Kind: OpProject, Input: source, Schema: pre.schema, Exprs: pre.exprs}
		o.root = &Op{Kind: OpAggregate, Mode: AggPartial, Input: preOp, Schema: partialSchema, Groups: columnRefs(pre.schema[:nGroups], 0), Aggs: preAggs}
		final = func(in *Op) *Op {
			return &Op{Kind: OpAggregate, Mode: AggFinal, Input: in, Schema: aggSchema, Groups: columnRefs(partialSchema[:nGroups], 0), Aggs: preAggs}
		}
	}
	if note != "" {
		if o.stage.Note != "" {
			o.stage.Note += "; "
		}
		o.stage.Note += note
	}
	o = l.shuffle(o, keys, r)
	o.root = final(o.root)
	return o, nil
}

// dedupeFirst reports whether an aggregate's calls (as preProjection
// returns them, over args projected arguments) are all DISTINCT calls of
// COUNT, SUM, AVG, MIN or MAX over one and the same argument: over the
// distinct (keys, argument) rows, each equals its plain form (NULLs are
// skipped by all five either way).
func dedupeFirst(calls []AggCall, args int) bool {
	if args != 1 {
		return false
	}
	for _, c := range calls {
		switch c.Func {
		case "count", "sum", "avg", "min", "max":
		default:
			return false
		}
		if !c.Distinct || len(c.Args) != 1 {
			return false
		}
	}
	return true
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
	exprs  []*Expr
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

// Map-task sizing: a map stage over a big input has at most
// MapTasksPerWorker tasks per worker (TextTasksPerWorker over text, whose
// word-count combiner emits the vocabulary of its split: every extra task
// re-learns it and adds as many partial rows to the shuffle), so splits
// grow past SplitSize on big inputs; never below autoSplitMin, so that
// small inputs (and tests that ask for tiny splits) keep SplitSize. Two or
// more tasks per worker still let a fast worker take over a slow one's
// share.
const (
	MapTasksPerWorker  = 4
	TextTasksPerWorker = 2
	autoSplitMin       = 16 << 20
)

// splitTarget is the bytes per map task over t.
func splitTarget(t *Table, cfg LowerConfig) int64 {
	target := cfg.SplitSize
	workers := cfg.Workers
	if workers <= 0 {
		workers = cfg.Reducers // the engine's default R is one per worker
	}
	if workers <= 0 {
		return target
	}
	per := int64(MapTasksPerWorker)
	if t.Format == FormatText {
		per = TextTasksPerWorker
	}
	tasks := per * int64(workers)
	if auto := (t.Bytes() + tasks - 1) / tasks; auto > target && auto >= autoSplitMin {
		target = auto
	}
	return target
}

// TableSplits cuts a table's input into map-task splits of about
// cfg.SplitSize bytes (more on big inputs, see MapTasksPerWorker): byte
// ranges of text formats (the readers align them to line starts), groups of
// Parquet row groups, row ranges of in-memory tables. Files no bigger than
// the target (and unsplittable ones) are read whole, and consecutive small
// ones share a split up to the target, so that a glob over thousands of
// small files makes about total size / target tasks, not one per file.
func TableSplits(t *Table, cfg LowerConfig) []Split {
	var out []Split
	cfg.SplitSize = splitTarget(t, cfg)
	if t.Format == FormatMemory {
		for lo := int64(0); lo < t.MemRows; lo += cfg.MemSplitRows {
			out = append(out, Split{MemID: t.MemID, RowStart: lo, RowEnd: min(lo+cfg.MemSplitRows, t.MemRows)})
		}
		if len(out) == 0 {
			out = append(out, Split{MemID: t.MemID})
		}
		return out
	}
	var group []FileRange
	var groupBytes int64
	flush := func() {
		switch len(group) {
		case 0:
		case 1:
			g := group[0]
			out = append(out, Split{Path: g.Path, Start: g.Start, End: g.End, RowGroups: g.RowGroups})
		default:
			out = append(out, Split{Files: group})
		}
		group, groupBytes = nil, 0
	}
	for _, f := range t.Files {
		if whole := wholeFile(t, f, cfg.SplitSize); whole != nil {
			if f.Size >= cfg.SplitSize { // a task of its own
				out = append(out, Split{Path: whole.Path, Start: whole.Start, End: whole.End, RowGroups: whole.RowGroups})
				continue
			}
			if groupBytes > 0 && groupBytes+f.Size > cfg.SplitSize {
				flush()
			}
			group = append(group, *whole)
			groupBytes += f.Size
			continue
		}
		if t.Format == FormatParquet {
			n := len(f.RowGroups)
			per := max(1, int(cfg.SplitSize/max(1, f.Size/int64(n))))
			for g := 0; g < n; g += per {
				var groups []int
				for k := g; k < min(g+per, n); k++ {
					groups = append(groups, k)
				}
				out = append(out, Split{Path: f.Path, RowGroups: groups})
			}
			continue
		}
		n := (f.Size + cfg.SplitSize - 1) / cfg.SplitSize
		step := (f.Size + n - 1) / n
		for lo := int64(0); lo < f.Size; lo += step {
			out = append(out, Split{Path: f.Path, Start: lo, End: min(lo+step, f.Size)})
		}
	}
	flush()
	if len(out) == 0 {
		// An empty input still runs one task, so that the job has a shape.
		out = append(out, Split{Path: "", Start: 0, End: 0})
	}
	return out
}

// wholeFile is the part that reads all of f when f is read by one task
// (nil when f is cut): a file no bigger than target, an unsplittable one,
// or a Parquet file whose row groups the catalog did not list (it inspects
// only big files of a glob).
func wholeFile(t *Table, f File, target int64) *FileRange {
	if t.Format == FormatParquet {
		if len(f.RowGroups) > 0 && f.Size > target {
			return nil
		}
		r := &FileRange{Path: f.Path}
		for g := range f.RowGroups {
			r.RowGroups = append(r.RowGroups, g)
		}
		return r
	}
	if f.Size > target && !t.Unsplittable {
		return nil
	}
	return &FileRange{Path: f.Path, Start: 0, End: f.Size}
}

// union lowers UNION ALL: both inputs go to one reduce stage that reads
// them one after the other (hash-partitioned on every column, so that a
// DISTINCT above can run partition-wise).
func (l *lowering) union(u *Union) (openStage, error) {
	lo, err := l.lower(u.Left)
	if err != nil {
		return lo, err
	}
	ro, err := l.lower(u.Right)
	if err != nil {
		return ro, err
	}
	keys := make([]int, len(u.Schema()))
	for i := range keys {
		keys[i] = i
	}
	r := l.cfg.Reducers
	op := &Op{Kind: OpUnion, Schema: u.Schema()}
	op.Input = l.close(lo, keys, r, false)
	op.Build = l.close(ro, keys, r, false)
	red := l.newStage(StageReduce)
	red.Tasks = r
	red.Inputs = []StageInput{{Stage: op.Input.From}, {Stage: op.Build.From}}
	return openStage{stage: red, root: op}, nil
}

// order puts the stages in topological order with the final one last and
// numbers them 0, 1, … in that order (the scheduler's contract).
func order(job *Job, final *Stage) {
	byID := map[int]*Stage{}
	for _, s := range job.Stages {
		byID[s.ID] = s
	}
	var sorted []*Stage
	seen := map[int]bool{}
	var visit func(s *Stage)
	visit = func(s *Stage) {
		if seen[s.ID] {
			return
		}
		seen[s.ID] = true
		for _, in := range s.Inputs {
			visit(byID[in.Stage])
		}
		sorted = append(sorted, s)
	}
	visit(final)
	renum := map[int]int{}
	for i, s := range sorted {
		renum[s.ID] = i
	}
	for _, s := range sorted {
		s.ID = renum[s.ID]
		for i := range s.Inputs {
			s.Inputs[i].Stage = renum[s.Inputs[i].Stage]
		}
		for _, r := range s.Root.Reads() {
			r.From = renum[r.From]
		}
	}
	job.Stages = sorted
}

// projectPart follows a partitioning through a projection.
func projectPart(part [][]int, exprs []*Expr) [][]int {
	if part == nil {
		return nil
	}
	out := make([][]int, len(part))
	for i, eq := range part {
		for j, e := range exprs {
			if e.Kind == ExprColumn && slices.Contains(eq, e.Index) {
				out[i] = append(out[i], j)
			}
		}
		if len(out[i]) == 0 {
			return nil
		}
	}
	return out
}

// groupsCover reports whether every partition key is one of the group
// keys, and the partitioning of the aggregate's output.
func groupsCover(part [][]int, groups []*Expr) (bool, [][]int) {
	if len(part) == 0 || len(groups) == 0 {
		return false, nil
	}
	out := make([][]int, len(part))
	for i, eq := range part {
		for g, e := range groups {
			if e.Kind == ExprColumn && slices.Contains(eq, e.Index) {
				out[i] = append(out[i], g)
			}
		}
		if len(out[i]) == 0 {
			return false, nil
		}
	}
	return true, out
}
