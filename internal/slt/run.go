package slt

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Engine runs SQL for the runner.
//
// Exec returns a reader of the result, or nil for a statement that produces
// none. The runner reads the reader to the end and releases it. An error
// whose message starts with "not supported:" (or contains ": not
// supported:" after a wrapping prefix) marks a feature the engine lacks:
// such records are counted as Unsupported, not Failed.
type Engine interface {
	Exec(ctx context.Context, sql string) (array.RecordReader, error)
}

// Options tune Run. The zero value runs as "mysql" and keeps 10 failures.
type Options struct {
	// EngineName is matched against skipif/onlyif; "" means "mysql".
	EngineName string
	// MaxFailures is how many failures (and unsupported records) Result
	// keeps in detail; 0 means 10, negative means all.
	MaxFailures int
	// Known lists records to skip, with the reason.
	Known *Known
	// StrictTypes fails a query whose column types do not match its letters
	// (I: integer or boolean, R: double or decimal, T: anything else).
	// Off by default because rendering converts by the letter, as the
	// original harness does.
	StrictTypes bool
	// Timeout bounds each record; 0 means no limit. The engine must honour
	// the context for it to take effect.
	Timeout time.Duration
	// KeepActual stores every query's rendered result in Result.Actual, for
	// Rewrite.
	KeepActual bool
}

// Counts tallies records. Passed+Failed+Skipped is every record run or
// skipped for the engine under test; Skipped includes the Unsupported and
// Known ones. OtherEngine counts records whose conditions exclude the
// engine: they belong to another engine and are not in the three totals.
type Counts struct {
	Passed, Failed, Skipped int
	Unsupported, Known      int
	OtherEngine             int
}

func (c *Counts) add(o Counts) {
	c.Passed += o.Passed
	c.Failed += o.Failed
	c.Skipped += o.Skipped
	c.Unsupported += o.Unsupported
	c.Known += o.Known
	c.OtherEngine += o.OtherEngine
}

// FileResult is the tally of one script.
type FileResult struct {
	File string
	Counts
}

// Failure is a record that did not pass (or, in Result.UnsupportedList, one
// the engine does not support).
type Failure struct {
	File string
	Line int
	Kind Kind
	SQL  string
	// Expected and Got are rendered values, one per line (or the
	// "N values hashing to H" line). Got is empty when the record errored.
	Expected, Got []string
	// Err is the error message, or what went wrong ("expected an error").
	Err string
}

// Skip is a record skipped as a known difference.
type Skip struct {
	File   string
	Line   int
	Reason string
	entry  *KnownEntry
}

// Actual is a query's result as the engine produced it, for Rewrite:
// rendered, sorted values and the hash threshold in effect.
type Actual struct {
	Values    []string
	Threshold int
}

// Result is the outcome of one or more runs (see Merge).
type Result struct {
	Files []FileResult
	// Failures holds the first MaxFailures failures in script order.
	Failures []Failure
	// UnsupportedList holds the first MaxFailures unsupported records, and
	// UnsupportedReasons counts the distinct "not supported:" messages.
	UnsupportedList    []Failure
	UnsupportedReasons map[string]int
	// Skips lists every known difference that was skipped.
	Skips []Skip
	// Actual maps "file:line" of each query run to its result (KeepActual).
	Actual map[string]Actual
	// Err is set when the run stopped early (the context was canceled).
	Err error
}

// Total sums the per-file counts.
func (r Result) Total() Counts {
	var t Counts
	for _, f := range r.Files {
		t.add(f.Counts)
	}
	return t
}

// Merge appends another run's outcome, for example of the next script.
func (r *Result) Merge(o Result) {
	for _, f := range o.Files {
		r.file(f.File).add(f.Counts)
	}
	r.Failures = append(r.Failures, o.Failures...)
	r.UnsupportedList = append(r.UnsupportedList, o.UnsupportedList...)
	for k, v := range o.UnsupportedReasons {
		if r.UnsupportedReasons == nil {
			r.UnsupportedReasons = map[string]int{}
		}
		r.UnsupportedReasons[k] += v
	}
	r.Skips = append(r.Skips, o.Skips...)
	for k, v := range o.Actual {
		if r.Actual == nil {
			r.Actual = map[string]Actual{}
		}
		r.Actual[k] = v
	}
	if r.Err == nil {
		r.Err = o.Err
	}
}

func (r *Result) file(name string) *Counts {
	for i := range r.Files {
		if r.Files[i].File == name {
			return &r.Files[i].Counts
		}
	}
	r.Files = append(r.Files, FileResult{File: name})
	return &r.Files[len(r.Files)-1].Counts
}

