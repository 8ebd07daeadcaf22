package jsonscan

import (
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/quernsql/quern/exec/compressed"
)

// Type is the SQL type of a JSON-lines column, spelled as SQL spells it so a
// Format reads well when printed or encoded inside a job.
type Type string

// The column types Sniff infers.
const (
	Null    Type = "NULL"    // only null or missing in the sample; Arrow null
	BigInt  Type = "BIGINT"  // int64
	Double  Type = "DOUBLE"  // float64
	Boolean Type = "BOOLEAN" // boolean
	Varchar Type = "VARCHAR" // utf8; also the JSON text of nested or mixed values
)

// ArrowType is the Arrow type values of t are read into, or nil for an
// unknown type.
func (t Type) ArrowType() arrow.DataType {
	switch t {
	case Null:
		return arrow.Null
	case BigInt:
		return arrow.PrimitiveTypes.Int64
	case Double:
		return arrow.PrimitiveTypes.Float64
	case Boolean:
		return arrow.FixedWidthTypes.Boolean
	case Varchar:
		return arrow.BinaryTypes.String
	}
	return nil
}

// Format is the shape of a JSON-lines table: column names (top-level keys)
// and their types, index for index. It is plain data that travels in jobs.
type Format struct {
	Columns []string
	Types   []Type
	// Source is the file Sniff read. The other files of a glob are read with
	// the same Format; errors about them name it.
	Source string `json:",omitempty"`
}

// Schema is the Arrow schema of all columns; every field is nullable. The
// Format must be valid (as Sniff makes it).
func (f Format) Schema() *arrow.Schema {
	fields := make([]arrow.Field, len(f.Columns))
	for i, name := range f.Columns {
		fields[i] = arrow.Field{Name: name, Type: f.Types[i].ArrowType(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

func (f Format) validate() error {
	if len(f.Columns) != len(f.Types) {
		return fmt.Errorf("internal: jsonscan: format has %d columns but %d types", len(f.Columns), len(f.Types))
	}
	for _, t := range f.Types {
		if t.ArrowType() == nil {
			return fmt.Errorf("internal: jsonscan: unknown column type %q", t)
		}
	}
	seen := make(map[string]bool, len(f.Columns))
	for _, name := range f.Columns {
		if seen[name] {
			return fmt.Errorf("internal: jsonscan: format names column %q twice", name)
		}
		seen[name] = true
	}
	return nil
}

// The sample Sniff reads: whole lines until either bound is reached.
const (
	sniffBytes = 1 << 20
	sniffLines = 10000
)

// Kinds seen for a column during sniffing, as bits.
const (
	seenBool uint8 = 1 << iota
	seenInt
	seenFloat
	seenOther // string, object or array: only VARCHAR can hold it
)

// Sniff infers a Format from the first lines of a JSON-lines file (about
// 1 MB or 10,000 lines, whichever ends first). A malformed line in the
// sample is an error naming the path and line.
//
// A .gz or .zst file is decompressed as it is read (see package compressed).
func Sniff(path string) (Format, error) {
	f, err := compressed.Open(path)
	if err != nil {
		return Format{}, fmt.Errorf("jsonscan: %w", err)
	}
	defer f.Close()

	src := newLineSource(f, 0, 64<<10)
	var (
		p     lineParser
		index = map[string]int{}
		names []string
		seen  []uint8
		bytes int64
	)
	for n := int64(1); n <= sniffLines && bytes < sniffBytes; n++ {
		line, start, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Format{}, readError(path, err)
		}
		bytes = start + int64(len(line)) + 1
		blank, err := p.begin(line)
		for !blank && err == nil {
			var (
				key []byte
				v   value
				ok  bool
			)
			key, v, ok, err = p.next()
			if !ok {
				break
			}
			i, known := index[string(key)]
			if !known {
				i = len(names)
				index[string(key)] = i
				names = append(names, string(key))
				seen = append(seen, 0)
			}
			seen[i] |= sniffKind(line[v.start:v.end], v.kind)
		}
		if err != nil {
			return Format{}, &LineError{Path: path, Line: n, Err: wrapSyntax(err)}
		}
	}

	out := Format{Columns: names, Types: make([]Type, len(names)), Source: path}
	for i, s := range seen {
		out.Types[i] = typeOf(s)
	}
	return out, nil
}

func sniffKind(text []byte, k kind) uint8 {
	switch k {
	case kindNull:
		return 0
	case kindTrue, kindFalse:
		return seenBool
	case kindInt:
		if _, ok := parseInt(text); ok {
			return seenInt
		}
		return seenFloat // too large for BIGINT
	case kindFloat:
		return seenFloat
	default:
		return seenOther
	}
}

func typeOf(seen uint8) Type {
	switch seen {
	case 0:
		return Null
	case seenInt:
		return BigInt
	case seenFloat, seenInt | seenFloat:
		return Double
	case seenBool:
		return Boolean
	default:
		return Varchar
	}
}

// ErrMalformed marks a line that is not valid JSON or not one JSON object.
var ErrMalformed = errors.New("malformed JSON")

// ErrType marks a value that its column's type cannot hold.
var ErrType = errors.New("value does not match the column type")

// ErrSchema marks a file of a glob whose keys are not the table's columns.
var ErrSchema = errors.New("file does not match the table's columns")

// readError wraps an I/O error of path once: decompression errors already
// name the file and line.
func readError(path string, err error) error {
	if errors.Is(err, compressed.ErrCorrupt) {
		return fmt.Errorf("jsonscan: %w", err)
	}
	return fmt.Errorf("jsonscan: reading %s: %w", path, err)
}

// LineError is a problem with one line of a file. It prints as
// "path:LINE: message" and unwraps to ErrMalformed or ErrType.
type LineError struct {
	Path string
	Line int64 // 1-based
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// kindError carries a sentinel kind with a specific message.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func wrapSyntax(err error) error {
	var se *syntaxError
	if errors.As(err, &se) {
		return &kindError{kind: ErrMalformed, msg: se.Error()}
	}
	return err
}
