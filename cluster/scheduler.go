package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// StageSpec is the shape of one stage as the scheduler sees it: how many
// tasks it has and which stages it reads. What a task computes is the
// caller's business.
type StageSpec struct {
	ID    int
	Tasks int   // map stages: one per input split; reduce stages: one per partition
	Deps  []int // upstream stage IDs; every task of each must have an accepted, available output before any task of this stage starts
}

// JobSpec is a DAG of stages in topological order; the last stage's outputs
// are the job's result.
type JobSpec struct {
	ID     string
	Stages []StageSpec
}

// TaskID names one task of one stage of one job.
type TaskID struct {
	Job   string
	Stage int // StageSpec.ID
	Index int
}

func (t TaskID) String() string { return fmt.Sprintf("%s/%d.%d", t.Job, t.Stage, t.Index) }

// AttemptID names one execution of a task. Every attempt writes its output
// under its own id, so a re-execution never clobbers an output being read.
type AttemptID struct {
	Task    TaskID
	Attempt int
}

func (a AttemptID) String() string { return fmt.Sprintf("%s#%d", a.Task, a.Attempt) }

// OutputInfo is what a task reports about its output. The scheduler only
// records it (for statistics) and hands it to the consumers; Meta is opaque.
type OutputInfo struct {
	Rows  int64
	Bytes int64
	Meta  []byte
	// Spilled is what the task's operators wrote to spill files when the
	// query's memory limit was reached.
	Spilled int64 `json:",omitempty"`
	// SkippedRows are malformed input rows the task's readers dropped
	// (CSV read with ignore_errors).
	SkippedRows int64 `json:",omitempty"`
}

// InputLocation says where an accepted output lives.
type InputLocation struct {
	Attempt AttemptID
	Worker  string
	Output  OutputInfo
}

func (l InputLocation) String() string { return l.Attempt.String() + "@" + l.Worker }

// FailureKind classifies a failed attempt; the kind decides what the
// scheduler does next.
type FailureKind int

const (
	// Transient failures are retried, preferably on another worker, up to
	// Config.MaxAttempts attempts in all.
	Transient FailureKind = iota
	// Deterministic failures (a malformed input line, a type error) would
	// fail again on every attempt, so they fail the job at once.
	Deterministic
	// FetchFailed means the attempt could not read an upstream output. The
	// upstream task is re-run; the reporting attempt is not held against its
	// task's attempt budget.
	FetchFailed
)

func (k FailureKind) String() string {
	switch k {
	case Transient:
		return "transient"
	case Deterministic:
		return "deterministic"
	case FetchFailed:
		return "fetch failed"
	}
	return fmt.Sprintf("FailureKind(%d)", int(k))
}

// TaskError carries a failure's kind through error chains (and, encoded by
// the transport, across the wire) so that a fetch failure is still a fetch
// failure when it reaches the scheduler. Find it with errors.As.
type TaskError struct {
	Kind      FailureKind
	MapTask   TaskID // FetchFailed: the upstream task whose output could not be read
	MapWorker string // FetchFailed: the worker it was read from
	Err       error
}

func (e *TaskError) Error() string {
	if e.Kind == FetchFailed {
		return fmt.Sprintf("fetch of %s from worker %s failed: %v", e.MapTask, e.MapWorker, e.Err)
	}
	return fmt.Sprint(e.Err)
}

func (e *TaskError) Unwrap() error { return e.Err }

// DeterministicError marks err as one that retrying cannot fix.
func DeterministicError(err error) error {
	if err == nil {
		return nil
	}
	return &TaskError{Kind: Deterministic, Err: err}
}

// FetchFailedError reports that the output of mapTask could not be read from
// worker.
func FetchFailedError(mapTask TaskID, worker string, err error) error {
	if err == nil {
		err = errors.New("output unavailable")
	}
	return &TaskError{Kind: FetchFailed, MapTask: mapTask, MapWorker: worker, Err: err}
}

// FailureFromError builds the TaskFailed event for an attempt that returned
// err, reading the kind from a *TaskError in the chain; any other error is
// Transient.
func FailureFromError(a AttemptID, worker string, err error) TaskFailed {
	ev := TaskFailed{Attempt: a, Worker: worker, Err: err, Kind: Transient}
	var te *TaskError
	if errors.As(err, &te) {
		ev.Kind, ev.MapTask, ev.MapWorker = te.Kind, te.MapTask, te.MapWorker
	}
	return ev
}

var (
	// ErrNoWorkers fails a job that waited Config.NoWorkerTimeout without a
	// single live worker.
	ErrNoWorkers = errors.New("no live workers: start workers, or check that they can reach the coordinator")
	// ErrDuplicateJob rejects a submission whose ID is still in use.
	ErrDuplicateJob = errors.New("job id already in use")
)

