package cluster_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Faults on a real cluster, as the MapReduce paper has them: workers die
// (SIGKILL) or hang (SIGSTOP), their disks lose files, they straggle, the
// client goes away, the coordinator dies. Each test checks the answer
// against local mode and the statistics for the re-executions.

// faultCluster starts a coordinator with a 1 s heartbeat timeout and 8
// splits of a word file, and three workers with environments env(i).
func faultCluster(t *testing.T, env func(i int) []string) (*testCluster, string) {
	t.Helper()
	path, split := textFile(t, 8)
	c := newTestCluster(t, 3, []string{"--reducers", "3", "--split-size", fmt.Sprint(split), "--heartbeat-timeout", "1s"}, env)
	return c, wordCount(path)
}

// launchOn matches the coordinator's log line for a launch of a task of
// stage on worker.
func launchOn(stage int, worker string) *regexp.Regexp {
	return regexp.MustCompile(fmt.Sprintf(`launch q\d+/%d\.\d+#\d+ on %s`, stage, regexp.QuoteMeta(worker)))
}

// runAsync runs query on the cluster in the background.
func runAsync(t *testing.T, c *testCluster, query string) func() ([]string, string) {
	db := c.client()
	type result struct {
		rows  []string
		stats string
		err   error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		res, err := db.Run(ctx, query)
		if err != nil {
			done <- result{err: err}
			return
		}
		var rows []string
		for res.Next() {
			rec := res.RecordBatch()
			for i := 0; i < int(rec.NumRows()); i++ {
				rows = append(rows, rec.Column(0).ValueStr(i)+"\t"+rec.Column(1).ValueStr(i))
			}
		}
		err = res.Err()
		res.Release()
		stats := ""
		if res.Stats != nil {
			stats = res.Stats.String()
		}
		done <- result{rows: rows, stats: stats, err: err}
	}()
	return func() ([]string, string) {
		t.Helper()
		select {
		case r := <-done:
			if r.err != nil {
				t.Fatalf("query failed: %v", r.err)
			}
			return r.rows, r.stats
		case <-time.After(60 * time.Second):
			t.Fatal("query did not finish in 60 s")
		}
		return nil, ""
	}
}

// reexecuted reads "reexecuted=N" of a stage from a JobStats printout.
func reexecuted(stats string, stage int) int {
	m := regexp.MustCompile(fmt.Sprintf(`stage %d: .* reexecuted=(\d+)`, stage)).FindStringSubmatch(stats)
	if m == nil {
		return -1
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

func TestClusterWorkerFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		// env of each worker; worker 0 is the victim
		env func(i int) []string
		// fault waits for the moment and strikes
		fault func(t *testing.T, c *testCluster)
		// stages that must show re-executions
		stages []int
	}{{
		name: "kill while maps run",
		env: func(i int) []string {
			if i == 0 {
				return []string{"QUERN_TEST_TASK_DELAY=0:*:3s"}
			}
			return nil
		},
		fault: func(t *testing.T, c *testCluster) {
			c.coord.waitLog(t, launchOn(0, c.workers[0].name), 10*time.Second)
			c.workers[0].kill()
		},
		stages: []int{0},
	}, {
		name: "kill after maps, before reducers fetch",
		env: func(i int) []string {
			return []string{"QUERN_TEST_TASK_DELAY=1:*:1500ms"} // reducers wait before fetching
		},
		fault: func(t *testing.T, c *testCluster) {
			c.coord.waitLog(t, regexp.MustCompile(`launch q\d+/1\.0#0`), 10*time.Second)
			// Every map is done; worker 0 ran some (8 maps on 3 workers).
			c.workers[0].kill()
		},
		stages: []int{0, 1},
	}, {
		name: "kill while reducers run",
		env: func(i int) []string {
			if i == 0 {
				return []string{"QUERN_TEST_TASK_DELAY=1:*:3s"}
			}
			return nil
		},
		fault: func(t *testing.T, c *testCluster) {
			c.coord.waitLog(t, launchOn(1, c.workers[0].name), 10*time.Second)
			c.workers[0].kill()
		},
		stages: []int{1},
	}, {
		name: "hung worker misses heartbeats",
		env: func(i int) []string {
			if i == 0 {
				return []string{"QUERN_TEST_TASK_DELAY=0:*:2s"}
			}
			return nil
		},
		fault: func(t *testing.T, c *testCluster) {
			w := c.workers[0]
			c.coord.waitLog(t, launchOn(0, w.name), 10*time.Second)
			w.signal(syscall.SIGSTOP) // its sockets stay open: only heartbeats tell
			c.coord.waitLog(t, regexp.MustCompile(regexp.QuoteMeta(w.name)+`: missed heartbeats`), 10*time.Second)
			w.signal(syscall.SIGCONT)
		},
		stages: []int{0},
	}, {
		name: "lost map output files",
		env: func(i int) []string {
			return []string{"QUERN_TEST_TASK_DELAY=1:*:1s"}
		},
		fault: func(t *testing.T, c *testCluster) {
			c.coord.waitLog(t, regexp.MustCompile(`launch q\d+/1\.0#0`), 10*time.Second)
			// The disk of worker 0 loses its map outputs: reducers
			// fetching them report FetchFailed for those map tasks.
			files, _ := filepath.Glob(filepath.Join(c.workers[0].dir, "*", "*", "s0-*", "*.arrow"))
			if len(files) == 0 {
				t.Fatalf("no map outputs on worker 0 (%v)", jobDirs(c.workers[0].dir))
			}
			for _, f := range files {
				os.Remove(f)
			}
		},
		stages: []int{0},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c, query := faultCluster(t, tc.env)
			wait := runAsync(t, c, query)
			tc.fault(t, c)
			rows, stats := wait()
			sameRows(t, rows, localAnswer(t, query))
			for _, s := range tc.stages {
				if n := reexecuted(stats, s); n < 1 {
					t.Errorf("stage %d shows no re-execution:\n%s", s, stats)
				}
			}
			t.Logf("stats:\n%s", stats)
		})
	}
}

