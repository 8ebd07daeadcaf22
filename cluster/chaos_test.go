package cluster_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/internal/slt"
)

// The chaos suite (issue #9) runs the golden queries, and a few heavier
// ones, on a real cluster (a coordinator and chaosWorkers worker
// processes on 127.0.0.1) while an injector driven by a seeded math/rand
// kills and restarts workers, freezes them past the heartbeat timeout,
// deletes, truncates and flips bits in their map outputs, makes their fetches fail or
// lag (QUERN_TEST_FETCH_FAULT), and once kills every worker at once. Every
// statement must end with local mode's answer or a clear error within
// chaosDeadline: a wrong answer or a hang fails the test.
//
//	go test ./cluster/ -run Chaos -v                      # CI: about 40 s
//	QUERN_CHAOS_SEED=7 go test ./cluster/ -run Chaos -v   # another seed
//	go test ./cluster/ -run Chaos -v -chaos.seed=7        # the same
//	QUERN_CHAOS_LONG=1 go test ./cluster/ -run Chaos -v -timeout 20m  # 5 minutes
//	QUERN_CHAOS_LONG=15m go test ./cluster/ -run Chaos -v -timeout 30m
//
// The seed fixes the order of the queries and the sequence of faults
// (kind, victim, pauses); where a fault lands in a job still depends on
// timing, so a failing seed shows the kind of run to look at rather than
// replaying it exactly.

var chaosSeed = flag.Uint64("chaos.seed", 0, "seed of the chaos suite (default $QUERN_CHAOS_SEED, else 1)")

const (
	chaosWorkers  = 4
	chaosDeadline = 30 * time.Second // per statement: longer is a hang
	chaosCI       = 35 * time.Second // of queries under faults, by default
	chaosLong     = 5 * time.Minute  // with QUERN_CHAOS_LONG=1
)

func chaosSettings(t *testing.T) (seed uint64, run time.Duration) {
	seed, run = 1, chaosCI
	if s := os.Getenv("QUERN_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("QUERN_CHAOS_SEED=%q: %v", s, err)
		}
		seed = v
	}
	if *chaosSeed != 0 {
		seed = *chaosSeed
	}
	switch s := os.Getenv("QUERN_CHAOS_LONG"); s {
	case "", "0":
	case "1":
		run = chaosLong
	default:
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("QUERN_CHAOS_LONG=%q: want 1 or a duration: %v", s, err)
		}
		run = d
	}
	return seed, run
}

// chaosReport tallies a run.
type chaosReport struct {
	mu     sync.Mutex
	faults map[string]int

	records   int // statements and queries run
	jobs      int // of them, the ones that ran a job
	recovered int // right answer from a job whose attempts show faults
	passed    int
	failed    int // a clear error
	tainted   int // failed after a statement of the same file failed
	wrong     int
	hangs     int
	errs      map[string]int // clear errors, by message (numbers masked)
	jobErrs   map[string]int // the coordinator's reasons for failing jobs
	wrongs    []string
}

func (r *chaosReport) fault(kind string) {
	r.mu.Lock()
	r.faults[kind]++
	r.mu.Unlock()
}

var (
	digitsRE    = regexp.MustCompile(`[0-9]+`)
	jobFailedRE = regexp.MustCompile(`job q\S+ failed: (.*)`)
	// chaosFailureRE picks the job failures faults can cause from the
	// expected errors of the golden files.
	chaosFailureRE = regexp.MustCompile(`times|no live workers|fetch|checksum|truncated|shuffle file`)
)

