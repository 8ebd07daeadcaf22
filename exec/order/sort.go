package order

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/exec/gather"
	"github.com/quernsql/quern/planner"
)

// compactMin is the least number of buffered rows at which top-k sorts and
// cuts its buffer back to k rows; with k rows kept and at least k buffered,
// each compaction halves the rows held, so the work per input row stays
// O(log k).
const compactMin = 4096

// NewSort returns an operator that outputs its whole input ordered by keys:
// NULLs first ascending and last descending, strings byte-wise, ties in
// input order (stable). It buffers the input in memory.
func NewSort(input exec.Operator, keys []planner.SortKey, env exec.Env) (exec.Operator, error) {
	return newSorter(input, keys, -1, env)
}

// NewTopK returns an operator that outputs the first k rows of its input in
// the order NewSort would, holding only about 2k rows at a time. k = 0 reads
// nothing.
func NewTopK(input exec.Operator, keys []planner.SortKey, k int64, env exec.Env) (exec.Operator, error) {
	if k < 0 {
		return nil, fmt.Errorf("internal: top-k with k = %d", k)
	}
	return newSorter(input, keys, k, env)
}

func newSorter(input exec.Operator, keys []planner.SortKey, k int64, env exec.Env) (*sorter, error) {
	if err := checkKeys(input.Schema(), keys); err != nil {
		return nil, err
	}
	s := &sorter{input: input, keys: keys, k: k, mem: env.Alloc, batch: env.BatchSize}
	if s.mem == nil {
		s.mem = memory.DefaultAllocator
	}
	if s.batch <= 0 {
		s.batch = exec.DefaultBatchSize
	}
	return s, nil
}

// sorter implements both Sort (k < 0) and TopK.
type sorter struct {
	input exec.Operator
	keys  []planner.SortKey
	k     int64
	mem   memory.Allocator
	batch int

	pending     []arrow.Record // retained input since the last compaction
	pendingRows int64
	kept        arrow.Record // TopK: the best rows so far, sorted
	worst       *rowKeys     // TopK: the key view of kept, to compare input rows with its last
	rows        []int32      // beatKept's scratch

	sorted bool
	all    arrow.Record // the sorted input (Sort: in perm order; TopK: kept)
	perm   []int32      // Sort: output order of all's rows
	pos    int
	cp     gather.Rows
	out    arrow.Record
	err    error
	closed bool
}

func (s *sorter) Schema() *arrow.Schema { return s.input.Schema() }

func (s *sorter) Next(ctx context.Context) (arrow.Record, error) {
	if s.out != nil {
		s.out.Release()
		s.out = nil
	}
	if s.err != nil {
		return nil, s.err
	}
	if s.closed {
		return nil, errors.New("internal: sort: Next after Close")
	}
	rec, err := s.next(ctx)
	if err != nil {
		if err != io.EOF {
			err = fmt.Errorf("sort: %w", err)
		}
		s.err = err
		return nil, err
	}
	s.out = rec
	return rec, nil
}

func (s *sorter) next(ctx context.Context) (arrow.Record, error) {
	if !s.sorted {
		if err := s.consume(ctx); err != nil {
			return nil, err
		}
		s.sorted = true
	}
	n := len(s.perm)
	if s.all == nil || s.pos >= n {
		return nil, io.EOF
	}
	to := min(s.pos+s.batch, n)
	rows := s.perm[s.pos:to]
	s.pos = to
	if contiguous(rows) {
		return s.all.NewSlice(int64(rows[0]), int64(rows[0])+int64(len(rows))), nil
	}
	return s.cp.Record(s.mem, s.all, rows)
}

func (s *sorter) consume(ctx context.Context) error {
	if s.k == 0 {
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := s.input.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if rec.NumRows() == 0 {
			continue
		}
		if s.k > 0 && s.kept != nil && s.kept.NumRows() >= s.k {
			// Only rows that beat the worst of the k kept can still make
			// it: the threshold tightens as the input goes on, so a top 10
			// over a million groups sorts thousands of rows, not a million.
			if rec, err = s.beatKept(rec); err != nil {
				return err
			}
			if rec == nil {
				continue
			}
		} else {
			rec.Retain()
		}
		s.pending = append(s.pending, rec)
		s.pendingRows += rec.NumRows()
		if s.k > 0 && s.pendingRows >= max(s.k, compactMin) {
			if err := s.compact(); err != nil {
				return err
			}
		}
	}
	if s.k > 0 {
		if err := s.compact(); err != nil {
			return err
		}
		s.all, s.kept = s.kept, nil
		if s.all != nil {
			s.perm = identity(int(s.all.NumRows()))
		}
		return nil
	}
	all, perm, err := s.sortPending()
	s.all, s.perm = all, perm
	return err
}

