package exec_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/planner"
)

// source is an operator over fixed records, cut into batches of n rows.
type source struct {
	recs []arrow.Record
	i    int
	out  arrow.Record
}

func newSource(mem memory.Allocator, a, b []int64, valid []bool, n int) *source {
	s := &source{}
	schema := planner.Schema{{Name: "a", Type: planner.Int}, {Name: "b", Type: planner.Int}}.Arrow()
	for lo := 0; lo < len(a); lo += n {
		hi := min(lo+n, len(a))
		bld := array.NewRecordBuilder(mem, schema)
		bld.Field(0).(*array.Int64Builder).AppendValues(a[lo:hi], valid[lo:hi])
		bld.Field(1).(*array.Int64Builder).AppendValues(b[lo:hi], nil)
		s.recs = append(s.recs, bld.NewRecord())
		bld.Release()
	}
	return s
}

func (s *source) Schema() *arrow.Schema {
	return planner.Schema{{Name: "a", Type: planner.Int}, {Name: "b", Type: planner.Int}}.Arrow()
}
func (s *source) Next(context.Context) (arrow.Record, error) {
	if s.i >= len(s.recs) {
		return nil, io.EOF
	}
	s.i++
	return s.recs[s.i-1], nil
}
func (s *source) Close() error {
	for _, r := range s.recs {
		r.Release()
	}
	s.recs = nil
	return nil
}

// drain reads every row of op as strings.
func drain(t *testing.T, op exec.Operator) []string {
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
				col := rec.Column(c)
				if col.IsNull(i) {
					row += "NULL "
				} else {
					row += col.ValueStr(i) + " "
				}
			}
			out = append(out, row)
		}
	}
	return out
}

func TestFilterProject(t *testing.T) {
	a := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	b := []int64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100}
	valid := []bool{true, true, false, true, true, true, true, false, true, true}
	colA := planner.Col(0, "a", planner.Int)
	colB := planner.Col(1, "b", planner.Int)
	// a > 3 (NULL a is dropped), then a + b and b.
	cond, err := planner.ResolveCall(">", []*planner.Expr{colA, planner.Lit(planner.Value{I: 3}, planner.Int)})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := planner.ResolveCall("+", []*planner.Expr{colA, colB})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"44 40 ", "55 50 ", "66 60 ", "77 70 ", "99 90 ", "110 100 "}
	for _, n := range []int{1, 2, 3, 7, 1024} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			env := exec.Env{Alloc: mem, BatchSize: n}
			f, err := exec.NewFilter(newSource(mem, a, b, valid, n), cond, env)
			if err != nil {
				t.Fatal(err)
			}
			out := planner.Schema{{Name: "s", Type: sum.Type}, {Name: "b", Type: planner.Int}}
			p, err := exec.NewProject(f, []*planner.Expr{sum, colB}, out, env)
			if err != nil {
				t.Fatal(err)
			}
			got := drain(t, p)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("got %v, want %v", got, want)
			}
			p.Close()
			p.Close() // idempotent
		})
	}
}

func TestValuesAndEmpty(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	env := exec.Env{Alloc: mem, BatchSize: 4}
	lit := planner.Lit(planner.Value{I: 7}, planner.Int)
	p, err := exec.NewProject(exec.NewValues(1), []*planner.Expr{lit}, planner.Schema{{Name: "x", Type: planner.Int}}, env)
	if err != nil {
		t.Fatal(err)
	}
	if got := drain(t, p); fmt.Sprint(got) != "[7 ]" {
		t.Errorf("SELECT 7 gave %v", got)
	}
	p.Close()
	e := exec.NewEmpty(planner.Schema{{Name: "x", Type: planner.Int}}.Arrow())
	if got := drain(t, e); len(got) != 0 {
		t.Errorf("empty gave %v", got)
	}
}

func TestRenameChecksTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	src := newSource(mem, []int64{1}, []int64{2}, []bool{true}, 1)
	defer src.Close()
	bad := planner.Schema{{Name: "a", Type: planner.String}, {Name: "b", Type: planner.Int}}.Arrow()
	if _, err := exec.NewRename(src, bad); err == nil {
		t.Error("rename to other types accepted")
	}
	good := planner.Schema{{Name: "x", Type: planner.Int}, {Name: "y", Type: planner.Int}}.Arrow()
	r, err := exec.NewRename(src, good)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rec, err := r.Next(context.Background())
	if err != nil || rec.Schema().Field(0).Name != "x" {
		t.Errorf("rename: %v %v", rec, err)
	}
}
