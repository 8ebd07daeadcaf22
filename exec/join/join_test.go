package join

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/planner"
)

// batches is an operator over fixed records.
type batches struct {
	schema *arrow.Schema
	recs   []arrow.Record
	i      int
}

func (b *batches) Schema() *arrow.Schema { return b.schema }
func (b *batches) Next(context.Context) (arrow.Record, error) {
	if b.i >= len(b.recs) {
		return nil, io.EOF
	}
	b.i++
	return b.recs[b.i-1], nil
}
func (b *batches) Close() error {
	for _, r := range b.recs {
		r.Release()
	}
	b.recs = nil
	return nil
}

// table makes an operator of (k BIGINT, s VARCHAR) rows cut into batches
// of n; a nil key is NULL.
func table(mem memory.Allocator, keys []*int64, vals []string, n int) *batches {
	schema := planner.Schema{{Name: "k", Type: planner.Int}, {Name: "s", Type: planner.String}}.Arrow()
	out := &batches{schema: schema}
	for lo := 0; lo < len(keys); lo += n {
		b := array.NewRecordBuilder(mem, schema)
		for i := lo; i < min(lo+n, len(keys)); i++ {
			if keys[i] == nil {
				b.Field(0).AppendNull()
			} else {
				b.Field(0).(*array.Int64Builder).Append(*keys[i])
			}
			b.Field(1).(*array.StringBuilder).Append(vals[i])
		}
		out.recs = append(out.recs, b.NewRecord())
		b.Release()
	}
	return out
}

func k(v int64) *int64 { return &v }

func rowsOf(t *testing.T, op exec.Operator) []string {
	t.Helper()
	var out []string
	for {
		rec, err := op.Next(context.Background())
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			row := ""
			for c := 0; c < int(rec.NumCols()); c++ {
				row += rec.Column(c).ValueStr(i) + " "
			}
			out = append(out, row)
		}
	}
	sort.Strings(out)
	return out
}

func TestHashJoin(t *testing.T) {
	probeKeys := []*int64{k(1), k(2), nil, k(3), k(1)}
	probeVals := []string{"a", "b", "n", "c", "a2"}
	buildKeys := []*int64{k(1), k(1), nil, k(3), k(4)}
	buildVals := []string{"x", "y", "z", "w", "v"}
	out := planner.Schema{{Name: "k", Type: planner.Int}, {Name: "s", Type: planner.String}, {Name: "k2", Type: planner.Int}, {Name: "s2", Type: planner.String}}
	// s2 <> 'y' as a residual condition over the output.
	cond, err := planner.ResolveCall("<>", []*planner.Expr{planner.Col(3, "s2", planner.String), planner.Lit(planner.Value{S: "y"}, planner.String)})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		left bool
		cond *planner.Expr
		want []string
	}{
		{"inner", false, nil, []string{"1 a 1 x ", "1 a 1 y ", "1 a2 1 x ", "1 a2 1 y ", "3 c 3 w "}},
		{"left", true, nil, []string{"(null) n (null) (null) ", "1 a 1 x ", "1 a 1 y ", "1 a2 1 x ", "1 a2 1 y ", "2 b (null) (null) ", "3 c 3 w "}},
		{"left with residual", true, cond, []string{"(null) n (null) (null) ", "1 a 1 x ", "1 a2 1 x ", "2 b (null) (null) ", "3 c 3 w "}},
	}
	for _, c := range cases {
		for _, n := range []int{1, 2, 3, 7, 1024} {
			t.Run(fmt.Sprintf("%s/%d", c.name, n), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				env := exec.Env{Alloc: mem, BatchSize: n}
				j, err := New(table(mem, probeKeys, probeVals, n), table(mem, buildKeys, buildVals, n),
					Spec{ProbeKeys: []int{0}, BuildKeys: []int{0}, Left: c.left, Cond: c.cond, Schema: out.Arrow()}, env)
				if err != nil {
					t.Fatal(err)
				}
				got := rowsOf(t, j)
				j.Close()
				j.Close()
				if fmt.Sprint(got) != fmt.Sprint(c.want) {
					t.Errorf("got  %q\nwant %q", got, c.want)
				}
			})
		}
	}
}