// TestClusterWorkerComesBack: a worker that was declared dead registers
// again under a new name and gets work.
func TestClusterWorkerComesBack(t *testing.T) {
	c, query := faultCluster(t, nil)
	w := c.workers[0]
	w.signal(syscall.SIGSTOP)
	c.coord.waitLog(t, regexp.MustCompile(regexp.QuoteMeta(w.name)+`: missed heartbeats`), 10*time.Second)
	w.signal(syscall.SIGCONT)
	// Its old session ends; the second registration has a new name.
	m := w.waitLog(t, regexp.MustCompile(`(?s)registered with.*worker (\S+): registered with`), 10*time.Second)
	if m[1] == w.name {
		t.Fatalf("registered again under the same name %s", w.name)
	}
	c.coord.waitLog(t, regexp.MustCompile(`worker `+regexp.QuoteMeta(m[1])+` up`), 10*time.Second)
	rows, _ := runOnCluster(t, c.client(), query)
	sameRows(t, rows, localAnswer(t, query))
}

// TestClusterBackupWins: one worker is slow (a test knob delays its map
// tasks by 20 s); a backup attempt of its straggler wins and the query
// finishes in well under 20 s.
func TestClusterBackupWins(t *testing.T) {
	c, query := faultCluster(t, func(i int) []string {
		if i == 0 {
			return []string{"QUERN_TEST_TASK_DELAY=0:*:20s"}
		}
		return nil
	})
	start := time.Now()
	rows, st := runOnCluster(t, c.client(), query)
	elapsed := time.Since(start)
	sameRows(t, rows, localAnswer(t, query))
	if elapsed > 10*time.Second {
		t.Errorf("query took %v with a backup available", elapsed)
	}
	if s := stageStats(t, st, 0); s.BackupWins < 1 {
		t.Errorf("no backup won:\n%s", st)
	}
	t.Logf("finished in %v\n%s", elapsed, st)
}

