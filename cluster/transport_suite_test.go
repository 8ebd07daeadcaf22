package cluster_test

import (
	"context"
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

// transportUnderTest starts a pool of 3 workers; slow, when set, delays
// the attempts of worker 0 that it returns a duration for.
type transportUnderTest struct {
	name  string
	start func(t *testing.T, split int64, slow func(a cluster.AttemptID) time.Duration) *quern.DB
}

var transports = []transportUnderTest{
	{"in-process pool", func(t *testing.T, split int64, slow func(a cluster.AttemptID) time.Duration) *quern.DB {
		cfg := quern.DefaultConfig()
		cfg.Workers, cfg.Reducers, cfg.SplitSize, cfg.TempDir = 3, 3, split, t.TempDir()
		if slow != nil {
			cfg.PoolKnobs.TaskDelay = func(worker string, a cluster.AttemptID) time.Duration {
				if worker == "local-0" {
					return slow(a)
				}
				return 0
			}
		}
		db, err := quern.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
	{"Flight cluster", func(t *testing.T, split int64, slow func(a cluster.AttemptID) time.Duration) *quern.DB {
		cfg := quern.DefaultConfig()
		cfg.Reducers, cfg.SplitSize, cfg.TempDir = 3, split, t.TempDir()
		ip := startInProcessKnobs(t, cfg, 3, func(i int) cluster.WorkerKnobs {
			if i == 0 && slow != nil {
				return cluster.WorkerKnobs{TaskDelay: slow}
			}
			return cluster.WorkerKnobs{}
		})
		waitWorkers(t, ip.coord.DB(), 3)
		return clientOf(t, ip.coord.Addr(), cluster.Security{})
	}},
}

// waitWorkers waits until a coordinator's pool has n workers registered.
func waitWorkers(t *testing.T, db *quern.DB, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		rs, err := db.Run(context.Background(), "SELECT 1")
		if err == nil {
			for rs.Next() {
			}
			rs.Release()
			if rs.Stats != nil && workersSeen(rs.Stats) >= 1 {
				time.Sleep(200 * time.Millisecond) // the rest register within the same moment
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("fewer than %d workers registered", n)
}

func workersSeen(st *quern.JobStats) int {
	seen := map[string]bool{}
	for _, a := range st.Attempts {
		seen[a.Worker] = true
	}
	return len(seen)
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

// TestTransportSuite runs the scheduler's promises on both sides of the
// transport seam: exactly once without faults, a straggler's backup wins,
// and the answers are local mode's.
func TestTransportSuite(t *testing.T) {
	path, split := textFile(t, 8)
	query := wordCount(path)
	want := localAnswer(t, query)
	for _, tr := range transports {
		t.Run(tr.name+"/exactly once", func(t *testing.T) {
			db := tr.start(t, split, nil)
			rows, st, _ := runStats(t, db, query)
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
			db := tr.start(t, split, func(a cluster.AttemptID) time.Duration {
				if a.Task.Stage == 0 {
					return slowFor
				}
				return 0
			})
			rows, st, took := runStats(t, db, query)
			sameRows(t, rows, want)
			if took > slowFor*2/3 {
				t.Errorf("took %v: the slow worker was waited for", took)
			}
			if st.Stages[0].BackupWins < 1 {
				t.Errorf("no backup won:\n%s", st)
			}
		})
	}
}
