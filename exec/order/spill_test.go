package order

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/planner"
)

// spillTable has an int and a string column, both with NULLs and many
// ties, and a sequence number that makes stability visible.
func spillTable(rng *rand.Rand, n int) table {
	t := table{types: []planner.Type{planner.Int, planner.String, planner.Int}}
	for r := range n {
		row := []any{nil, nil, int64(r)}
		if rng.IntN(8) != 0 {
			row[0] = int64(rng.IntN(50) - 25)
		}
		if rng.IntN(8) != 0 {
			row[1] = strings.Repeat(strconv.Itoa(rng.IntN(300)), 1+rng.IntN(3))
		}
		t.rows = append(t.rows, row)
	}
	return t
}

var spillKeySets = [][]planner.SortKey{
	{{Col: 0}, {Col: 1, Desc: true}},
	{{Col: 1}},
	{{Col: 0, Desc: true}},
	{{Col: 1, Desc: true}, {Col: 0}},
}

// dataBytes is the size of what src will serve.
func dataBytes(src *source) int64 {
	var n int64
	for _, r := range src.recs {
		n += logicalBytes(r)
	}
	return n
}

// peakAlloc tracks the most bytes its allocator had out at once.
type peakAlloc struct {
	memory.Allocator
	mu        sync.Mutex
	cur, peak int
}

func (p *peakAlloc) add(n int) {
	p.mu.Lock()
	p.cur += n
	p.peak = max(p.peak, p.cur)
	p.mu.Unlock()
}

func (p *peakAlloc) Allocate(n int) []byte { p.add(n); return p.Allocator.Allocate(n) }
func (p *peakAlloc) Reallocate(n int, b []byte) []byte {
	p.add(n - len(b))
	return p.Allocator.Reallocate(n, b)
}
func (p *peakAlloc) Free(b []byte) { p.add(-len(b)); p.Allocator.Free(b) }

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestSortSpill sorts about ten times its memory limit and must return what
// the unlimited sort does, having spilled, with nothing left behind.
func TestSortSpill(t *testing.T) {
	full := spillTable(rand.New(rand.NewPCG(10, 10)), 60000)
	// Ten times the limit must hold a few batches of 1024 rows.
	sizes := []struct{ batch, rows int }{{1, 6000}, {3, 12000}, {1024, 60000}}
	for _, keys := range spillKeySets {
		for _, sz := range sizes {
			tab, bs := table{types: full.types, rows: full.rows[:sz.rows]}, sz.batch
			want := format(tab, refSort(tab.rows, keys))
			t.Run(fmt.Sprintf("%s/batch=%d", keyName(keys), bs), func(t *testing.T) {
				mem := checkedMem(t)
				if bs == 1024 {
					// The unlimited sort agrees with the oracle (TestSort
					// checks it at every batch size).
					plain, err := NewSort(newSource(mem, tab, tab.rows, bs), keys, exec.Env{Alloc: mem, BatchSize: bs})
					if err != nil {
						t.Fatal(err)
					}
					if got := drain(t, plain); !slices.Equal(got, want) {
						t.Fatalf("unlimited sort: first diff at row %d", firstDiff(got, want))
					}
				}

				src := newSource(mem, tab, tab.rows, bs)
				limit := dataBytes(src) / 10
				budget := exec.NewBudget(limit)
				dir := t.TempDir() + "/spill" // created by the sort
				peak := &peakAlloc{Allocator: mem}
				op, err := NewSort(src, keys, exec.Env{Alloc: peak, BatchSize: bs, Budget: budget, SpillDir: dir})
				if err != nil {
					t.Fatal(err)
				}
				if got := drain(t, op); !slices.Equal(got, want) {
					t.Fatalf("got %d rows, want %d; first diff at row %d", len(got), len(want), firstDiff(got, want))
				}
				if budget.Spilled() == 0 {
					t.Fatal("nothing spilled")
				}
				if left := dirEntries(t, dir); len(left) != 0 {
					t.Fatalf("spill files left: %v", left)
				}
				if budget.Used() != 0 {
					t.Fatalf("%d bytes still reserved after Close", budget.Used())
				}
				// What the sort allocated stays near what it reserved: the
				// accounting is honest (slack for builders' rounding and the
				// output batch).
				if max := 2*limit + 64<<10; int64(peak.peak) > max {
					t.Errorf("allocated up to %d bytes under a limit of %d", peak.peak, limit)
				}
				t.Logf("limit %d, peak reserved %d, peak allocated %d, spilled %d", limit, budget.Peak(), peak.peak, budget.Spilled())
			})
		}
	}
}