func (r *chaosReport) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	kinds := make([]string, 0, len(r.faults))
	for k := range r.faults {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	fmt.Fprintf(&b, "statements run: %d (%d ran a job)\n", r.records, r.jobs)
	fmt.Fprintf(&b, "faults injected:")
	for _, k := range kinds {
		fmt.Fprintf(&b, " %s=%d", k, r.faults[k])
	}
	fmt.Fprintf(&b, "\nright answers: %d, of which recovered from faults: %d\n", r.passed, r.recovered)
	fmt.Fprintf(&b, "failed cleanly: %d (+%d after a failed statement of their file)\n", r.failed, r.tainted)
	fmt.Fprintf(&b, "wrong answers: %d\nhangs: %d\n", r.wrong, r.hangs)
	tally := func(title string, counts map[string]int) {
		if len(counts) == 0 {
			return
		}
		fmt.Fprintf(&b, "%s:\n", title)
		msgs := make([]string, 0, len(counts))
		for m := range counts {
			msgs = append(msgs, m)
		}
		slices.SortFunc(msgs, func(a, b string) int { return counts[b] - counts[a] })
		for i, m := range msgs {
			if i == 8 {
				fmt.Fprintf(&b, "  ... %d more\n", len(msgs)-i)
				break
			}
			fmt.Fprintf(&b, "  %3d× %s\n", counts[m], m)
		}
	}
	tally("errors clients got", r.errs)
	tally("jobs the coordinator failed", r.jobErrs)
	for _, w := range r.wrongs {
		fmt.Fprintf(&b, "  WRONG: %s\n", w)
	}
	return b.String()
}

// chaosEngine runs slt records on the cluster and keeps the statistics of
// the last job.
type chaosEngine struct {
	db    *quern.DB
	stats *quern.JobStats
}

func (e *chaosEngine) Exec(ctx context.Context, sql string) (array.RecordReader, error) {
	rs, err := e.db.Run(ctx, sql)
	if err != nil {
		return nil, err
	}
	e.stats = rs.Stats
	if rs.Schema().NumFields() == 0 {
		for rs.Next() {
		}
		err := rs.Err()
		rs.Release()
		return nil, err
	}
	return rs, nil
}

// disturbed tells whether a job's attempts show that faults hit it.
func disturbed(st *quern.JobStats) bool {
	if st == nil {
		return false
	}
	for _, s := range st.Stages {
		if s.Retries+s.Reexecutions+s.Failed+s.Lost > 0 {
			return true
		}
	}
	return false
}

// chaosCluster is the cluster under test and the injector's view of it.
type chaosCluster struct {
	*testCluster
	rng    *rand.Rand // only the injector's goroutine draws from it
	report *chaosReport

	mu     sync.Mutex
	slots  []*chaosSlot
	procs  []*proc // every worker process started, for the log counts
	nextID int
	wg     sync.WaitGroup // restarts and thaws in flight
	stop   chan struct{}
}

type chaosSlot struct {
	dir    string
	p      *proc // nil while down
	frozen bool
}

// workerEnv is the environment of a new worker process: with probability
// 1/2 its reads of task inputs fail or lag now and then.
func (c *chaosCluster) workerEnv() []string {
	env := []string{"QUERN_TOKEN=" + testToken}
	if c.rng.IntN(2) == 0 {
		env = append(env, fmt.Sprintf("QUERN_TEST_FETCH_FAULT=fail=0.01,delay=0.05:150ms,seed=%d", c.rng.Uint64()))
	}
	return env
}

// spawn starts a worker process in slot i; the caller holds c.mu.
func (c *chaosCluster) spawn(i int, env []string) {
	s := c.slots[i]
	c.nextID++
	s.p = startProc(c.t, fmt.Sprintf("worker %d.%d", i, c.nextID), env, "worker", "--coordinator", c.addr, "--dir", s.dir)
	s.frozen = false
	c.procs = append(c.procs, s.p)
}

// restartAfter brings slot i back in d, unless the run ends first.
func (c *chaosCluster) restartAfter(i int, d time.Duration) {
	env := c.workerEnv()
	c.after(d, func() {
		select {
		case <-c.stop:
			return
		default:
		}
		if c.slots[i].p == nil {
			c.spawn(i, env)
			c.report.fault("restart")
		}
	})
}

// healthy lists the slots with a running, unfrozen worker.
func (c *chaosCluster) healthy() []int {
	var out []int
	for i, s := range c.slots {
		if s.p != nil && !s.frozen {
			out = append(out, i)
		}
	}
	return out
}

// after runs f, holding c.mu, in d or as soon as the run is over.
func (c *chaosCluster) after(d time.Duration, f func()) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		select {
		case <-time.After(d):
		case <-c.stop:
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		f()
	}()
}