// Config tunes the scheduler and the LocalPool. Zero fields take the
// defaults of DefaultConfig.
type Config struct {
	// HeartbeatTimeout: a worker silent for longer than this (logical time)
	// is dead. Any report from a worker counts as a heartbeat, and a sign of
	// life counts as of the first Tick after it.
	HeartbeatTimeout time.Duration
	// MaxAttempts bounds the attempts of a task that fails transiently; the
	// job fails with the last error when they are used up.
	MaxAttempts int
	// MaxFetchFailures bounds how often one task may report FetchFailed
	// (which is otherwise free), so a task that can never read its input
	// does not re-run its upstream forever.
	MaxFetchFailures int
	// DisableSpeculation turns off backup attempts.
	DisableSpeculation bool
	// SpeculationQuantile is the fraction of a stage's tasks that must be
	// finished before stragglers get backups.
	SpeculationQuantile float64
	// SpeculationFactor and SpeculationMin: a task running longer than
	// max(SpeculationMin, SpeculationFactor × median finished task) is a
	// straggler.
	SpeculationFactor float64
	SpeculationMin    time.Duration
	// NoWorkerTimeout fails a waiting job when no worker has been alive for
	// this long.
	NoWorkerTimeout time.Duration

	// The fields below are used by LocalPool only.

	// Slots is the number of concurrent attempts per in-process worker.
	Slots int
	// TickInterval is how often the pool's clock ticks the scheduler.
	TickInterval time.Duration
	// OnDiscard is called (on the pool's scheduling goroutine, so it must be
	// quick and must not call back into the pool) for every attempt output
	// that will never be read again; the caller deletes its files.
	OnDiscard func(a AttemptID, worker string)
	// TestingKnobs are hooks for tests; leave zero in production.
	TestingKnobs TestingKnobs
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		HeartbeatTimeout:    5 * time.Second,
		MaxAttempts:         4,
		MaxFetchFailures:    8,
		SpeculationQuantile: 0.75,
		SpeculationFactor:   1.5,
		SpeculationMin:      time.Second,
		NoWorkerTimeout:     30 * time.Second,
		Slots:               1,
		TickInterval:        50 * time.Millisecond,
	}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = d.HeartbeatTimeout
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = d.MaxAttempts
	}
	if c.MaxFetchFailures <= 0 {
		c.MaxFetchFailures = d.MaxFetchFailures
	}
	if c.SpeculationQuantile <= 0 {
		c.SpeculationQuantile = d.SpeculationQuantile
	}
	if c.SpeculationFactor <= 0 {
		c.SpeculationFactor = d.SpeculationFactor
	}
	if c.SpeculationMin <= 0 {
		c.SpeculationMin = d.SpeculationMin
	}
	if c.NoWorkerTimeout <= 0 {
		c.NoWorkerTimeout = d.NoWorkerTimeout
	}
	if c.Slots <= 0 {
		c.Slots = d.Slots
	}
	if c.TickInterval <= 0 {
		c.TickInterval = d.TickInterval
	}
	return c
}

// Event is an input to Scheduler.Step.
type Event interface{ isEvent() }

// WorkerUp registers a worker, revives a dead one (with no outputs), or
// updates a live one's slots. A restarted worker process must use a new name
// or be reported WorkerDown first, since its old outputs are gone.
type WorkerUp struct {
	Worker string
	Slots  int // concurrent attempts; at least 1
}

// WorkerDown reports a worker lost.
type WorkerDown struct{ Worker string }

// Heartbeat is a sign of life. Heartbeats from unknown or dead workers are
// ignored: such a worker must register again with WorkerUp.
type Heartbeat struct{ Worker string }

// Tick advances the logical clock to Now (time since an arbitrary epoch; a
// Tick that goes backwards is ignored).
type Tick struct{ Now time.Duration }

// SubmitJob starts a job.
type SubmitJob struct{ Job JobSpec }

// CancelJob kills a running job; JobFailed carries Cause (context.Canceled
// when nil).
type CancelJob struct {
	Job   string
	Cause error
}

// ReleaseJob forgets a finished job, discarding its final outputs (which the
// caller has read by then). Releasing a running job cancels it first.
type ReleaseJob struct{ Job string }

// TaskSucceeded reports a finished attempt.
type TaskSucceeded struct {
	Attempt AttemptID
	Worker  string
	Output  OutputInfo
}

// TaskFailed reports a failed attempt (FailureFromError builds one from an
// error). Every launched attempt should be reported exactly once, killed
// ones included: a killed attempt keeps its slot until it is reported.
type TaskFailed struct {
	Attempt   AttemptID
	Worker    string
	Err       error
	Kind      FailureKind
	MapTask   TaskID // FetchFailed only
	MapWorker string // FetchFailed only
}

func (WorkerUp) isEvent()      {}
func (WorkerDown) isEvent()    {}
func (Heartbeat) isEvent()     {}
func (Tick) isEvent()          {}
func (SubmitJob) isEvent()     {}
func (CancelJob) isEvent()     {}
func (ReleaseJob) isEvent()    {}
func (TaskSucceeded) isEvent() {}
func (TaskFailed) isEvent()    {}

// Action is an output of Scheduler.Step for the driver to carry out.
type Action interface{ isAction() }

// Launch starts an attempt on a worker. Inputs lists, for each upstream
// stage in StageSpec.Deps order, the accepted output of each of its tasks in
// index order.
type Launch struct {
	Attempt AttemptID
	Worker  string
	Inputs  []InputLocation
	Backup  bool // a speculative copy of a straggler
}

// Kill cancels a running attempt. The driver still reports it (any
// outcome), and its output is then discarded.
type Kill struct {
	Attempt AttemptID
	Worker  string
}

// Discard deletes an attempt's output files. It is best effort: the worker
// may be gone.
type Discard struct {
	Attempt AttemptID
	Worker  string
}

// JobSucceeded hands over the last stage's outputs, in task index order.
// They stay until ReleaseJob.
type JobSucceeded struct {
	Job     string
	Outputs []InputLocation
}

