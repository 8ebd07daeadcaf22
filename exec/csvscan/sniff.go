package csvscan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/quernsql/quern/exec/compressed"
)

const (
	// sampleBytes is how much of a file Sniff reads: every complete record in
	// it feeds type inference.
	sampleBytes = 1 << 20
	// detectRows is how many records after the header decide the delimiter
	// and quoting, for each candidate tried.
	detectRows = 100
)

var bom = []byte{0xEF, 0xBB, 0xBF}

// Sniff reads the start of a delimited text file and works out its Format.
//
//   - The first line is the header, and it must be there: its fields name the
//     columns. Names are trimmed of surrounding blanks; a blank name becomes
//     columnN (N its 1-based position); a name equal, ignoring letter case, to
//     an earlier one gets the first free suffix _2, _3, … since SQL names are
//     case-insensitive. A UTF-8 byte order mark before it is skipped.
//   - The delimiter is the one of ',' '|' ';' '\t' that splits the header and
//     the next detectRows records into the same number of fields, the most
//     fields winning (a .tsv path allows only tab). Quoting is assumed unless
//     it breaks that consistency; MultilineQuotes is set when a quoted field
//     in the sample holds a line break.
//   - Each column takes the narrowest type that reads every non-empty value in
//     the first sampleBytes of the file: BIGINT, else DOUBLE, else BOOLEAN,
//     else DATE, else VARCHAR. A column with no non-empty value is VARCHAR.
//
// Errors name the path (and the line where one applies).
func Sniff(path string) (Format, error) { return SniffWith(path, SniffOptions{}) }

// SniffOptions change how Sniff reads a file.
type SniffOptions struct {
	// IgnoreErrors sniffs a file with malformed records: records of the
	// sample with the wrong number of fields or broken quoting are left
	// out (a candidate delimiter may miss on up to a tenth of them), and
	// the Format has IgnoreErrors set, so readers skip such records too.
	IgnoreErrors bool
}

// SniffWith is Sniff with options.
func SniffWith(path string, o SniffOptions) (Format, error) {
	file, err := compressed.Open(path)
	if err != nil {
		return Format{}, err
	}
	defer file.Close()
	buf := make([]byte, sampleBytes+1)
	n, err := io.ReadFull(file, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		if errors.Is(err, compressed.ErrCorrupt) {
			return Format{}, err // names the path and the line
		}
		return Format{}, fmt.Errorf("read %s: %w", path, err)
	}
	eof := n <= sampleBytes
	data := buf[:min(n, sampleBytes)]
	if len(data) == 0 {
		return Format{}, fmt.Errorf("%s: empty file; a CSV file starts with a header line", path)
	}
	off := 0
	if bytes.HasPrefix(data, bom) {
		off = len(bom)
	}
	if off == len(data) {
		return Format{}, fmt.Errorf("%s: empty file (only a byte-order mark); a CSV file starts with a header line", path)
	}
	if data[off] == '\n' || (data[off] == '\r' && off+1 < len(data) && data[off+1] == '\n') {
		return Format{}, &ParseError{Path: path, Line: 1, Msg: "blank first line; a CSV file starts with a header line naming its columns"}
	}
	s := sample{path: path, data: data, off: off, eof: eof, lenient: o.IgnoreErrors}

	delims := []byte{',', '|', ';', '\t'}
	if strings.EqualFold(filepath.Ext(compressed.Strip(path)), ".tsv") {
		delims = []byte{'\t'}
	}
	// A candidate must split every record it reaches the same way; among
	// those, more fields win, then the order tried. A file is only taken to
	// have a single column when no candidate splits its header at all, so that
	// a ragged CSV file is reported as such.
	var best, widest *trial
	for _, d := range delims {
		for _, quoted := range []bool{true, false} {
			t := s.try(d, quoted)
			switch {
			case t.bad != nil:
				if widest == nil || t.header > widest.header {
					widest = t
				}
			case best == nil || t.header > best.header:
				best = t
			}
		}
	}
	if best == nil || (best.header == 1 && widest != nil && widest.header > 1) {
		return Format{}, widest.bad
	}
	f, err := s.infer(best.delim, best.quoted)
	if err != nil {
		return Format{}, err
	}
	f.Source = path
	f.IgnoreErrors = o.IgnoreErrors
	return f, nil
}

