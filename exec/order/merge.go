package order

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/exec/gather"
	"github.com/quernsql/quern/planner"
)

// NewMerge returns the k-way merge of inputs, each already sorted by keys
// (as NewSort orders them), into one sorted stream; rows that tie come from
// the earlier input first. With no keys it concatenates the inputs in order.
// All inputs must share the first input's schema. Closing it closes them.
// Under env.Budget the batch it holds from each input is charged; one that
// does not fit fails with an *exec.MemoryLimitError.
func NewMerge(inputs []exec.Operator, keys []planner.SortKey, env exec.Env) (exec.Operator, error) {
	if len(inputs) == 0 {
		return nil, errors.New("internal: merge of no inputs")
	}
	schema := inputs[0].Schema()
	for i, in := range inputs[1:] {
		if !in.Schema().Equal(schema) {
			return nil, fmt.Errorf("internal: merge input %d has schema %s, want %s", i+2, in.Schema(), schema)
		}
	}
	if err := checkKeys(schema, keys); err != nil {
		return nil, err
	}
	mem, batch := env.Alloc, env.BatchSize
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if batch <= 0 {
		batch = exec.DefaultBatchSize
	}
	var res *exec.Reservation
	if env.Budget != nil && len(keys) > 0 {
		res = env.Budget.NewReservation("merge")
	}
	m := newMerger(inputs, keys, schema, mem, batch, res)
	m.ownRes = res != nil
	return m, nil
}

// newMerger is NewMerge without the checks, charging the batches it holds
// to res (nil: no accounting), which it may share with its caller.
func newMerger(inputs []exec.Operator, keys []planner.SortKey, schema *arrow.Schema, mem memory.Allocator, batch int, res *exec.Reservation) *merger {
	return &merger{inputs: inputs, keys: keys, schema: schema, mem: mem, batch: batch, res: res}
}

// cursor is the read position in one input.
type cursor struct {
	idx   int // input index, the tie-breaker
	rec   arrow.Record
	row   int
	keys  *rowKeys
	bytes int64 // what rec is charged
}

type merger struct {
	inputs []exec.Operator
	keys   []planner.SortKey
	schema *arrow.Schema
	mem    memory.Allocator
	batch  int

	// res is charged for the batch each input holds: the merge cannot
	// let go of it before its rows are out, so a batch that does not fit
	// fails the query. held is this merge's part of res.
	res    *exec.Reservation
	ownRes bool
	held   int64

	started bool
	heap    []*cursor // min-heap on the current row of each live input
	next    int       // no keys: the input being drained
	b       *array.RecordBuilder
	cp      gather.Rows
	out     arrow.Record
	err     error
	closed  bool
}

func (m *merger) Schema() *arrow.Schema { return m.schema }

func (m *merger) Next(ctx context.Context) (arrow.Record, error) {
	if m.out != nil {
		m.out.Release()
		m.out = nil
	}
	if m.err != nil {
		return nil, m.err
	}
	if m.closed {
		return nil, errors.New("internal: merge: Next after Close")
	}
	var rec arrow.Record
	var err error
	if len(m.keys) == 0 {
		rec, err = m.concat(ctx)
	} else {
		rec, err = m.merge(ctx)
	}
	if err != nil {
		var mle *exec.MemoryLimitError
		if err != io.EOF && !errors.As(err, &mle) {
			err = fmt.Errorf("merge: %w", err)
		}
		m.err = err
		return nil, err
	}
	m.out = rec
	return rec, nil
}

// concat passes the inputs' batches through, input after input.
func (m *merger) concat(ctx context.Context) (arrow.Record, error) {
	for m.next < len(m.inputs) {
		rec, err := m.inputs[m.next].Next(ctx)
		if err == io.EOF {
			m.next++
			continue
		}
		if err != nil {
			return nil, err
		}
		rec.Retain()
		return rec, nil
	}
	return nil, io.EOF
}

