package agg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/planner"
)

// slicer hands out windows of whole records, batch rows at a time, so that
// a run with one-row batches does not first build a million tiny records.
type slicer struct {
	schema *arrow.Schema
	recs   []arrow.Record
	batch  int
	i, off int
	cur    arrow.Record
	owned  bool // release recs on Close
}

func (s *slicer) Schema() *arrow.Schema { return s.schema }

func (s *slicer) Next(context.Context) (arrow.Record, error) {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	for s.i < len(s.recs) && s.off >= int(s.recs[s.i].NumRows()) {
		s.i, s.off = s.i+1, 0
	}
	if s.i >= len(s.recs) {
		return nil, io.EOF
	}
	r := s.recs[s.i]
	to := min(s.off+s.batch, int(r.NumRows()))
	s.cur = r.NewSlice(int64(s.off), int64(to))
	s.off = to
	return s.cur, nil
}

func (s *slicer) Close() error {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	if s.owned {
		for _, r := range s.recs {
			r.Release()
		}
		s.recs = nil
	}
	return nil
}

// collect drains op, retaining its batches, and closes it.
func collect(t testing.TB, op exec.Operator) []arrow.Record {
	t.Helper()
	defer op.Close()
	var out []arrow.Record
	for {
		rec, err := op.Next(context.Background())
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		rec.Retain()
		out = append(out, rec)
	}
}

// rowsOf formats rows as drain does, but DOUBLEs to 12 digits: a spilled
// STDDEV merges Welford states where the unspilled one added rows one by
// one, which may differ in the last bits.
func rowsOf(t testing.TB, op exec.Operator) []string {
	t.Helper()
	rows := drain(t, op)
	for _, r := range rows {
		for c, v := range r {
			if strings.ContainsAny(v, ".e") && !strings.HasPrefix(v, `"`) {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					r[c] = strconv.FormatFloat(f, 'g', 12, 64)
				}
			}
		}
	}
	return sortRows(rows)
}

// spillData is a big GROUP BY input: groups distinct keys (one of them
// NULL) over 1.3 rows per group, an int key and a string key of the same
// group, a value with NULLs, a string value and GROUP_CONCAT's separator.
type spillData struct {
	schema *arrow.Schema
	recs   []arrow.Record
	cols   []column // for specFor: names and types only
	groups int
	rows   int
}

func newSpillData(mem memory.Allocator, spillGroups int) *spillData {
	spillRows := spillGroups * 13 / 10
	cols := []column{{"k", planner.Int, nil}, {"ks", planner.String, nil}, {"v", planner.Int, nil}, {"s", planner.String, nil}, {"sep", planner.String, nil}}
	d := &spillData{schema: schemaOf(cols), cols: cols, groups: spillGroups, rows: spillRows}
	rng := rand.New(rand.NewPCG(1, 2))
	perm := rng.Perm(spillGroups)
	b := array.NewRecordBuilder(mem, d.schema)
	defer b.Release()
	for i := 0; i < spillRows; i++ {
		g := perm[i%spillGroups]
		if i%spillGroups == 0 {
			g = -1 // one NULL key
		}
		if g < 0 {
			b.Field(0).AppendNull()
			b.Field(1).AppendNull()
		} else {
			b.Field(0).(*array.Int64Builder).Append(int64(g) * 7919)
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("key-%07d", g))
		}
		if i%11 == 0 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Int64Builder).Append(int64(rng.IntN(1000) - 300))
		}
		b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("s%d", rng.IntN(500)))
		b.Field(4).(*array.StringBuilder).Append(",")
		if b.Field(0).Len() == 16384 {
			d.recs = append(d.recs, b.NewRecordBatch())
		}
	}
	d.recs = append(d.recs, b.NewRecordBatch())
	return d
}

func (d *spillData) release() {
	for _, r := range d.recs {
		r.Release()
	}
}

