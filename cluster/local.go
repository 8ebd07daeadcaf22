package cluster

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Runner executes one attempt of a task. It must return soon after ctx is
// cancelled (the attempt was killed or its job ended) and write its output
// under the attempt's id. Wrap an error with DeterministicError or
// FetchFailedError to give it a kind; any other error is Transient.
type Runner interface {
	RunTask(ctx context.Context, a AttemptID, inputs []InputLocation) (OutputInfo, error)
}

// RunnerFunc lets a function be a Runner.
type RunnerFunc func(ctx context.Context, a AttemptID, inputs []InputLocation) (OutputInfo, error)

func (f RunnerFunc) RunTask(ctx context.Context, a AttemptID, inputs []InputLocation) (OutputInfo, error) {
	return f(ctx, a, inputs)
}

// TestingKnobs are LocalPool hooks for tests.
type TestingKnobs struct {
	// TaskDelay, if set, holds each attempt for the returned duration before
	// it runs (a Kill cuts the wait short), e.g. to make one worker slow.
	TaskDelay func(worker string, a AttemptID) time.Duration
	// DropHeartbeats, if set, stops the pool heartbeating a worker for which
	// it returns true, so the scheduler declares it dead after
	// HeartbeatTimeout (its running attempts still finish and are ignored).
	DropHeartbeats func(worker string) bool
	// LoseWorker, if set, is asked about every live worker on each tick of
	// the pool's clock; the first time it returns true, the worker goes
	// down at once, as when its process dies: its running attempts are
	// cancelled, its outputs are made again where still needed, and it
	// never comes back.
	LoseWorker func(worker string) bool
	// FetchFault, if set, is called before an attempt on worker reads each
	// of its inputs (the transport seam: in a cluster, a fetch from another
	// worker). It may delay the read (a Kill cuts the wait short) or fail
	// it; a failure is reported as FetchFailed for that input's task, as a
	// real fetch failure is.
	FetchFault func(worker string, a AttemptID, in InputLocation) (time.Duration, error)
}

// ErrPoolClosed is returned by Run once Close has been called.
var ErrPoolClosed = errors.New("local worker pool closed")

// LocalPool runs jobs on in-process workers. One goroutine owns the
// Scheduler and feeds it real time; each Launch runs the Runner on its own
// goroutine (the scheduler keeps each worker within its slots), and a Kill
// cancels that goroutine's context.
type LocalPool struct {
	cfg      Config
	runner   Runner
	workers  []string
	start    time.Time
	requests chan request
	reports  chan Event
	quit     chan struct{}
	done     chan struct{}
	close    sync.Once
	nextID   atomic.Int64

	// Owned by the loop goroutine.
	sched    *Scheduler
	waiters  map[string]chan jobResult
	active   map[string]bool // submitted and not yet released
	attempts map[AttemptID]running
	lost     map[string]bool // workers LoseWorker took down
	closing  bool
}

// running is an attempt the pool has launched and not yet heard back from.
type running struct {
	worker string
	cancel context.CancelFunc
}

type request struct {
	ev     Event
	result chan jobResult // SubmitJob only
}

type jobResult struct {
	outputs []InputLocation
	stats   JobStats
	err     error
}

// NewLocalPool starts a pool of workers (named local-0, local-1, …; the
// number of CPUs when workers <= 0), each running cfg.Slots attempts at a
// time. Close stops it.
func NewLocalPool(cfg Config, workers int, runner Runner) *LocalPool {
	cfg = cfg.withDefaults()
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &LocalPool{
		cfg:      cfg,
		runner:   runner,
		start:    time.Now(),
		requests: make(chan request),
		reports:  make(chan Event),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		sched:    NewScheduler(cfg),
		waiters:  map[string]chan jobResult{},
		active:   map[string]bool{},
		attempts: map[AttemptID]running{},
		lost:     map[string]bool{},
	}
	for i := range workers {
		p.workers = append(p.workers, fmt.Sprintf("local-%d", i))
	}
	go p.loop()
	return p
}

// Workers returns the workers' names.
func (p *LocalPool) Workers() []string { return slices.Clone(p.workers) }