func (c *chaosCluster) pause(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(c.rng.Int64N(int64(hi-lo)))
}

// launchRE matches the coordinator's log line for a launch.
var launchRE = regexp.MustCompile(`launch q[0-9.]+/(\d+)\.\d+#\d+ on (\S+)`)

// nextLaunch waits up to a second for the coordinator to launch a task of
// a stage >= minStage and returns the worker it went to, so that a fault
// lands while a job runs rather than between jobs.
func (c *chaosCluster) nextLaunch(minStage int) (string, bool) {
	_, off := c.coord.log.since(1 << 62)
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c.stop:
			return "", false
		case <-time.After(5 * time.Millisecond):
		}
		var more string
		more, off = c.coord.log.since(off)
		for _, m := range launchRE.FindAllStringSubmatch(more, -1) {
			if stage, _ := strconv.Atoi(m[1]); stage >= minStage {
				return m[2], true
			}
		}
	}
	return "", false
}

// slotOf finds the healthy slot whose worker registered as name.
func (c *chaosCluster) slotOf(name string) (int, bool) {
	for _, i := range c.healthy() {
		if strings.Contains(c.slots[i].p.log.String(), "worker "+name+": registered") {
			return i, true
		}
	}
	return 0, false
}

// inject runs the faults until stop: one every 0.2–1 s, most of them
// struck as a task is launched, and every worker killed at once at
// killAllAt.
func (c *chaosCluster) inject(killAllAt time.Duration) {
	start := time.Now()
	killedAll := false
	for {
		select {
		case <-c.stop:
			return
		case <-time.After(c.pause(200*time.Millisecond, time.Second)):
		}
		if !killedAll && time.Since(start) >= killAllAt {
			killedAll = true
			c.mu.Lock()
			c.killAll()
			c.mu.Unlock()
			continue
		}
		switch k := c.rng.IntN(100); {
		case k < 25:
			// Kill the worker a task was just launched on.
			victim, ok := c.nextLaunch(0)
			c.mu.Lock()
			if i, found := c.slotOf(victim); ok && found && len(c.healthy()) >= 2 {
				c.slots[i].p.kill()
				c.slots[i].p = nil
				c.report.fault("kill")
				c.restartAfter(i, c.pause(300*time.Millisecond, 2*time.Second))
			}
			c.mu.Unlock()
		case k < 40:
			c.mu.Lock()
			if healthy := c.healthy(); len(healthy) >= 2 {
				i := healthy[c.rng.IntN(len(healthy))]
				p := c.slots[i].p
				p.signal(syscall.SIGSTOP)
				c.slots[i].frozen = true
				c.report.fault("freeze")
				// Past the 1 s heartbeat timeout: it is declared dead,
				// and registers again once thawed.
				c.after(c.pause(1300*time.Millisecond, 2500*time.Millisecond), func() {
					p.signal(syscall.SIGCONT)
					if c.slots[i].p == p {
						c.slots[i].frozen = false
					}
				})
			}
			c.mu.Unlock()
		default:
			// Damage map outputs as reducers start to read them.
			c.nextLaunch(1)
			c.mu.Lock()
			switch {
			case k < 65:
				c.damage("delete")
			case k < 80:
				c.damage("truncate")
			default:
				c.damage("bitflip")
			}
			c.mu.Unlock()
		}
	}
}

// killAll kills every worker at once, brings two back soon and the rest a
// little later.
func (c *chaosCluster) killAll() {
	for _, s := range c.slots {
		if s.p != nil {
			s.p.kill()
			s.p = nil
		}
	}
	c.report.fault("kill-all")
	order := c.rng.Perm(len(c.slots))
	for n, i := range order {
		d := c.pause(500*time.Millisecond, 1500*time.Millisecond)
		if n >= 2 {
			d += c.pause(time.Second, 3*time.Second)
		}
		c.restartAfter(i, d)
	}
}