func (d *spillData) source(bs int) *slicer { return &slicer{schema: d.schema, recs: d.recs, batch: bs} }

var spillAggs = []refAgg{
	{fn: "count_star"}, {fn: "count", args: []int{2}}, {fn: "sum", args: []int{2}},
	{fn: "min", args: []int{2}}, {fn: "max", args: []int{3}}, {fn: "avg", args: []int{2}},
	{fn: "group_concat", args: []int{3, 4}}, {fn: "stddev_samp", args: []int{2}},
}

func spillEnv(mem memory.Allocator, bs int, b *exec.Budget, dir string) exec.Env {
	return exec.Env{Alloc: mem, BatchSize: bs, Budget: b, SpillDir: dir}
}

// partials runs Partial over parts slices of d without a budget and returns
// its output batches.
func partials(t *testing.T, mem memory.Allocator, d *spillData, groups []int, bs, parts int) *slicer {
	t.Helper()
	var recs []arrow.Record
	var schema *arrow.Schema
	n := int64(d.rows)
	for p := 0; p < parts; p++ {
		from, to := n*int64(p)/int64(parts), n*int64(p+1)/int64(parts)
		src := &slicer{schema: d.schema, batch: bs, owned: true}
		base := int64(0) // of the record r: its first row's number in the input
		for _, r := range d.recs {
			lo, hi := max(from, base), min(to, base+r.NumRows())
			if lo < hi {
				src.recs = append(src.recs, r.NewSlice(lo-base, hi-base))
			}
			base += r.NumRows()
		}
		spec := specFor(d.cols, groups, spillAggs, planner.AggPartial)
		spec.Knobs.DisablePassThrough = true
		op, err := New(src, spec, envOf(mem, bs))
		if err != nil {
			t.Fatal(err)
		}
		schema = op.Schema()
		recs = append(recs, collect(t, op)...)
	}
	return &slicer{schema: schema, recs: recs, batch: bs, owned: true}
}

// checkSpillDir fails unless dir holds no file.
func checkSpillDir(t *testing.T, dir, when string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(ents) > 0 {
		t.Errorf("%s: %d files left in the spill directory, first %s", when, len(ents), ents[0].Name())
	}
}

// TestSpillMatchesUnlimited runs 200k groups (42 MiB of state, 100× a
// 400 KiB budget: partitions spill again one level down) in batches of
// 1024, 20k groups (10×) in batches of 3 and 5k groups (10× a 100 KiB
// budget, two levels down) in batches of 1: over 200k, the checked
// allocator would take minutes on one-row batches.
func TestSpillMatchesUnlimited(t *testing.T) {
	mem := checkedMem(t)
	for _, size := range []struct {
		groups  int
		limit   int64
		batches []int
	}{{200_000, 400 << 10, []int{1024}}, {20_000, 400 << 10, []int{3}}, {5_000, 100 << 10, []int{1}}} {
		limit := size.limit
		if testing.Short() && size.groups > 20_000 {
			continue
		}
		d := newSpillData(mem, size.groups)
		defer d.release()
		for _, keys := range []struct {
			name   string
			groups []int
		}{{"int-key", []int{0}}, {"string-key", []int{1}}} {
			// The reference: Complete without a limit, counting what it holds.
			counting := exec.NewBudget(0)
			op, err := New(d.source(1024), specFor(d.cols, keys.groups, spillAggs, planner.AggComplete), spillEnv(mem, 1024, counting, ""))
			if err != nil {
				t.Fatal(err)
			}
			want := rowsOf(t, op)
			if len(want) != d.groups {
				t.Fatalf("%s: reference has %d groups, want %d", keys.name, len(want), d.groups)
			}
			if counting.Peak() < 10*limit {
				t.Fatalf("%s: the unlimited run held at most %s, not 10× the limit of %s", keys.name, planner.FormatBytes(counting.Peak()), planner.FormatBytes(limit))
			}
			if counting.Used() != 0 {
				t.Errorf("%s: %d bytes still reserved after Close", keys.name, counting.Used())
			}
			for _, bs := range size.batches {
				for _, mode := range []planner.AggMode{planner.AggComplete, planner.AggFinal, planner.AggPartial} {
					t.Run(fmt.Sprintf("%dk-groups/%s/%s/batch=%d", d.groups/1000, keys.name, mode, bs), func(t *testing.T) {
						checkSpill(t, mem, d, keys.groups, mode, bs, limit, want)
					})
				}
			}
		}
	}
}