// Run executes the records in order against engine and tallies them. The
// engine's database should start empty for each script. A halt record that
// applies stops the run; so does a canceled context (Result.Err).
func Run(ctx context.Context, engine Engine, records []Record, opts Options) Result {
	if opts.EngineName == "" {
		opts.EngineName = "mysql"
	}
	if opts.MaxFailures == 0 {
		opts.MaxFailures = 10
	}
	r := runner{engine: engine, opts: opts}
	for i := range records {
		rec := &records[i]
		counts := r.res.file(rec.File)
		if rec.SkippedFor(opts.EngineName) {
			if rec.Kind == Statement || rec.Kind == Query {
				counts.OtherEngine++
			}
			continue
		}
		switch rec.Kind {
		case HashThreshold:
			r.threshold = rec.Threshold
			continue
		case Halt:
			return r.res
		}
		if err := ctx.Err(); err != nil {
			r.res.Err = err
			return r.res
		}
		if opts.Known != nil {
			if e := opts.Known.Lookup(rec); e != nil {
				counts.Skipped++
				counts.Known++
				r.res.Skips = append(r.res.Skips, Skip{File: rec.File, Line: rec.Line, Reason: e.Reason, entry: e})
				continue
			}
		}
		f := r.runRecord(ctx, rec)
		switch {
		case f == nil:
			counts.Passed++
		case isUnsupported(f.Err):
			counts.Skipped++
			counts.Unsupported++
			if r.res.UnsupportedReasons == nil {
				r.res.UnsupportedReasons = map[string]int{}
			}
			r.res.UnsupportedReasons[reasonKey(f.Err)]++
			if opts.MaxFailures < 0 || len(r.res.UnsupportedList) < opts.MaxFailures {
				r.res.UnsupportedList = append(r.res.UnsupportedList, *f)
			}
		default:
			counts.Failed++
			if opts.MaxFailures < 0 || len(r.res.Failures) < opts.MaxFailures {
				r.res.Failures = append(r.res.Failures, *f)
			}
		}
	}
	return r.res
}

type runner struct {
	engine    Engine
	opts      Options
	threshold int
	res       Result
}

// runRecord runs one statement or query and returns its failure, or nil.
func (r *runner) runRecord(ctx context.Context, rec *Record) (f *Failure) {
	fail := func(format string, args ...any) *Failure {
		return &Failure{File: rec.File, Line: rec.Line, Kind: rec.Kind, SQL: rec.SQL, Err: fmt.Sprintf(format, args...)}
	}
	defer func() {
		if p := recover(); p != nil {
			// The engine must not panic, but one bad record should not end a
			// corpus run: report it with where it came from.
			f = fail("panic: %v\n%s", p, firstFrames(debug.Stack()))
		}
	}()
	if r.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.opts.Timeout)
		defer cancel()
	}
	rr, err := r.engine.Exec(ctx, rec.SQL)
	var vals []string
	ncols := 0
	if err == nil && rr != nil {
		vals, ncols, err = r.read(rr, rec)
	}
	switch {
	case rec.Kind == Statement && rec.ExpectError:
		if err == nil {
			return fail("expected an error, got none")
		}
		if rec.ErrorContains != "" && !strings.Contains(err.Error(), rec.ErrorContains) {
			return fail("expected an error containing %q, got: %v", rec.ErrorContains, err)
		}
		return nil
	case err != nil:
		f := fail("%v", err)
		f.Expected = expectedLines(rec)
		return f
	case rec.Kind == Statement:
		return nil
	case rr == nil:
		return fail("query returned no result set")
	}
	sortValues(vals, ncols, rec.Sort)
	if r.opts.KeepActual {
		if r.res.Actual == nil {
			r.res.Actual = map[string]Actual{}
		}
		r.res.Actual[rec.Pos()] = Actual{Values: vals, Threshold: r.threshold}
	}
	if !matches(rec, vals, ncols) {
		f := fail("")
		f.Err, f.Expected, f.Got = "", expectedLines(rec), r.gotLines(rec, vals)
		return f
	}
	return nil
}

type typeMismatch struct{ msg string }

func (e *typeMismatch) Error() string { return e.msg }

