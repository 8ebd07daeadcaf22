package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeRunner counts attempts per task. A map task outputs Index+1 rows; a
// reduce task outputs the sum of its inputs' rows, so a wrong or missing
// input location shows up in the result.
type fakeRunner struct {
	mu   sync.Mutex
	runs map[TaskID]int
	// fail, when set, may fail an attempt before it does its work.
	fail func(a AttemptID, inputs []InputLocation) error
	// block, when set, makes matching attempts wait for their context.
	block   func(a AttemptID) bool
	started chan AttemptID // receives blocked attempts, when set
}

func newFakeRunner() *fakeRunner { return &fakeRunner{runs: map[TaskID]int{}} }

func (r *fakeRunner) RunTask(ctx context.Context, a AttemptID, inputs []InputLocation) (OutputInfo, error) {
	r.mu.Lock()
	r.runs[a.Task]++
	r.mu.Unlock()
	if r.fail != nil {
		if err := r.fail(a, inputs); err != nil {
			return OutputInfo{}, err
		}
	}
	if r.block != nil && r.block(a) {
		if r.started != nil {
			r.started <- a
		}
		<-ctx.Done()
		return OutputInfo{}, ctx.Err()
	}
	rows := int64(a.Task.Index + 1)
	if len(inputs) > 0 {
		rows = 0
		for _, in := range inputs {
			rows += in.Output.Rows
		}
	}
	return OutputInfo{Rows: rows, Bytes: 8 * rows}, nil
}

func (r *fakeRunner) count(stage, index int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, n := range r.runs {
		if id.Stage == stage && id.Index == index {
			return n
		}
	}
	return 0
}

func (r *fakeRunner) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.runs {
		n += c
	}
	return n
}

type discardLog struct {
	mu  sync.Mutex
	ids []AttemptID
}

func (d *discardLog) add(a AttemptID, _ string) {
	d.mu.Lock()
	d.ids = append(d.ids, a)
	d.mu.Unlock()
}

func (d *discardLog) list() []AttemptID {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.ids)
}

func mapReduce(id string, maps, reducers int) JobSpec {
	return JobSpec{ID: id, Stages: []StageSpec{{ID: 0, Tasks: maps}, {ID: 1, Tasks: reducers, Deps: []int{0}}}}
}

// testConfig ticks fast so timeouts and speculation are quick, but keeps
// speculation out of the way unless a test asks for it.
func testConfig() Config {
	return Config{TickInterval: 2 * time.Millisecond, SpeculationMin: time.Minute}
}

func wantRows(t *testing.T, outs []InputLocation, reducers int, rows int64) {
	t.Helper()
	if len(outs) != reducers {
		t.Fatalf("%d outputs, want %d", len(outs), reducers)
	}
	for i, o := range outs {
		if o.Attempt.Task.Stage != 1 || o.Attempt.Task.Index != i || o.Output.Rows != rows {
			t.Errorf("output %d: %v with %d rows, want task 1.%d with %d rows", i, o, o.Output.Rows, i, rows)
		}
	}
}

func TestLocalPoolExactlyOnce(t *testing.T) {
	var discards discardLog
	cfg := testConfig()
	cfg.OnDiscard = discards.add
	r := newFakeRunner()
	p := NewLocalPool(cfg, 3, r)
	outs, stats, err := p.Run(context.Background(), mapReduce("q", 8, 2))
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, outs, 2, 36)
	for i := range 8 {
		if n := r.count(0, i); n != 1 {
			t.Errorf("map task %d ran %d times", i, n)
		}
	}
	for i := range 2 {
		if n := r.count(1, i); n != 1 {
			t.Errorf("reduce task %d ran %d times", i, n)
		}
	}
	if len(stats.Attempts) != 10 || stats.Stages[0].Rows != 36 || stats.Stages[1].Rows != 72 {
		t.Errorf("stats:\n%v", stats)
	}
	// Intermediate outputs are gone when Run returns; final ones after
	// Release (Close waits for the pool to process it).
	if d := discards.list(); len(d) != 8 {
		t.Errorf("discarded %v before Release, want the 8 map outputs", d)
	}
	p.Release(outs[0].Attempt.Task.Job)
	p.Close()
	if d := discards.list(); len(d) != 10 || d[8] != outs[0].Attempt || d[9] != outs[1].Attempt {
		t.Errorf("discarded %v, want the map outputs then %v", d, outs)
	}
}

