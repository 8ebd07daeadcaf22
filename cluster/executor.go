package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/exec/order"
	"github.com/quernsql/quern/exec/shuffle"
	exectask "github.com/quernsql/quern/exec/task"
	"github.com/quernsql/quern/planner"
)

// Executor runs the tasks of planner jobs on one worker's disk: it is the
// Runner of the in-process pool, and what a worker process runs for the
// tasks it is given. Each attempt writes its partitions under its own
// directory; OutputMeta tells consumers where they are.
type Executor struct {
	// Dir holds one directory per job, one per attempt inside it.
	Dir string
	Env exec.Env
	// Mem serves the rows of in-memory tables (may be nil).
	Mem exectask.MemTables
	// Spool keeps partitions in memory while it has room (may be nil: all
	// partitions are files, as a worker process serving others needs).
	Spool *shuffle.Spool
	// Budget, when set, bounds the memory of all jobs together (the local
	// pool's share of the machine); each job's own limit comes from its
	// RunSettings.
	Budget *exec.Budget
	// Access, when set, vets every input file a map task opens (the
	// worker's --allow-dir directories): a task is refused whatever
	// coordinator sent it.
	Access exectask.PathChecker

	mu   sync.Mutex
	jobs map[string]*execJob
}

// execJob is a job as this executor runs it: the plan and the query's
// memory budget in this process, shared by all its tasks here.
type execJob struct {
	plan   *planner.Job
	budget *exec.Budget
	// results is the share of budget the job's result may hold in memory
	// in the local pool (nil: none, it goes to files): half the operators'
	// budget, so that the operators always keep the other half.
	results *exec.Budget
}

// NewExecutor returns an executor writing under dir.
func NewExecutor(dir string, env exec.Env, mem exectask.MemTables) *Executor {
	return &Executor{Dir: dir, Env: env, Mem: mem, jobs: map[string]*execJob{}}
}

// AddJob makes a job's tasks runnable.
func (x *Executor) AddJob(id string, job *planner.Job) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, dup := x.jobs[id]; dup {
		return fmt.Errorf("internal: job %s added twice", id)
	}
	ej := &execJob{plan: job, budget: x.Budget.Sub(exec.OperatorBudget(job.Run.MemoryLimit))}
	if share := exec.OperatorBudget(job.Run.MemoryLimit) / 2; x.Spool != nil && share > 0 {
		ej.results = ej.budget.Sub(share)
	}
	x.jobs[id] = ej
	return nil
}

// RemoveJob forgets a job and deletes all its files.
func (x *Executor) RemoveJob(id string) {
	x.mu.Lock()
	delete(x.jobs, id)
	x.mu.Unlock()
	if x.Spool != nil {
		x.Spool.RemovePrefix(x.jobDir(id) + string(filepath.Separator))
	}
	os.RemoveAll(x.jobDir(id))
}

func (x *Executor) job(id string) *planner.Job {
	if j := x.execJob(id); j != nil {
		return j.plan
	}
	return nil
}

func (x *Executor) execJob(id string) *execJob {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.jobs[id]
}

// JobBudget returns the memory budget of a job in this process (nil when
// the job is unknown): what its tasks reserved at most and spilled.
func (x *Executor) JobBudget(id string) *exec.Budget {
	if j := x.execJob(id); j != nil {
		return j.budget
	}
	return nil
}

func (x *Executor) jobDir(id string) string { return filepath.Join(x.Dir, id) }

// AttemptDir is where an attempt writes its output.
func (x *Executor) AttemptDir(a AttemptID) string {
	return filepath.Join(x.jobDir(a.Task.Job), fmt.Sprintf("s%d-t%d-a%d", a.Task.Stage, a.Task.Index, a.Attempt))
}

// Discard deletes an attempt's files (Config.OnDiscard).
func (x *Executor) Discard(a AttemptID, _ string) {
	dir := x.AttemptDir(a)
	if x.Spool != nil {
		x.Spool.RemovePrefix(dir + string(filepath.Separator))
	}
	go os.RemoveAll(dir)
}

// OutputMeta travels with an accepted output to its consumers: the path
// of each partition file on the worker that wrote it.
type OutputMeta struct {
	Paths []string `json:"paths"`
}

// PartitionPath returns where partition p of an accepted output lives.
func PartitionPath(loc InputLocation, p int) (string, error) {
	var m OutputMeta
	if err := json.Unmarshal(loc.Output.Meta, &m); err != nil || p >= len(m.Paths) {
		return "", fmt.Errorf("internal: output of %s has no partition %d", loc.Attempt, p)
	}
	return m.Paths[p], nil
}

