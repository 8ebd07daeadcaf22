package quern

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quernsql/quern/cluster"
	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/exec/order"
	"github.com/quernsql/quern/exec/shuffle"
	"github.com/quernsql/quern/exec/task"
	"github.com/quernsql/quern/planner"
)

// JobStats is the attempt log and per-stage summary of a job.
type JobStats = cluster.JobStats

// engine runs jobs on the local pool: it is the pool's Runner, mapping each
// attempt to its stage and its files.
type engine struct {
	cfg  Config
	dir  string // this engine's scratch directory
	pool *cluster.LocalPool
	env  exec.Env
	mem  task.MemTables

	mu   sync.Mutex
	jobs map[string]*runningJob
	seq  atomic.Int64
}

type runningJob struct {
	job *planner.Job
	dir string
}

func newEngine(cfg Config) (*engine, error) {
	dir, err := os.MkdirTemp(cfg.TempDir, "quern-")
	if err != nil {
		return nil, fmt.Errorf("creating the scratch directory: %w", err)
	}
	e := &engine{cfg: cfg, dir: dir, jobs: map[string]*runningJob{},
		env: exec.Env{Alloc: cfg.Allocator, BatchSize: cfg.BatchSize}}
	pc := cluster.DefaultConfig()
	pc.OnDiscard = e.discard
	e.pool = cluster.NewLocalPool(pc, cfg.Workers, e)
	return e, nil
}

func (e *engine) close() error {
	e.pool.Close()
	return os.RemoveAll(e.dir)
}

func attemptDir(jobDir string, a cluster.AttemptID) string {
	return filepath.Join(jobDir, fmt.Sprintf("s%d-t%d-a%d", a.Task.Stage, a.Task.Index, a.Attempt))
}

// discard removes an attempt's files once nothing will read them.
func (e *engine) discard(a cluster.AttemptID, _ string) {
	e.mu.Lock()
	j := e.jobs[a.Task.Job]
	e.mu.Unlock()
	if j != nil {
		go os.RemoveAll(attemptDir(j.dir, a))
	}
}

// outputMeta travels with a task's accepted output to its consumers: the
// path of each partition file.
type outputMeta struct {
	Paths []string `json:"paths"`
}

// RunTask runs one attempt of a task (cluster.Runner).
func (e *engine) RunTask(ctx context.Context, a cluster.AttemptID, inputs []cluster.InputLocation) (cluster.OutputInfo, error) {
	e.mu.Lock()
	j := e.jobs[a.Task.Job]
	e.mu.Unlock()
	if j == nil {
		return cluster.OutputInfo{}, cluster.DeterministicError(fmt.Errorf("internal: unknown job %s", a.Task.Job))
	}
	stage := j.job.Stage(a.Task.Stage)
	var in task.Input
	if stage.Kind == planner.StageMap {
		in.Split = stage.Splits[a.Task.Index]
	} else {
		for _, loc := range inputs {
			var m outputMeta
			if err := json.Unmarshal(loc.Output.Meta, &m); err != nil || a.Task.Index >= len(m.Paths) {
				return cluster.OutputInfo{}, cluster.DeterministicError(fmt.Errorf("internal: bad output of %s", loc.Attempt))
			}
			in.Partitions = append(in.Partitions, m.Paths[a.Task.Index])
		}
	}
	out, err := task.Run(ctx, stage, in, attemptDir(j.dir, a), e.env, e.mem)
	if err != nil {
		var fe *shuffle.FetchError
		if errors.As(err, &fe) {
			for _, loc := range inputs {
				var m outputMeta
				if json.Unmarshal(loc.Output.Meta, &m) == nil && a.Task.Index < len(m.Paths) && m.Paths[a.Task.Index] == fe.Path {
					return cluster.OutputInfo{}, cluster.FetchFailedError(loc.Attempt.Task, loc.Worker, err)
				}
			}
		}
		if ctx.Err() == nil && isDeterministic(err) {
			return cluster.OutputInfo{}, cluster.DeterministicError(err)
		}
		return cluster.OutputInfo{}, err
	}
	m := outputMeta{}
	for _, p := range out.Partitions {
		m.Paths = append(m.Paths, p.Path)
	}
	meta, _ := json.Marshal(m)
	return cluster.OutputInfo{Rows: out.Rows, Bytes: out.Bytes, Meta: meta}, nil
}

// isDeterministic tells errors that would recur on any worker (bad input,
// a type error, a file that does not exist) from ones worth retrying.
func isDeterministic(err error) bool {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		return true
	}
	var pe interface{ Deterministic() bool }
	if errors.As(err, &pe) {
		return pe.Deterministic()
	}
	// Readers and kernels report bad data and SQL runtime errors as plain
	// errors; re-running them elsewhere gives the same answer, so treat
	// every non-I/O error as deterministic.
	var pathErr *os.PathError
	return !errors.As(err, &pathErr)
}

