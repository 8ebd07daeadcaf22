package task

import (
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/quernsql/quern/exec"
	"github.com/quernsql/quern/planner"
)

// partsScan reads the parts of a split of several files one after another,
// opening each file's reader only when the one before is done, so that a
// task over thousands of small files holds one file open at a time. Its
// batches are its readers' own, passed through.
type partsScan struct {
	parts  []planner.FileRange // the parts not yet opened
	open   func(planner.FileRange) (exec.Operator, error)
	cur    exec.Operator
	schema *arrow.Schema

	skipped   int64 // malformed rows the closed readers dropped
	firstSkip error
	err       error // sticky: opening or closing a file failed
}

// newPartsScan opens the first part now, so that its schema is known and
// an error in it surfaces when the task is built.
func newPartsScan(parts []planner.FileRange, open func(planner.FileRange) (exec.Operator, error)) (*partsScan, error) {
	cur, err := open(parts[0])
	if err != nil {
		return nil, err
	}
	return &partsScan{parts: parts[1:], open: open, cur: cur, schema: cur.Schema()}, nil
}

func (s *partsScan) Schema() *arrow.Schema { return s.schema }

func (s *partsScan) Next(ctx context.Context) (arrow.Record, error) {
	for {
		if s.err != nil {
			return nil, s.err
		}
		if s.cur == nil {
			return nil, io.EOF
		}
		rec, err := s.cur.Next(ctx)
		if !errors.Is(err, io.EOF) {
			return rec, err
		}
		if s.err = s.closeCurrent(); s.err != nil {
			return nil, s.err
		}
		if len(s.parts) == 0 {
			return nil, io.EOF
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		next, err := s.open(s.parts[0])
		if err != nil {
			s.err = err // next may be a typed nil: never kept
			return nil, err
		}
		s.cur, s.parts = next, s.parts[1:]
	}
}

// closeCurrent closes the current reader, keeping its count of dropped rows.
func (s *partsScan) closeCurrent() error {
	if sk, ok := s.cur.(skipCounter); ok {
		n, first := sk.Skipped()
		s.skipped += n
		if s.firstSkip == nil {
			s.firstSkip = first
		}
	}
	err := s.cur.Close()
	s.cur = nil
	return err
}

// Close closes the open reader; it may be called more than once.
func (s *partsScan) Close() error {
	s.parts = nil
	if s.cur == nil {
		return nil
	}
	return s.closeCurrent()
}

// Skipped reports the malformed rows the readers dropped so far (CSV with
// ignore_errors), and the error the first would have been.
func (s *partsScan) Skipped() (int64, error) {
	n, first := s.skipped, s.firstSkip
	if sk, ok := s.cur.(skipCounter); ok {
		m, f := sk.Skipped()
		n += m
		if first == nil {
			first = f
		}
	}
	return n, first
}

// skipCounter is a scan that drops malformed rows and counts them
// (csvscan.Reader with Format.IgnoreErrors, partsScan).
type skipCounter interface {
	Skipped() (int64, error)
}