// Run executes a job and waits for it. On success it returns the last
// stage's outputs, which stay on disk until Release(spec.ID) (spec.ID is
// filled in when empty; the outputs carry it). Cancelling ctx cancels the
// job. Several Runs may be in flight; they share the workers round-robin.
func (p *LocalPool) Run(ctx context.Context, spec JobSpec) ([]InputLocation, JobStats, error) {
	if spec.ID == "" {
		spec.ID = fmt.Sprintf("job%d", p.nextID.Add(1))
	}
	if err := ctx.Err(); err != nil {
		return nil, JobStats{}, fmt.Errorf("job %s: %w", spec.ID, context.Cause(ctx))
	}
	res := make(chan jobResult, 1)
	select {
	case p.requests <- request{ev: SubmitJob{Job: spec}, result: res}:
	case <-p.done:
		return nil, JobStats{}, fmt.Errorf("job %s: %w", spec.ID, ErrPoolClosed)
	case <-ctx.Done():
		return nil, JobStats{}, fmt.Errorf("job %s: %w", spec.ID, context.Cause(ctx))
	}
	select {
	case r := <-res:
		return r.outputs, r.stats, r.err
	case <-ctx.Done():
	}
	// The loop answers every submitted job before it exits, so res is
	// always filled in the end.
	select {
	case p.requests <- request{ev: CancelJob{Job: spec.ID, Cause: context.Cause(ctx)}}:
	case <-p.done:
	case r := <-res:
		return r.outputs, r.stats, r.err
	}
	r := <-res
	return r.outputs, r.stats, r.err
}

// Release discards the final outputs of a job that Run returned
// successfully, once the caller has read them.
func (p *LocalPool) Release(job string) {
	select {
	case p.requests <- request{ev: ReleaseJob{Job: job}}:
	case <-p.done:
	}
}

// Close cancels the jobs in flight (their Run returns ErrPoolClosed),
// discards every output, including final outputs not yet released, and
// waits for every attempt to return.
func (p *LocalPool) Close() {
	p.close.Do(func() { close(p.quit) })
	<-p.done
}

func (p *LocalPool) loop() {
	defer close(p.done)
	ticker := time.NewTicker(p.cfg.TickInterval)
	defer ticker.Stop()
	for _, w := range p.workers {
		p.apply(p.sched.Step(WorkerUp{Worker: w, Slots: p.cfg.Slots}))
	}
	quit := p.quit
	for !p.closing || len(p.attempts) > 0 {
		select {
		case r := <-p.requests:
			p.clock()
			p.handle(r)
		case ev := <-p.reports:
			p.clock()
			id := reported(ev)
			if r, ok := p.attempts[id]; ok {
				r.cancel()
				delete(p.attempts, id)
			}
			p.apply(p.sched.Step(ev))
		case <-ticker.C:
			p.clock()
		case <-quit:
			quit = nil
			p.shutdown()
		}
	}
}

func reported(ev Event) AttemptID {
	switch ev := ev.(type) {
	case TaskSucceeded:
		return ev.Attempt
	case TaskFailed:
		return ev.Attempt
	}
	return AttemptID{}
}

// clock heartbeats the in-process workers (they cannot die unless a knob
// says so) and then advances the scheduler's clock to real time, in that
// order, so a slow OnDiscard cannot make live workers look dead.
func (p *LocalPool) clock() {
	drop, lose := p.cfg.TestingKnobs.DropHeartbeats, p.cfg.TestingKnobs.LoseWorker
	for _, w := range p.workers {
		if lose != nil && !p.lost[w] && lose(w) {
			p.loseWorker(w)
		}
		if (drop == nil || !drop(w)) && !p.lost[w] {
			p.sched.Step(Heartbeat{Worker: w})
		}
	}
	p.apply(p.sched.Step(Tick{Now: time.Since(p.start)}))
}

// loseWorker takes a worker down for LoseWorker: the scheduler hears it
// went down, and its attempts stop as they would with their process (their
// late reports are ignored).
func (p *LocalPool) loseWorker(w string) {
	p.lost[w] = true
	for _, r := range p.attempts {
		if r.worker == w {
			r.cancel()
		}
	}
	p.apply(p.sched.Step(WorkerDown{Worker: w}))
}

// progressQuery asks the loop for the statistics of the running jobs.
type progressQuery struct{ reply chan []JobStats }

func (progressQuery) isEvent() {}

// Progress returns the statistics of the jobs running now (tasks done and
// running per stage, retries, rows and bytes so far), for progress bars.
func (p *LocalPool) Progress() []JobStats {
	reply := make(chan []JobStats, 1)
	select {
	case p.requests <- request{ev: progressQuery{reply: reply}}:
	case <-p.done:
		return nil
	}
	select {
	case out := <-reply:
		return out
	case <-p.done:
		return nil
	}
}

