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

// Under a memory limit, coalesceBatches buffered batches in a row of fewer
// than coalesceRows rows each are copied into one (see coalesce).
const (
	coalesceRows    = 128
	coalesceBatches = 16
)

// NewSort returns an operator that outputs its whole input ordered by keys:
// NULLs first ascending and last descending, strings byte-wise, ties in
// input order (stable). It buffers the input in memory; under env.Budget,
// what does not fit is spilled to env.SpillDir as sorted runs, merged at
// the end (see the package doc).
func NewSort(input exec.Operator, keys []planner.SortKey, env exec.Env) (exec.Operator, error) {
	return newSorter(input, keys, -1, env)
}

// NewTopK returns an operator that outputs the first k rows of its input in
// the order NewSort would, holding only about 2k rows at a time. k = 0 reads
// nothing. Under env.Budget, k rows that do not fit fail with an
// *exec.MemoryLimitError.
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
	s := &sorter{input: input, keys: keys, k: k, mem: env.Alloc, batch: env.BatchSize,
		budget: env.Budget, spillDir: env.SpillDir, fanIn: spillFanIn}
	if s.mem == nil {
		s.mem = memory.DefaultAllocator
	}
	if s.batch <= 0 {
		s.batch = exec.DefaultBatchSize
	}
	if s.budget != nil {
		s.res = s.budget.NewReservation("sort")
		s.seen = make(map[*memory.Buffer]struct{})
		s.rowCost = sortRowBytes(input.Schema(), keys)
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

	// Memory accounting, all nil without a budget. Each buffered batch is
	// charged twice its buffers (sorting concatenates them into a copy)
	// plus rowCost a row, so that sorting what is held stays within what
	// was reserved.
	budget  *exec.Budget
	res     *exec.Reservation
	seen    map[*memory.Buffer]struct{} // buffers already charged
	rowCost int64
	// The last tiny batches buffered, how many and what they were charged.
	tiny     int
	tinyCost int64

	// Spilling (Sort only): sorted runs in input order, merged at the end.
	spillDir string
	fanIn    int      // the most inputs one merge reads
	runs     []string // spill files not yet removed, oldest rows first
	runRows  int      // rows per batch in a spill file
	ioBuf    int      // bytes of each spill file's read or write buffer
	merged   exec.Operator

	sorted bool
	result sortedRows // the sorted input (TopK: kept)
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
		var mle *exec.MemoryLimitError
		if err != io.EOF && !errors.As(err, &mle) {
			err = fmt.Errorf("sort: %w", err)
		}
		// Nothing more will be read: the spill files go now, not at Close.
		s.dropSpill()
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
	if s.merged != nil {
		rec, err := s.merged.Next(ctx)
		if err != nil {
			return nil, err
		}
		rec.Retain()
		return rec, nil
	}
	return s.result.next(s.mem, s.batch)
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
		var cost int64
		if s.res != nil {
			if cost, err = s.reserve(ctx, rec); err != nil {
				rec.Release()
				return err
			}
		}
		s.pending = append(s.pending, rec)
		s.pendingRows += rec.NumRows()
		if s.res != nil {
			if err := s.coalesce(rec.NumRows(), cost); err != nil {
				return err
			}
		}
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
		if s.kept != nil {
			s.result = sortedRows{all: s.kept, perm: identity(int(s.kept.NumRows()))}
			s.kept, s.worst = nil, nil
		}
		return nil
	}
	if len(s.runs) > 0 {
		return s.mergeRuns(ctx)
	}
	all, perm, err := s.sortPending()
	s.result = sortedRows{all: all, perm: perm}
	return err
}

// reserve charges rec, which the caller is about to buffer, to the
// reservation. When that is refused, Sort spills what it buffered and TopK
// cuts its buffer back to k rows; if rec still does not fit, there is
// nothing more to give back.
func (s *sorter) reserve(ctx context.Context, rec arrow.Record) (int64, error) {
	need := s.cost(rec)
	if s.res.Grow(need) {
		return need, nil
	}
	if len(s.pending) == 0 && s.kept == nil {
		return 0, s.res.Exceeded(need)
	}
	var err error
	if s.k > 0 {
		err = s.compact()
	} else {
		err = s.spill(ctx)
	}
	if err != nil {
		return 0, err
	}
	if need = s.cost(rec); !s.res.Grow(need) {
		return 0, s.res.Exceeded(need)
	}
	return need, nil
}