// beatKept returns the rows of rec that sort strictly before the last of
// the k kept rows (ties lose: the kept rows came first), retained for the
// caller, or nil when there are none.
func (s *sorter) beatKept(rec arrow.Record) (arrow.Record, error) {
	if s.worst == nil {
		s.worst = newRowKeys(s.kept, s.keys)
	}
	keys, last := newRowKeys(rec, s.keys), int(s.k-1)
	rows := s.rows[:0]
	for i := range int(rec.NumRows()) {
		if keys.compareOther(i, s.worst, last) < 0 {
			rows = append(rows, int32(i))
		}
	}
	s.rows = rows
	switch len(rows) {
	case 0:
		return nil, nil
	case int(rec.NumRows()):
		rec.Retain()
		return rec, nil
	}
	return s.cp.Record(s.mem, rec, rows)
}

// compact sorts the kept rows with everything pending and keeps the best k.
func (s *sorter) compact() error {
	if s.kept != nil {
		s.pending = append([]arrow.Record{s.kept}, s.pending...)
		s.kept, s.worst = nil, nil
	}
	all, perm, err := s.sortPending()
	if err != nil || all == nil {
		return err
	}
	defer all.Release()
	if int64(len(perm)) > s.k {
		perm = perm[:s.k]
	}
	if contiguous(perm) {
		s.kept = all.NewSlice(int64(perm[0]), int64(perm[0])+int64(len(perm)))
		return nil
	}
	s.kept, err = s.cp.Record(s.mem, all, perm)
	return err
}

// sortPending concatenates the pending batches into one and returns it with
// the sorted order of its rows; ties keep their input order.
func (s *sorter) sortPending() (arrow.Record, []int32, error) {
	recs := s.pending
	s.pending, s.pendingRows = nil, 0
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	if len(recs) == 0 {
		return nil, nil, nil
	}
	all, err := concat(s.mem, recs)
	if err != nil {
		return nil, nil, err
	}
	if perm, ok := sortOneKey(all, s.keys); ok {
		return all, perm, nil
	}
	perm := identity(int(all.NumRows()))
	keys := newRowKeys(all, s.keys)
	slices.SortFunc(perm, func(a, b int32) int {
		if c := keys.compare(int(a), int(b)); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return all, perm, nil
}

func identity(n int) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(i)
	}
	return p
}

// concat joins batches of one schema into one (retained when there is only
// one).
func concat(mem memory.Allocator, recs []arrow.Record) (arrow.Record, error) {
	if len(recs) == 1 {
		recs[0].Retain()
		return recs[0], nil
	}
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	if rows > 1<<31-1 {
		return nil, fmt.Errorf("not supported: sorting %d rows in one task (the limit is 2^31)", rows)
	}
	schema := recs[0].Schema()
	cols := make([]arrow.Array, schema.NumFields())
	parts := make([]arrow.Array, len(recs))
	for c := range cols {
		for i, r := range recs {
			parts[i] = r.Column(c)
		}
		col, err := array.Concatenate(parts, mem)
		if err != nil {
			for _, done := range cols[:c] {
				done.Release()
			}
			return nil, fmt.Errorf("buffering column %s: %w", schema.Field(c).Name, err)
		}
		cols[c] = col
	}
	out := array.NewRecordBatch(schema, cols, rows)
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

// Close releases everything held and closes the input; it may be called
// more than once.
func (s *sorter) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	for _, r := range []arrow.Record{s.out, s.kept, s.all} {
		if r != nil {
			r.Release()
		}
	}
	s.out, s.kept, s.all = nil, nil, nil
	for _, r := range s.pending {
		r.Release()
	}
	s.pending = nil
	return s.input.Close()
}