func (p *LocalPool) handle(r request) {
	if q, ok := r.ev.(progressQuery); ok {
		var out []JobStats
		for id := range p.active {
			if st, ok := p.sched.JobStats(id); ok && st.State == "running" {
				out = append(out, st)
			}
		}
		q.reply <- out
		return
	}
	switch ev := r.ev.(type) {
	case SubmitJob:
		id := ev.Job.ID
		switch {
		case p.closing:
			r.result <- jobResult{err: fmt.Errorf("job %s: %w", id, ErrPoolClosed)}
			return
		case p.active[id]:
			r.result <- jobResult{err: fmt.Errorf("job %s: %w", id, ErrDuplicateJob)}
			return
		}
		p.waiters[id] = r.result
		p.active[id] = true
		p.apply(p.sched.Step(ev))
	case ReleaseJob:
		delete(p.active, ev.Job)
		p.apply(p.sched.Step(ev))
	default:
		p.apply(p.sched.Step(ev))
	}
}

func (p *LocalPool) shutdown() {
	p.closing = true
	ids := make([]string, 0, len(p.active))
	for id := range p.active {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p.apply(p.sched.Step(CancelJob{Job: id, Cause: ErrPoolClosed}))
		p.apply(p.sched.Step(ReleaseJob{Job: id}))
		delete(p.active, id)
	}
}

func (p *LocalPool) apply(actions []Action) {
	for _, a := range actions {
		switch a := a.(type) {
		case Launch:
			ctx, cancel := context.WithCancel(context.Background())
			p.attempts[a.Attempt] = running{worker: a.Worker, cancel: cancel}
			go func() { p.reports <- p.execute(ctx, a) }()
		case Kill:
			if r, ok := p.attempts[a.Attempt]; ok {
				r.cancel()
			}
		case Discard:
			if p.cfg.OnDiscard != nil {
				p.cfg.OnDiscard(a.Attempt, a.Worker)
			}
		case JobSucceeded:
			p.finish(a.Job, a.Outputs, nil)
		case JobFailed:
			p.finish(a.Job, nil, a.Err)
			// Nothing of a failed job is left to read: forget it now.
			delete(p.active, a.Job)
			p.apply(p.sched.Step(ReleaseJob{Job: a.Job}))
		}
	}
}

func (p *LocalPool) finish(job string, outputs []InputLocation, err error) {
	stats, _ := p.sched.JobStats(job)
	if w := p.waiters[job]; w != nil {
		w <- jobResult{outputs: outputs, stats: stats, err: err}
		delete(p.waiters, job)
	}
}

// execute runs one attempt and returns its report. A panic in the Runner
// is a bug that a retry would hit again, so it fails the job.
func (p *LocalPool) execute(ctx context.Context, l Launch) (ev Event) {
	defer func() {
		if r := recover(); r != nil {
			ev = FailureFromError(l.Attempt, l.Worker,
				DeterministicError(fmt.Errorf("internal: task %s panicked: %v", l.Attempt, r)))
		}
	}()
	if delay := p.cfg.TestingKnobs.TaskDelay; delay != nil {
		if err := sleepCtx(ctx, delay(l.Worker, l.Attempt)); err != nil {
			return FailureFromError(l.Attempt, l.Worker, err)
		}
	}
	if fault := p.cfg.TestingKnobs.FetchFault; fault != nil {
		for _, in := range l.Inputs {
			d, ferr := fault(l.Worker, l.Attempt, in)
			if err := sleepCtx(ctx, d); err != nil {
				return FailureFromError(l.Attempt, l.Worker, err)
			}
			if ferr != nil {
				return FailureFromError(l.Attempt, l.Worker, FetchFailedError(in.Attempt.Task, in.Worker, ferr))
			}
		}
	}
	out, err := p.runner.RunTask(ctx, l.Attempt, l.Inputs)
	if err != nil {
		return FailureFromError(l.Attempt, l.Worker, err)
	}
	return TaskSucceeded{Attempt: l.Attempt, Worker: l.Worker, Output: out}
}

// sleepCtx waits for d, or returns ctx's error as soon as it is done (a
// killed attempt must not sit out a test delay).
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