// checkSpill runs mode under a budget of limit and compares with want.
func checkSpill(t *testing.T, mem memory.Allocator, d *spillData, groups []int, mode planner.AggMode, bs int, limit int64, want []string) {
	dir := filepath.Join(t.TempDir(), "spill")
	b := exec.NewBudget(limit)
	env := spillEnv(mem, bs, b, dir)
	var op exec.Operator
	var err error
	switch mode {
	case planner.AggComplete:
		op, err = New(d.source(bs), specFor(d.cols, groups, spillAggs, mode), env)
	case planner.AggFinal:
		// The map side ran without a budget; the reducer has one.
		in := partials(t, mem, d, groups, 1024, 3)
		in.batch = bs
		op, err = New(in, specFor(d.cols, groups, spillAggs, mode), env)
	case planner.AggPartial:
		// The map side has the budget and flushes; the reducer has none.
		spec := specFor(d.cols, groups, spillAggs, mode)
		spec.Knobs.DisablePassThrough = true
		var p exec.Operator
		if p, err = New(d.source(bs), spec, env); err != nil {
			t.Fatal(err)
		}
		flushed := collect(t, p)
		rows := 0
		for _, r := range flushed {
			rows += int(r.NumRows())
		}
		if rows <= d.groups {
			t.Errorf("partial emitted %d rows for %d groups: it never flushed", rows, d.groups)
		}
		in := &slicer{schema: p.Schema(), recs: flushed, batch: 1024, owned: true}
		op, err = New(in, specFor(d.cols, groups, spillAggs, planner.AggFinal), envOf(mem, 1024))
	}
	if err != nil {
		t.Fatal(err)
	}
	got := rowsOf(t, op)
	if !slices.Equal(got, want) {
		t.Errorf("%d rows differ from the unlimited run's %d", len(got), len(want))
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("first difference:\n got %s\nwant %s", got[i], want[i])
			}
		}
	}
	if mode != planner.AggPartial && b.Spilled() == 0 {
		t.Error("nothing spilled")
	}
	if mode == planner.AggPartial && b.Spilled() != 0 {
		t.Errorf("partial mode spilled %d bytes; it should flush", b.Spilled())
	}
	if b.Peak() > limit {
		t.Errorf("peak reservation %d over the limit %d", b.Peak(), limit)
	}
	if b.Used() != 0 {
		t.Errorf("%d bytes still reserved after Close", b.Used())
	}
	checkSpillDir(t, dir, "after Close")
}

