package quern_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/planner"
)

// genGroups writes a CSV of rows over about groups distinct (k, s) keys.
func genGroups(t *testing.T, path string, rows, groups int) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "k,s,v,d")
	r := rand.New(rand.NewPCG(3, 4))
	for i := range rows {
		g := i % groups
		if i >= groups {
			g = r.IntN(groups)
		}
		fmt.Fprintf(w, "%d,key-%07d-%s,%d,%.3f\n", g%977, g, strings.Repeat("x", g%13), r.IntN(1000)-500, r.Float64()*100)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// resultText runs query and prints its rows, one per line, in the
// result's order.
func resultText(t *testing.T, db *quern.DB, query string) (string, *quern.Result) {
	t.Helper()
	res, err := db.Run(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer res.Release()
	var b strings.Builder
	for res.Next() {
		rec := res.Record()
		for i := 0; i < int(rec.NumRows()); i++ {
			for c := 0; c < int(rec.NumCols()); c++ {
				b.WriteString(rec.Column(c).ValueStr(i) + "|")
			}
			b.WriteByte('\n')
		}
	}
	if err := res.Err(); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return b.String(), res
}

// runUnderLimit runs q on a local pool of workers under SET memory_limit
// = limit, with a checked allocator and 1 MiB splits, and returns its rows
// (resultText) and the bytes it spilled; it checks that no files are left.
func runUnderLimit(t *testing.T, q, limit string, workers int) (string, int64) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cfg := quern.DefaultConfig()
	cfg.Workers, cfg.Reducers, cfg.SplitSize, cfg.Allocator, cfg.TempDir = workers, workers, 1<<20, mem, t.TempDir()
	db, err := quern.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Exec(context.Background(), "SET memory_limit = '"+limit+"'"); err != nil {
		t.Fatal(err)
	}
	text, res := resultText(t, db, q)
	if left, _ := filepath.Glob(filepath.Join(cfg.TempDir, "*", "*")); len(left) > 0 {
		t.Errorf("files left after the query: %v", left)
	}
	return text, res.Stats.Spilled()
}

// TestGroupBySpillsUnderMemoryLimit: a GROUP BY whose group state is about
// ten times the memory limit gives the unlimited run's answer, spilling.
func TestGroupBySpillsUnderMemoryLimit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "groups.csv")
	genGroups(t, path, 150_000, 60_000)
	q := fmt.Sprintf("SELECT k, s, count(*) AS n, sum(v) AS sv, min(d) AS mn, max(v) AS mx, avg(v) AS av, round(stddev_pop(d), 9) AS sd, group_concat(v ORDER BY v) AS gc FROM `%s` GROUP BY k, s ORDER BY s", path)
	want, spilled := runUnderLimit(t, q, "-1", 2)
	if spilled != 0 || strings.Count(want, "\n") != 60_000 {
		t.Fatalf("unlimited run: %d rows, spilled %d", strings.Count(want, "\n"), spilled)
	}
	for _, workers := range []int{1, 3} {
		got, spilled := runUnderLimit(t, q, "4MB", workers)
		if got != want {
			g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
			for i := range min(len(g), len(w)) {
				if g[i] != w[i] {
					t.Errorf("%d workers, 4MB limit: answer differs from the unlimited run at row %d:\n got %s\nwant %s", workers, i, g[i], w[i])
					break
				}
			}
		}
		if spilled == 0 {
			t.Errorf("%d workers, 4MB limit: nothing spilled", workers)
		}
		t.Logf("%d workers: spilled %s", workers, planner.FormatBytes(spilled))
	}
}

// TestMemoryLimitExceeded: one group whose state alone is over the limit
// fails with a clear error naming the operator.
func TestMemoryLimitExceeded(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "groups.csv")
	genGroups(t, path, 100_000, 100_000)
	db, err := quern.Open(quern.Config{TempDir: t.TempDir(), Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if err := db.Exec(ctx, "SET memory_limit = '512KB'"); err != nil {
		t.Fatal(err)
	}
	_, err = db.Query(ctx, fmt.Sprintf("SELECT length(group_concat(s)) FROM `%s`", path))
	var me *exec.MemoryLimitError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "memory limit exceeded: aggregate") {
		t.Fatalf("want a memory limit error naming the aggregate, got %v", err)
	}
}

// TestLargeResult: a result larger than the share of the memory limit it
// may hold in memory goes partly to files, and reads back the same as one
// that lives in files only or in memory only.
func TestLargeResult(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "groups.csv")
	genGroups(t, path, 60_000, 60_000)
	q := fmt.Sprintf("SELECT s, k, count(*) AS n, sum(v) AS sv FROM `%s` GROUP BY s, k", path)
	run := func(limit int64, shuffleMemory int64) string {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		cfg := quern.DefaultConfig()
		cfg.Workers, cfg.Reducers, cfg.Allocator, cfg.TempDir = 3, 3, mem, t.TempDir()
		cfg.MemoryLimit, cfg.ShuffleMemory = limit, shuffleMemory
		db, err := quern.Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		text, _ := resultText(t, db, q)
		if left, _ := filepath.Glob(filepath.Join(cfg.TempDir, "*", "*")); len(left) > 0 {
			t.Errorf("files left after the query: %v", left)
		}
		lines := strings.Split(strings.TrimSpace(text), "\n")
		slices.Sort(lines) // no ORDER BY: compare as sets
		return strings.Join(lines, "\n")
	}
	want := run(-1, 0) // files only
	if n := strings.Count(want, "\n") + 1; n != 60_000 {
		t.Fatalf("%d groups, want 60000", n)
	}
	for _, limit := range []int64{1 << 30, 8 << 20, 2 << 20} {
		if got := run(limit, 1<<20); got != want {
			t.Errorf("memory limit %s: the result differs from the files-only run", planner.FormatBytes(limit))
		}
	}
}

// TestDistinctAggregateSpills: COUNT, MIN and MAX over DISTINCT values of one
// column find the distinct (group, value) pairs with an ordinary GROUP BY, so
// under a memory limit far below what those pairs take they spill and give
// the unlimited run's answer, where a filter per group could only fail.
func TestDistinctAggregateSpills(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "groups.csv")
	genGroups(t, path, 300_000, 200_000)
	queries := []string{
		fmt.Sprintf("SELECT k, count(DISTINCT s) AS n, min(DISTINCT s) AS lo, max(DISTINCT s) AS hi FROM `%s` GROUP BY k ORDER BY k", path),
		fmt.Sprintf("SELECT count(DISTINCT s) AS n, max(DISTINCT s) AS hi FROM `%s`", path),
	}
	for _, q := range queries {
		want, _ := runUnderLimit(t, q, "-1", 2)
		if strings.Count(want, "\n") == 0 {
			t.Fatalf("%s: no rows", q)
		}
		for _, workers := range []int{1, 3} {
			got, spilled := runUnderLimit(t, q, "4MB", workers)
			if got != want {
				t.Errorf("%s\n%d workers, 4MB limit: the answer differs from the unlimited run", q, workers)
			}
			if spilled == 0 {
				t.Errorf("%s\n%d workers, 4MB limit: nothing spilled", q, workers)
			}
		}
	}
}
