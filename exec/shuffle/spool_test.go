package shuffle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/quernsql/quern/exec"
)

// TestSpool: partitions kept in memory read back exactly like files, a
// partition that does not fit the budget goes to its file, and removing a
// prefix returns the budget and releases every batch.
func TestSpool(t *testing.T) {
	for _, budget := range []int64{1 << 30, 2000, 0} {
		for _, bs := range []int{1, 3, 1024} {
			t.Run(fmt.Sprintf("budget=%d/batch=%d", budget, bs), func(t *testing.T) {
				mem := checkedMem(t)
				dir := t.TempDir()
				env := exec.Env{Alloc: mem, BatchSize: bs}
				spool := NewSpool(budget)
				all := testData(mem, 200, uint64(bs))
				defer all.Release()
				w, err := NewWriter(dir+"/a1", "part", all.Schema(), []int{0}, 3, env)
				if err != nil {
					t.Fatal(err)
				}
				w.UseSpool(spool)
				for from := int64(0); from < all.NumRows(); from += 17 {
					s := all.NewSlice(from, min(from+17, all.NumRows()))
					if err := w.Write(s); err != nil {
						t.Fatal(err)
					}
					s.Release()
				}
				infos, err := w.Commit()
				if err != nil {
					t.Fatal(err)
				}
				dst := make([]int32, all.NumRows())
				HashPartition(all, []int{0}, 3, dst)
				allRows := rowsOf(all)
				inMem := 0
				for p, info := range infos {
					var want []string
					for i, q := range dst {
						if int(q) == p {
							want = append(want, allRows[i])
						}
					}
					_, statErr := os.Stat(info.Path)
					if spool.Has(info.Path) {
						inMem++
						if statErr == nil {
							t.Errorf("partition %d is both in the spool and on disk", p)
						}
					} else if statErr != nil {
						t.Errorf("partition %d is neither in the spool nor on disk: %v", p, statErr)
					}
					rd, err := NewSpoolReader(spool, []string{info.Path}, all.Schema(), env)
					if err != nil {
						t.Fatal(err)
					}
					got, _ := readAll(t, rd)
					if !slices.Equal(got, want) {
						t.Fatalf("partition %d: %d rows differ from the %d expected", p, len(got), len(want))
					}
				}
				switch {
				case budget >= 1<<30 && inMem != 3:
					t.Errorf("%d partitions in memory with a large budget, want 3", inMem)
				case budget == 0 && inMem != 0:
					t.Errorf("%d partitions in memory with no budget", inMem)
				}
				if spool.Used() > budget {
					t.Errorf("spool holds %d bytes, budget %d", spool.Used(), budget)
				}
				spool.RemovePrefix(dir + "/")
				if spool.Used() != 0 {
					t.Errorf("spool holds %d bytes after removal", spool.Used())
				}
			})
		}
	}
}

// TestSpoolAbort: an aborted writer leaves nothing in the spool.
func TestSpoolAbort(t *testing.T) {
	mem := checkedMem(t)
	env := exec.Env{Alloc: mem, BatchSize: 4}
	spool := NewSpool(1 << 30)
	all := testData(mem, 50, 1)
	defer all.Release()
	w, err := NewWriter(t.TempDir(), "part", all.Schema(), []int{0}, 2, env)
	if err != nil {
		t.Fatal(err)
	}
	w.UseSpool(spool)
	if err := w.Write(all); err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if spool.Used() != 0 {
		t.Errorf("spool holds %d bytes after Abort", spool.Used())
	}
}

// writeResult writes rec as a query's result (one partition, HoldResult
// on budget) through spool under dir, and returns what Commit published.
func writeResult(t *testing.T, dir string, rec arrow.Record, spool *Spool, budget *exec.Budget, env exec.Env) PartitionInfo {
	t.Helper()
	w, err := NewWriter(dir, "part", rec.Schema(), nil, 1, env)
	if err != nil {
		t.Fatal(err)
	}
	w.UseSpool(spool)
	w.HoldResult(budget)
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	infos, err := w.Commit()
	if err != nil {
		t.Fatal(err)
	}
	return infos[0]
}