// TestSpillPassThrough: a budgeted Partial that flushes before its
// pass-through check still decides, and the answer stays right.
func TestSpillPassThrough(t *testing.T) {
	mem := checkedMem(t)
	d := newSpillData(mem, 20_000)
	defer d.release()
	groups := []int{1}
	op, err := New(d.source(1024), specFor(d.cols, groups, spillAggs, planner.AggComplete), envOf(mem, 1024))
	if err != nil {
		t.Fatal(err)
	}
	want := rowsOf(t, op)
	b := exec.NewBudget(400 << 10)
	spec := specFor(d.cols, groups, spillAggs, planner.AggPartial)
	spec.Knobs.PassThroughCheckRows = 10_000
	p, err := New(d.source(1024), spec, spillEnv(mem, 1024, b, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	in := &slicer{schema: p.Schema(), recs: collect(t, p), batch: 1024, owned: true}
	if !p.(*operator).pass {
		t.Error("partial mode did not switch to pass-through")
	}
	op, err = New(in, specFor(d.cols, groups, spillAggs, planner.AggFinal), envOf(mem, 1024))
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsOf(t, op); !slices.Equal(got, want) {
		t.Errorf("%d rows differ from the unlimited run's %d", len(got), len(want))
	}
}

func TestSpillCannot(t *testing.T) {
	const limit = 256 << 10
	// GROUP_CONCAT of one group over 2 MiB of text, alone or among 5k
	// small groups; COUNT(DISTINCT) over many groups.
	const n = 20_000
	var k, many, x, sep []any
	for i := 0; i < n; i++ {
		k = append(k, int64(1))
		g := int64(i % 5_000)
		if i%3 == 0 {
			g = -1 // the big group: a third of the rows, 670 KiB
		}
		many = append(many, g)
		x = append(x, fmt.Sprintf("value-%094d", i))
		sep = append(sep, ",")
	}
	cols := []column{{"k", planner.Int, k}, {"many", planner.Int, many}, {"x", planner.String, x}, {"sep", planner.String, sep}}
	concat := []refAgg{{fn: "group_concat", args: []int{2, 3}}}
	cases := []struct {
		name   string
		groups []int
		aggs   []refAgg
		mode   planner.AggMode
	}{
		{"huge group_concat, no keys", nil, concat, planner.AggComplete},
		{"huge group_concat, one key", []int{0}, concat, planner.AggComplete},
		{"huge group_concat among small groups", []int{1}, concat, planner.AggComplete},
		{"huge group_concat among small groups, final", []int{1}, concat, planner.AggFinal},
		{"count distinct", []int{1}, []refAgg{{fn: "count", distinct: true, args: []int{2}}}, planner.AggComplete},
	}
	for _, c := range cases {
		for _, bs := range []int{1, 3, 1024} {
			t.Run(fmt.Sprintf("%s/batch=%d", c.name, bs), func(t *testing.T) {
				mem := checkedMem(t)
				dir := filepath.Join(t.TempDir(), "spill")
				b := exec.NewBudget(limit)
				env := spillEnv(mem, bs, b, dir)
				var in exec.Operator = &slicer{schema: schemaOf(cols), recs: batches(mem, cols, n), batch: bs, owned: true}
				if c.mode == planner.AggFinal {
					spec := specFor(cols, c.groups, c.aggs, planner.AggPartial)
					spec.Knobs.DisablePassThrough = true
					p, err := New(in, spec, envOf(mem, 1024))
					if err != nil {
						t.Fatal(err)
					}
					in = p
				}
				op, err := New(in, specFor(cols, c.groups, c.aggs, c.mode), env)
				if err != nil {
					t.Fatal(err)
				}
				defer op.Close()
				for err == nil {
					_, err = op.Next(context.Background())
				}
				var mle *exec.MemoryLimitError
				if !errors.As(err, &mle) {
					t.Fatalf("got %v, want a *exec.MemoryLimitError", err)
				}
				if mle.Operator != "aggregate" || mle.Limit != limit || !strings.HasPrefix(err.Error(), "memory limit exceeded: aggregate needs ") {
					t.Errorf("error %q (operator %q, limit %d)", err, mle.Operator, mle.Limit)
				}
				checkSpillDir(t, dir, "after the error")
				if strings.Contains(c.name, "among") && b.Spilled() == 0 {
					t.Error("nothing spilled before the error")
				}
				if b.Used() != 0 {
					t.Errorf("%d bytes still reserved after the error", b.Used())
				}
				if _, again := op.Next(context.Background()); again != err {
					t.Errorf("Next after the error: %v", again)
				}
			})
		}
	}
}

// TestSpillSmallFitsWithoutSpilling: under a budget it fits, the operator
// reserves, spills nothing, and gives everything back.
func TestSpillSmallFitsWithoutSpilling(t *testing.T) {
	mem := checkedMem(t)
	cols := []column{{"k", planner.Int, ints(int64(1), int64(2), int64(1), nil)}, {"v", planner.Int, ints(int64(5), nil, int64(7), int64(1))}}
	aggs := []refAgg{{fn: "sum", args: []int{1}}, {fn: "count", distinct: true, args: []int{1}}}
	want := reference(cols, []int{0}, aggs)
	dir := filepath.Join(t.TempDir(), "spill")
	b := exec.NewBudget(1 << 20)
	op, err := New(newSource(mem, cols, 2), specFor(cols, []int{0}, aggs, planner.AggComplete), spillEnv(mem, 2, b, dir))
	if err != nil {
		t.Fatal(err)
	}
	if got := sortRows(drain(t, op)); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if b.Peak() == 0 || b.Spilled() != 0 || b.Used() != 0 {
		t.Errorf("peak %d, spilled %d, used %d after Close", b.Peak(), b.Spilled(), b.Used())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the spill directory was created without a spill: %v", err)
	}
}

// TestSpillPartitionsIndependent: the partition bits of each level are
// spread over all partitions for the keys of any one partition of the
// level above.
func TestSpillPartitionsIndependent(t *testing.T) {
	for level := 0; level+1 < maxSpillDepth; level++ {
		var counts [spillFanout]int
		for k := uint64(0); k < 1<<16; k++ {
			h := hashInt(k)
			if spillPartition(h, level) != 3 {
				continue
			}
			counts[spillPartition(h, level+1)]++
		}
		lo, hi := slices.Min(counts[:]), slices.Max(counts[:])
		if lo == 0 || hi > 2*lo {
			t.Errorf("level %d→%d: partition sizes %v", level, level+1, counts)
		}
	}
}

// failing passes its input through and fails after after batches.
type failing struct {
	exec.Operator
	after int
}

var errInput = errors.New("input broke")

func (f *failing) Next(ctx context.Context) (arrow.Record, error) {
	if f.after == 0 {
		return nil, errInput
	}
	f.after--
	return f.Operator.Next(ctx)
}

// TestSpillCleanup: the files go when the input fails after a spill, and
// when the consumer closes in the middle of the merges.
func TestSpillCleanup(t *testing.T) {
	mem := checkedMem(t)
	d := newSpillData(mem, 20_000)
	defer d.release()
	spec := specFor(d.cols, []int{1}, spillAggs, planner.AggComplete)
	t.Run("input error", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "spill")
		b := exec.NewBudget(400 << 10)
		op, err := New(&failing{Operator: d.source(100), after: 200}, spec, spillEnv(mem, 100, b, dir))
		if err != nil {
			t.Fatal(err)
		}
		defer op.Close()
		_, err = op.Next(context.Background())
		if !errors.Is(err, errInput) || err.Error() != errInput.Error() {
			t.Fatalf("got %v, want the input's own error (it names its file and line; the aggregate adds nothing)", err)
		}
		if b.Spilled() == 0 {
			t.Fatal("nothing spilled before the error")
		}
		checkSpillDir(t, dir, "after the error")
		if b.Used() != 0 {
			t.Errorf("%d bytes still reserved after the error", b.Used())
		}
	})
	t.Run("close while merging", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "spill")
		b := exec.NewBudget(400 << 10)
		op, err := New(d.source(1024), spec, spillEnv(mem, 1024, b, dir))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := op.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
		if b.Spilled() == 0 {
			t.Fatal("nothing spilled")
		}
		if ents, _ := os.ReadDir(dir); len(ents) == 0 {
			t.Fatal("no spill file open while merging")
		}
		op.Close()
		checkSpillDir(t, dir, "after Close")
		if b.Used() != 0 {
			t.Errorf("%d bytes still reserved after Close", b.Used())
		}
	})
}