// JobFailed ends a job; errors.Is/As see the task's own error in Err.
type JobFailed struct {
	Job string
	Err error
}

func (Launch) isAction()       {}
func (Kill) isAction()         {}
func (Discard) isAction()      {}
func (JobSucceeded) isAction() {}
func (JobFailed) isAction()    {}

func (l Launch) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "launch %s@%s", l.Attempt, l.Worker)
	if l.Backup {
		b.WriteString(" backup")
	}
	for i, in := range l.Inputs {
		if i == 0 {
			b.WriteString(" in=")
		} else {
			b.WriteByte(',')
		}
		b.WriteString(in.String())
	}
	return b.String()
}
func (k Kill) String() string    { return fmt.Sprintf("kill %s@%s", k.Attempt, k.Worker) }
func (d Discard) String() string { return fmt.Sprintf("discard %s@%s", d.Attempt, d.Worker) }
func (j JobSucceeded) String() string {
	outs := make([]string, len(j.Outputs))
	for i, o := range j.Outputs {
		outs[i] = o.String()
	}
	return fmt.Sprintf("succeeded %s out=%s", j.Job, strings.Join(outs, ","))
}
func (j JobFailed) String() string { return fmt.Sprintf("failed %s: %v", j.Job, j.Err) }

// LaunchReason says why an attempt was launched.
type LaunchReason int

const (
	LaunchFirst       LaunchReason = iota // the task's first run
	LaunchRetry                           // after a transient failure
	LaunchBackup                          // speculative copy of a straggler
	LaunchWorkerLost                      // its running attempt or its output was on a dead worker
	LaunchFetchFailed                     // a consumer could not read its output, or it could not read an input
	LaunchInputLost                       // it was killed because an input output was lost
)

func (r LaunchReason) String() string {
	switch r {
	case LaunchFirst:
		return "first"
	case LaunchRetry:
		return "retry"
	case LaunchBackup:
		return "backup"
	case LaunchWorkerLost:
		return "worker lost"
	case LaunchFetchFailed:
		return "fetch failed"
	case LaunchInputLost:
		return "input lost"
	}
	return fmt.Sprintf("LaunchReason(%d)", int(r))
}

// AttemptOutcome is where an attempt ended up.
type AttemptOutcome int

const (
	AttemptRunning AttemptOutcome = iota
	AttemptSucceeded
	AttemptFailed
	AttemptKilled
	AttemptLost // its worker died while it ran
)

func (o AttemptOutcome) String() string {
	switch o {
	case AttemptRunning:
		return "running"
	case AttemptSucceeded:
		return "succeeded"
	case AttemptFailed:
		return "failed"
	case AttemptKilled:
		return "killed"
	case AttemptLost:
		return "lost"
	}
	return fmt.Sprintf("AttemptOutcome(%d)", int(o))
}

// AttemptRecord is one line of a job's attempt log.
type AttemptRecord struct {
	Attempt    AttemptID
	Worker     string
	Reason     LaunchReason
	Outcome    AttemptOutcome
	Start, End time.Duration // logical clock; End is zero while running
	Output     OutputInfo
	Err        error
	Note       string // why it was killed or lost, or that its output was lost later
}

// StageStats sums up a stage's attempts for EXPLAIN ANALYZE.
type StageStats struct {
	Stage               int
	Tasks               int
	Launched            int // attempts launched, all reasons
	Retries             int // launches after a transient failure
	Backups             int // speculative launches
	BackupWins          int // backups whose output was accepted
	Reexecutions        int // launches after a lost worker, lost input or fetch failure
	Failed, Killed      int
	Lost                int
	Rows, Bytes         int64         // of the accepted outputs
	Spilled             int64         // bytes the accepted attempts spilled
	SkippedRows         int64         // malformed input rows they dropped
	MedianTask, MaxTask time.Duration // of accepted attempts
	Done, Running       int           // tasks with an accepted output; attempts running now
}

// JobStats is a job's attempt log and its per-stage summary.
type JobStats struct {
	Job                 string
	State               string // running, succeeded or failed
	Submitted, Finished time.Duration
	Stages              []StageStats
	Attempts            []AttemptRecord // in launch order
}

// Spilled is the bytes all stages spilled to disk.
func (st JobStats) Spilled() int64 {
	var n int64
	for _, s := range st.Stages {
		n += s.Spilled
	}
	return n
}

// SkippedRows is the malformed input rows all stages dropped.
func (st JobStats) SkippedRows() int64 {
	var n int64
	for _, s := range st.Stages {
		n += s.SkippedRows
	}
	return n
}

