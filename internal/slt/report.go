package slt

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
)

// maxReportLines bounds the expected/got lines printed per failure.
const maxReportLines = 20

// WriteSummary prints the failures kept in r, one line per script, and
// last the total line
//
//	N passed, N failed, N skipped
//
// which CI parses; no other line has that form. Verbose mode also lists
// every known difference skipped, with its reason, and the unsupported
// records and reasons.
func WriteSummary(w io.Writer, r *Result, verbose bool) error {
	bw := bufio.NewWriter(w)
	for i := range r.Failures {
		writeFailure(bw, "FAIL", &r.Failures[i])
	}
	if verbose {
		for i := range r.UnsupportedList {
			writeFailure(bw, "UNSUPPORTED", &r.UnsupportedList[i])
		}
		for _, s := range r.Skips {
			fmt.Fprintf(bw, "SKIP %s:%d: %s\n", s.File, s.Line, s.Reason)
		}
	}
	if len(r.UnsupportedReasons) > 0 {
		type reason struct {
			msg string
			n   int
		}
		var rs []reason
		for m, n := range r.UnsupportedReasons {
			rs = append(rs, reason{m, n})
		}
		slices.SortFunc(rs, func(a, b reason) int {
			return cmp.Or(cmp.Compare(b.n, a.n), cmp.Compare(a.msg, b.msg))
		})
		if !verbose && len(rs) > 10 {
			rs = rs[:10]
		}
		fmt.Fprintln(bw, "unsupported:")
		for _, x := range rs {
			fmt.Fprintf(bw, "  %6d  %s\n", x.n, x.msg)
		}
	}
	for _, f := range r.Files {
		fmt.Fprintf(bw, "%s: passed=%d failed=%d skipped=%d (unsupported=%d known=%d) other-engine=%d\n",
			f.File, f.Passed, f.Failed, f.Skipped, f.Unsupported, f.Known, f.OtherEngine)
	}
	if r.Err != nil {
		fmt.Fprintf(bw, "run stopped early: %v\n", r.Err)
	}
	t := r.Total()
	fmt.Fprintf(bw, "%d passed, %d failed, %d skipped\n", t.Passed, t.Failed, t.Skipped)
	return bw.Flush()
}

func writeFailure(w io.Writer, tag string, f *Failure) {
	fmt.Fprintf(w, "%s %s:%d: %s\n", tag, f.File, f.Line, f.Kind)
	writeIndented(w, "    ", strings.Split(f.SQL, "\n"))
	if f.Err != "" {
		writeIndented(w, "  error: ", []string{firstLines(f.Err)})
	}
	if f.Expected != nil || f.Got != nil {
		fmt.Fprintln(w, "  expected:")
		writeIndented(w, "    ", f.Expected)
	}
	if f.Got != nil {
		fmt.Fprintln(w, "  got:")
		writeIndented(w, "    ", f.Got)
	}
}

func writeIndented(w io.Writer, prefix string, lines []string) {
	for i, l := range lines {
		if i == maxReportLines {
			fmt.Fprintf(w, "%s… %d more lines\n", prefix, len(lines)-i)
			return
		}
		fmt.Fprintf(w, "%s%s\n", prefix, l)
	}
}

// firstLines keeps an error message to its first few lines (a panic's stack
// is long).
func firstLines(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > maxReportLines {
		lines = lines[:maxReportLines]
	}
	return strings.Join(lines, "\n  ")
}
