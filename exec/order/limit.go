package order

import (
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/quernsql/quern/exec"
)

// NewLimit returns an operator that skips the first offset rows of input and
// then passes at most limit rows (limit < 0: all). Batches are sliced, never
// copied, and once the limit is reached input is not pulled again.
func NewLimit(input exec.Operator, offset, limit int64, env exec.Env) exec.Operator {
	return &limiter{input: input, offset: max(offset, 0), limit: limit}
}

type limiter struct {
	input   exec.Operator
	offset  int64
	limit   int64
	skipped int64
	emitted int64
	out     arrow.Record
	closed  bool
}

func (l *limiter) Schema() *arrow.Schema { return l.input.Schema() }

func (l *limiter) Next(ctx context.Context) (arrow.Record, error) {
	if l.out != nil {
		l.out.Release()
		l.out = nil
	}
	if l.closed {
		return nil, errors.New("internal: limit: Next after Close")
	}
	for {
		if l.limit >= 0 && l.emitted >= l.limit {
			return nil, io.EOF
		}
		rec, err := l.input.Next(ctx)
		if err != nil {
			return nil, err
		}
		n := rec.NumRows()
		start := min(l.offset-l.skipped, n)
		l.skipped += start
		end := n
		if l.limit >= 0 {
			end = min(n, start+l.limit-l.emitted)
		}
		if start == end {
			continue
		}
		l.emitted += end - start
		if start == 0 && end == n {
			return rec, nil
		}
		l.out = rec.NewSlice(start, end)
		return l.out, nil
	}
}

// Close closes the input; it may be called more than once.
func (l *limiter) Close() error {
	if l.closed {
		return nil
	}
	l.closed = true
	if l.out != nil {
		l.out.Release()
		l.out = nil
	}
	return l.input.Close()
}