// advance loads c's next non-empty batch; it reports false at the input's end.
func (m *merger) advance(ctx context.Context, c *cursor) (bool, error) {
	for {
		rec, err := m.inputs[c.idx].Next(ctx)
		if err == io.EOF {
			c.rec, c.keys = nil, nil
			m.charge(c, 0)
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if rec.NumRows() == 0 {
			continue
		}
		if m.res != nil {
			if n := logicalBytes(rec); !m.charge(c, n) {
				return false, m.res.Exceeded(n - c.bytes)
			}
		}
		c.rec, c.row, c.keys = rec, 0, newRowKeys(rec, m.keys)
		return true, nil
	}
}

// charge makes c's batch count n bytes; it reports false when that was
// refused.
func (m *merger) charge(c *cursor, n int64) bool {
	if m.res == nil || n == c.bytes {
		return true
	}
	if !m.res.Resize(m.res.Held() + n - c.bytes) {
		return false
	}
	m.held += n - c.bytes
	c.bytes = n
	return true
}

// refill moves the top cursor to its input's next batch, dropping the input
// from the heap at its end.
func (m *merger) refill(ctx context.Context) error {
	ok, err := m.advance(ctx, m.heap[0])
	if err != nil {
		return err
	}
	if !ok {
		last := len(m.heap) - 1
		m.heap[0] = m.heap[last]
		m.heap = m.heap[:last]
	}
	if len(m.heap) > 0 {
		m.down(0)
	}
	return nil
}

// less orders cursors by their current rows, then by input.
func less(a, b *cursor) bool {
	if c := a.keys.compareOther(a.row, b.keys, b.row); c != 0 {
		return c < 0
	}
	return a.idx < b.idx
}

func (m *merger) down(i int) {
	h := m.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		j := l
		if r := l + 1; r < len(h) && less(h[r], h[l]) {
			j = r
		}
		if !less(h[j], h[i]) {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

func (m *merger) merge(ctx context.Context) (arrow.Record, error) {
	if !m.started {
		m.started = true
		for i := range m.inputs {
			c := &cursor{idx: i}
			ok, err := m.advance(ctx, c)
			if err != nil {
				return nil, err
			}
			if ok {
				m.heap = append(m.heap, c)
			}
		}
		for i := len(m.heap)/2 - 1; i >= 0; i-- {
			m.down(i)
		}
	}
	if m.b == nil {
		m.b = array.NewRecordBuilder(m.mem, m.schema)
	}
	held := 0
	for held < m.batch && len(m.heap) > 0 {
		top := m.heap[0]
		n := int(top.rec.NumRows())
		if top.row == n {
			// Handed out as a slice by the last call; only now may the
			// input move on.
			if err := m.refill(ctx); err != nil {
				return nil, err
			}
			continue
		}
		// The last live input needs no merging: hand its batches over as
		// they are, once nothing is held.
		if len(m.heap) == 1 && held == 0 {
			rec := top.rec.NewSlice(int64(top.row), int64(n))
			top.row = n
			return rec, nil
		}
		// Take the run of top's rows that come before the runner-up's row.
		end := top.row + 1
		limit := min(n, top.row+m.batch-held)
		if len(m.heap) > 1 {
			next := m.heap[1]
			if len(m.heap) > 2 && less(m.heap[2], next) {
				next = m.heap[2]
			}
			for end < limit {
				c := top.keys.compareOther(end, next.keys, next.row)
				if c > 0 || c == 0 && top.idx > next.idx {
					break
				}
				end++
			}
		} else {
			end = limit
		}
		for col := 0; col < int(top.rec.NumCols()); col++ {
			if err := m.cp.AppendRange(m.b.Field(col), top.rec.Column(col), top.row, end); err != nil {
				return nil, err
			}
		}
		held += end - top.row
		top.row = end
		if top.row == n {
			// The rows are copied, so the input may move on at once.
			if err := m.refill(ctx); err != nil {
				return nil, err
			}
			continue
		}
		m.down(0)
	}
	if held == 0 {
		return nil, io.EOF
	}
	return m.b.NewRecordBatch(), nil
}

// Close releases the merge's state and closes every input; it may be called
// more than once.
func (m *merger) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	if m.out != nil {
		m.out.Release()
		m.out = nil
	}
	if m.b != nil {
		m.b.Release()
		m.b = nil
	}
	if m.ownRes {
		m.res.Free()
	} else if m.res != nil {
		m.res.Resize(m.res.Held() - m.held)
	}
	m.held = 0
	var errs []error
	for _, in := range m.inputs {
		errs = append(errs, in.Close())
	}
	return errors.Join(errs...)
}
