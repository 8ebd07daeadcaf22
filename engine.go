package quern

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quernsql/quern/cluster"
	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/exec/shuffle"
	"github.com/quernsql/quern/planner"
)

// JobStats is the attempt log and per-stage summary of a job.
type JobStats = cluster.JobStats

// engine runs jobs on the local pool, whose workers run tasks with one
// shared executor (they share this machine's disk).
type engine struct {
	cfg  Config
	dir  string // this engine's scratch directory
	pool *cluster.LocalPool
	x    *cluster.Executor
	seq  atomic.Int64

	// remote, when set (Config.Pool), runs the jobs instead of pool.
	remote cluster.JobPool
	mem    *memStore
}

func newEngine(cfg Config, mem *memStore) (*engine, error) {
	if cfg.Pool != nil {
		return &engine{cfg: cfg, remote: cfg.Pool, mem: mem}, nil
	}
	dir, err := os.MkdirTemp(cfg.TempDir, "quern-")
	if err != nil {
		return nil, fmt.Errorf("creating the scratch directory: %w", err)
	}
	e := &engine{cfg: cfg, dir: dir}
	e.x = cluster.NewExecutor(dir, exec.Env{Alloc: cfg.Allocator, BatchSize: cfg.BatchSize}, mem)
	if cfg.MemoryLimit > 0 {
		e.x.Budget = exec.NewBudget(exec.OperatorBudget(cfg.MemoryLimit))
	}
	if spool := spoolBytes(cfg); spool > 0 {
		e.x.Spool = shuffle.NewSpool(spool)
	}
	pc := cluster.DefaultConfig()
	pc.OnDiscard = e.x.Discard
	pc.TestingKnobs = cfg.PoolKnobs
	e.pool = cluster.NewLocalPool(pc, cfg.Workers, e.x)
	return e, nil
}

// jobError is what a user sees of a failed job: a task's own error (a
// malformed input line, a memory limit) without the scheduler's context,
// except when the job gave up on fetch failures, where that context (which
// task, how many times) is the explanation.
func jobError(err error) error {
	var te *cluster.TaskError
	if errors.As(err, &te) && te.Err != nil && te.Kind != cluster.FetchFailed {
		return te.Err
	}
	return err
}

// spoolBytes is how much shuffle data the local pool keeps in memory: the
// configured ShuffleMemory, but at most an eighth of the memory limit, so
// that the spool and the operators' budget together stay within it.
func spoolBytes(cfg Config) int64 {
	if cfg.MemoryLimit > 0 {
		return min(cfg.ShuffleMemory, cfg.MemoryLimit/8)
	}
	return cfg.ShuffleMemory
}

func (e *engine) close() error {
	if e.remote != nil {
		return nil
	}
	e.pool.Close()
	return os.RemoveAll(e.dir)
}

// run executes a job and returns the final merge of its output.
func (e *engine) run(ctx context.Context, job *planner.Job) (*Result, error) {
	id := fmt.Sprintf("q%d", e.seq.Add(1))
	if e.remote != nil {
		return e.runRemote(ctx, id, job)
	}
	if err := e.x.AddJob(id, job); err != nil {
		return nil, err
	}
	cleanup := func() {
		e.pool.Release(id)
		e.x.RemoveJob(id)
	}
	outputs, stats, err := e.pool.Run(ctx, cluster.JobSpecOf(id, job))
	if err != nil {
		cleanup()
		return nil, jobError(err)
	}
	op, err := cluster.FinalMerge(job, outputs, e.x.Env, e.x.OpenLocal(job))
	if err != nil {
		cleanup()
		return nil, err
	}
	return &Result{RecordReader: &resultReader{op: op, ctx: ctx, onClose: cleanup}, Stats: &stats, InputBytes: inputBytes(job)}, nil
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
