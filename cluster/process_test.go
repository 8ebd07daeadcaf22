package cluster_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	_ "github.com/apache/arrow-go/v18/arrow/flight/flightsql/driver"
	"google.golang.org/grpc/codes"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/cluster"
	"github.com/quernsql/quern/internal/slt"
)

// The tests in this file run a real cluster: the quern binary, built once,
// as a coordinator and worker processes on 127.0.0.1. They are skipped
// with -short.

const testToken = "test-token"

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func moduleRoot(t *testing.T) string {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// quernBinary builds the binary once per test run.
func quernBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts processes; skipped with -short")
	}
	root := moduleRoot(t)
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "quern-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "quern")
		args := []string{"build", "-o", binPath}
		if os.Getenv("QUERN_TEST_RACE") != "" {
			// The processes run with the race detector; a race they
			// report fails the test that started them (see startProc).
			args = append(args, "-race")
		}
		cmd := exec.Command("go", append(args, "./cmd/quern")...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// logBuffer collects a process's standard error.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// since returns what was written after the first off bytes, and the new
// end.
func (b *logBuffer) since(off int) (string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.buf.Len()
	if off > n {
		off = n
	}
	return string(b.buf.Bytes()[off:]), n
}

// proc is a running quern process.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *logBuffer
	done chan struct{}
}

func startProc(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	if len(args) > 0 && (args[0] == "coordinator" || args[0] == "worker") {
		// Servers read only under their working directory by default; test
		// data lives in the module and in per-test temporary directories.
		args = append(args[:len(args):len(args)], "--allow-dir", moduleRoot(t), "--allow-dir", os.TempDir())
	}
	cmd := exec.Command(quernBinary(t), args...)
	cmd.Dir = moduleRoot(t)
	cmd.Env = append(os.Environ(), env...)
	p := &proc{name: name, cmd: cmd, log: &logBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.log
	cmd.Stderr = p.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.signal(syscall.SIGKILL)
		<-p.done
		if strings.Contains(p.log.String(), "WARNING: DATA RACE") {
			t.Errorf("%s reported a data race", name)
		}
		if t.Failed() {
			t.Logf("--- log of %s ---\n%s", name, p.log)
		}
	})
	return p
}