// TestSortSpillAllTypes: every sortable type survives the spill files and
// orders as in memory; a budget without a limit counts but never spills.
func TestSortSpillAllTypes(t *testing.T) {
	tab := randomTable(rand.New(rand.NewPCG(15, 15)), 1500)
	sets := keySets()
	for i, keys := range sets {
		want := format(tab, refSort(tab.rows, keys))
		for _, unlimited := range []bool{false, true} {
			if unlimited && i < len(sets)-4 {
				continue // the multi-key sets are enough to show nothing changes
			}
			t.Run(fmt.Sprintf("%s/unlimited=%v", keyName(keys), unlimited), func(t *testing.T) {
				mem := checkedMem(t)
				src := newSource(mem, tab, tab.rows, 7)
				budget := exec.NewBudget(dataBytes(src) / 10)
				if unlimited {
					budget = exec.NewBudget(0)
				}
				op, err := NewSort(src, keys, exec.Env{Alloc: mem, BatchSize: 7, Budget: budget, SpillDir: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				if got := drain(t, op); !slices.Equal(got, want) {
					t.Fatalf("got %d rows, want %d; first diff at row %d", len(got), len(want), firstDiff(got, want))
				}
				if spilled := budget.Spilled() > 0; spilled == unlimited || budget.Used() != 0 || budget.Peak() == 0 {
					t.Fatalf("spilled %d, used %d, peak %d", budget.Spilled(), budget.Used(), budget.Peak())
				}
			})
		}
	}
}

// TestSortSpillFanIn merges more runs than the fan-in, in passes.
func TestSortSpillFanIn(t *testing.T) {
	tab := spillTable(rand.New(rand.NewPCG(11, 11)), 6000)
	keys := []planner.SortKey{{Col: 1}, {Col: 0, Desc: true}}
	want := format(tab, refSort(tab.rows, keys))
	for _, fanIn := range []int{2, 3, 5} {
		t.Run(fmt.Sprint("fanIn=", fanIn), func(t *testing.T) {
			mem := checkedMem(t)
			src := newSource(mem, tab, tab.rows, 50)
			data := dataBytes(src)
			budget := exec.NewBudget(data / 20)
			dir := t.TempDir()
			s, err := newSorter(src, keys, -1, exec.Env{Alloc: mem, BatchSize: 64, Budget: budget, SpillDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			s.fanIn = fanIn
			rec, err := s.Next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// Every run was merged down to at most fanIn files, which took
			// passes that rewrote the data.
			if n := len(dirEntries(t, dir)); n > fanIn {
				t.Fatalf("%d spill files open in the final merge, fan-in %d", n, fanIn)
			}
			if budget.Spilled() < 3*data/2 {
				t.Fatalf("spilled %d bytes of %d: no merge pass?", budget.Spilled(), data)
			}
			got := rowsOf(rec)
			got = append(got, drain(t, s)...)
			if !slices.Equal(got, want) {
				t.Fatalf("got %d rows, want %d; first diff at row %d", len(got), len(want), firstDiff(got, want))
			}
			if left := dirEntries(t, dir); len(left) != 0 {
				t.Fatalf("spill files left: %v", left)
			}
		})
	}
}

// TestSortSpillUnderContention: while another operator of the query holds
// all of the limit the floors leave, a sort still spills and its merge
// still runs: the merge fits in the share every operator is always granted.
func TestSortSpillUnderContention(t *testing.T) {
	tab := spillTable(rand.New(rand.NewPCG(12, 12)), 30000)
	keys := []planner.SortKey{{Col: 1}, {Col: 0}}
	want := format(tab, refSort(tab.rows, keys))
	mem := checkedMem(t)
	src := newSource(mem, tab, tab.rows, 512)
	limit := dataBytes(src) / 10
	budget := exec.NewBudget(limit)
	hog := budget.NewReservation("aggregate")
	defer hog.Free()
	// A first bite of half the limit, then all but a byte of the rest.
	if !hog.Grow(limit/2) || !hog.Grow(limit-limit/2-1) {
		t.Fatal("the other operator's reservation was refused")
	}
	dir := t.TempDir()
	op, err := NewSort(src, keys, exec.Env{Alloc: mem, BatchSize: 512, Budget: budget, SpillDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, op); !slices.Equal(got, want) {
		t.Fatalf("got %d rows, want %d; first diff at row %d", len(got), len(want), firstDiff(got, want))
	}
	if budget.Spilled() == 0 {
		t.Fatal("nothing spilled")
	}
	if left := dirEntries(t, dir); len(left) != 0 {
		t.Fatalf("spill files left: %v", left)
	}
	if budget.Used() != hog.Held() {
		t.Fatalf("%d bytes reserved after Close, the other operator holds %d", budget.Used(), hog.Held())
	}
}

func rowsOf(rec arrow.Record) []string {
	var out []string
	for i := 0; i < int(rec.NumRows()); i++ {
		cells := make([]string, rec.NumCols())
		for c := range cells {
			cells[c] = cell(rec.Column(c), i)
		}
		out = append(out, strings.Join(cells, "|"))
	}
	return out
}

// failing serves its source's batches, then an error.
type failing struct {
	*source
	after int
}

func (f *failing) Next(ctx context.Context) (arrow.Record, error) {
	if f.pulls >= f.after {
		return nil, errors.New("disk on fire")
	}
	return f.source.Next(ctx)
}

// cleanupLimit spills src several times: a tenth of it, or a quarter
// when it is in batches of 1024 rows (a batch is a twentieth of it).
func cleanupLimit(src *source, batch int) int64 {
	if batch >= 1024 {
		return dataBytes(src) / 4
	}
	return dataBytes(src) / 10
}

// TestSortSpillCleanup: spill files go when the sort fails or is closed
// early, and every byte is released.
func TestSortSpillCleanup(t *testing.T) {
	tab := spillTable(rand.New(rand.NewPCG(12, 12)), 10000)
	keys := []planner.SortKey{{Col: 0}, {Col: 1}}
	for _, bs := range []int{1, 3, 1024} {
		t.Run(fmt.Sprint("early close/batch=", bs), func(t *testing.T) {
			mem := checkedMem(t)
			src := newSource(mem, tab, tab.rows, bs)
			budget := exec.NewBudget(cleanupLimit(src, bs))
			dir := t.TempDir()
			op, err := NewSort(src, keys, exec.Env{Alloc: mem, BatchSize: bs, Budget: budget, SpillDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer op.Close()
			for range 3 {
				if _, err := op.Next(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if len(dirEntries(t, dir)) == 0 {
				t.Fatal("no spill files mid-stream")
			}
			if err := op.Close(); err != nil {
				t.Fatal(err)
			}
			op.Close()
			if left := dirEntries(t, dir); len(left) != 0 {
				t.Fatalf("spill files left: %v", left)
			}
			if budget.Used() != 0 {
				t.Fatalf("%d bytes still reserved", budget.Used())
			}
		})
		t.Run(fmt.Sprint("input error/batch=", bs), func(t *testing.T) {
			mem := checkedMem(t)
			src := newSource(mem, tab, tab.rows, bs)
			budget := exec.NewBudget(cleanupLimit(src, bs))
			dir := t.TempDir()
			in := &failing{source: src, after: len(src.recs) - 1}
			op, err := NewSort(in, keys, exec.Env{Alloc: mem, BatchSize: bs, Budget: budget, SpillDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer op.Close()
			_, err = op.Next(context.Background())
			if err == nil || !strings.Contains(err.Error(), "disk on fire") {
				t.Fatalf("err = %v", err)
			}
			if budget.Spilled() == 0 {
				t.Fatal("failed before spilling: the test tests nothing")
			}
			if left := dirEntries(t, dir); len(left) != 0 {
				t.Fatalf("spill files left after the error: %v", left)
			}
			op.Close()
			if budget.Used() != 0 {
				t.Fatalf("%d bytes still reserved", budget.Used())
			}
		})
	}
	t.Run("spill directory unusable", func(t *testing.T) {
		mem := checkedMem(t)
		src := newSource(mem, tab, tab.rows, 100)
		file := t.TempDir() + "/file"
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		op, err := NewSort(src, keys, exec.Env{Alloc: mem, BatchSize: 100, Budget: exec.NewBudget(dataBytes(src) / 5), SpillDir: file + "/spill"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = op.Next(context.Background())
		if err == nil || !strings.Contains(err.Error(), "spill directory") || !strings.Contains(err.Error(), file) {
			t.Fatalf("err = %v", err)
		}
		op.Close()
	})
}

// TestSortBudgetErrors: what cannot be spilled fails with a
// *exec.MemoryLimitError naming the operator.
func TestSortBudgetErrors(t *testing.T) {
	tab := spillTable(rand.New(rand.NewPCG(13, 13)), 3000)
	keys := []planner.SortKey{{Col: 1, Desc: true}}
	cases := []struct {
		name  string
		limit int64
		open  func(in exec.Operator, env exec.Env) (exec.Operator, error)
		op    string
	}{
		{"sort: one batch over the limit", 1 << 10, func(in exec.Operator, env exec.Env) (exec.Operator, error) {
			return NewSort(in, keys, env)
		}, "sort"},
		{"top-k: k rows over the limit", 32 << 10, func(in exec.Operator, env exec.Env) (exec.Operator, error) {
			return NewTopK(in, keys, 1<<40, env)
		}, "sort"},
		{"merge: one batch over the limit", 1 << 10, func(in exec.Operator, env exec.Env) (exec.Operator, error) {
			return NewMerge([]exec.Operator{in}, keys, env)
		}, "merge"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := checkedMem(t)
			budget := exec.NewBudget(c.limit)
			op, err := c.open(newSource(mem, tab, tab.rows, 500), exec.Env{Alloc: mem, BatchSize: 500, Budget: budget, SpillDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer op.Close()
			for err == nil {
				_, err = op.Next(context.Background())
			}
			var mle *exec.MemoryLimitError
			if !errors.As(err, &mle) || mle.Operator != c.op || mle.Limit != c.limit {
				t.Fatalf("err = %v, want a memory limit error in %s", err, c.op)
			}
			op.Close()
			if budget.Used() != 0 {
				t.Fatalf("%d bytes still reserved", budget.Used())
			}
		})
	}
}

// TestBudgetedUnspilled: under a budget that fits, top-k and merge give the
// unlimited answer, and top-k keeps only about k rows whatever the input.
func TestBudgetedUnspilled(t *testing.T) {
	tab := spillTable(rand.New(rand.NewPCG(14, 14)), 6000)
	keys := []planner.SortKey{{Col: 0, Desc: true}, {Col: 1}}
	sorted := format(tab, refSort(tab.rows, keys))
	for _, bs := range []int{1, 3, 1024} {
		t.Run(fmt.Sprint("top-k/batch=", bs), func(t *testing.T) {
			mem := checkedMem(t)
			src := newSource(mem, tab, tab.rows, bs)
			limit := dataBytes(src) / 10
			if bs == 1024 {
				limit = dataBytes(src) / 2 // a batch is a sixth of the input
			}
			budget := exec.NewBudget(limit)
			op, err := NewTopK(src, keys, 100, exec.Env{Alloc: mem, BatchSize: bs, Budget: budget})
			if err != nil {
				t.Fatal(err)
			}
			if got := drain(t, op); !slices.Equal(got, sorted[:100]) {
				t.Fatalf("first diff at row %d", firstDiff(got, sorted[:100]))
			}
			if budget.Spilled() != 0 || budget.Used() != 0 || budget.Peak() == 0 {
				t.Fatalf("spilled %d, used %d, peak %d", budget.Spilled(), budget.Used(), budget.Peak())
			}
		})
		t.Run(fmt.Sprint("merge/batch=", bs), func(t *testing.T) {
			mem := checkedMem(t)
			half := len(tab.rows) / 2
			a, b := refSort(tab.rows[:half], keys), refSort(tab.rows[half:], keys)
			budget := exec.NewBudget(1 << 20)
			op, err := NewMerge([]exec.Operator{newSource(mem, tab, a, bs), newSource(mem, tab, b, bs)}, keys,
				exec.Env{Alloc: mem, BatchSize: bs, Budget: budget})
			if err != nil {
				t.Fatal(err)
			}
			if got := drain(t, op); !slices.Equal(got, sorted) {
				t.Fatalf("first diff at row %d", firstDiff(got, sorted))
			}
			if budget.Used() != 0 || budget.Peak() == 0 {
				t.Fatalf("used %d, peak %d", budget.Used(), budget.Peak())
			}
		})
	}
}

func BenchmarkSortSpill(b *testing.B) {
	for _, in := range benchInputs() {
		schema, recs, data := in.schema, in.recs, in.bytes
		b.Run(in.name, func(b *testing.B) {
			var spilled int64
			for i := 0; i < b.N; i++ {
				budget := exec.NewBudget(data / 4)
				env := exec.DefaultEnv()
				env.Budget, env.SpillDir = budget, b.TempDir()
				op, err := NewSort(&replay{schema: schema, recs: recs}, []planner.SortKey{{Col: 0}}, env)
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := op.Next(context.Background()); err != nil {
						if err != io.EOF {
							b.Fatal(err)
						}
						break
					}
				}
				op.Close()
				spilled = budget.Spilled()
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(spilled)/float64(data), "spilled/data")
		})
	}
}