// TestHashJoinBudget: the build side is charged to the budget; over the
// limit the join fails with a memory limit error naming it, under it the
// answer is the unlimited one.
func TestHashJoinBudget(t *testing.T) {
	const n = 2000
	var keys []*int64
	var vals []string
	for i := range n {
		keys = append(keys, k(int64(i%500)))
		vals = append(vals, fmt.Sprint("v", i))
	}
	out := planner.Schema{{Name: "k", Type: planner.Int}, {Name: "s", Type: planner.String}, {Name: "k2", Type: planner.Int}, {Name: "s2", Type: planner.String}}
	spec := Spec{ProbeKeys: []int{0}, BuildKeys: []int{0}, Schema: out.Arrow()}
	run := func(t *testing.T, mem memory.Allocator, bs int, budget *exec.Budget) (*HashJoin, error) {
		j, err := New(table(mem, keys[:50], vals[:50], bs), table(mem, keys, vals, bs), spec, exec.Env{Alloc: mem, BatchSize: bs, Budget: budget})
		if err != nil {
			t.Fatal(err)
		}
		_, err = j.Next(context.Background())
		return j, err
	}
	for _, bs := range []int{1, 3, 1024} {
		t.Run(fmt.Sprint("over the limit/batch=", bs), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			budget := exec.NewBudget(32 << 10)
			j, err := run(t, mem, bs, budget)
			defer j.Close()
			var mle *exec.MemoryLimitError
			if !errors.As(err, &mle) || mle.Operator != "hash join build side" || mle.Limit != 32<<10 {
				t.Fatalf("err = %v, want a memory limit error for the build side", err)
			}
			if _, again := j.Next(context.Background()); again != err {
				t.Fatalf("second Next: %v", again)
			}
			j.Close()
			if budget.Used() != 0 {
				t.Fatalf("%d bytes still reserved", budget.Used())
			}
		})
		t.Run(fmt.Sprint("within the limit/batch=", bs), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			plain, err := New(table(mem, keys[:50], vals[:50], bs), table(mem, keys, vals, bs), spec, exec.Env{Alloc: mem, BatchSize: bs})
			if err != nil {
				t.Fatal(err)
			}
			want := rowsOf(t, plain)
			plain.Close()
			budget := exec.NewBudget(4 << 20)
			j, err := New(table(mem, keys[:50], vals[:50], bs), table(mem, keys, vals, bs), spec, exec.Env{Alloc: mem, BatchSize: bs, Budget: budget})
			if err != nil {
				t.Fatal(err)
			}
			got := rowsOf(t, j)
			if len(want) != 50*4 || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("got %d rows, want %d", len(got), len(want))
			}
			if budget.Used() == 0 || budget.Peak() < budget.Used() {
				t.Fatalf("build side held %d bytes (peak %d)", budget.Used(), budget.Peak())
			}
			j.Close()
			if budget.Used() != 0 {
				t.Fatalf("%d bytes still reserved", budget.Used())
			}
		})
	}
}

// TestIntTableJoin: a join on one BIGINT key (the intTable) over many rows
// with duplicate, negative, colliding and NULL keys gives every matching
// pair once, as nested loops do.
func TestIntTableJoin(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	gen := func(n int) ([]*int64, []string) {
		keys, vals := make([]*int64, n), make([]string, n)
		for i := range keys {
			switch r := rng.IntN(20); {
			case r == 0:
				keys[i] = nil
			case r < 4:
				keys[i] = k(int64(rng.IntN(50)) << 40) // equal low bits
			default:
				keys[i] = k(int64(rng.IntN(3000)) - 1500)
			}
			vals[i] = fmt.Sprint(i)
		}
		return keys, vals
	}
	pk, pv := gen(4000)
	bk, bv := gen(3000)
	var want []string
	for i := range pk {
		for m := range bk {
			if pk[i] != nil && bk[m] != nil && *pk[i] == *bk[m] {
				want = append(want, fmt.Sprintf("%d %s %d %s ", *pk[i], pv[i], *bk[m], bv[m]))
			}
		}
	}
	sort.Strings(want)
	out := planner.Schema{{Name: "k", Type: planner.Int}, {Name: "s", Type: planner.String}, {Name: "k2", Type: planner.Int}, {Name: "s2", Type: planner.String}}
	for _, n := range []int{7, 1024} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		j, err := New(table(mem, pk, pv, n), table(mem, bk, bv, n), Spec{ProbeKeys: []int{0}, BuildKeys: []int{0}, Schema: out.Arrow()}, exec.Env{Alloc: mem, BatchSize: n})
		if err != nil {
			t.Fatal(err)
		}
		got := rowsOf(t, j)
		if j.ints == nil {
			t.Fatal("a BIGINT key did not use the integer table")
		}
		j.Close()
		mem.AssertSize(t, 0)
		if len(got) != len(want) || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("batch %d: %d pairs, want %d", n, len(got), len(want))
		}
	}
}