// shuffleFileRE matches task outputs (NAME-pNNNNN.arrow) and a reducer's
// fetched copies of its inputs (inNNNNN.arrow), not spill files.
var shuffleFileRE = regexp.MustCompile(`(-p\d+|^in\d+)\.arrow$`)

// damage hurts the shuffle files of a random worker that has some: it
// deletes up to three, cuts one short (in place, or by renaming a short
// copy over it, as a disk that lost its tail shows it to the next
// reader), or flips one bit of one. Partition files carry checksums
// (exec/shuffle), so a reader must refuse a cut or flipped file whenever
// it reads it, even one it had already opened.
func (c *chaosCluster) damage(how string) {
	var files []string
	for _, i := range c.rng.Perm(len(c.slots)) {
		filepath.WalkDir(c.slots[i].dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && shuffleFileRE.MatchString(d.Name()) {
				files = append(files, path)
			}
			return nil
		})
		if len(files) > 0 {
			break
		}
	}
	if len(files) == 0 {
		return
	}
	slices.Sort(files)
	f := files[c.rng.IntN(len(files))]
	switch how {
	case "delete":
		for range 1 + c.rng.IntN(3) {
			if os.Remove(files[c.rng.IntN(len(files))]) == nil {
				c.report.fault("delete")
			}
		}
	case "truncate":
		st, err := os.Stat(f)
		if err != nil || st.Size() == 0 {
			return
		}
		size := c.rng.Int64N(st.Size())
		if c.rng.IntN(2) == 0 {
			if os.Truncate(f, size) == nil {
				c.report.fault("truncate")
			}
			return
		}
		b, err := os.ReadFile(f)
		if err != nil || int64(len(b)) < size {
			return
		}
		tmp := f + ".chaos"
		if os.WriteFile(tmp, b[:size], 0o644) == nil && os.Rename(tmp, f) == nil {
			c.report.fault("truncate")
		}
	case "bitflip":
		fh, err := os.OpenFile(f, os.O_RDWR, 0)
		if err != nil {
			return
		}
		defer fh.Close()
		st, err := fh.Stat()
		if err != nil || st.Size() == 0 {
			return
		}
		off := c.rng.Int64N(st.Size())
		var b [1]byte
		if _, err := fh.ReadAt(b[:], off); err != nil {
			return
		}
		b[0] ^= 1 << c.rng.IntN(8)
		if _, err := fh.WriteAt(b[:], off); err == nil {
			c.report.fault("bitflip")
		}
	}
}

// chaosQuery is a query outside the golden files with local mode's answer.
type chaosQuery struct {
	sql  string
	want []string
}

// chaosData writes a word file and two join inputs big enough for many
// map tasks at the cluster's split size, and returns queries over them.
func chaosData(t *testing.T) []chaosQuery {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(9, 9))
	var words, left, right strings.Builder
	for i := 0; words.Len() < 3000; i++ {
		fmt.Fprintf(&words, "w%d ", rng.IntN(60))
		if i%9 == 8 {
			words.WriteString(".\n")
		}
	}
	left.WriteString("k,v\n")
	right.WriteString("k,w\n")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&left, "%d,%d\n", i%97, i)
		if i%3 == 0 {
			fmt.Fprintf(&right, "%d,%d\n", i%89, i%13)
		}
	}
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	w, l, r := write("words.txt", words.String()), write("left.csv", left.String()), write("right.csv", right.String())
	var out []chaosQuery
	for _, q := range []string{
		fmt.Sprintf("SELECT word, count(*) AS n FROM `%s` GROUP BY word ORDER BY word", w),
		fmt.Sprintf("SELECT count(*), count(DISTINCT word) FROM `%s`", w),
		fmt.Sprintf("SELECT length(word) AS len, count(DISTINCT word), max(DISTINCT word) FROM `%s` GROUP BY len ORDER BY len", w),
		fmt.Sprintf("SELECT word, count(*) AS n FROM `%s` GROUP BY word ORDER BY n DESC, word LIMIT 7", w),
		fmt.Sprintf("SELECT a.k %% 7 AS g, count(*), sum(w) FROM `%s` a JOIN `%s` b ON a.k = b.k GROUP BY g ORDER BY g", l, r),
	} {
		out = append(out, chaosQuery{sql: q, want: localAnswer(t, q)})
	}
	return out
}

