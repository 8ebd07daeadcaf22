package order

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/exec/spill"
)

// spillFanIn is the most sorted runs one merge reads at once: each open run
// holds a batch, a read buffer and a file descriptor.
const spillFanIn = 64

// spillIOBuf is the largest read or write buffer of a spill file; under a
// small limit it shrinks down to spillIOBufMin.
const (
	spillIOBuf    = 64 << 10
	spillIOBufMin = 1 << 10
	spillBatchMin = 8 << 10
	// mergeShare: a merge of runs holds about 1/mergeShare of the limit.
	mergeShare = 16
)

// spill sorts the buffered batches, writes them to a new spill file as one
// sorted run and gives their memory back.
func (s *sorter) spill(ctx context.Context) error {
	all, perm, err := s.sortPending()
	clear(s.seen)
	if err != nil || all == nil {
		s.res.Resize(0)
		return err
	}
	if s.runRows == 0 {
		s.sizeRuns(all)
	}
	// The write buffer and the batch being written fit in what the pending
	// batches were charged: their own buffers are released by now.
	src := &sortedOp{schema: s.Schema(), rows: sortedRows{all: all, perm: perm}, mem: s.mem, batch: s.runRows}
	path, err := s.writeRun(ctx, src)
	src.Close()
	s.res.Resize(0)
	if err != nil {
		return err
	}
	s.runs = append(s.runs, path)
	return nil
}

// sizeRuns picks, from the first run, how many rows go in a spill file's
// batch, how big its I/O buffers are and how many runs a merge reads at
// once, so that a merge holds about a sixteenth of the limit: under a large
// limit, fanIn runs of full batches; under a small one, fewer runs of
// batches of at least spillBatchMin bytes (more merge passes rather than
// batches of a few rows, where the IPC framing would outweigh the data).
func (s *sorter) sizeRuns(all arrow.Record) {
	// Not the output's batch size: batches of a row or two would be
	// mostly IPC framing.
	s.runRows, s.ioBuf = exec.DefaultBatchSize, spillIOBuf
	limit := s.budget.Limit()
	if limit <= 0 {
		return
	}
	// A sixteenth, well inside the eighth any operator is always granted
	// (exec.Reservation.Grow): a merge cannot spill, so it must not fail
	// because other operators of the query hold the rest of the limit.
	perRun := limit / int64(mergeShare*s.fanIn)
	floor := limit / (4 * mergeShare) // the least sizes below: a merge of a few runs must fit in its share
	rowBytes := max(1, logicalBytes(all)/max(1, all.NumRows()))
	s.ioBuf = int(min(spillIOBuf, max(perRun/2, min(spillIOBufMin, floor), 16)))
	batchBytes := max(perRun/2, min(spillBatchMin, floor))
	s.runRows = int(min(exec.DefaultBatchSize, max(1, batchBytes/rowBytes)))
	held := int64(s.runRows)*rowBytes + int64(s.ioBuf)
	s.fanIn = int(min(int64(s.fanIn), max(2, limit/mergeShare/held)))
}

// mergeRuns sets up the final merge of the spilled runs and whatever is
// still buffered (the newest rows, so the last input: ties keep input
// order). Beyond fanIn runs it first merges runs into longer ones, pass
// after pass.
func (s *sorter) mergeRuns(ctx context.Context) error {
	var tail *sortedOp
	if len(s.pending) > 0 {
		// The sorted tail stays in memory only when it is small: with it,
		// the merge must still fit in the share always granted.
		if limit := s.budget.Limit(); len(s.runs) >= s.fanIn || limit > 0 && s.res.Held() > limit/mergeShare {
			// There will be merge passes anyway, or the tail is too big to
			// hold through the merge: it is one more run.
			if err := s.spill(ctx); err != nil {
				return err
			}
		} else {
			all, perm, err := s.sortPending()
			clear(s.seen)
			if err != nil {
				return err
			}
			// Held from now on: the sorted copy and its permutation, no
			// longer the room to sort.
			s.res.Resize(pinnedBytes(all, s.seen) + 4*int64(len(perm)))
			tail = &sortedOp{schema: s.Schema(), rows: sortedRows{all: all, perm: perm}, mem: s.mem, batch: s.runRows}
		}
	}
	fail := func(err error) error {
		if tail != nil {
			tail.Close()
		}
		return err
	}
	for len(s.runs) > s.fanIn {
		if err := s.mergePass(ctx); err != nil {
			return fail(err)
		}
	}
	if err := s.grow(int64(len(s.runs)) * int64(s.ioBuf)); err != nil {
		return fail(err)
	}
	inputs, err := s.openRuns(s.runs)
	if err != nil {
		return fail(err)
	}
	if tail != nil {
		inputs = append(inputs, tail)
	}
	s.merged = newMerger(inputs, s.keys, s.Schema(), s.mem, s.batch, s.res)
	return nil
}