func TestLocalPoolFailures(t *testing.T) {
	errBadRow := errors.New("bad row")
	for _, tc := range []struct {
		name     string
		fail     func(a AttemptID, inputs []InputLocation) error
		wantFail bool           // with a deterministic *TaskError
		wantErr  error          // errors.Is target, if any
		wantRuns map[[2]int]int // (stage, index) → attempts; others once
		check    func(t *testing.T, st JobStats)
	}{{
		name: "transient failures are retried",
		fail: func(a AttemptID, _ []InputLocation) error {
			if a.Task.Stage == 0 && a.Task.Index == 2 && a.Attempt < 2 {
				return errors.New("disk hiccup")
			}
			return nil
		},
		wantRuns: map[[2]int]int{{0, 2}: 3},
		check: func(t *testing.T, st JobStats) {
			if st.Stages[0].Retries != 2 || st.Stages[0].Failed != 2 {
				t.Errorf("stats:\n%v", st)
			}
		},
	}, {
		name: "a deterministic error fails the job at once",
		fail: func(a AttemptID, _ []InputLocation) error {
			if a.Task.Stage == 0 && a.Task.Index == 1 {
				return DeterministicError(fmt.Errorf("line 3: %w", errBadRow))
			}
			return nil
		},
		wantFail: true,
		wantErr:  errBadRow,
		wantRuns: map[[2]int]int{{0, 1}: 1},
	}, {
		name: "a fetch failure re-runs the map task, then the reducer",
		fail: func(a AttemptID, inputs []InputLocation) error {
			if a.Task.Stage == 1 && a.Task.Index == 0 && a.Attempt == 0 {
				return FetchFailedError(inputs[3].Attempt.Task, inputs[3].Worker, errors.New("connection reset"))
			}
			return nil
		},
		wantRuns: map[[2]int]int{{0, 3}: 2, {1, 0}: 2},
		check: func(t *testing.T, st JobStats) {
			if st.Stages[0].Reexecutions != 1 || st.Stages[1].Failed != 1 {
				t.Errorf("stats:\n%v", st)
			}
		},
	}, {
		name: "a panicking task fails the job",
		fail: func(a AttemptID, _ []InputLocation) error {
			if a.Task.Stage == 1 {
				panic("oops")
			}
			return nil
		},
		wantFail: true,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFakeRunner()
			r.fail = tc.fail
			p := NewLocalPool(testConfig(), 2, r)
			defer p.Close()
			outs, st, err := p.Run(context.Background(), mapReduce("q", 4, 1))
			switch {
			case !tc.wantFail && err != nil:
				t.Fatal(err)
			case !tc.wantFail:
				wantRows(t, outs, 1, 10)
			case err == nil:
				t.Fatal("no error")
			default:
				var te *TaskError
				if !errors.As(err, &te) || te.Kind != Deterministic {
					t.Errorf("%v: want a deterministic *TaskError in the chain", err)
				}
				if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Errorf("%v does not wrap %v", err, tc.wantErr)
				}
				if st.State != "failed" {
					t.Errorf("stats:\n%v", st)
				}
			}
			for k, n := range tc.wantRuns {
				if got := r.count(k[0], k[1]); got != n {
					t.Errorf("task %d.%d ran %d times, want %d", k[0], k[1], got, n)
				}
			}
			if tc.check != nil {
				tc.check(t, st)
			}
		})
	}
}

func TestLocalPoolStraggler(t *testing.T) {
	cfg := testConfig()
	cfg.SpeculationMin = 20 * time.Millisecond
	// local-1 is slow for map tasks: the one it gets would take 10s.
	cfg.TestingKnobs.TaskDelay = func(worker string, a AttemptID) time.Duration {
		if worker == "local-1" && a.Task.Stage == 0 {
			return 10 * time.Second
		}
		return 0
	}
	r := newFakeRunner()
	p := NewLocalPool(cfg, 2, r)
	defer p.Close()
	start := time.Now()
	outs, st, err := p.Run(context.Background(), mapReduce("q", 4, 1))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v: the backup did not win", d)
	}
	wantRows(t, outs, 1, 10)
	s0 := st.Stages[0]
	if s0.Backups != 1 || s0.BackupWins != 1 || s0.Killed != 1 || s0.Launched != 5 {
		t.Errorf("want exactly one backup, which won:\n%v", st)
	}
	for _, a := range st.Attempts {
		if a.Reason == LaunchBackup && (a.Worker != "local-0" || a.Outcome != AttemptSucceeded) {
			t.Errorf("backup %v on %s: %v", a.Attempt, a.Worker, a.Outcome)
		}
	}
}

