package slt

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Rewrite copies the script src to w with the expected result of every
// query in actual (from a run with Options.KeepActual) replaced by what
// the engine returned: one value per line, or "N values hashing to H"
// when there are more values than the hash threshold then in effect.
// Everything else is copied unchanged (with LF line ends). Queries that
// were not run (skipped, errored, known differences) keep their results.
// This is how golden files are regenerated: review the diff, never edit
// results by hand.
func Rewrite(w io.Writer, src io.Reader, records []Record, actual map[string]Actual) error {
	type edit struct {
		from, to int // replace lines from..to (1-based, inclusive); to < from inserts before from
		lines    []string
	}
	edits := map[int]edit{} // keyed by first line
	for i := range records {
		rec := &records[i]
		a, ok := actual[rec.Pos()]
		if rec.Kind != Query || !ok {
			continue
		}
		var lines []string
		if a.Threshold > 0 && len(a.Values) > a.Threshold {
			lines = []string{hashLine(len(a.Values), hashValues(a.Values))}
		} else {
			lines = a.Values
		}
		if rec.HasResult {
			edits[rec.SepLine+1] = edit{from: rec.SepLine + 1, to: rec.End, lines: lines}
		} else {
			edits[rec.End+1] = edit{from: rec.End + 1, to: rec.End, lines: append([]string{"----"}, lines...)}
		}
	}
	sc := bufio.NewScanner(src)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	bw := bufio.NewWriter(w)
	skipTo := 0
	n := 0
	flushEdit := func(line int) {
		if e, ok := edits[line]; ok {
			for _, l := range e.lines {
				bw.WriteString(l)
				bw.WriteByte('\n')
			}
			skipTo = e.to
		}
	}
	for sc.Scan() {
		n++
		flushEdit(n)
		if n <= skipTo {
			continue
		}
		bw.WriteString(strings.TrimSuffix(sc.Text(), "\r"))
		bw.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("slt: rewriting: reading the script: %w", err)
	}
	// A query whose record ends on the last line inserts after it.
	flushEdit(n + 1)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("slt: rewriting: %w", err)
	}
	return nil
}
