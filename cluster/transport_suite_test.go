package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/cluster"
)

// The transport seam has two sides: the in-process pool (goroutines, the
// scheduler stepped by a local loop) and the Flight cluster (a coordinator
// and workers talking gRPC on loopback). Both are driven by the same
// scheduler; this suite runs the same scenarios on each and expects the
// same behaviour.

// suiteKnobs are the faults a scenario injects; each side carries them out
// with its own test hooks (cluster.TestingKnobs, cluster.WorkerKnobs).
type suiteKnobs struct {
	// delay holds an attempt on worker i before it reads its inputs.
	delay func(worker int, a cluster.AttemptID) time.Duration
	// fetch may delay or fail an attempt's read of one input.
	fetch func(a cluster.AttemptID, in cluster.InputLocation) (time.Duration, error)
}

// suitePool is a pool of 3 workers on one side of the seam.
type suitePool struct {
	db *quern.DB
	// worker is the name worker i has in job statistics.
	worker func(i int) string
	// lose takes worker i down as a crash would and returns once the
	// scheduler knows.
	lose func(i int)
	// close shuts the pool down and waits for every attempt to return.
	close func()
}

type transportUnderTest struct {
	name  string
	start func(t *testing.T, split int64, k suiteKnobs) suitePool
}

var transports = []transportUnderTest{
	{"in-process pool", func(t *testing.T, split int64, k suiteKnobs) suitePool {
		cfg := quern.DefaultConfig()
		cfg.Workers, cfg.Reducers, cfg.SplitSize, cfg.TempDir = 3, 3, split, t.TempDir()
		index := func(worker string) int {
			var i int
			fmt.Sscanf(worker, "local-%d", &i)
			return i
		}
		if k.delay != nil {
			cfg.PoolKnobs.TaskDelay = func(worker string, a cluster.AttemptID) time.Duration {
				return k.delay(index(worker), a)
			}
		}
		if k.fetch != nil {
			cfg.PoolKnobs.FetchFault = func(_ string, a cluster.AttemptID, in cluster.InputLocation) (time.Duration, error) {
				return k.fetch(a, in)
			}
		}
		var lost [3]atomic.Bool
		var gone [3]chan struct{}
		var once [3]sync.Once
		for i := range gone {
			gone[i] = make(chan struct{})
		}
		cfg.PoolKnobs.LoseWorker = func(worker string) bool {
			i := index(worker)
			if lost[i].Load() {
				once[i].Do(func() { close(gone[i]) })
				return true
			}
			return false
		}
		db, err := quern.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var closeOnce sync.Once
		closeDB := func() { closeOnce.Do(func() { db.Close() }) }
		t.Cleanup(closeDB)
		return suitePool{
			db:     db,
			close:  closeDB,
			worker: func(i int) string { return fmt.Sprintf("local-%d", i) },
			lose: func(i int) {
				lost[i].Store(true)
				select {
				case <-gone[i]:
				case <-time.After(10 * time.Second):
					t.Errorf("the pool did not take local-%d down", i)
				}
			},
		}
	}},
	{"Flight cluster", func(t *testing.T, split int64, k suiteKnobs) suitePool {
		cfg := quern.DefaultConfig()
		cfg.Reducers, cfg.SplitSize, cfg.TempDir = 3, split, t.TempDir()
		ip := startInProcessKnobs(t, cfg, 3, func(i int) cluster.WorkerKnobs {
			var wk cluster.WorkerKnobs
			if k.delay != nil {
				wk.TaskDelay = func(a cluster.AttemptID) time.Duration { return k.delay(i, a) }
			}
			wk.FetchFault = k.fetch
			return wk
		})
		waitWorkers(t, ip, 3)
		names := make([]string, len(ip.workers))
		for i, w := range ip.workers {
			names[i] = w.Name()
		}
		return suitePool{
			db:     clientOf(t, ip.coord.Addr(), cluster.Security{}),
			close:  ip.stop,
			worker: func(i int) string { return names[i] },
			lose: func(i int) {
				ip.stopWorker[i]()
				deadline := time.Now().Add(10 * time.Second)
				for slices.Contains(ip.coord.Workers(), names[i]) {
					if time.Now().After(deadline) {
						t.Errorf("the coordinator still has %s", names[i])
						return
					}
					time.Sleep(10 * time.Millisecond)
				}
			},
		}
	}},
}

