package slt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Kind is what a record does.
type Kind int

const (
	// Statement runs SQL that must succeed (or fail, with ExpectError).
	Statement Kind = iota
	// Query runs SQL and compares its rendered values with the expectation.
	Query
	// HashThreshold sets the value count above which results are hashed.
	HashThreshold
	// Halt stops the script.
	Halt
)

func (k Kind) String() string {
	switch k {
	case Statement:
		return "statement"
	case Query:
		return "query"
	case HashThreshold:
		return "hash-threshold"
	case Halt:
		return "halt"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// SortMode says how a query's rendered values are ordered before comparing.
type SortMode int

const (
	// NoSort keeps the engine's order.
	NoSort SortMode = iota
	// RowSort sorts whole rows, comparing rendered values column by column.
	RowSort
	// ValueSort sorts every value on its own, ignoring rows.
	ValueSort
)

func (m SortMode) String() string {
	switch m {
	case NoSort:
		return "nosort"
	case RowSort:
		return "rowsort"
	case ValueSort:
		return "valuesort"
	}
	return fmt.Sprintf("SortMode(%d)", int(m))
}

// Condition is one skipif/onlyif line.
type Condition struct {
	Only   bool   // onlyif (true) or skipif (false)
	Engine string // lower case
}

// Record is one record of a script.
type Record struct {
	Kind Kind
	// File is the name given to Parse; Line is the 1-based line of the
	// command ("query …", "statement …"), Start the line of its first
	// condition (or Line), and End its last line.
	File             string
	Line, Start, End int
	Conditions       []Condition

	// SQL is the statement text: the record's SQL lines joined with "\n",
	// without a trailing ';'. Comment lines are left out.
	SQL string

	// ExpectError is set by "statement error". ErrorContains is the optional
	// text after it ("statement error not supported"), which the error
	// message must then contain.
	ExpectError   bool
	ErrorContains string

	// Types has one letter per result column: I, R or T.
	Types string
	Sort  SortMode
	Label string
	// HasResult is set when the query has a "----" line (SepLine). Without
	// one the query only has to succeed.
	HasResult bool
	SepLine   int
	// Expected holds the listed values, one per line as written (a line may
	// also hold a whole row, values separated by single spaces). When the
	// result is given as "N values hashing to H", Expected is nil and
	// HashCount and Hash are set.
	Expected  []string
	HashCount int
	Hash      string

	// Threshold is the value of a hash-threshold record.
	Threshold int
}

// SkippedFor reports whether the record's conditions exclude engine: a
// skipif naming it or an onlyif naming another engine.
func (r *Record) SkippedFor(engine string) bool {
	for _, c := range r.Conditions {
		if strings.EqualFold(c.Engine, engine) != c.Only {
			return true
		}
	}
	return false
}

// Pos returns "file:line" of the record's command.
func (r *Record) Pos() string { return r.File + ":" + strconv.Itoa(r.Line) }

// ParseError is a malformed script line.
type ParseError struct {
	File string
	Line int
	Msg  string
}

func (e *ParseError) Error() string { return fmt.Sprintf("slt: %s:%d: %s", e.File, e.Line, e.Msg) }

// maxLine bounds one script line; the corpus' longest is a few kB.
const maxLine = 16 << 20

// Parse reads a script. name is used in records and errors. It reads the
// whole script; a halt record is returned like any other (Run stops there
// when the halt applies to the engine).
func Parse(name string, r io.Reader) ([]Record, error) {
	p := &parser{name: name, sc: bufio.NewScanner(r)}
	p.sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var recs []Record
	for {
		rec, err := p.record()
		if err != nil {
			return recs, err
		}
		if rec == nil {
			return recs, nil
		}
		recs = append(recs, *rec)
	}
}

type parser struct {
	name    string
	sc      *bufio.Scanner
	lineNo  int
	pending *string // a line read ahead and pushed back
}

// next returns the next line that is not a comment, without its '\r', or
// ok=false at the end.
func (p *parser) next() (line string, ok bool, err error) {
	for {
		if p.pending != nil {
			line, p.pending = *p.pending, nil
			return line, true, nil
		}
		if !p.sc.Scan() {
			if err := p.sc.Err(); err != nil {
				if errors.Is(err, bufio.ErrTooLong) {
					return "", false, p.errorf(p.lineNo+1, "line longer than %d bytes", maxLine)
				}
				return "", false, fmt.Errorf("slt: reading %s: %w", p.name, err)
			}
			return "", false, nil
		}
		p.lineNo++
		line = strings.TrimSuffix(p.sc.Text(), "\r")
		if strings.HasPrefix(line, "#") {
			continue
		}
		return line, true, nil
	}
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return &ParseError{File: p.name, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func isBlank(line string) bool { return strings.TrimSpace(line) == "" }

// record parses the next record, or returns nil at the end of the script.
func (p *parser) record() (*Record, error) {
	var line string
	for {
		l, ok, err := p.next()
		if err != nil || !ok {
			return nil, err
		}
		if !isBlank(l) {
			line = l
			break
		}
	}
	rec := &Record{File: p.name, Start: p.lineNo}
	for {
		words := strings.Fields(stripRemark(line))
		if len(words) == 0 || (words[0] != "skipif" && words[0] != "onlyif") {
			break
		}
		if len(words) != 2 {
			return nil, p.errorf(p.lineNo, "want %q followed by one engine name, got %q", words[0], line)
		}
		rec.Conditions = append(rec.Conditions, Condition{Only: words[0] == "onlyif", Engine: strings.ToLower(words[1])})
		l, ok, err := p.next()
		if err != nil {
			return nil, err
		}
		if !ok || isBlank(l) {
			return nil, p.errorf(p.lineNo, "%s without a record after it", words[0])
		}
		line = l
	}
	rec.Line = p.lineNo
	words := strings.Fields(line)
	switch words[0] {
	case "statement":
		rec.Kind = Statement
		switch {
		case len(words) == 2 && words[1] == "ok":
		case len(words) >= 2 && words[1] == "error":
			rec.ExpectError = true
			rec.ErrorContains = strings.TrimSpace(strings.SplitN(strings.TrimSpace(line), "error", 2)[1])
		default:
			return nil, p.errorf(p.lineNo, "want \"statement ok\" or \"statement error\", got %q", line)
		}
		sql, _, err := p.sql(rec, false)
		if err != nil {
			return nil, err
		}
		rec.SQL = sql
	case "query":
		rec.Kind = Query
		if err := p.queryHeader(rec, words); err != nil {
			return nil, err
		}
		sql, sep, err := p.sql(rec, true)
		if err != nil {
			return nil, err
		}
		rec.SQL = sql
		if sep {
			rec.HasResult = true
			rec.SepLine = p.lineNo
			if err := p.results(rec); err != nil {
				return nil, err
			}
		}
	case "hash-threshold":
		n, err := -1, error(nil)
		if len(words) == 2 {
			n, err = strconv.Atoi(words[1])
		}
		if err != nil || n < 0 {
			return nil, p.errorf(p.lineNo, "want \"hash-threshold N\" with N >= 0, got %q", line)
		}
		rec.Kind, rec.Threshold = HashThreshold, n
	case "halt":
		rec.Kind = Halt
	default:
		return nil, p.errorf(p.lineNo, "unknown record type %q (want statement, query, hash-threshold or halt)", words[0])
	}
	if rec.End == 0 {
		rec.End = p.lineNo
	}
	if rec.Kind == HashThreshold || rec.Kind == Halt {
		// Anything else in the record is an error, not silently ignored.
		l, ok, err := p.next()
		if err != nil {
			return nil, err
		}
		if ok && !isBlank(l) {
			return nil, p.errorf(p.lineNo, "unexpected line %q after %s", l, rec.Kind)
		}
	}
	return rec, nil
}

// stripRemark drops the "# remark" of a condition line.
func stripRemark(line string) string {
	if i := strings.IndexByte(line, '#'); i >= 0 {
		return line[:i]
	}
	return line
}

func (p *parser) queryHeader(rec *Record, words []string) error {
	if len(words) < 2 || len(words) > 4 {
		return p.errorf(p.lineNo, "want \"query <types> [<sortmode> [<label>]]\", got %q", strings.Join(words, " "))
	}
	rec.Types = words[1]
	for _, c := range rec.Types {
		if c != 'I' && c != 'R' && c != 'T' {
			return p.errorf(p.lineNo, "query type %q: letters must be I, R or T", rec.Types)
		}
	}
	if len(words) >= 3 {
		switch words[2] {
		case "nosort":
			rec.Sort = NoSort
		case "rowsort":
			rec.Sort = RowSort
		case "valuesort":
			rec.Sort = ValueSort
		default:
			return p.errorf(p.lineNo, "unknown sort mode %q (want nosort, rowsort or valuesort)", words[2])
		}
	}
	if len(words) == 4 {
		rec.Label = words[3]
	}
	return nil
}

// sql reads SQL lines up to a blank line (or "----" for queries) and
// reports whether it stopped at "----".
func (p *parser) sql(rec *Record, query bool) (string, bool, error) {
	var lines []string
	sep := false
	for {
		l, ok, err := p.next()
		if err != nil {
			return "", false, err
		}
		if !ok || isBlank(l) {
			break
		}
		if query && strings.TrimRight(l, " \t") == "----" {
			sep = true
			break
		}
		lines = append(lines, l)
		rec.End = p.lineNo
	}
	sql := strings.TrimRight(strings.Join(lines, "\n"), " \t\n")
	sql = strings.TrimSpace(strings.TrimSuffix(sql, ";"))
	if sql == "" {
		return "", false, p.errorf(rec.Line, "%s without SQL", rec.Kind)
	}
	return sql, sep, nil
}

// results reads the expected values after "----".
func (p *parser) results(rec *Record) error {
	rec.End = p.lineNo
	for {
		l, ok, err := p.next()
		if err != nil {
			return err
		}
		if !ok || isBlank(l) {
			break
		}
		rec.Expected = append(rec.Expected, l)
		rec.End = p.lineNo
	}
	if len(rec.Expected) == 1 {
		if n, h, ok := parseHashLine(rec.Expected[0]); ok {
			rec.Expected, rec.HashCount, rec.Hash = nil, n, h
		}
	}
	return nil
}

// parseHashLine reads "<count> values hashing to <32 hex digits>".
func parseHashLine(s string) (int, string, bool) {
	count, rest, ok := strings.Cut(s, " values hashing to ")
	if !ok || len(rest) != 32 {
		return 0, "", false
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 0 {
		return 0, "", false
	}
	for _, c := range rest {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return 0, "", false
		}
	}
	return n, rest, true
}