// sample is the start of a file held in memory while Sniff looks at it.
type sample struct {
	path string
	data []byte
	off  int  // where the header starts (after a BOM)
	eof  bool // data holds the whole file
	// lenient leaves malformed records out instead of failing
	// (SniffOptions.IgnoreErrors).
	lenient bool
}

// trial is how well one candidate delimiter and quoting split the sample.
type trial struct {
	delim  byte
	quoted bool
	header int   // fields in the header
	bad    error // the first record the candidate could not split consistently
	ragged int   // records left out as malformed (lenient sniffing only)
}

func (s *sample) try(delim byte, quoted bool) *trial {
	t := &trial{delim: delim, quoted: quoted}
	sp := newSplitter(delim, quoted, true)
	sp.all = true
	rows := 0
	var firstBad error
	malformed := func(err error) error {
		if !s.lenient {
			return err
		}
		t.ragged++
		if firstBad == nil {
			firstBad = err
		}
		rows++
		if rows > detectRows {
			return errStop
		}
		return nil
	}
	stop, err := s.walk(sp, func(start int) error {
		if rows == 0 {
			t.header = len(sp.fields)
		} else if len(sp.fields) != t.header {
			return malformed(s.fieldCountError(start, t.header, len(sp.fields)))
		}
		rows++
		if rows > detectRows {
			return errStop
		}
		return nil
	}, malformed)
	tooRagged := func() error {
		return fmt.Errorf("%w (%d of the first %d records are malformed: too many to skip with csv_ignore_errors, which takes at most one in ten)", firstBad, t.ragged, rows)
	}
	switch {
	case err == errStop && t.ragged*10 > rows:
		t.bad = tooRagged()
	case err == errStop:
	case err != nil:
		t.bad = err
	case t.ragged*10 > rows:
		t.bad = tooRagged()
	case rows > 0 && len(s.data)-stop > sampleBytes/4:
		// A quote opened by mistake swallows the rest of the sample as one
		// field; real records are not that long.
		line, col := s.position(stop)
		t.bad = &ParseError{Path: s.path, Line: line, Col: col, Msg: "record does not end within the first " +
			strconv.Itoa(sampleBytes>>20) + " MiB (is a quote left open?)"}
	}
	return t
}

var errStop = errors.New("stop")

// walk calls fn with the start offset of each record in the sample, the
// fields being in sp.fields; it ends at the sample's end (an incomplete last
// record is dropped), at fn's first error, or at a quoting error. When
// lenient, a quoting error past the header goes to malformed instead, and
// the walk resumes after the line end that follows the fault. It returns the
// offset where it stopped.
func (s *sample) walk(sp *splitter, fn func(start int) error, malformed func(error) error) (int, error) {
	p := s.off
	for p < len(s.data) {
		next, _, res := sp.record(s.data, p, s.eof, 0, nil)
		switch res {
		case recMore:
			return p, nil
		case recErr:
			if !s.lenient || p == s.off {
				return p, s.quoteError(sp)
			}
			if err := malformed(s.quoteError(sp)); err != nil {
				return p, err
			}
			next = len(s.data)
			if sp.errKind != errUnterminated {
				k := bytes.IndexByte(s.data[sp.errAt:], '\n')
				if k < 0 {
					return len(s.data), nil // resumes past the sample
				}
				next = sp.errAt + k + 1
			}
		case recOK:
			if err := fn(p); err != nil {
				return p, err
			}
		}
		p = next
	}
	return p, nil
}

const (
	maybeInt = 1 << iota
	maybeDouble
	maybeBool
	maybeDate
	maybeAny = maybeInt | maybeDouble | maybeBool | maybeDate
)