// read renders every value of the result by the record's type letters. A
// statement's result is read and dropped.
func (r *runner) read(rr array.RecordReader, rec *Record) ([]string, int, error) {
	defer rr.Release()
	schema := rr.Schema()
	ncols := schema.NumFields()
	if rec.Kind == Query {
		if ncols != len(rec.Types) {
			return nil, 0, &typeMismatch{fmt.Sprintf("query has %d columns, the record declares %d (%s)", ncols, len(rec.Types), rec.Types)}
		}
		if r.opts.StrictTypes {
			for c, f := range schema.Fields() {
				if got := letterOf(f.Type); got != rec.Types[c] && got != 0 {
					return nil, 0, &typeMismatch{fmt.Sprintf("column %d (%s) is %s, rendered as %c but declared %c", c+1, f.Name, f.Type, got, rec.Types[c])}
				}
			}
		}
	}
	var vals []string
	rows := 0
	for rr.Next() {
		batch := rr.RecordBatch()
		if rec.Kind != Query {
			continue
		}
		n := int(batch.NumRows())
		vals = slices.Grow(vals, n*ncols)[:(rows+n)*ncols]
		for c := 0; c < ncols; c++ {
			renderColumn(batch.Column(c), rec.Types[c], vals, rows, c, ncols)
		}
		rows += n
	}
	if err := rr.Err(); err != nil {
		return nil, 0, err
	}
	return vals, ncols, nil
}

// sortValues applies the sort mode to row-major values.
func sortValues(vals []string, ncols int, mode SortMode) {
	switch mode {
	case ValueSort:
		slices.Sort(vals)
	case RowSort:
		if ncols <= 1 {
			slices.Sort(vals)
			return
		}
		rows := make([][]string, len(vals)/ncols)
		for i := range rows {
			rows[i] = vals[i*ncols : (i+1)*ncols : (i+1)*ncols]
		}
		slices.SortStableFunc(rows, slices.Compare[[]string])
		sorted := make([]string, 0, len(vals))
		for _, row := range rows {
			sorted = append(sorted, row...)
		}
		copy(vals, sorted)
	}
}

// matches checks sorted values against the record's expectation.
func matches(rec *Record, vals []string, ncols int) bool {
	switch {
	case rec.Hash != "":
		return len(vals) == rec.HashCount && hashValues(vals) == rec.Hash
	case !rec.HasResult:
		return true
	case len(rec.Expected) == len(vals):
		return slices.Equal(rec.Expected, vals)
	case ncols > 1 && rec.Sort != ValueSort && len(rec.Expected)*ncols == len(vals):
		// One row per line, values separated by single spaces.
		for i, line := range rec.Expected {
			if line != strings.Join(vals[i*ncols:(i+1)*ncols], " ") {
				return false
			}
		}
		return true
	}
	return false
}

// expectedLines is the record's expectation as written.
func expectedLines(rec *Record) []string {
	if rec.Hash != "" {
		return []string{hashLine(rec.HashCount, rec.Hash)}
	}
	return rec.Expected
}

// gotLines shows the engine's result for a report: the hash line when the
// record expects a hash, followed by the values when there are not too
// many to read.
func (r *runner) gotLines(rec *Record, vals []string) []string {
	const maxShown = 64
	var lines []string
	if rec.Hash != "" {
		lines = append(lines, hashLine(len(vals), hashValues(vals)))
	}
	if len(vals) <= maxShown {
		return append(lines, vals...)
	}
	lines = append(lines, vals[:maxShown]...)
	return append(lines, fmt.Sprintf("… %d more values", len(vals)-maxShown))
}

// hashValues is the MD5 of every value followed by "\n", in lower-case hex.
func hashValues(vals []string) string {
	h := md5.New()
	for _, v := range vals {
		h.Write([]byte(v))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func hashLine(n int, hash string) string {
	return strconv.Itoa(n) + " values hashing to " + hash
}

// letterOf is the letter a column of type t naturally renders as, or 0 for
// the NULL type (which fits any letter).
func letterOf(t arrow.DataType) byte {
	switch t.ID() {
	case arrow.NULL:
		return 0
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64, arrow.BOOL:
		return 'I'
	case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64,
		arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		return 'R'
	}
	return 'T'
}

func isUnsupported(msg string) bool {
	return strings.HasPrefix(msg, "not supported:") || strings.Contains(msg, ": not supported:")
}

// reasonKey groups unsupported messages: the text from "not supported:" to
// the end of its first line, at most 120 bytes.
func reasonKey(msg string) string {
	if i := strings.Index(msg, "not supported:"); i >= 0 {
		msg = msg[i:]
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > 120 {
		msg = msg[:120] + "…"
	}
	return msg
}

// firstFrames keeps the top of a panic's stack: enough to find the bug.
func firstFrames(stack []byte) string {
	lines := strings.Split(string(stack), "\n")
	if len(lines) > 16 {
		lines = lines[:16]
	}
	return strings.Join(lines, "\n")
}
