package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/sql"
)

// BatchOptions configure a script run.
type BatchOptions struct {
	Format Format
	Writer WriterOptions
	// Bail stops at the first failing statement (the default for scripts).
	Bail bool
	// Echo prints each statement, with its ';', before its result.
	Echo bool
	// Name is the script's name in error messages ("" for -c text).
	Name string
	// Errors, when not nil, receives each failed statement's error as it
	// happens, followed by the statement's line with a caret under the
	// error's position when the error has one (see ScriptError.Caret). The
	// errors are returned as well.
	Errors io.Writer
	// Progress, when not nil, gets a progress line while a statement runs
	// longer than half a second. Give it standard error only when that is a
	// terminal.
	Progress io.Writer
}

// ScriptError is the error of one failed statement of a script, positioned
// in the script.
type ScriptError struct {
	Name      string // script name, "" for -c
	Line, Col int    // of the error in the script (or of the statement)
	Err       error
	// Source is the text of the script the positions refer to.
	Source string
}

// Error is "name:line: message", or the message alone for unnamed scripts.
func (e *ScriptError) Error() string {
	msg := e.Err.Error()
	if e.Name != "" {
		return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, msg)
	}
	return msg
}

func (e *ScriptError) Unwrap() error { return e.Err }

// Caret returns the script line the error points at with a caret under the
// column, or "" when the error has no position inside a statement.
func (e *ScriptError) Caret() string { return sql.Caret(e.Source, e.Err) }

// RunScript runs the statements of src in order, writing each result to
// out. It returns the errors of the statements that failed (only the first
// when opts.Bail). Cancelling ctx cancels the running statement and stops
// the script.
func RunScript(ctx context.Context, db *quern.DB, src string, out io.Writer, opts BatchOptions) []error {
	var errs []error
	w := NewResultWriter(out, opts.Format, opts.Writer)
	for _, st := range SplitStatements(src) {
		if opts.Echo {
			w.out.WriteString(st.SQL)
			w.out.WriteString(";\n")
		}
		var prog *progress
		if opts.Progress != nil {
			prog = startProgress(opts.Progress, defaultProgressDelay, jobStatus(db, time.Now()))
		}
		rs, err := db.Run(ctx, st.SQL)
		prog.Stop()
		if err == nil {
			var o outcome
			o, err = writeResult(rs, w)
			if err == nil && opts.Errors != nil {
				noteSkipped(opts.Errors, o)
			}
		}
		if ferr := w.out.Flush(); err == nil && ferr != nil {
			err = ferr
		}
		if err != nil {
			se := positioned(opts.Name, src, st, err)
			errs = append(errs, se)
			if opts.Errors != nil {
				writeError(opts.Errors, "quern: ", se)
			}
			if opts.Bail || ctx.Err() != nil {
				break
			}
		}
	}
	return errs
}

// writeError prints err after prefix, then its caret block if it has one.
func writeError(w io.Writer, prefix string, err error) {
	msg := prefix + err.Error() + "\n"
	var se *ScriptError
	if errors.As(err, &se) {
		if c := se.Caret(); c != "" {
			msg += indent(c, "  ") + "\n"
		}
	}
	io.WriteString(w, msg)
}

func indent(text, by string) string {
	return by + strings.ReplaceAll(text, "\n", "\n"+by)
}

// noteSkipped tells the user that rows were dropped: with
// csv_ignore_errors the answer covers only the well-formed rows.
func noteSkipped(w io.Writer, o outcome) {
	if o.stats != nil {
		if n := o.stats.SkippedRows(); n > 0 {
			fmt.Fprintf(w, "quern: note: %s skipped (csv_ignore_errors)\n", plural(int(n), "malformed input row"))
		}
	}
}

// outcome is what running one statement produced.
type outcome struct {
	rows    int64
	stats   *quern.JobStats
	scanned int64 // input bytes the job read
}

// writeResult drains rs into w and releases it. Statements without
// columns (SET) write nothing; text results (EXPLAIN) are printed as plain
// lines in table mode.
func writeResult(rs *quern.Result, w *ResultWriter) (outcome, error) {
	defer rs.Release()
	var o outcome
	if rs.Schema().NumFields() == 0 {
		for rs.Next() {
		}
		o.stats, o.scanned = rs.Stats, rs.InputBytes
		return o, rs.Err()
	}
	if w.format == FormatTable && isTextResult(rs) {
		err := writeText(rs, w, &o)
		o.stats, o.scanned = rs.Stats, rs.InputBytes
		return o, err
	}
	w.WriteSchema(rs.Schema())
	for rs.Next() {
		o.rows += rs.Record().NumRows()
		if err := w.WriteRecord(rs.Record()); err != nil {
			return o, err
		}
	}
	o.stats, o.scanned = rs.Stats, rs.InputBytes
	if err := rs.Err(); err != nil {
		// Close what was written (a JSON array, a table) so the output
		// stays well-formed; the error is what the caller reports.
		w.Finish()
		return o, err
	}
	return o, w.Finish()
}

func isTextResult(rs *quern.Result) bool {
	if !rs.Schema().HasMetadata() {
		return false
	}
	_, ok := rs.Schema().Metadata().GetValue(quern.TextResultKey)
	return ok
}

// positioned moves an error's statement-relative position into the script.
func positioned(name, src string, st Statement, err error) error {
	se := &ScriptError{Name: name, Line: st.Line, Col: st.Col, Err: err, Source: src}
	var e *sql.Error
	if errors.As(err, &e) && e.Line > 0 {
		c := *e
		if c.Line == 1 {
			c.Col += st.Col - 1
		}
		c.Line += st.Line - 1
		se.Line, se.Col, se.Err = c.Line, c.Col, &c
	}
	return se
}

// writeText prints a text result (EXPLAIN) as plain lines.
func writeText(rs *quern.Result, w *ResultWriter, o *outcome) error {
	for rs.Next() {
		rec := rs.Record()
		o.rows += rec.NumRows()
		for i := 0; i < int(rec.NumRows()); i++ {
			w.out.WriteString(FormatValue(rec.Column(0), i))
			w.out.WriteByte('\n')
		}
	}
	if err := w.out.Flush(); err != nil {
		return err
	}
	return rs.Err()
}