func (p *proc) signal(sig syscall.Signal) {
	select {
	case <-p.done:
	default:
		p.cmd.Process.Signal(sig)
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	p.signal(syscall.SIGKILL)
	<-p.done
}

// waitLog waits for a log line matching re and returns its submatches.
func (p *proc) waitLog(t *testing.T, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(p.log.String()); m != nil {
			return m
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited while waiting for %q", p.name, re)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("%s: no log line matching %q within %v", p.name, re, timeout)
	return nil
}

// testCluster is a coordinator and its workers.
type testCluster struct {
	t       *testing.T
	coord   *proc
	addr    string
	args    []string // the coordinator's
	workers []*worker
	nextID  int
}

type worker struct {
	*proc
	name string // as registered (changes when it registers again)
	dir  string
}

var (
	listeningRE  = regexp.MustCompile(`coordinator listening on (\S+)`)
	registeredRE = regexp.MustCompile(`worker (\S+): registered with`)
)

// newTestCluster starts a coordinator (with extra flags) and n workers,
// the i-th with environment env(i) (nil: none).
func newTestCluster(t *testing.T, n int, coordArgs []string, env func(i int) []string) *testCluster {
	t.Helper()
	c := &testCluster{t: t, args: coordArgs}
	c.startCoordinator("127.0.0.1:0")
	for i := range n {
		var e []string
		if env != nil {
			e = env(i)
		}
		c.startWorker(e)
	}
	return c
}

func (c *testCluster) startCoordinator(listen string) {
	c.t.Helper()
	args := append([]string{"coordinator", "--listen", listen, "--token", testToken}, c.args...)
	c.coord = startProc(c.t, "coordinator", nil, args...)
	c.addr = c.coord.waitLog(c.t, listeningRE, 20*time.Second)[1]
}

// startWorker starts a worker and waits until it has registered. The token
// comes from QUERN_TOKEN, as an operator would set it.
func (c *testCluster) startWorker(env []string, flags ...string) *worker {
	c.t.Helper()
	c.nextID++
	dir := filepath.Join(c.t.TempDir(), fmt.Sprintf("w%d", c.nextID))
	args := append([]string{"worker", "--coordinator", c.addr, "--dir", dir}, flags...)
	p := startProc(c.t, fmt.Sprintf("worker %d", c.nextID), append(env, "QUERN_TOKEN="+testToken), args...)
	w := &worker{proc: p, dir: dir}
	w.name = p.waitLog(c.t, registeredRE, 20*time.Second)[1]
	c.coord.waitLog(c.t, regexp.MustCompile(`worker `+regexp.QuoteMeta(w.name)+` up`), 10*time.Second)
	c.workers = append(c.workers, w)
	return w
}

// client opens a DB that runs its statements on the cluster.
func (c *testCluster) client() *quern.DB {
	c.t.Helper()
	cfg := quern.DefaultConfig()
	cfg.Cluster = c.addr
	cfg.ClusterSecurity = cluster.Security{Token: testToken}
	db, err := quern.Open(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { db.Close() })
	return db
}

// textFile writes words in lines, with enough bytes for splits map
// tasks of splitSize bytes, and returns its path and the split size.
func textFile(t *testing.T, splits int) (string, int64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for i := 0; b.Len() < 400_000; i++ {
		for j := range 12 {
			if j > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "w%d", rng.IntN(300))
		}
		b.WriteString(".\n")
	}
	path := filepath.Join(t.TempDir(), "words.txt")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	size := int64(b.Len())
	return path, (size + int64(splits) - 1) / int64(splits)
}

func wordCount(path string) string {
	return fmt.Sprintf("SELECT word, count(*) AS n FROM `%s` GROUP BY word ORDER BY word", path)
}

// rowsOf reads a result as lines of tab-separated values.
func rowsOf(t *testing.T, rr array.RecordReader) []string {
	t.Helper()
	rows, err := readRows(rr)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func readRows(rr array.RecordReader) ([]string, error) {
	defer rr.Release()
	var rows []string
	for rr.Next() {
		rec := rr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			vals := make([]string, rec.NumCols())
			for c := range vals {
				vals[c] = rec.Column(c).ValueStr(i)
			}
			rows = append(rows, strings.Join(vals, "\t"))
		}
	}
	return rows, rr.Err()
}

// localAnswer runs query in local mode: the answer the cluster must give.
func localAnswer(t *testing.T, query string) []string {
	t.Helper()
	cfg := quern.DefaultConfig()
	cfg.TempDir = t.TempDir()
	db, err := quern.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rr, err := db.Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	return rowsOf(t, rr)
}

// runOnCluster runs query on the cluster and returns its rows and stats.
func runOnCluster(t *testing.T, db *quern.DB, query string) ([]string, *cluster.JobStats) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := db.Run(ctx, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	rows := rowsOf(t, res)
	if res.Stats == nil {
		t.Fatalf("%s: no job statistics", query)
	}
	return rows, res.Stats
}

func sameRows(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d rows, want %d\ngot:  %.300q\nwant: %.300q", len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("row %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

// stage0 and stage1 return a stage's summary.
func stageStats(t *testing.T, st *cluster.JobStats, id int) cluster.StageStats {
	t.Helper()
	for _, s := range st.Stages {
		if s.Stage == id {
			return s
		}
	}
	t.Fatalf("no stage %d in\n%s", id, st)
	return cluster.StageStats{}
}

// sltEngine runs sqllogictest records on a DB (here a cluster client).
type sltEngine struct{ db *quern.DB }

func (e sltEngine) Exec(ctx context.Context, sql string) (array.RecordReader, error) {
	rs, err := e.db.Run(ctx, sql)
	if err != nil {
		return nil, err
	}
	if rs.Schema().NumFields() == 0 {
		for rs.Next() {
		}
		err := rs.Err()
		rs.Release()
		return nil, err
	}
	return rs, nil
}

// TestClusterGoldenQueries runs the golden query files (whose answers are
// local mode's, see golden_test.go) on a coordinator and three workers,
// with small splits so that every query has many map tasks. Each file gets
// a new cluster, since a file expects an empty database.
func TestClusterGoldenQueries(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(moduleRoot(t), "testdata/queries/*.test"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			c := newTestCluster(t, 3, []string{"--reducers", "3", "--split-size", "64", "--batch-size", "3"}, nil)
			db := c.client()
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			records, err := slt.Parse(filepath.Join("testdata/queries", filepath.Base(path)), bytes.NewReader(src))
			if err != nil {
				t.Fatal(err)
			}
			res := slt.Run(context.Background(), sltEngine{db}, records, slt.Options{MaxFailures: -1, Timeout: 60 * time.Second})
			for _, f := range res.Failures {
				t.Errorf("%s:%d: %s\n%s\n  expected: %q\n  got:      %q", f.File, f.Line, f.Err, f.SQL, f.Expected, f.Got)
			}
			for _, u := range res.UnsupportedList {
				t.Errorf("%s:%d: unexpected 'not supported': %s\n%s", u.File, u.Line, u.Err, u.SQL)
			}
			tot := res.Total()
			if tot.Passed == 0 {
				t.Errorf("no record passed")
			}
			t.Logf("%d passed, %d failed, %d skipped", tot.Passed, tot.Failed, tot.Skipped)
			// Every job's files are gone from the workers once it is read.
			for _, w := range c.workers {
				waitNoJobFiles(t, w.dir, 5*time.Second)
			}
		})
	}
}