// coalesce copies runs of tiny batches, just buffered and charged cost,
// into one: each batch has its own buffers of at least one allocation
// each, so a thousand one-row batches hold many times their data, and
// under a limit that would mean spilling far more often than the data
// asks for.
func (s *sorter) coalesce(rows, cost int64) error {
	if rows >= coalesceRows {
		s.tiny, s.tinyCost = 0, 0
		return nil
	}
	s.tiny++
	s.tinyCost += cost
	if s.tiny < coalesceBatches {
		return nil
	}
	from := len(s.pending) - s.tiny
	rec, err := concat(s.mem, s.pending[from:])
	if err != nil {
		return err
	}
	for _, r := range s.pending[from:] {
		r.Release()
	}
	s.pending = append(s.pending[:from], rec)
	// The copy is smaller than what it replaces, so this shrinks; a
	// refusal would leave the old, larger charge in place.
	c := s.cost(rec)
	s.res.Resize(s.res.Held() - s.tinyCost + c)
	s.tiny, s.tinyCost = 0, 0
	if rec.NumRows() < coalesceRows {
		// Still tiny: coalesced again with the next ones.
		s.tiny, s.tinyCost = 1, c
	}
	return nil
}

// cost is what buffering rec takes: its buffers not charged yet, once as
// held and once for the copy that sorting makes, and the per-row scratch.
func (s *sorter) cost(rec arrow.Record) int64 {
	return 2*pinnedBytes(rec, s.seen) + rec.NumRows()*s.rowCost
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
	// A slice pins all of all's buffers: under a budget, copy when the
	// kept rows are the smaller part.
	if contiguous(perm) && (s.res == nil || 2*int64(len(perm)) >= all.NumRows()) {
		s.kept = all.NewSlice(int64(perm[0]), int64(perm[0])+int64(len(perm)))
	} else if s.kept, err = s.cp.Record(s.mem, all, perm); err != nil {
		return err
	}
	if s.res != nil {
		// Only the kept rows are held now; charge them afresh.
		clear(s.seen)
		if need := s.cost(s.kept); !s.res.Resize(need) {
			return s.res.Exceeded(need - s.res.Held())
		}
	}
	return nil
}

// sortPending concatenates the pending batches into one and returns it with
// the sorted order of its rows; ties keep their input order.
func (s *sorter) sortPending() (arrow.Record, []int32, error) {
	recs := s.pending
	s.pending, s.pendingRows = nil, 0
	s.tiny, s.tinyCost = 0, 0
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
	// The batches are copied: let them go before sorting needs its scratch.
	for _, r := range recs {
		r.Release()
	}
	recs = nil
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
	for _, r := range []arrow.Record{s.out, s.kept} {
		if r != nil {
			r.Release()
		}
	}
	s.out, s.kept = nil, nil
	s.result.release()
	for _, r := range s.pending {
		r.Release()
	}
	s.pending = nil
	err := s.dropSpill()
	if s.res != nil {
		s.res.Free()
	}
	return errors.Join(err, s.input.Close())
}

// sortedRows hands out the rows of a sorted batch in order.
type sortedRows struct {
	all  arrow.Record
	perm []int32 // output order of all's rows
	pos  int
	cp   gather.Rows
}

// next returns the next up to batch rows as a new record (a slice of all
// when they are adjacent in it), or io.EOF.
func (r *sortedRows) next(mem memory.Allocator, batch int) (arrow.Record, error) {
	n := len(r.perm)
	if r.all == nil || r.pos >= n {
		return nil, io.EOF
	}
	to := min(r.pos+batch, n)
	rows := r.perm[r.pos:to]
	r.pos = to
	if contiguous(rows) {
		return r.all.NewSlice(int64(rows[0]), int64(rows[0])+int64(len(rows))), nil
	}
	return r.cp.Record(mem, r.all, rows)
}

func (r *sortedRows) release() {
	if r.all != nil {
		r.all.Release()
	}
	*r = sortedRows{}
}