// chaosScript is one golden file.
type chaosScript struct {
	name    string
	records []slt.Record
}

func goldenScripts(t *testing.T) []chaosScript {
	files, err := filepath.Glob(filepath.Join(moduleRoot(t), "testdata/queries/*.test"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	var out []chaosScript
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Join("testdata/queries", filepath.Base(path))
		records, err := slt.Parse(name, bytes.NewReader(src))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, chaosScript{name: name, records: records})
	}
	return out
}

// outcome is how one statement ended.
type outcome int

const (
	outPassed outcome = iota
	outFailed         // a clear error
	outWrong
	outHang
)

// classify reads the failure of one slt record.
func classify(rec slt.Record, res slt.Result) (outcome, string) {
	var f *slt.Failure
	switch {
	case len(res.Failures) > 0:
		f = &res.Failures[0]
	case len(res.UnsupportedList) > 0:
		// The golden run on a cluster has none: it is a wrong answer here.
		return outWrong, "unexpected 'not supported': " + res.UnsupportedList[0].Err
	case res.Err != nil:
		return outHang, res.Err.Error()
	default:
		return outPassed, ""
	}
	switch {
	case strings.Contains(f.Err, "deadline exceeded"):
		return outHang, f.Err
	case f.Err == "":
		return outWrong, fmt.Sprintf("got %.200q, want %.200q", f.Got, f.Expected)
	case strings.HasPrefix(f.Err, "expected an error, got none"),
		strings.HasPrefix(f.Err, "query returned no result set"),
		strings.HasPrefix(f.Err, "query has "):
		return outWrong, f.Err
	}
	return outFailed, f.Err
}