// mergePass merges each fanIn consecutive runs into one.
func (s *sorter) mergePass(ctx context.Context) error {
	var next []string
	for from := 0; from < len(s.runs); from += s.fanIn {
		group := s.runs[from:min(from+s.fanIn, len(s.runs))]
		if len(group) == 1 {
			next = append(next, group[0])
			continue
		}
		path, err := s.mergeGroup(ctx, group)
		if err != nil {
			// Keep every file still on disk listed, for dropSpill.
			s.runs = append(next, s.runs[from:]...)
			return err
		}
		next = append(next, path)
		for _, p := range group {
			os.Remove(p)
		}
	}
	s.runs = next
	return nil
}

// mergeGroup merges runs into a new one and returns its path.
func (s *sorter) mergeGroup(ctx context.Context, runs []string) (string, error) {
	bufs := int64(len(runs)+1) * int64(s.ioBuf)
	if err := s.grow(bufs); err != nil {
		return "", err
	}
	defer func() { s.res.Resize(s.res.Held() - bufs) }()
	inputs, err := s.openRuns(runs)
	if err != nil {
		return "", err
	}
	m := newMerger(inputs, s.keys, s.Schema(), s.mem, s.runRows, s.res)
	path, err := s.writeRun(ctx, m)
	if cerr := m.Close(); err == nil && cerr != nil {
		os.Remove(path)
		return "", cerr
	}
	return path, err
}

// grow charges n bytes or says the limit is exceeded.
func (s *sorter) grow(n int64) error {
	if s.res.Grow(n) {
		return nil
	}
	return s.res.Exceeded(n)
}

func (s *sorter) openRuns(paths []string) ([]exec.Operator, error) {
	inputs := make([]exec.Operator, 0, len(paths)+1)
	for _, p := range paths {
		r, err := spill.Open(p, s.Schema(), s.mem, s.ioBuf, false)
		if err != nil {
			for _, in := range inputs {
				in.Close()
			}
			return nil, err
		}
		inputs = append(inputs, r)
	}
	return inputs, nil
}

// writeRun writes src's batches to a new file in the spill directory and
// returns its path; on error nothing is left.
func (s *sorter) writeRun(ctx context.Context, src exec.Operator) (string, error) {
	f, err := spill.Create(s.spillDir, "sort-*.arrows", s.Schema(), s.mem, s.ioBuf, s.budget)
	if err != nil {
		return "", err
	}
	for {
		rec, err := src.Next(ctx)
		if err == io.EOF {
			break
		}
		if err == nil && rec.NumRows() > 0 {
			err = f.Write(rec)
		}
		if err != nil {
			f.Abort()
			return "", err
		}
	}
	if err := f.Finish(); err != nil {
		return "", err
	}
	return f.Path(), nil
}

// dropSpill closes the final merge and removes every spill file left.
func (s *sorter) dropSpill() error {
	var errs []error
	if s.merged != nil {
		errs = append(errs, s.merged.Close())
		s.merged = nil
	}
	for _, p := range s.runs {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("removing spill file: %w", err))
		}
	}
	s.runs = nil
	return errors.Join(errs...)
}

// sortedOp is a sorted batch as an operator: the input of a spill file or
// the in-memory input of the final merge.
type sortedOp struct {
	schema *arrow.Schema
	rows   sortedRows
	mem    memory.Allocator
	batch  int
	out    arrow.Record
}

func (o *sortedOp) Schema() *arrow.Schema { return o.schema }

func (o *sortedOp) Next(context.Context) (arrow.Record, error) {
	if o.out != nil {
		o.out.Release()
		o.out = nil
	}
	rec, err := o.rows.next(o.mem, o.batch)
	if err != nil {
		return nil, err
	}
	o.out = rec
	return rec, nil
}

func (o *sortedOp) Close() error {
	if o.out != nil {
		o.out.Release()
		o.out = nil
	}
	o.rows.release()
	return nil
}