func (st JobStats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "job %s %s in %v\n", st.Job, st.State, st.Finished-st.Submitted)
	for _, s := range st.Stages {
		fmt.Fprintf(&b, "  stage %d: tasks=%d attempts=%d retries=%d backups=%d (won %d) reexecuted=%d failed=%d killed=%d lost=%d rows=%d bytes=%d median=%v max=%v\n",
			s.Stage, s.Tasks, s.Launched, s.Retries, s.Backups, s.BackupWins, s.Reexecutions,
			s.Failed, s.Killed, s.Lost, s.Rows, s.Bytes, s.MedianTask, s.MaxTask)
		if s.Spilled > 0 {
			fmt.Fprintf(&b, "    spilled %d bytes to disk (memory limit reached)\n", s.Spilled)
		}
		if s.SkippedRows > 0 {
			fmt.Fprintf(&b, "    skipped %d malformed input rows (csv_ignore_errors)\n", s.SkippedRows)
		}
	}
	for _, a := range st.Attempts {
		if a.Reason == LaunchFirst && a.Outcome == AttemptSucceeded && a.Note == "" {
			continue
		}
		fmt.Fprintf(&b, "  %s@%s %s: %s", a.Attempt, a.Worker, a.Reason, a.Outcome)
		if a.Err != nil {
			fmt.Fprintf(&b, " (%v)", a.Err)
		}
		if a.Note != "" {
			fmt.Fprintf(&b, " [%s]", a.Note)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Scheduler is the coordinator's state machine: Step takes one event and
// returns the actions it causes. It has no goroutines, does no I/O and reads
// no clock (time comes in Tick events), so every rule is testable by
// feeding events. It is not safe for concurrent use.
type Scheduler struct {
	cfg           Config
	now           time.Duration
	workers       []*worker // registration order, dead ones included
	byName        map[string]*worker
	jobs          []*job // not yet released, in submission order
	byID          map[string]*job
	alive         int
	noWorkerSince time.Duration
	nextSeq       int
	lastLaunchSeq int // job seq of the latest launch; the next pass starts after it
	out           []Action
}

type worker struct {
	name     string
	slots    int
	alive    bool
	lastSeen time.Duration
	// heard: a sign of life arrived since the last Tick. It counts as seen
	// at the next Tick, not at the previous one: between two ticks the
	// scheduler cannot tell when it came, and a driver that stalled (or
	// heartbeats its in-process workers just before ticking) must not make
	// live workers look silent for the whole stall.
	heard bool
	// running holds the attempts occupying a slot: killed attempts keep
	// theirs until reported, because they may still be using the CPU.
	running map[AttemptID]struct{}
}

func (w *worker) free() int { return w.slots - len(w.running) }

type jobState int

const (
	jobRunning jobState = iota
	jobSucceeded
	jobFailed
)

type job struct {
	id        string
	seq       int
	state     jobState
	stages    []*stage
	stageIdx  map[int]int // StageSpec.ID → index in stages
	submitted time.Duration
	finished  time.Duration
	log       []*attempt // launch order
}

type stage struct {
	spec      StageSpec
	idx       int
	deps      []*stage
	consumers []*stage
	tasks     []*task
	done      int             // tasks with an accepted output
	durations []time.Duration // of accepted attempts, sorted; losing an output keeps its sample
}

func (st *stage) complete() bool { return st.done == st.spec.Tasks }

// ready: every upstream output is in place.
func (st *stage) ready() bool {
	for _, d := range st.deps {
		if !d.complete() {
			return false
		}
	}
	return true
}

type task struct {
	id            TaskID
	stage         *stage
	attempts      []*attempt // index = AttemptID.Attempt
	running       []*attempt // live attempts, launch order
	accepted      *attempt
	failures      int // transient failures, held against MaxAttempts
	fetchFailures int
	excluded      map[string]bool // workers it failed on
	backup        bool            // a backup was launched for the current run
	reason        LaunchReason    // for the next launch
}

type attempt struct {
	id         AttemptID
	worker     string
	reason     LaunchReason
	outcome    AttemptOutcome
	start, end time.Duration
	output     OutputInfo
	err        error
	note       string
}

// NewScheduler returns a scheduler at logical time zero with no workers.
func NewScheduler(cfg Config) *Scheduler {
	return &Scheduler{
		cfg:           cfg.withDefaults(),
		byName:        map[string]*worker{},
		byID:          map[string]*job{},
		lastLaunchSeq: -1,
	}
}

// Now is the logical clock.
func (s *Scheduler) Now() time.Duration { return s.now }

// Alive reports whether worker is registered and not declared dead. A
// driver that owns a connection to each worker closes the connection of a
// worker the scheduler gave up on (missed heartbeats), so that the process
// notices and registers again under a new name.
func (s *Scheduler) Alive(worker string) bool {
	w := s.byName[worker]
	return w != nil && w.alive
}

// Step applies one event and returns the resulting actions, in the order
// the driver should carry them out.
func (s *Scheduler) Step(ev Event) []Action {
	s.out = nil
	switch ev := ev.(type) {
	case WorkerUp:
		s.workerUp(ev)
	case WorkerDown:
		if w := s.byName[ev.Worker]; w != nil && w.alive {
			s.loseWorker(w, "reported down")
		}
	case Heartbeat:
		// Nothing to schedule: a heartbeat frees no slot and readies no task.
		if w := s.byName[ev.Worker]; w != nil && w.alive {
			w.heard = true
		}
		return nil
	case Tick:
		if ev.Now > s.now {
			s.now = ev.Now
		}
		for _, w := range s.workers {
			if w.heard {
				w.lastSeen, w.heard = s.now, false
			}
			if w.alive && s.now-w.lastSeen > s.cfg.HeartbeatTimeout {
				s.loseWorker(w, fmt.Sprintf("missed heartbeats for %v", s.now-w.lastSeen))
			}
		}
	case SubmitJob:
		s.submit(ev.Job)
	case CancelJob:
		if j := s.byID[ev.Job]; j != nil && j.state == jobRunning {
			s.cancel(j, ev.Cause)
		}
	case ReleaseJob:
		s.release(ev.Job)
	case TaskSucceeded:
		s.succeeded(ev)
	case TaskFailed:
		s.failed(ev)
	}
	s.checkNoWorkers()
	s.schedule()
	out := s.out
	s.out = nil
	return out
}

func (s *Scheduler) emit(a Action) { s.out = append(s.out, a) }

func (s *Scheduler) workerUp(ev WorkerUp) {
	slots := max(ev.Slots, 1)
	w := s.byName[ev.Worker]
	if w == nil {
		w = &worker{name: ev.Worker, running: map[AttemptID]struct{}{}}
		s.byName[ev.Worker] = w
		s.workers = append(s.workers, w)
	}
	if !w.alive {
		w.alive = true
		s.alive++
	}
	w.slots = slots
	w.lastSeen, w.heard = s.now, false
}

// loseWorker declares w dead. Its running attempts are lost and its
// accepted outputs of running jobs go back to idle (re-run only while some
// consumer still needs them); consumers reading those outputs are killed and
// relaunched with the new locations once they exist.
func (s *Scheduler) loseWorker(w *worker, why string) {
	w.alive = false
	s.alive--
	if s.alive == 0 {
		s.noWorkerSince = s.now
	}
	clear(w.running)
	note := fmt.Sprintf("worker %s %s", w.name, why)
	for _, j := range s.jobs {
		if j.state != jobRunning {
			continue
		}
		// Running attempts first, so consumers on w are counted as lost
		// rather than killed when w's outputs go.
		for _, st := range j.stages {
			for _, t := range st.tasks {
				for _, a := range slices.Clone(t.running) {
					if a.worker == w.name {
						// No Discard: nobody is left to delete the files; a
						// late report from the attempt gets one.
						s.endAttempt(t, a, AttemptLost, note)
						if len(t.running) == 0 {
							t.idle(LaunchWorkerLost)
						}
					}
				}
			}
		}
		for _, st := range j.stages {
			for _, t := range st.tasks {
				if t.accepted != nil && t.accepted.worker == w.name {
					s.loseOutput(t, LaunchWorkerLost, note)
				}
			}
		}
	}
}

func (t *task) idle(reason LaunchReason) {
	t.reason = reason
	t.backup = false
}

func (t *task) removeRunning(a *attempt) {
	if i := slices.Index(t.running, a); i >= 0 {
		t.running = slices.Delete(t.running, i, i+1)
	}
}

func (s *Scheduler) endAttempt(t *task, a *attempt, outcome AttemptOutcome, note string) {
	a.outcome = outcome
	a.end = s.now
	if note != "" {
		a.note = note
	}
	t.removeRunning(a)
}

// kill stops a live attempt. Its slot stays taken until the driver reports
// it, and its output is discarded then.
func (s *Scheduler) kill(t *task, a *attempt, note string) {
	s.endAttempt(t, a, AttemptKilled, note)
	if w := s.byName[a.worker]; w != nil && w.alive {
		s.emit(Kill{Attempt: a.id, Worker: a.worker})
	}
}

// loseOutput un-accepts t's output and kills every running consumer attempt,
// since each reads every task of its upstream stages. The consumers go back
// to idle and relaunch with fresh locations when t's output is rebuilt.
func (s *Scheduler) loseOutput(t *task, reason LaunchReason, note string) {
	a := t.accepted
	t.accepted = nil
	t.stage.done--
	a.note = "output lost: " + note
	s.emit(Discard{Attempt: a.id, Worker: a.worker})
	t.idle(reason)
	for _, c := range t.stage.consumers {
		for _, ct := range c.tasks {
			if len(ct.running) == 0 {
				continue
			}
			for _, ca := range slices.Clone(ct.running) {
				s.kill(ct, ca, fmt.Sprintf("input %s lost", t.id))
			}
			ct.idle(LaunchInputLost)
		}
	}
}

func validate(spec JobSpec) error {
	if spec.ID == "" {
		return errors.New("empty job id")
	}
	if len(spec.Stages) == 0 {
		return errors.New("no stages")
	}
	seen := map[int]bool{}
	consumed := map[int]bool{}
	for _, st := range spec.Stages {
		if seen[st.ID] {
			return fmt.Errorf("stage %d appears twice", st.ID)
		}
		if st.Tasks < 0 {
			return fmt.Errorf("stage %d: negative task count %d", st.ID, st.Tasks)
		}
		for i, d := range st.Deps {
			if !seen[d] {
				return fmt.Errorf("stage %d: dependency %d is not an earlier stage", st.ID, d)
			}
			if slices.Contains(st.Deps[:i], d) {
				return fmt.Errorf("stage %d: dependency %d listed twice", st.ID, d)
			}
			consumed[d] = true
		}
		seen[st.ID] = true
	}
	for _, st := range spec.Stages[:len(spec.Stages)-1] {
		if !consumed[st.ID] {
			return fmt.Errorf("stage %d: no stage reads its output", st.ID)
		}
	}
	return nil
}

func (s *Scheduler) submit(spec JobSpec) {
	if err := validate(spec); err != nil {
		s.emit(JobFailed{Job: spec.ID, Err: fmt.Errorf("internal: job %s is malformed: %w", spec.ID, err)})
		return
	}
	if s.byID[spec.ID] != nil {
		// Refers to the rejected submission, not the job already running.
		s.emit(JobFailed{Job: spec.ID, Err: fmt.Errorf("job %s: %w", spec.ID, ErrDuplicateJob)})
		return
	}
	j := &job{id: spec.ID, seq: s.nextSeq, submitted: s.now, stageIdx: map[int]int{}}
	s.nextSeq++
	for i, ss := range spec.Stages {
		st := &stage{spec: ss, idx: i}
		st.spec.Deps = slices.Clone(ss.Deps)
		for _, d := range ss.Deps {
			dep := j.stages[j.stageIdx[d]]
			st.deps = append(st.deps, dep)
			dep.consumers = append(dep.consumers, st)
		}
		st.tasks = make([]*task, ss.Tasks)
		for k := range st.tasks {
			st.tasks[k] = &task{id: TaskID{Job: spec.ID, Stage: ss.ID, Index: k}, stage: st}
		}
		j.stageIdx[ss.ID] = i
		j.stages = append(j.stages, st)
	}
	s.jobs = append(s.jobs, j)
	s.byID[j.id] = j
	if j.stages[len(j.stages)-1].complete() {
		s.succeedJob(j) // a last stage with no tasks
	}
}

func (s *Scheduler) cancel(j *job, cause error) {
	if cause == nil {
		cause = context.Canceled
	}
	s.failJob(j, fmt.Errorf("job %s: %w", j.id, cause))
}

func (s *Scheduler) release(id string) {
	j := s.byID[id]
	if j == nil {
		return
	}
	switch j.state {
	case jobRunning:
		s.cancel(j, nil)
	case jobSucceeded:
		for _, t := range j.stages[len(j.stages)-1].tasks {
			s.emit(Discard{Attempt: t.accepted.id, Worker: t.accepted.worker})
		}
	}
	delete(s.byID, id)
	s.jobs = slices.DeleteFunc(s.jobs, func(x *job) bool { return x == j })
}

// failJob kills the job's running attempts and discards every output.
func (s *Scheduler) failJob(j *job, err error) {
	j.state = jobFailed
	j.finished = s.now
	for _, st := range j.stages {
		for _, t := range st.tasks {
			for _, a := range slices.Clone(t.running) {
				s.kill(t, a, "job failed")
			}
			if t.accepted != nil {
				s.emit(Discard{Attempt: t.accepted.id, Worker: t.accepted.worker})
			}
		}
	}
	s.emit(JobFailed{Job: j.id, Err: err})
}

// succeedJob discards the intermediate outputs (and kills re-executions that
// nobody needs any more) and hands over the last stage's outputs.
func (s *Scheduler) succeedJob(j *job) {
	j.state = jobSucceeded
	j.finished = s.now
	last := j.stages[len(j.stages)-1]
	for _, st := range j.stages[:len(j.stages)-1] {
		for _, t := range st.tasks {
			for _, a := range slices.Clone(t.running) {
				s.kill(t, a, "job finished")
			}
			if t.accepted != nil {
				s.emit(Discard{Attempt: t.accepted.id, Worker: t.accepted.worker})
			}
		}
	}
	outs := make([]InputLocation, len(last.tasks))
	for i, t := range last.tasks {
		outs[i] = InputLocation{Attempt: t.accepted.id, Worker: t.accepted.worker, Output: t.accepted.output}
	}
	s.emit(JobSucceeded{Job: j.id, Outputs: outs})
}

func (s *Scheduler) lookup(id AttemptID) (*job, *task, *attempt) {
	j := s.byID[id.Task.Job]
	if j == nil {
		return nil, nil, nil
	}
	si, ok := j.stageIdx[id.Task.Stage]
	if !ok {
		return nil, nil, nil
	}
	st := j.stages[si]
	if id.Task.Index < 0 || id.Task.Index >= len(st.tasks) {
		return nil, nil, nil
	}
	t := st.tasks[id.Task.Index]
	if id.Attempt < 0 || id.Attempt >= len(t.attempts) {
		return j, t, nil
	}
	return j, t, t.attempts[id.Attempt]
}

// report does what every attempt report does: it frees the slot, counts as
// a heartbeat, and finds the attempt. It returns nil for attempts whose
// result is no longer wanted (killed, lost, unknown, or of a finished job),
// after discarding their output.
func (s *Scheduler) report(id AttemptID, worker string) (*job, *task, *attempt) {
	if w := s.byName[worker]; w != nil {
		delete(w.running, id)
		if w.alive {
			w.heard = true
		}
	}
	j, t, a := s.lookup(id)
	if a != nil && a.worker == worker && a.outcome == AttemptSucceeded {
		return nil, nil, nil // a duplicate report of an accepted attempt: keep its output
	}
	if a == nil || a.worker != worker || a.outcome != AttemptRunning || j.state != jobRunning {
		s.emit(Discard{Attempt: id, Worker: worker})
		return nil, nil, nil
	}
	return j, t, a
}

func (s *Scheduler) succeeded(ev TaskSucceeded) {
	j, t, a := s.report(ev.Attempt, ev.Worker)
	if a == nil {
		return
	}
	s.endAttempt(t, a, AttemptSucceeded, "")
	a.output = ev.Output
	t.accepted = a
	st := t.stage
	st.done++
	d := a.end - a.start
	i, _ := slices.BinarySearch(st.durations, d)
	st.durations = slices.Insert(st.durations, i, d)
	// First wins: the other copy is killed, and discarded once it reports.
	for _, other := range slices.Clone(t.running) {
		s.kill(t, other, fmt.Sprintf("lost the race to #%d", a.id.Attempt))
	}
	if j.stages[len(j.stages)-1].complete() {
		s.succeedJob(j)
	}
}

func (s *Scheduler) failed(ev TaskFailed) {
	j, t, a := s.report(ev.Attempt, ev.Worker)
	if a == nil {
		return
	}
	err := ev.Err
	if err == nil {
		err = errors.New("task failed without an error")
	}
	s.endAttempt(t, a, AttemptFailed, "")
	a.err = err
	s.emit(Discard{Attempt: a.id, Worker: a.worker}) // partial files
	switch ev.Kind {
	case Deterministic:
		s.failJob(j, fmt.Errorf("job %s: task %s failed on worker %s: %w", j.id, t.id, a.worker, err))
		return
	case FetchFailed:
		if mt := s.upstreamTask(j, t, ev.MapTask); mt != nil {
			t.fetchFailures++
			if t.fetchFailures > s.cfg.MaxFetchFailures {
				s.failJob(j, fmt.Errorf("job %s: task %s could not read its inputs %d times: %w", j.id, t.id, t.fetchFailures, err))
				return
			}
			a.note = "not counted: fetch failure"
			if mt.accepted != nil && (ev.MapWorker == "" || mt.accepted.worker == ev.MapWorker) {
				if mt.excluded == nil {
					mt.excluded = map[string]bool{}
				}
				mt.excluded[mt.accepted.worker] = true
				s.loseOutput(mt, LaunchFetchFailed, fmt.Sprintf("%s could not fetch it", a.id))
			}
			if len(t.running) == 0 {
				t.idle(LaunchFetchFailed)
			}
			return
		}
		// A fetch failure naming no upstream task of this one is a bug in
		// the reporter; count it like any other failure.
	}
	t.failures++
	if t.excluded == nil {
		t.excluded = map[string]bool{}
	}
	t.excluded[a.worker] = true
	if t.failures >= s.cfg.MaxAttempts {
		s.failJob(j, fmt.Errorf("job %s: task %s failed %d times, last on worker %s: %w", j.id, t.id, t.failures, a.worker, err))
		return
	}
	if len(t.running) == 0 {
		t.idle(LaunchRetry)
	}
}

// upstreamTask finds id among the tasks t reads.
func (s *Scheduler) upstreamTask(j *job, t *task, id TaskID) *task {
	if id.Job != j.id {
		return nil
	}
	for _, dep := range t.stage.deps {
		if dep.spec.ID == id.Stage && id.Index >= 0 && id.Index < len(dep.tasks) {
			return dep.tasks[id.Index]
		}
	}
	return nil
}

func (s *Scheduler) checkNoWorkers() {
	if s.alive > 0 {
		return
	}
	for _, j := range s.jobs {
		if j.state != jobRunning {
			continue
		}
		since := max(j.submitted, s.noWorkerSince)
		if waited := s.now - since; waited >= s.cfg.NoWorkerTimeout {
			s.failJob(j, fmt.Errorf("job %s: waited %v: %w", j.id, waited, ErrNoWorkers))
		}
	}
}

// needed reports, per stage, whether its outputs are still wanted: the last
// stage's always, an upstream stage's while some consumer that is needed
// has not finished. A lost output of a stage nobody needs is not re-run.
func (j *job) needed() []bool {
	need := make([]bool, len(j.stages))
	need[len(need)-1] = true
	for i := len(j.stages) - 2; i >= 0; i-- {
		for _, c := range j.stages[i].consumers {
			if need[c.idx] && !c.complete() {
				need[i] = true
				break
			}
		}
	}
	return need
}

// runnable walks a job's idle tasks whose inputs are ready, in stage then
// index order, lazily: a pass that fills one slot stops at the first.
type runnable struct {
	j      *job
	need   []bool
	st, ti int
}

func (r *runnable) next() *task {
	for ; r.st < len(r.j.stages); r.st, r.ti = r.st+1, 0 {
		st := r.j.stages[r.st]
		if r.ti == 0 && (!r.need[r.st] || st.complete() || !st.ready()) {
			continue
		}
		for r.ti < len(st.tasks) {
			t := st.tasks[r.ti]
			r.ti++
			if t.accepted == nil && len(t.running) == 0 {
				return t
			}
		}
	}
	return nil
}

// schedule fills free slots: first idle tasks, one per job in turn
// (round-robin, starting after the job that launched last, so a big job
// cannot starve a small one), then backups for stragglers.
func (s *Scheduler) schedule() {
	if s.alive == 0 {
		return
	}
	var qs []*runnable
	start := 0
	for _, j := range s.jobs {
		if j.state != jobRunning {
			continue
		}
		if j.seq <= s.lastLaunchSeq {
			start = len(qs) + 1
		}
		qs = append(qs, &runnable{j: j, need: j.needed()})
	}
	if start >= len(qs) {
		start = 0
	}
	qs = append(qs[start:], qs[:start]...)
	for progress := true; progress && s.freeSlots(); {
		progress = false
		for _, q := range qs {
			for t := q.next(); t != nil; t = q.next() {
				if w := s.pickWorker(t, ""); w != nil {
					s.launch(q.j, t, w, false)
					progress = true
					break
				}
			}
		}
	}
	if !s.cfg.DisableSpeculation {
		s.speculate()
	}
}

func (s *Scheduler) freeSlots() bool {
	for _, w := range s.workers {
		if w.alive && w.free() > 0 {
			return true
		}
	}
	return false
}

// pickWorker chooses the live worker with the most free slots (earliest
// registered on ties), other than avoid, preferring workers t has not
// failed on: an excluded worker is used only when every live worker is
// excluded, otherwise t waits for a non-excluded one.
func (s *Scheduler) pickWorker(t *task, avoid string) *worker {
	var best, bestExcluded *worker
	other := false
	for _, w := range s.workers {
		if !w.alive || w.name == avoid {
			continue
		}
		ex := t.excluded[w.name]
		if !ex {
			other = true
		}
		if w.free() <= 0 {
			continue
		}
		if ex {
			if bestExcluded == nil || w.free() > bestExcluded.free() {
				bestExcluded = w
			}
		} else if best == nil || w.free() > best.free() {
			best = w
		}
	}
	if best != nil || other {
		return best
	}
	return bestExcluded
}

func (s *Scheduler) launch(j *job, t *task, w *worker, backup bool) {
	a := &attempt{
		id:     AttemptID{Task: t.id, Attempt: len(t.attempts)},
		worker: w.name,
		reason: t.reason,
		start:  s.now,
	}
	if backup {
		a.reason = LaunchBackup
		t.backup = true
	}
	t.attempts = append(t.attempts, a)
	t.running = append(t.running, a)
	j.log = append(j.log, a)
	w.running[a.id] = struct{}{}
	s.lastLaunchSeq = j.seq
	var inputs []InputLocation
	for _, d := range t.stage.deps {
		for _, dt := range d.tasks {
			inputs = append(inputs, InputLocation{Attempt: dt.accepted.id, Worker: dt.accepted.worker, Output: dt.accepted.output})
		}
	}
	s.emit(Launch{Attempt: a.id, Worker: w.name, Inputs: inputs, Backup: backup})
}

// speculate gives a straggler one backup on another worker once most of its
// stage is done: a task running longer than max(SpeculationMin,
// SpeculationFactor × median finished task). The longest-running go first.
func (s *Scheduler) speculate() {
	for _, j := range s.jobs {
		if j.state != jobRunning {
			continue
		}
		need := j.needed()
		for i, st := range j.stages {
			if !need[i] || st.complete() || len(st.durations) == 0 ||
				float64(st.done) < s.cfg.SpeculationQuantile*float64(st.spec.Tasks) {
				continue
			}
			median := st.durations[len(st.durations)/2]
			limit := max(s.cfg.SpeculationMin, time.Duration(s.cfg.SpeculationFactor*float64(median)))
			var slow []*task
			for _, t := range st.tasks {
				if t.accepted == nil && !t.backup && len(t.running) == 1 && s.now-t.running[0].start > limit {
					slow = append(slow, t)
				}
			}
			slices.SortStableFunc(slow, func(a, b *task) int { return int(a.running[0].start - b.running[0].start) })
			for _, t := range slow {
				if !s.freeSlots() {
					return
				}
				if w := s.pickWorker(t, t.running[0].worker); w != nil {
					s.launch(j, t, w, true)
				}
			}
		}
	}
}

// JobStats returns the attempt log and per-stage summary of a job that has
// not been released.
func (s *Scheduler) JobStats(id string) (JobStats, bool) {
	j := s.byID[id]
	if j == nil {
		return JobStats{}, false
	}
	st := JobStats{Job: j.id, Submitted: j.submitted, Finished: j.finished}
	switch j.state {
	case jobRunning:
		st.State = "running"
		st.Finished = s.now
	case jobSucceeded:
		st.State = "succeeded"
	case jobFailed:
		st.State = "failed"
	}
	for _, sg := range j.stages {
		ss := StageStats{Stage: sg.spec.ID, Tasks: sg.spec.Tasks}
		if n := len(sg.durations); n > 0 {
			ss.MedianTask, ss.MaxTask = sg.durations[n/2], sg.durations[n-1]
		}
		ss.Done = sg.done
		for _, t := range sg.tasks {
			ss.Running += len(t.running)
			if t.accepted != nil {
				ss.Rows += t.accepted.output.Rows
				ss.Bytes += t.accepted.output.Bytes
				ss.Spilled += t.accepted.output.Spilled
				ss.SkippedRows += t.accepted.output.SkippedRows
				if t.accepted.reason == LaunchBackup {
					ss.BackupWins++
				}
			}
			for _, a := range t.attempts {
				ss.Launched++
				switch a.reason {
				case LaunchRetry:
					ss.Retries++
				case LaunchBackup:
					ss.Backups++
				case LaunchWorkerLost, LaunchFetchFailed, LaunchInputLost:
					ss.Reexecutions++
				}
				switch a.outcome {
				case AttemptFailed:
					ss.Failed++
				case AttemptKilled:
					ss.Killed++
				case AttemptLost:
					ss.Lost++
				}
			}
		}
		st.Stages = append(st.Stages, ss)
	}
	for _, a := range j.log {
		st.Attempts = append(st.Attempts, AttemptRecord{
			Attempt: a.id, Worker: a.worker, Reason: a.reason, Outcome: a.outcome,
			Start: a.start, End: a.end, Output: a.output, Err: a.err, Note: a.note,
		})
	}
	return st, true
}
