package quern

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/cluster"
)

// batches is an operator over a fixed list of one-column batches, then
// err (io.EOF when nil).
type batches struct {
	schema *arrow.Schema
	recs   []arrow.Record
	err    error
	closed bool
}

func (b *batches) Schema() *arrow.Schema { return b.schema }
func (b *batches) Next(context.Context) (arrow.Record, error) {
	if len(b.recs) == 0 {
		if b.err != nil {
			return nil, b.err
		}
		return nil, io.EOF
	}
	rec := b.recs[0]
	b.recs = b.recs[1:]
	return rec, nil
}
func (b *batches) Close() error { b.closed = true; return nil }

func TestPeekGivesTheFirstBatchBack(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	mk := func(v int64) arrow.Record {
		bld := array.NewInt64Builder(mem)
		defer bld.Release()
		bld.Append(v)
		col := bld.NewArray()
		defer col.Release()
		return array.NewRecordBatch(schema, []arrow.Array{col}, 1)
	}
	r1, r2 := mk(1), mk(2)
	defer r1.Release()
	defer r2.Release()
	ctx := context.Background()

	src := &batches{schema: schema, recs: []arrow.Record{r1, r2}}
	op, err := peek(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for {
		rec, err := op.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, rec.Column(0).(*array.Int64).Value(0))
	}
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("got %v, want [1 2]", got)
	}
	op.Close()

	empty, err := peek(ctx, &batches{schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Next(ctx); err != io.EOF {
		t.Fatalf("an empty input must end at once, got %v", err)
	}
	empty.Close()

	boom := errors.New("fetch failed")
	bad := &batches{schema: schema, err: boom}
	if _, err := peek(ctx, bad); !errors.Is(err, boom) || !bad.closed {
		t.Fatalf("a failing first batch must fail peek and close the input: %v, closed %v", err, bad.closed)
	}
}

// TestJobError: a task's own error reaches the user bare; a job that gave
// up on fetch failures keeps the scheduler's explanation.
func TestJobError(t *testing.T) {
	bad := errors.New("t.csv:4:1: column 1 (a): cannot read \"x\" as BIGINT")
	if got := jobError(fmt.Errorf("job q1: %w", cluster.DeterministicError(bad))); got != bad {
		t.Errorf("deterministic: got %v, want the task's error", got)
	}
	lost := cluster.FetchFailedError(cluster.TaskID{Job: "q1", Stage: 0, Index: 3}, "w1", errors.New("no such file"))
	gaveUp := fmt.Errorf("job q1: task q1/1.0 could not read its inputs 9 times: %w", lost)
	if got := jobError(gaveUp); got != gaveUp || !strings.Contains(got.Error(), "could not read its inputs 9 times") {
		t.Errorf("fetch failures: got %v, want the whole explanation", got)
	}
	plain := errors.New("no worker for 30s")
	if got := jobError(plain); got != plain {
		t.Errorf("other errors pass unchanged: got %v", got)
	}
}