// jobDirs lists the job directories left under a worker's --dir.
func jobDirs(dir string) []string {
	var out []string
	sessions, _ := os.ReadDir(dir)
	for _, s := range sessions {
		jobs, _ := os.ReadDir(filepath.Join(dir, s.Name()))
		for _, j := range jobs {
			out = append(out, filepath.Join(s.Name(), j.Name()))
		}
	}
	return out
}

func waitNoJobFiles(t *testing.T, dir string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		left := jobDirs(dir)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker files left in %s after %v: %v", dir, timeout, left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestClusterExactlyOnce: with 8 input splits and no faults, 8 map
// attempts run, and every other task runs once too.
func TestClusterExactlyOnce(t *testing.T) {
	path, split := textFile(t, 8)
	c := newTestCluster(t, 3, []string{"--reducers", "3", "--split-size", fmt.Sprint(split)}, nil)
	db := c.client()
	query := wordCount(path)
	rows, st := runOnCluster(t, db, query)
	sameRows(t, rows, localAnswer(t, query))
	if s := stageStats(t, st, 0); s.Tasks != 8 || s.Launched != 8 {
		t.Errorf("map stage: %d tasks, %d attempts; want 8 and 8\n%s", s.Tasks, s.Launched, st)
	}
	for _, s := range st.Stages {
		if s.Launched != s.Tasks {
			t.Errorf("stage %d: %d attempts for %d tasks\n%s", s.Stage, s.Launched, s.Tasks, st)
		}
	}
}

// TestClusterTokenRequired: a client with no token or a wrong one is
// refused with Unauthenticated.
func TestClusterTokenRequired(t *testing.T) {
	c := newTestCluster(t, 1, nil, nil)
	for _, token := range []string{"", "wrong-token"} {
		cfg := quern.DefaultConfig()
		cfg.Cluster = c.addr
		cfg.ClusterSecurity = cluster.Security{Token: token}
		db, err := quern.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = db.Run(context.Background(), "SELECT 1")
		db.Close()
		var re *cluster.RemoteError
		if !errors.As(err, &re) || re.Code != codes.Unauthenticated {
			t.Errorf("token %q: got %v, want Unauthenticated", token, err)
		}
	}
	// A worker with a wrong token does not get in either.
	p := startProc(t, "intruder", []string{"QUERN_TOKEN=wrong"}, "worker", "--coordinator", c.addr)
	p.waitLog(t, regexp.MustCompile(`Unauthenticated|cluster token`), 10*time.Second)
}

// TestClusterRefusesOpenListen: no token on a non-loopback address is an
// error unless --insecure.
func TestClusterRefusesOpenListen(t *testing.T) {
	bin := quernBinary(t)
	for _, args := range [][]string{
		{"coordinator", "--listen", "0.0.0.0:0"},
		{"worker", "--coordinator", "127.0.0.1:1", "--listen", "0.0.0.0:0"},
	} {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "QUERN_TOKEN=")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "without a cluster token") {
			t.Errorf("%v: got %v, %s; want a refusal", args, err, out)
		}
	}
}