// RunTask runs one attempt (Runner).
func (x *Executor) RunTask(ctx context.Context, a AttemptID, inputs []InputLocation) (OutputInfo, error) {
	ej := x.execJob(a.Task.Job)
	if ej == nil {
		return OutputInfo{}, DeterministicError(fmt.Errorf("internal: unknown job %s", a.Task.Job))
	}
	job := ej.plan
	stage := job.Stage(a.Task.Stage)
	if stage == nil || a.Task.Index < 0 || a.Task.Index >= stage.Tasks ||
		(stage.Kind == planner.StageMap && a.Task.Index >= len(stage.Splits)) {
		return OutputInfo{}, DeterministicError(fmt.Errorf("internal: job %s has no task %s", a.Task.Job, a.Task))
	}
	in := exectask.Input{Spool: x.Spool, Results: ej.results, Partitions: map[int][]string{}, Access: x.Access}
	byPath := map[string]InputLocation{}
	if stage.Kind == planner.StageMap {
		in.Split = stage.Splits[a.Task.Index]
	}
	broadcast := map[int]bool{}
	for _, si := range stage.Inputs {
		broadcast[si.Stage] = si.Broadcast
	}
	for _, loc := range inputs {
		part := a.Task.Index
		if broadcast[loc.Attempt.Task.Stage] {
			part = 0
		}
		p, err := PartitionPath(loc, part)
		if err == nil && !x.owns(p) {
			err = fmt.Errorf("internal: input %s of %s is not a file of this worker (under %s)", p, a, x.Dir)
		}
		if err != nil {
			return OutputInfo{}, DeterministicError(err)
		}
		in.Partitions[loc.Attempt.Task.Stage] = append(in.Partitions[loc.Attempt.Task.Stage], p)
		byPath[p] = loc
	}
	env := x.Env
	env.Budget = ej.budget.Task()
	env.SpillDir = filepath.Join(x.AttemptDir(a), "spill")
	if job.Run.BatchSize > 0 {
		env.BatchSize = job.Run.BatchSize
	}
	out, err := exectask.Run(ctx, stage, in, x.AttemptDir(a), env, x.Mem)
	if err != nil {
		var fe *shuffle.FetchError
		if errors.As(err, &fe) {
			if loc, ok := byPath[fe.Path]; ok {
				return OutputInfo{}, FetchFailedError(loc.Attempt.Task, loc.Worker, err)
			}
		}
		if ctx.Err() == nil && isDeterministic(err) {
			return OutputInfo{}, DeterministicError(err)
		}
		return OutputInfo{}, err
	}
	m := OutputMeta{}
	for _, p := range out.Partitions {
		m.Paths = append(m.Paths, p.Path)
	}
	meta, _ := json.Marshal(m)
	return OutputInfo{Rows: out.Rows, Bytes: out.Bytes, Meta: meta, Spilled: env.Budget.Spilled(), SkippedRows: out.SkippedRows}, nil
}

// owns reports whether path lies under the executor's directory: partition
// files are always this worker's own (written here or fetched here), so a
// path elsewhere in a task's inputs is refused before anything opens it.
func (x *Executor) owns(path string) bool {
	dir, err1 := filepath.Abs(x.Dir)
	p, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && rel != "."
}

// isDeterministic tells errors that would recur on any worker (bad input,
// a type error, a missing file) from ones worth retrying elsewhere (I/O on
// this worker's own disk).
func isDeterministic(err error) bool {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) {
		return true
	}
	var pathErr *os.PathError
	return !errors.As(err, &pathErr)
}

// JobSpecOf gives the scheduler the shape of a job.
func JobSpecOf(id string, job *planner.Job) JobSpec {
	s := JobSpec{ID: id}
	for _, st := range job.Stages {
		ss := StageSpec{ID: st.ID, Tasks: st.Tasks}
		for _, in := range st.Inputs {
			ss.Deps = append(ss.Deps, in.Stage)
		}
		s.Stages = append(s.Stages, ss)
	}
	return s
}

// FinalMerge merges the last stage's outputs as the job's Final says: a
// k-way merge when they are sorted, then OFFSET/LIMIT, then only the
// visible columns. open reads one output's single partition.
func FinalMerge(job *planner.Job, outputs []InputLocation, env exec.Env, open func(loc InputLocation) (exec.Operator, error)) (exec.Operator, error) {
	last := job.Stages[len(job.Stages)-1]
	var inputs []exec.Operator
	closeAll := func() {
		for _, in := range inputs {
			in.Close()
		}
	}
	for _, loc := range outputs {
		r, err := open(loc)
		if err != nil {
			closeAll()
			return nil, err
		}
		inputs = append(inputs, r)
	}
	op, err := order.NewMerge(inputs, job.Final.Keys, env)
	if err != nil {
		closeAll()
		return nil, err
	}
	if job.Final.Limit >= 0 || job.Final.Offset > 0 {
		op = order.NewLimit(op, job.Final.Offset, job.Final.Limit, env)
	}
	if job.Final.Width < len(last.Root.Schema) {
		exprs := make([]*planner.Expr, job.Final.Width)
		for i := range exprs {
			c := last.Root.Schema[i]
			exprs[i] = planner.Col(i, c.Name, c.Type)
		}
		p, err := exec.NewProject(op, exprs, job.Schema[:job.Final.Width], env)
		if err != nil {
			op.Close()
			return nil, err
		}
		return p, nil
	}
	r, err := exec.NewRename(op, job.Schema.Arrow())
	if err != nil {
		op.Close()
		return nil, err
	}
	return r, nil
}

// OpenLocal reads an output whose files are on this machine.
func (x *Executor) OpenLocal(job *planner.Job) func(loc InputLocation) (exec.Operator, error) {
	schema := job.Stages[len(job.Stages)-1].Root.Schema.Arrow()
	return func(loc InputLocation) (exec.Operator, error) {
		p, err := PartitionPath(loc, 0)
		if err != nil {
			return nil, err
		}
		if x.Spool != nil {
			return shuffle.NewTakingReader(x.Spool, []string{p}, schema, x.Env)
		}
		return shuffle.NewReader([]string{p}, schema, x.Env)
	}
}