// TestClusterCancel: a client that gives up cancels its job on every
// worker, and the workers delete its files.
func TestClusterCancel(t *testing.T) {
	c, query := faultCluster(t, func(int) []string { return []string{"QUERN_TEST_TASK_DELAY=1:*:30s"} })
	db := c.client()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := db.Run(ctx, query)
		errc <- err
	}()
	// Maps are done (their files are on disk) and reducers are waiting.
	c.coord.waitLog(t, regexp.MustCompile(`launch q\d+/1\.2#0`), 10*time.Second)
	cancel()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("a cancelled query succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelling did not end the query")
	}
	c.coord.waitLog(t, regexp.MustCompile(`job q\d+ failed: .*cancel`), 5*time.Second)
	for _, w := range c.workers {
		waitNoJobFiles(t, w.dir, 5*time.Second)
	}
}

// TestClusterCoordinatorDies: the client (the quern binary) fails with a
// clear message within 10 s, never hangs; the workers keep running and
// register with the coordinator when it comes back, and queries work
// again.
func TestClusterCoordinatorDies(t *testing.T) {
	c, query := faultCluster(t, func(i int) []string {
		if i == 0 {
			return []string{"QUERN_TEST_TASK_DELAY=0:*:30s"}
		}
		return nil
	})
	cli := startClient(t, c, query)
	c.coord.waitLog(t, launchOn(0, c.workers[0].name), 10*time.Second)
	c.coord.kill()
	cli.wantFailure(t, 10*time.Second, "cluster coordinator")
	// The coordinator comes back on the same address; the workers register
	// with it again, under new names, and the next query runs (the slow
	// worker's straggler gets a backup).
	c.startCoordinator(c.addr)
	for _, w := range c.workers {
		m := w.waitLog(t, regexp.MustCompile(`(?s)registered with.*worker (\S+): registered with`), 10*time.Second)
		c.coord.waitLog(t, regexp.MustCompile(`worker `+regexp.QuoteMeta(m[1])+` up`), 10*time.Second)
	}
	rows, _ := runOnCluster(t, c.client(), query)
	sameRows(t, rows, localAnswer(t, query))
}

// TestClusterCoordinatorFrozen: a coordinator that stops mid-query
// (SIGSTOP: its process and sockets stay, so neither TCP nor gRPC's
// keepalive tells for ~13 s) makes the client (the quern binary) exit
// non-zero with a clear message within 10 s.
func TestClusterCoordinatorFrozen(t *testing.T) {
	c, query := faultCluster(t, func(i int) []string {
		if i == 0 {
			return []string{"QUERN_TEST_TASK_DELAY=0:*:30s"}
		}
		return nil
	})
	cli := startClient(t, c, query)
	c.coord.waitLog(t, launchOn(0, c.workers[0].name), 10*time.Second)
	c.coord.signal(syscall.SIGSTOP)
	defer c.coord.signal(syscall.SIGCONT) // then the cleanup kills it
	cli.wantFailure(t, 10*time.Second, "coordinator at "+c.addr+" stopped answering")
}

// client is the quern binary running one statement on a cluster.
type client struct {
	cmd    *exec.Cmd
	out    *logBuffer
	exited chan error
}

func startClient(t *testing.T, c *testCluster, query string) *client {
	t.Helper()
	cli := &client{cmd: exec.Command(quernBinary(t), "--cluster", c.addr, "-c", query), out: &logBuffer{}, exited: make(chan error, 1)}
	cli.cmd.Env = append(os.Environ(), "QUERN_TOKEN="+testToken)
	cli.cmd.Stdout, cli.cmd.Stderr = cli.out, cli.out
	if err := cli.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cli.exited <- cli.cmd.Wait() }()
	t.Cleanup(func() {
		cli.cmd.Process.Kill()
		<-cli.exited
	})
	return cli
}

// wantFailure waits, from now, up to within for the client to exit
// non-zero with a message containing msg.
func (cli *client) wantFailure(t *testing.T, within time.Duration, msg string) {
	t.Helper()
	start := time.Now()
	select {
	case err := <-cli.exited:
		cli.exited <- err // for the cleanup
		if err == nil {
			t.Fatalf("client exited 0:\n%s", cli.out)
		}
		if !strings.Contains(cli.out.String(), msg) {
			t.Errorf("unclear message (want %q): %s", msg, cli.out)
		}
		t.Logf("client exited after %v: %v: %s", time.Since(start).Round(time.Millisecond), err, strings.TrimSpace(cli.out.String()))
	case <-time.After(within):
		t.Fatalf("client still running after %v:\n%s", within, cli.out)
	}
}
