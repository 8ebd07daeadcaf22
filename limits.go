package quern

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// Per-query limits (Config.QueryTimeout, Config.MaxResultRows) wrap every
// statement DB.Run runs: the timeout is a context deadline, so it cancels
// the job on every worker as a cancelled context does, and the row limit
// is counted as the result is read.

// QueryTimeoutError is a statement that ran longer than Config.QueryTimeout.
type QueryTimeoutError struct {
	Timeout time.Duration
}

func (e *QueryTimeoutError) Error() string {
	return fmt.Sprintf("query timeout: exceeded %s (raise it with --query-timeout or SET query_timeout)", e.Timeout)
}

// ResultRowsError is a result with more rows than Config.MaxResultRows.
// The rows before the limit have been returned; the result is not
// truncated silently, it fails.
type ResultRowsError struct {
	Max int64
}

func (e *ResultRowsError) Error() string {
	return fmt.Sprintf("result too large: more than %d rows (--max-result-rows); add a LIMIT or raise the limit", e.Max)
}

// setQueryTimeout is SET query_timeout's effect (the binder passes the
// value as a Go duration, "0s" to lift it); it applies from the next
// statement on.
func (db *DB) setQueryTimeout(value string) error {
	d, err := time.ParseDuration(value)
	if err != nil || d < 0 {
		return fmt.Errorf("SET query_timeout: %q is not a duration such as 30s or 5m (0: no limit)", value)
	}
	db.mu.Lock()
	db.cfg.QueryTimeout = d
	db.mu.Unlock()
	return nil
}

// setMaxResultRows is SET max_result_rows's effect (0: no limit).
func (db *DB) setMaxResultRows(value string) error {
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("SET max_result_rows: %q is not a number of rows (0: no limit)", value)
	}
	db.mu.Lock()
	db.cfg.MaxResultRows = n
	db.mu.Unlock()
	return nil
}

// queryLimits are the limits of one statement.
type queryLimits struct {
	ctx     context.Context // carries the deadline (nil: no timeout)
	cancel  context.CancelFunc
	timeout *QueryTimeoutError // the deadline's cause
	maxRows int64
}

// limit starts the limits of one statement; the returned context is the
// one to run it with. The caller passes the statement's outcome through
// finish.
func (db *DB) limit(ctx context.Context) (context.Context, *queryLimits) {
	db.mu.Lock()
	timeout, maxRows := db.cfg.QueryTimeout, db.cfg.MaxResultRows
	db.mu.Unlock()
	l := &queryLimits{maxRows: maxRows}
	if timeout > 0 {
		l.timeout = &QueryTimeoutError{Timeout: timeout}
		ctx, l.cancel = context.WithTimeoutCause(ctx, timeout, l.timeout)
		l.ctx = ctx
	}
	return ctx, l
}

// finish reports a timeout as a *QueryTimeoutError, and makes the result
// count its rows and end the deadline when it is released.
func (l *queryLimits) finish(res *Result, err error) (*Result, error) {
	if err != nil || res == nil || res.RecordReader == nil {
		l.stop()
		return res, l.explain(err)
	}
	if res.Schema().Metadata().FindKey(TextResultKey) >= 0 {
		l.maxRows = 0 // EXPLAIN's lines are not result rows
	}
	if l.cancel == nil && l.maxRows <= 0 {
		return res, nil
	}
	res.RecordReader = &limitedReader{RecordReader: res.RecordReader, l: l}
	return res, nil
}

func (l *queryLimits) stop() {
	if l.cancel != nil {
		l.cancel()
	}
}

// explain turns whatever error a statement stopped with once its deadline
// passed into the timeout error.
func (l *queryLimits) explain(err error) error {
	if err != nil && l.ctx != nil && context.Cause(l.ctx) == error(l.timeout) {
		return l.timeout
	}
	return err
}

// limitedReader is a result under the limits.
type limitedReader struct {
	array.RecordReader
	l    *queryLimits
	rows int64
	err  error
	refs atomic.Int64 // extra references (Retain)
}

func (r *limitedReader) Next() bool {
	if r.err != nil {
		return false
	}
	if !r.RecordReader.Next() {
		if err := r.RecordReader.Err(); err != nil {
			r.err = r.l.explain(err)
		}
		return false
	}
	r.rows += r.RecordReader.RecordBatch().NumRows()
	if r.l.maxRows > 0 && r.rows > r.l.maxRows {
		r.err = &ResultRowsError{Max: r.l.maxRows}
		r.l.stop() // the rest of the job is not wanted
		return false
	}
	return true
}

func (r *limitedReader) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.RecordReader.Err()
}

func (r *limitedReader) Retain() { r.refs.Add(1) }

func (r *limitedReader) Release() {
	if r.refs.Add(-1) >= 0 {
		return
	}
	r.RecordReader.Release()
	r.l.stop()
}