// TestSpoolResult: a result writer keeps its output in the spool past the
// spool's own budget while the query's budget grants it, its reader takes
// it out and gives the budget back batch by batch, and a result over the
// query's budget goes to its file.
func TestSpoolResult(t *testing.T) {
	for _, limit := range []int64{1 << 30, 2000} {
		t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) {
			mem := checkedMem(t)
			dir := t.TempDir()
			env := exec.Env{Alloc: mem, BatchSize: 16}
			spool := NewSpool(0) // nothing fits its own budget
			budget := exec.NewBudget(limit)
			all := testData(mem, 200, 7)
			defer all.Release()
			info := writeResult(t, dir, all, spool, budget, env)
			path := info.Path
			_, statErr := os.Stat(path)
			inMem := spool.Has(path)
			switch {
			case limit > 1<<20 && (!inMem || statErr == nil):
				t.Fatalf("result under a large budget: in the spool %v, file error %v", inMem, statErr)
			case limit < 1<<20 && (inMem || statErr != nil):
				t.Fatalf("result over the budget: in the spool %v, file error %v", inMem, statErr)
			}
			if inMem && budget.Used() != info.Bytes {
				t.Fatalf("the result's %d bytes are charged %d", info.Bytes, budget.Used())
			}
			if spool.Used() != 0 {
				t.Fatalf("the spool's own budget holds %d bytes", spool.Used())
			}
			rd, err := NewTakingReader(spool, []string{path}, all.Schema(), env)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			peak := budget.Used()
			for batches := 0; ; batches++ {
				rec, err := rd.Next(context.Background())
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if inMem && batches == 4 && budget.Used() >= peak {
					t.Fatalf("after 4 batches the result still holds %d of %d bytes", budget.Used(), peak)
				}
				got = append(got, rowsOf(rec)...)
			}
			if !slices.Equal(got, rowsOf(all)) {
				t.Fatalf("read back %d rows, differing from the %d written", len(got), all.NumRows())
			}
			if spool.Has(path) {
				t.Fatal("the result is still in the spool after its reader took it")
			}
			rd.Close()
			if budget.Used() != 0 {
				t.Fatalf("%d bytes still charged after the read", budget.Used())
			}
		})
	}
}

// TestSpoolResultDropped: a result nobody read is released with its job.
func TestSpoolResultDropped(t *testing.T) {
	mem := checkedMem(t)
	dir := t.TempDir()
	env := exec.Env{Alloc: mem, BatchSize: 16}
	spool, budget := NewSpool(0), exec.NewBudget(1<<30)
	all := testData(mem, 100, 8)
	defer all.Release()
	writeResult(t, dir+"/a1", all, spool, budget, env)
	if budget.Used() == 0 {
		t.Fatal("nothing charged")
	}
	spool.RemovePrefix(dir + "/")
	if budget.Used() != 0 {
		t.Fatalf("%d bytes still charged after the job's removal", budget.Used())
	}
}

// TestTakenPartitionIsGone: a partition a taking reader took is not there
// for a second reader, which gets a FetchError naming it (the scheduler
// then re-runs the task that wrote it), and its charge is back.
func TestTakenPartitionIsGone(t *testing.T) {
	mem := checkedMem(t)
	env := exec.Env{Alloc: mem, BatchSize: 16}
	spool, budget := NewSpool(0), exec.NewBudget(1<<30)
	all := testData(mem, 50, 9)
	defer all.Release()
	path := writeResult(t, t.TempDir(), all, spool, budget, env).Path
	first, err := NewTakingReader(spool, []string{path}, all.Schema(), env)
	if err != nil {
		t.Fatal(err)
	}
	if rows, _ := readAll(t, first); len(rows) != 50 {
		t.Fatalf("first reader: %d rows, want 50", len(rows))
	}
	first.Close()
	second, err := NewTakingReader(spool, []string{path}, all.Schema(), env)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	_, err = second.Next(context.Background())
	var fe *FetchError
	if !errors.As(err, &fe) || fe.Path != path {
		t.Fatalf("second read: %v, want a FetchError for %s", err, path)
	}
	if budget.Used() != 0 {
		t.Fatalf("%d bytes still charged", budget.Used())
	}
}