// waitWorkers waits until n workers of an in-process cluster are
// registered with its coordinator.
func waitWorkers(t *testing.T, ip *inProcess, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		registered := 0
		for _, w := range ip.workers {
			if name := w.Name(); name != "" && slices.Contains(ip.coord.Workers(), name) {
				registered++
			}
		}
		if registered >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d workers registered after 10 s", registered, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func runStats(t *testing.T, db *quern.DB, q string) ([]string, *quern.JobStats, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	rs, err := db.Run(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	rows := rowsOf(t, rs)
	took := time.Since(start)
	st := rs.Stats
	rs.Release()
	return rows, st, took
}

// signal is a one-shot event a knob raises from a worker's goroutine.
type signal struct {
	once sync.Once
	ch   chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }
func (s *signal) raise() { s.once.Do(func() { close(s.ch) }) }

func (s *signal) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case <-s.ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("no %s within 20 s", what)
	}
}

// attemptsOf returns a stage's attempt records.
func attemptsOf(st *quern.JobStats, stage int) []cluster.AttemptRecord {
	var out []cluster.AttemptRecord
	for _, a := range st.Attempts {
		if a.Attempt.Task.Stage == stage {
			out = append(out, a)
		}
	}
	return out
}

// TestTransportSuite runs the scheduler's promises on both sides of the
// transport seam, each scenario against local mode's answer: exactly once
// without faults, a straggler's backup wins, a worker lost while maps run
// or after its maps are done, a failed fetch re-runs only the map task it
// names, and slow fetches are waited for.
func TestTransportSuite(t *testing.T) {
	path, split := textFile(t, 8)
	query := wordCount(path)
	want := localAnswer(t, query)
	for _, tr := range transports {
		t.Run(tr.name+"/exactly once", func(t *testing.T) {
			p := tr.start(t, split, suiteKnobs{})
			rows, st, _ := runStats(t, p.db, query)
			sameRows(t, rows, want)
			if st == nil || len(st.Stages) == 0 || st.Stages[0].Tasks != 8 {
				t.Fatalf("want 8 map tasks: %v", st)
			}
			for _, sg := range st.Stages {
				if sg.Launched != sg.Tasks {
					t.Errorf("stage %d: %d attempts for %d tasks\n%s", sg.Stage, sg.Launched, sg.Tasks, st)
				}
			}
		})
		t.Run(tr.name+"/straggler backup wins", func(t *testing.T) {
			const slowFor = 6 * time.Second
			p := tr.start(t, split, suiteKnobs{delay: func(w int, a cluster.AttemptID) time.Duration {
				if w == 0 && a.Task.Stage == 0 {
					return slowFor
				}
				return 0
			}})
			rows, st, took := runStats(t, p.db, query)
			sameRows(t, rows, want)
			if took > slowFor*2/3 {
				t.Errorf("took %v: the slow worker was waited for", took)
			}
			if st.Stages[0].BackupWins < 1 {
				t.Errorf("no backup won:\n%s", st)
			}
			// The losing attempt was killed in its delay: shutting down
			// does not sit out the rest of it.
			start := time.Now()
			p.close()
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("shutting down took %v: the killed straggler was waited for", took)
			}
		})
		t.Run(tr.name+"/worker lost while maps run", func(t *testing.T) {
			mapping := newSignal()
			p := tr.start(t, split, suiteKnobs{delay: func(w int, a cluster.AttemptID) time.Duration {
				if w == 0 && a.Task.Stage == 0 {
					mapping.raise()
					return 3 * time.Second // still running when the worker goes
				}
				return 0
			}})
			done := runInBackground(p.db, query)
			mapping.wait(t, "map attempt on worker 0")
			p.lose(0)
			rows, st := done.wait(t)
			sameRows(t, rows, want)
			s0 := st.Stages[0]
			if s0.Lost < 1 || s0.Reexecutions < 1 {
				t.Errorf("want a lost map attempt and its re-execution:\n%s", st)
			}
			for _, a := range st.Attempts {
				if a.Worker == p.worker(0) && a.Outcome == cluster.AttemptSucceeded {
					t.Errorf("%s succeeded on the lost worker:\n%s", a.Attempt, st)
				}
			}
		})
		t.Run(tr.name+"/worker lost before reducers fetch", func(t *testing.T) {
			reducing := newSignal()
			p := tr.start(t, split, suiteKnobs{delay: func(_ int, a cluster.AttemptID) time.Duration {
				if a.Task.Stage == 1 && a.Attempt == 0 {
					reducing.raise() // every map is done
					return time.Second
				}
				return 0
			}})
			done := runInBackground(p.db, query)
			reducing.wait(t, "reducer")
			p.lose(0)
			rows, st := done.wait(t)
			sameRows(t, rows, want)
			// Every map output worker 0 held is made again, and no other.
			var onVictim []int
			for _, a := range attemptsOf(st, 0) {
				if a.Worker == p.worker(0) && a.Outcome == cluster.AttemptSucceeded {
					onVictim = append(onVictim, a.Attempt.Task.Index)
				}
			}
			if len(onVictim) == 0 {
				t.Fatalf("worker 0 completed no map task:\n%s", st)
			}
			var again []int
			for _, a := range attemptsOf(st, 0) {
				if a.Reason == cluster.LaunchWorkerLost {
					again = append(again, a.Attempt.Task.Index)
				}
			}
			slices.Sort(onVictim)
			slices.Sort(again)
			if !slices.Equal(again, onVictim) || st.Stages[0].Launched != 8+len(onVictim) {
				t.Errorf("maps done on worker 0: %v; re-executed: %v; want the same, and %d map attempts in all\n%s",
					onVictim, again, 8+len(onVictim), st)
			}
			t.Logf("worker 0 had maps %v; %d map attempts in all", onVictim, st.Stages[0].Launched)
		})
		t.Run(tr.name+"/fetch failure re-runs one map", func(t *testing.T) {
			var failed atomic.Bool
			p := tr.start(t, split, suiteKnobs{fetch: func(a cluster.AttemptID, in cluster.InputLocation) (time.Duration, error) {
				if in.Attempt.Task.Index == 3 && failed.CompareAndSwap(false, true) {
					return 0, errors.New("injected: connection reset")
				}
				return 0, nil
			}})
			rows, st, _ := runStats(t, p.db, query)
			sameRows(t, rows, want)
			var reduceFailed, mapAgain []cluster.AttemptRecord
			for _, a := range st.Attempts {
				switch {
				case a.Attempt.Task.Stage == 1 && a.Outcome == cluster.AttemptFailed:
					reduceFailed = append(reduceFailed, a)
				case a.Attempt.Task.Stage == 0 && a.Reason == cluster.LaunchFetchFailed:
					mapAgain = append(mapAgain, a)
				}
			}
			if len(reduceFailed) != 1 || reduceFailed[0].Err == nil || !strings.Contains(reduceFailed[0].Err.Error(), "injected") {
				t.Errorf("want one reducer failing with the injected fetch error:\n%s", st)
			}
			if len(mapAgain) != 1 || mapAgain[0].Attempt.Task.Index != 3 || st.Stages[0].Launched != 9 {
				t.Errorf("want map task 3, and only it, re-run once:\n%s", st)
			}
			if sg := st.Stages[1]; sg.Failed != 1 || sg.Retries != 0 {
				t.Errorf("the fetch failure counted against the reducer:\n%s", st)
			}
		})
		t.Run(tr.name+"/slow fetches are waited for", func(t *testing.T) {
			p := tr.start(t, split, suiteKnobs{fetch: func(a cluster.AttemptID, in cluster.InputLocation) (time.Duration, error) {
				if in.Attempt.Task.Index == 0 {
					return 200 * time.Millisecond, nil
				}
				return 0, nil
			}})
			rows, st, _ := runStats(t, p.db, query)
			sameRows(t, rows, want)
			for _, sg := range st.Stages {
				if sg.Launched != sg.Tasks {
					t.Errorf("stage %d: %d attempts for %d tasks\n%s", sg.Stage, sg.Launched, sg.Tasks, st)
				}
			}
		})
	}
}

// background is a query running on its own goroutine.
type background struct {
	done chan struct{}
	rows []string
	st   *quern.JobStats
	err  error
}

func runInBackground(db *quern.DB, query string) *background {
	b := &background{done: make(chan struct{})}
	go func() {
		defer close(b.done)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		rs, err := db.Run(ctx, query)
		if err != nil {
			b.err = err
			return
		}
		b.rows, b.err = readRows(rs)
		b.st = rs.Stats
	}()
	return b
}

func (b *background) wait(t *testing.T) ([]string, *quern.JobStats) {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(60 * time.Second):
		t.Fatal("query did not finish in 60 s")
	}
	if b.err != nil {
		t.Fatalf("query failed: %v", b.err)
	}
	if b.st == nil {
		t.Fatal("no job statistics")
	}
	return b.rows, b.st
}
