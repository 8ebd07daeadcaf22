package repl

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/sql"
)

// BatchOptions configure a script run.
type BatchOptions struct {
	Format Format
	Writer WriterOptions
	// Bail stops at the first failing statement (the default for scripts).
	Bail bool
	// Echo prints each statement before its result.
	Echo bool
	// Name is the script's name in error messages ("" for -c text).
	Name string
}

// ScriptError is the error of one failed statement of a script, positioned
// in the script.
type ScriptError struct {
	Name      string // script name, "" for -c
	Line, Col int    // of the error in the script (or of the statement)
	Err       error
}

func (e *ScriptError) Error() string {
	msg := e.Err.Error()
	if e.Name != "" {
		return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, msg)
	}
	return msg
}

func (e *ScriptError) Unwrap() error { return e.Err }

// RunScript runs the statements of src in order, writing each result to
// out. It returns the errors of the statements that failed (only the first
// when opts.Bail).
func RunScript(ctx context.Context, db *quern.DB, src string, out io.Writer, opts BatchOptions) []error {
	var errs []error
	w := NewResultWriter(out, opts.Format, opts.Writer)
	for _, st := range SplitStatements(src) {
		if opts.Echo {
			fmt.Fprintf(out, "%s;\n", st.SQL)
		}
		if err := runStatement(ctx, db, st.SQL, w); err != nil {
			errs = append(errs, positioned(opts.Name, st, err))
			if opts.Bail || ctx.Err() != nil {
				break
			}
		}
	}
	return errs
}

func runStatement(ctx context.Context, db *quern.DB, text string, w *ResultWriter) error {
	rs, err := db.Run(ctx, text)
	if err != nil {
		return err
	}
	defer rs.Release()
	if rs.Schema().NumFields() == 0 {
		for rs.Next() {
		}
		return rs.Err()
	}
	if w.format == FormatTable && rs.Schema().HasMetadata() {
		if _, ok := rs.Schema().Metadata().GetValue(quern.TextResultKey); ok {
			return writeText(rs, w)
		}
	}
	w.WriteSchema(rs.Schema())
	for rs.Next() {
		if err := w.WriteRecord(rs.Record()); err != nil {
			return err
		}
	}
	if err := rs.Err(); err != nil {
		w.Finish()
		return err
	}
	return w.Finish()
}

// positioned moves an error's statement-relative position into the script.
func positioned(name string, st Statement, err error) error {
	se := &ScriptError{Name: name, Line: st.Line, Col: st.Col, Err: err}
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
func writeText(rs *quern.Result, w *ResultWriter) error {
	for rs.Next() {
		rec := rs.Record()
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
