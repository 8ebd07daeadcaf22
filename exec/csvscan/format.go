package csvscan

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// Type is the SQL type of a column, spelled as SQL spells it so that a Format
// reads well when it is printed or encoded as JSON.
type Type string

// The column types Sniff infers.
const (
	BigInt  Type = "BIGINT"  // int64
	Double  Type = "DOUBLE"  // float64
	Boolean Type = "BOOLEAN" // true/false in any letter case
	Date    Type = "DATE"    // YYYY-MM-DD, as date32
	Varchar Type = "VARCHAR" // the field's bytes, as utf8 (not validated)
)

// ArrowType is the Arrow type a column of t is read into, or nil for an
// unknown type.
func (t Type) ArrowType() arrow.DataType {
	switch t {
	case BigInt:
		return arrow.PrimitiveTypes.Int64
	case Double:
		return arrow.PrimitiveTypes.Float64
	case Boolean:
		return arrow.FixedWidthTypes.Boolean
	case Date:
		return arrow.FixedWidthTypes.Date32
	case Varchar:
		return arrow.BinaryTypes.String
	}
	return nil
}

// Format describes how to read one delimited text file. Sniff produces it; it
// is plain data so that it can travel inside a job to other processes.
type Format struct {
	// Delim separates fields: one of ',' '|' ';' '\t'.
	Delim byte
	// Quoted: a field that starts with '"' is quoted, ends at the next lone
	// '"', and writes a quote inside as "". Quotes elsewhere are plain bytes.
	Quoted bool
	// MultilineQuotes: quoted fields may contain line breaks, so a line start
	// is not necessarily a record start and the file cannot be split.
	MultilineQuotes bool
	// Header holds the column names (the file's first line, renamed where
	// blank or duplicate; see Sniff).
	Header []string
	// Types holds the column types, parallel to Header.
	Types []Type
	// SampleRows is how many data rows the types were inferred from; errors
	// about values that contradict a type quote it.
	SampleRows int
	// Source is the file Sniff read. The other files of a glob are read with
	// the same Format, and errors about them name it.
	Source string `json:",omitempty"`
	// IgnoreErrors makes a Reader skip malformed records (a value its
	// column's type cannot read, a wrong number of fields, broken quoting)
	// and count them (see Reader.Skipped) instead of failing.
	IgnoreErrors bool `json:",omitempty"`
}

// Schema is the Arrow schema of a whole row: one nullable field per column.
func (f Format) Schema() *arrow.Schema {
	fields := make([]arrow.Field, len(f.Header))
	for i, name := range f.Header {
		fields[i] = arrow.Field{Name: name, Type: f.Types[i].ArrowType(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// validate reports a Format the reader cannot use. Such a Format did not come
// from Sniff, so the errors are internal ones.
func (f Format) validate() error {
	switch f.Delim {
	case '"', '\n', '\r':
		return fmt.Errorf("internal: csv format has delimiter %q", f.Delim)
	}
	if len(f.Header) == 0 {
		return fmt.Errorf("internal: csv format has no columns")
	}
	if len(f.Types) != len(f.Header) {
		return fmt.Errorf("internal: csv format has %d names but %d types", len(f.Header), len(f.Types))
	}
	for i, t := range f.Types {
		if t.ArrowType() == nil {
			return fmt.Errorf("internal: csv format column %q has unknown type %q", f.Header[i], t)
		}
	}
	return nil
}

// Range is the byte range [Start, End) of a file that one reader scans.
//
// The range owns every record that starts at an offset p with
// Start <= p < End, where a record starts at offset 0 or right after a '\n'
// (outside quotes: with MultilineQuotes there is only ever one range). A
// reader whose Start is not 0 skips forward to the first line start at or
// after Start; it reads its last record to the end even past End. Adjacent
// ranges therefore read every record exactly once. The header, the record at
// offset 0, is read and skipped by the range that starts at 0.
type Range struct {
	Start, End int64
}

// Splits cuts a file of fileSize bytes into ranges of about target bytes each
// (see Range). A file whose quoted fields may span lines, a non-positive
// target or a file no bigger than target gives one range over the whole file.
func Splits(f Format, fileSize, target int64) []Range {
	if f.MultilineQuotes || target <= 0 || fileSize <= target {
		return []Range{{0, fileSize}}
	}
	n := (fileSize + target - 1) / target
	q, rem := fileSize/n, fileSize%n
	out := make([]Range, n)
	start := int64(0)
	for i := range n {
		size := q
		if i < rem { // spread the remainder over the first ranges
			size++
		}
		out[i] = Range{Start: start, End: start + size}
		start += size
	}
	return out
}

// ParseError is a malformed input: the file, the 1-based line and byte column
// where the problem is, and what is wrong. It is the user's data that is bad,
// so retrying the read cannot help.
type ParseError struct {
	Path string
	Line int64 // 1-based
	Col  int64 // 1-based byte column; 0 when the whole line is meant
	Msg  string
	// For a value its column's type cannot read: the 1-based field number,
	// the column's name and the value as written (Field is 0 otherwise).
	Field  int
	Column string
	Value  string
}

func (e *ParseError) Error() string {
	if e.Col > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
}