func (e *engine) spec(id string, job *planner.Job) cluster.JobSpec {
	s := cluster.JobSpec{ID: id}
	for _, st := range job.Stages {
		ss := cluster.StageSpec{ID: st.ID, Tasks: st.Tasks}
		if st.Kind == planner.StageReduce {
			ss.Deps = []int{st.Input}
		}
		s.Stages = append(s.Stages, ss)
	}
	return s
}

// run executes a job and returns the final merge of its output.
func (e *engine) run(ctx context.Context, job *planner.Job) (*Result, error) {
	id := fmt.Sprintf("q%d", e.seq.Add(1))
	dir := filepath.Join(e.dir, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.jobs[id] = &runningJob{job: job, dir: dir}
	e.mu.Unlock()
	cleanup := func() {
		e.pool.Release(id)
		e.mu.Lock()
		delete(e.jobs, id)
		e.mu.Unlock()
		os.RemoveAll(dir)
	}
	outputs, stats, err := e.pool.Run(ctx, e.spec(id, job))
	if err != nil {
		cleanup()
		var te *cluster.TaskError
		if errors.As(err, &te) && te.Err != nil {
			return nil, te.Err
		}
		return nil, err
	}
	rr, err := e.final(ctx, job, outputs)
	if err != nil {
		cleanup()
		return nil, err
	}
	return &Result{RecordReader: &resultReader{op: rr, ctx: ctx, onClose: cleanup}, Stats: &stats}, nil
}

// final merges the last stage's outputs: a k-way merge when they are
// sorted, then OFFSET/LIMIT, then only the visible columns.
func (e *engine) final(ctx context.Context, job *planner.Job, outputs []cluster.InputLocation) (exec.Operator, error) {
	last := job.Stages[len(job.Stages)-1]
	schema := last.Root.Schema.Arrow()
	var inputs []exec.Operator
	closeAll := func() {
		for _, in := range inputs {
			in.Close()
		}
	}
	for _, loc := range outputs {
		var m outputMeta
		if err := json.Unmarshal(loc.Output.Meta, &m); err != nil || len(m.Paths) != 1 {
			closeAll()
			return nil, fmt.Errorf("internal: bad final output of %s", loc.Attempt)
		}
		r, err := shuffle.NewReader(m.Paths, schema, e.env)
		if err != nil {
			closeAll()
			return nil, err
		}
		inputs = append(inputs, r)
	}
	op, err := order.NewMerge(inputs, job.Final.Keys, e.env)
	if err != nil {
		closeAll()
		return nil, err
	}
	if job.Final.Limit >= 0 || job.Final.Offset > 0 {
		op = order.NewLimit(op, job.Final.Offset, job.Final.Limit, e.env)
	}
	if job.Final.Width < len(last.Root.Schema) {
		exprs := make([]*planner.Expr, job.Final.Width)
		for i := range exprs {
			c := last.Root.Schema[i]
			exprs[i] = planner.Col(i, c.Name, c.Type)
		}
		p, err := exec.NewProject(op, exprs, job.Schema[:job.Final.Width], e.env)
		if err != nil {
			op.Close()
			return nil, err
		}
		op = p
	} else {
		r, err := exec.NewRename(op, job.Schema.Arrow())
		if err != nil {
			op.Close()
			return nil, err
		}
		op = r
	}
	return op, nil
}

// explainAnalyze runs the job to the end and prints the plan with what
// running it took.
func (e *engine) explainAnalyze(ctx context.Context, job *planner.Job) (*Result, error) {
	res, err := e.run(ctx, job)
	if err != nil {
		return nil, err
	}
	var rows int64
	for res.Next() {
		rows += res.Record().NumRows()
	}
	err = res.Err()
	res.Release()
	if err != nil {
		return nil, err
	}
	text := planner.Explain(job) + fmt.Sprintf("Result: %d rows\n", rows) + res.Stats.String()
	return &Result{RecordReader: textResult(e.cfg.Allocator, "plan", text), Stats: res.Stats}, nil
}

// resultReader adapts the final operator to array.RecordReader and cleans
// the job up when released.
type resultReader struct {
	refs    atomic.Int64
	op      exec.Operator
	ctx     context.Context
	rec     arrow.Record
	err     error
	done    bool
	onClose func()
	once    sync.Once
}

func (r *resultReader) Retain()                   { r.refs.Add(1) }
func (r *resultReader) Schema() *arrow.Schema     { return r.op.Schema() }
func (r *resultReader) Record() arrow.Record      { return r.rec }
func (r *resultReader) RecordBatch() arrow.Record { return r.rec }
func (r *resultReader) Err() error                { return r.err }

func (r *resultReader) Next() bool {
	if r.done {
		return false
	}
	for {
		rec, err := r.op.Next(r.ctx)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.err = err
			}
			r.done = true
			r.rec = nil
			return false
		}
		if rec.NumRows() == 0 {
			continue
		}
		r.rec = rec
		return true
	}
}

func (r *resultReader) Release() {
	if r.refs.Add(-1) >= 0 {
		return
	}
	r.once.Do(func() {
		r.rec = nil
		r.op.Close()
		r.onClose()
	})
}

var _ array.RecordReader = (*resultReader)(nil)