func TestLocalPoolWorkerLoss(t *testing.T) {
	cfg := testConfig()
	cfg.HeartbeatTimeout = 30 * time.Millisecond
	// local-1 goes silent once it has a task (so a slow start of the test
	// cannot kill it before it gets one), and that task finishes only well
	// after local-1 is declared dead; its report is then ignored.
	var silent atomic.Bool
	cfg.TestingKnobs.DropHeartbeats = func(w string) bool { return w == "local-1" && silent.Load() }
	cfg.TestingKnobs.TaskDelay = func(worker string, _ AttemptID) time.Duration {
		if worker == "local-1" {
			silent.Store(true)
			return 300 * time.Millisecond
		}
		return 0
	}
	var discards discardLog
	cfg.OnDiscard = discards.add
	r := newFakeRunner()
	p := NewLocalPool(cfg, 2, r)
	outs, st, err := p.Run(context.Background(), mapReduce("q", 4, 2))
	if err != nil {
		t.Fatal(err)
	}
	wantRows(t, outs, 2, 10)
	for _, o := range outs {
		if o.Worker != "local-0" {
			t.Errorf("output %v on the dead worker", o)
		}
	}
	if st.Stages[0].Lost != 1 || st.Stages[0].Reexecutions != 1 {
		t.Errorf("want one lost map attempt, re-executed:\n%v", st)
	}
	p.Release("q")
	p.Close()
	// Every attempt's output is discarded, the dead worker's late one too.
	if got, want := len(discards.list()), r.total(); got != want {
		t.Errorf("%d discards for %d attempts: %v", got, want, discards.list())
	}
}

func TestLocalPoolCancel(t *testing.T) {
	r := newFakeRunner()
	var blocking atomic.Bool
	blocking.Store(true)
	r.block = func(a AttemptID) bool { return blocking.Load() && a.Task.Stage == 0 && a.Task.Index > 0 }
	r.started = make(chan AttemptID, 8)
	p := NewLocalPool(testConfig(), 2, r)
	defer p.Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-r.started
		cancel()
	}()
	_, st, err := p.Run(ctx, mapReduce("q", 4, 1))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if st.State != "failed" || st.Stages[0].Killed == 0 {
		t.Errorf("stats:\n%v", st)
	}
	// The pool is still usable, and the id free again.
	blocking.Store(false)
	if _, _, err := p.Run(context.Background(), mapReduce("q", 1, 1)); err != nil {
		t.Fatal(err)
	}
	p.Release("q")
}

func TestLocalPoolConcurrentRuns(t *testing.T) {
	r := newFakeRunner()
	cfg := testConfig()
	cfg.Slots = 2
	p := NewLocalPool(cfg, 2, r)
	defer p.Close()
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() {
			outs, _, err := p.Run(context.Background(), mapReduce("", 5, 3))
			if err == nil && (len(outs) != 3 || outs[2].Output.Rows != 15) {
				err = fmt.Errorf("outputs %v", outs)
			}
			if err == nil {
				p.Release(outs[0].Attempt.Task.Job)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i, err)
		}
	}
	if n := r.total(); n != 6*8 {
		t.Errorf("%d attempts, want %d", n, 6*8)
	}
}

func TestLocalPoolClose(t *testing.T) {
	r := newFakeRunner()
	r.block = func(AttemptID) bool { return true }
	r.started = make(chan AttemptID, 8)
	var discards discardLog
	cfg := testConfig()
	cfg.OnDiscard = discards.add
	p := NewLocalPool(cfg, 2, r)
	done := make(chan error)
	go func() {
		_, _, err := p.Run(context.Background(), mapReduce("q", 4, 1))
		done <- err
	}()
	<-r.started
	p.Close()
	if err := <-done; !errors.Is(err, ErrPoolClosed) {
		t.Errorf("in-flight Run: %v, want ErrPoolClosed", err)
	}
	if _, _, err := p.Run(context.Background(), mapReduce("q2", 1, 1)); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("Run after Close: %v, want ErrPoolClosed", err)
	}
	if got, want := len(discards.list()), r.total(); got != want {
		t.Errorf("%d discards for %d attempts", got, want)
	}
	p.Close() // idempotent
}