// TestFlightSQLDriver runs a GROUP BY against the coordinator with Arrow's
// own Flight SQL database/sql driver.
func TestFlightSQLDriver(t *testing.T) {
	c := newTestCluster(t, 2, nil, nil)
	conn, err := sql.Open("flightsql", "flightsql://"+c.addr+"?token="+testToken+"&timeout=30s")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query("SELECT city, count(*) AS n, sum(age) AS total FROM `testdata/tables/people.csv` GROUP BY city ORDER BY city")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var city sql.NullString
		var n, total sql.NullInt64
		if err := rows.Scan(&city, &n, &total); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%v|%v|%v", city.String, n.Int64, total.Int64))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := localAnswer(t, "SELECT city, count(*) AS n, sum(age) AS total FROM `"+filepath.Join(moduleRoot(t), "testdata/tables/people.csv")+"` GROUP BY city ORDER BY city")
	for i := range want {
		want[i] = strings.ReplaceAll(strings.ReplaceAll(want[i], "(null)", ""), "\t", "|")
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Statements without rows go through Exec (prepared statements).
	if _, err := conn.Exec("CREATE TABLE t (a BIGINT, b VARCHAR(4))"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec("INSERT INTO t VALUES (1, 'x'), (2, 'y'), (3, 'x')"); err != nil {
		t.Fatal(err)
	}
	var sum int64
	if err := conn.QueryRow("SELECT sum(a) FROM t WHERE b = 'x'").Scan(&sum); err != nil || sum != 4 {
		t.Errorf("sum over an in-memory table: got %d, %v; want 4", sum, err)
	}
	// A SQL error comes back as an error, not a hang or an empty result.
	if _, err := conn.Query("SELECT nme FROM `testdata/tables/people.csv`"); err == nil || !strings.Contains(err.Error(), "unknown column 'nme'") {
		t.Errorf("bad column: got %v", err)
	}
}

// TestClusterConcurrentQueries: several jobs share the workers (two slots
// each) and each gets local mode's answer.
func TestClusterConcurrentQueries(t *testing.T) {
	path, split := textFile(t, 8)
	c := newTestCluster(t, 0, []string{"--reducers", "3", "--split-size", fmt.Sprint(split)}, nil)
	for range 2 {
		c.startWorker(nil, "--slots", "2")
	}
	people := filepath.Join(moduleRoot(t), "testdata/tables/people.csv")
	queries := []string{
		wordCount(path),
		fmt.Sprintf("SELECT count(*), count(DISTINCT word) FROM `%s`", path),
		"SELECT city, count(*) AS n, max(age) FROM `" + people + "` GROUP BY city ORDER BY city",
		fmt.Sprintf("SELECT word, count(*) AS n FROM `%s` GROUP BY word ORDER BY n DESC, word LIMIT 7", path),
	}
	db := c.client()
	var wg sync.WaitGroup
	got := make([][]string, len(queries))
	for i, q := range queries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rr, err := db.Query(context.Background(), q)
			if err == nil {
				got[i], err = readRows(rr)
			}
			if err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}()
	}
	wg.Wait()
	for i, q := range queries {
		sameRows(t, got[i], localAnswer(t, q))
	}
}