// TestChaos: see the top of this file.
func TestChaos(t *testing.T) {
	quernBinary(t) // skips with -short
	seed, runFor := chaosSettings(t)
	t.Logf("chaos seed %d, %v of queries under faults (rerun: QUERN_CHAOS_SEED=%d)", seed, runFor, seed)
	queries := chaosData(t)
	scripts := goldenScripts(t)

	tc := newTestCluster(t, 0, []string{"--reducers", "3", "--split-size", "128", "--batch-size", "3", "--heartbeat-timeout", "1s"}, nil)
	report := &chaosReport{faults: map[string]int{}, errs: map[string]int{}, jobErrs: map[string]int{}}
	c := &chaosCluster{testCluster: tc, rng: rand.New(rand.NewPCG(seed, 1)), report: report, stop: make(chan struct{})}
	for i := range chaosWorkers {
		c.slots = append(c.slots, &chaosSlot{dir: filepath.Join(t.TempDir(), fmt.Sprintf("w%d", i))})
		c.mu.Lock()
		c.spawn(i, c.workerEnv())
		c.mu.Unlock()
	}
	tc.coord.waitLog(t, regexp.MustCompile(fmt.Sprintf(`(?s)(worker \S+ up.*){%d}`, chaosWorkers)), 20*time.Second)
	db := tc.client()
	eng := &chaosEngine{db: db}
	order := rand.New(rand.NewPCG(seed, 2))

	killAllAt := runFor/4 + time.Duration(order.Int64N(int64(runFor/3)))
	go c.inject(killAllAt)
	stopped := false
	stopFaults := func() {
		if !stopped {
			stopped = true
			close(c.stop)
			c.wg.Wait()
		}
	}
	defer stopFaults()

	// run runs one statement under the deadline; false means it hung past
	// even the slack, and the run must stop.
	run := func(f func(ctx context.Context)) bool {
		done := make(chan struct{})
		ctx, cancel := context.WithTimeout(context.Background(), chaosDeadline)
		defer cancel()
		go func() {
			defer close(done)
			f(ctx)
		}()
		select {
		case <-done:
			return true
		case <-time.After(chaosDeadline + 15*time.Second):
			return false
		}
	}
	record := func(out outcome, msg, what string, st *quern.JobStats, tainted bool) {
		report.mu.Lock()
		defer report.mu.Unlock()
		report.records++
		if st != nil {
			report.jobs++
		}
		switch {
		case out == outPassed:
			report.passed++
			if disturbed(st) {
				report.recovered++
			}
		case out == outHang:
			report.hangs++
			report.wrongs = append(report.wrongs, "HANG "+what+": "+msg)
		case tainted:
			report.tainted++
		case out == outWrong:
			report.wrong++
			report.wrongs = append(report.wrongs, what+": "+msg)
		default:
			report.failed++
			report.errs[digitsRE.ReplaceAllString(firstLine(msg), "N")]++
		}
	}

	start := time.Now()
	hung := false
	for pass := 0; !hung && (pass == 0 || time.Since(start) < runFor); pass++ {
		for _, si := range order.Perm(len(scripts)) {
			if hung || pass > 0 && time.Since(start) >= runFor {
				break
			}
			sc := scripts[si]
			tainted := false
			for _, rec := range sc.records {
				if rec.Kind != slt.Statement && rec.Kind != slt.Query {
					continue
				}
				eng.stats = nil
				var res slt.Result
				if !run(func(ctx context.Context) {
					res = slt.Run(ctx, eng, []slt.Record{rec}, slt.Options{MaxFailures: -1, Timeout: chaosDeadline})
				}) {
					record(outHang, "no answer, and the deadline did not end it", rec.Pos(), nil, false)
					hung = true
					break
				}
				out, msg := classify(rec, res)
				record(out, msg, rec.Pos(), eng.stats, tainted)
				if out == outFailed && rec.Kind == slt.Statement && !rec.ExpectError {
					tainted = true // later records of this file see its tables as they were
				}
			}
			// The next file expects an empty database.
			for _, name := range db.Tables() {
				run(func(ctx context.Context) { db.Exec(ctx, "DROP TABLE "+name) })
			}
			if hung {
				break
			}
			q := queries[order.IntN(len(queries))]
			var rows []string
			var st *quern.JobStats
			var err error
			if !run(func(ctx context.Context) {
				var rs *quern.Result
				if rs, err = db.Run(ctx, q.sql); err == nil {
					st = rs.Stats
					rows, err = readRows(rs)
				}
			}) {
				record(outHang, "no answer, and the deadline did not end it", q.sql, nil, false)
				hung = true
				break
			}
			switch {
			case err != nil && errors.Is(err, context.DeadlineExceeded):
				record(outHang, err.Error(), q.sql, st, false)
			case err != nil:
				record(outFailed, err.Error(), q.sql, st, false)
			case !slices.Equal(rows, q.want):
				record(outWrong, fmt.Sprintf("got %.200q, want %.200q", rows, q.want), q.sql, st, false)
			default:
				record(outPassed, "", q.sql, st, false)
			}
		}
	}
	stopFaults()
	elapsed := time.Since(start)
	// Faults the workers injected themselves, from their logs.
	c.mu.Lock()
	for _, p := range c.procs {
		l := p.log.String()
		report.faults["fetch-fail"] += strings.Count(l, "test knob: injected fetch failure")
		report.faults["fetch-delay"] += strings.Count(l, "test knob: delaying the read")
	}
	c.mu.Unlock()
	// Why jobs failed under faults, as the coordinator saw it (the client
	// gets the task's own error).
	for _, m := range jobFailedRE.FindAllStringSubmatch(tc.coord.log.String(), -1) {
		if chaosFailureRE.MatchString(m[1]) {
			report.jobErrs[digitsRE.ReplaceAllString(m[1], "N")]++
		}
	}
	t.Logf("chaos seed %d, %v:\n%s", seed, elapsed.Round(time.Millisecond), report)
	if report.wrong > 0 || report.hangs > 0 {
		t.Errorf("seed %d: %d wrong answers, %d hangs (rerun with QUERN_CHAOS_SEED=%d)", seed, report.wrong, report.hangs, seed)
	}
	if report.passed == 0 || report.recovered == 0 {
		t.Errorf("seed %d: %d right answers, %d of them after faults: the run proves nothing", seed, report.passed, report.recovered)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