// infer reads the whole sample with the chosen delimiter and quoting and
// builds the Format: names, types, and whether quotes span lines.
func (s *sample) infer(delim byte, quoted bool) (Format, error) {
	f := Format{Delim: delim, Quoted: quoted}
	sp := newSplitter(delim, quoted, true)
	sp.all = true
	var maybe []uint8
	var seen []bool
	rows := 0
	_, err := s.walk(sp, func(start int) error {
		for _, fd := range sp.fields {
			if fd.flags&flagQuoted != 0 && bytes.IndexByte(s.data[fd.start:fd.end], '\n') >= 0 {
				f.MultilineQuotes = true
			}
		}
		if rows == 0 {
			f.Header = s.names(sp.fields)
			maybe = make([]uint8, len(f.Header))
			seen = make([]bool, len(f.Header))
			for i := range maybe {
				maybe[i] = maybeAny
			}
			rows++
			return nil
		}
		if len(sp.fields) != len(f.Header) {
			if s.lenient {
				return nil // left out, as the reader will skip it
			}
			return s.fieldCountError(start, len(f.Header), len(sp.fields))
		}
		rows++
		for i, fd := range sp.fields {
			v := s.data[fd.start:fd.end]
			if len(v) == 0 {
				continue
			}
			seen[i] = true
			m := maybe[i]
			if fd.flags&flagEscaped != 0 {
				m = 0 // a quote in the value: no number, date or boolean has one
			}
			if m&maybeInt != 0 {
				if _, ok := parseInt(v); !ok {
					m &^= maybeInt
				}
			}
			if m&maybeDouble != 0 {
				if _, ok := parseFloat(v); !ok {
					m &^= maybeDouble
				}
			}
			if m&maybeBool != 0 {
				if _, ok := parseBool(v); !ok {
					m &^= maybeBool
				}
			}
			if m&maybeDate != 0 {
				if _, ok := parseDate(v); !ok {
					m &^= maybeDate
				}
			}
			maybe[i] = m
		}
		return nil
	}, func(error) error { return nil })
	if err != nil {
		return Format{}, err
	}
	if rows == 0 {
		return Format{}, &ParseError{Path: s.path, Line: 1, Msg: fmt.Sprintf("header line is longer than %d bytes", sampleBytes)}
	}
	f.SampleRows = rows - 1
	f.Types = make([]Type, len(f.Header))
	for i, m := range maybe {
		switch {
		case !seen[i]:
			f.Types[i] = Varchar
		case m&maybeInt != 0:
			f.Types[i] = BigInt
		case m&maybeDouble != 0:
			f.Types[i] = Double
		case m&maybeBool != 0:
			f.Types[i] = Boolean
		case m&maybeDate != 0:
			f.Types[i] = Date
		default:
			f.Types[i] = Varchar
		}
	}
	return f, nil
}

// names turns the header fields into unique, non-blank column names.
func (s *sample) names(fields []span) []string { return columnNames(s.data, fields) }

// columnNames turns the header fields, spans of data, into unique,
// non-blank column names (the rules are on Sniff). Readers use it too, to
// check that each file of a glob names the same columns.
func columnNames(data []byte, fields []span) []string {
	out := make([]string, len(fields))
	taken := make(map[string]bool, len(fields))
	for i, fd := range fields {
		v := data[fd.start:fd.end]
		if fd.flags&flagEscaped != 0 {
			v = unescape(nil, v)
		}
		name := strings.TrimSpace(string(v))
		if name == "" {
			name = "column" + strconv.Itoa(i+1)
		}
		base := name
		for k := 2; taken[strings.ToLower(name)]; k++ {
			name = base + "_" + strconv.Itoa(k)
		}
		taken[strings.ToLower(name)] = true
		out[i] = name
	}
	return out
}

// position turns a sample offset into a 1-based line and byte column.
func (s *sample) position(off int) (line, col int64) {
	head := s.data[:off]
	return int64(bytes.Count(head, []byte{'\n'})) + 1, int64(off - bytes.LastIndexByte(head, '\n'))
}

func (s *sample) fieldCountError(start, want, got int) error {
	line, _ := s.position(start)
	return &ParseError{Path: s.path, Line: line, Msg: fieldCountMsg(want, got)}
}

func (s *sample) quoteError(sp *splitter) error {
	line, col := s.position(sp.errAt)
	return &ParseError{Path: s.path, Line: line, Col: col, Msg: quoteMsg(sp.errKind, s.data[sp.errAt])}
}

func fieldCountMsg(want, got int) string {
	return fmt.Sprintf("expected %d fields as in the header, found %d", want, got)
}

func quoteMsg(kind quoteErr, at byte) string {
	switch kind {
	case errAfterQuote:
		return fmt.Sprintf("unexpected %q after a closing quote; a quote inside a quoted field is written as two quotes (\"\")", at)
	case errUnterminated:
		return "quoted field is not closed before the end of the file"
	default:
		return "quoted field is not closed on its line; line breaks inside quotes are only read from files that show one in their first " +
			strconv.Itoa(sampleBytes>>20) + " MiB"
	}
}
