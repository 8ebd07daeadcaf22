package spill

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
)

func TestRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, {Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	dir := filepath.Join(t.TempDir(), "spill") // created on demand
	budget := exec.NewBudget(0)
	f, err := Create(dir, "t-*.arrows", schema, mem, 64, budget)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for batch := range 3 {
		for i := range 5 {
			b.Field(0).(*array.Int64Builder).Append(int64(batch*5 + i))
			if i == 2 {
				b.Field(1).AppendNull()
			} else {
				b.Field(1).(*array.StringBuilder).Append("v")
			}
		}
		rec := b.NewRecordBatch()
		err := f.Write(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Finish(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(f.Path())
	if err != nil || st.Size() != budget.Spilled() {
		t.Fatalf("file of %v bytes, %d counted as spilled (%v)", st.Size(), budget.Spilled(), err)
	}
	r, err := Open(f.Path(), schema, mem, 32, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	nulls := 0
	for {
		rec, err := r.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Schema() != schema {
			t.Fatal("a batch must carry the schema the reader was opened with")
		}
		got = append(got, rec.Column(0).(*array.Int64).Int64Values()...)
		nulls += rec.Column(1).NullN()
	}
	if len(got) != 15 || got[14] != 14 || nulls != 3 {
		t.Fatalf("read back %v with %d NULLs", got, nulls)
	}
	r.Close()
	r.Close()
	if _, err := os.Stat(f.Path()); !os.IsNotExist(err) {
		t.Fatal("Close with remove must delete the file")
	}
}

func TestAbortRemoves(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}}, nil)
	dir := t.TempDir()
	f, err := Create(dir, "t-*.arrows", schema, memory.DefaultAllocator, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Abort()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("files left after Abort: %v", left)
	}
	if _, err := Open(filepath.Join(dir, "missing.arrows"), schema, memory.DefaultAllocator, 64, false); err == nil {
		t.Fatal("opening a missing file must fail")
	}
}
