package repl

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
)

// Format is how a ResultWriter lays out a result.
type Format int

const (
	// FormatTable is a boxed, aligned table for people (MySQL client style).
	FormatTable Format = iota
	// FormatCSV is RFC 4180 comma-separated values with LF line ends.
	FormatCSV
	// FormatTSV is tab-separated values with backslash escapes.
	FormatTSV
	// FormatJSON is one JSON array of objects per result.
	FormatJSON
	// FormatJSONL is one JSON object per line.
	FormatJSONL
	// FormatMarkdown is a GitHub-flavoured pipe table.
	FormatMarkdown
	// FormatLine is one "name = value" line per column, rows separated by a
	// blank line.
	FormatLine
)

var formatNames = [...]string{
	FormatTable:    "table",
	FormatCSV:      "csv",
	FormatTSV:      "tsv",
	FormatJSON:     "json",
	FormatJSONL:    "jsonl",
	FormatMarkdown: "markdown",
	FormatLine:     "line",
}

// String returns the name ParseFormat accepts for f.
func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return fmt.Sprintf("Format(%d)", int(f))
	}
	return formatNames[f]
}

// ParseFormat reads a format name, case-insensitively. Besides the names
// Format.String returns it accepts the aliases "box" (table), "ndjson"
// (jsonl) and "md" (markdown).
func ParseFormat(s string) (Format, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	for f, n := range formatNames {
		if n == name {
			return Format(f), nil
		}
	}
	switch name {
	case "box":
		return FormatTable, nil
	case "ndjson":
		return FormatJSONL, nil
	case "md":
		return FormatMarkdown, nil
	}
	return 0, fmt.Errorf("unknown output format %q: use one of %s", s, strings.Join(formatNames[:], ", "))
}

// Defaults for WriterOptions fields left at zero.
const (
	DefaultMaxWidth = 40
	DefaultMaxRows  = 40
)

// WriterOptions tune a ResultWriter. The zero value gives the defaults.
type WriterOptions struct {
	// NoHeader leaves out the header line of CSV and TSV output.
	NoHeader bool
	// MaxWidth caps the characters shown per column in table mode; longer
	// values are cut and end in "…". 0 means DefaultMaxWidth, negative means
	// no cap.
	MaxWidth int
	// MaxRows caps the rows shown in table mode: the first and the last half
	// are shown around a "… N more rows" line. 0 means DefaultMaxRows,
	// negative means no cap. Only the shown rows are kept in memory.
	MaxRows int
}

// ResultWriter streams one result at a time to an io.Writer in a Format.
//
// Call WriteSchema (optional: the first record's schema is used otherwise),
// WriteRecord for each batch, then Finish. After Finish the writer may start
// the next result with WriteSchema. Records are only read during
// WriteRecord; the writer keeps no reference to them. The first write error
// is sticky: every later call returns it.
type ResultWriter struct {
	out    *bufio.Writer
	format Format
	opts   WriterOptions

	schema  *arrow.Schema
	started bool // header (or opening bracket) written for the current result
	rows    int  // rows written in the current result
	err     error

	cols []column // per-column codecs for the record being written
	buf  []byte   // scratch line buffer

	// table mode
	table *tableBuffer
	// json mode: pre-encoded `"name":` keys
	jsonKeys [][]byte
	// line mode: padded `name = ` prefixes
	lineNames [][]byte
}

// NewResultWriter returns a writer of results in format f to w.
func NewResultWriter(w io.Writer, f Format, opts WriterOptions) *ResultWriter {
	if opts.MaxWidth == 0 {
		opts.MaxWidth = DefaultMaxWidth
	}
	if opts.MaxRows == 0 {
		opts.MaxRows = DefaultMaxRows
	}
	return &ResultWriter{out: bufio.NewWriterSize(w, 32<<10), format: f, opts: opts}
}

// WriteSchema starts a result with the given schema. Nothing is written yet:
// headers go out with the first record or at Finish.
func (w *ResultWriter) WriteSchema(s *arrow.Schema) {
	w.schema = s
	w.started = false
	w.rows = 0
	w.table = nil
	w.jsonKeys = nil
}

// Rows returns the number of rows written in the current result.
func (w *ResultWriter) Rows() int { return w.rows }

// WriteRecord writes every row of rec. Its columns must match the schema
// given to WriteSchema in number.
func (w *ResultWriter) WriteRecord(rec arrow.Record) error {
	if w.err != nil {
		return w.err
	}
	if w.schema == nil {
		w.WriteSchema(rec.Schema())
	}
	if int(rec.NumCols()) != w.schema.NumFields() {
		return fmt.Errorf("repl: record has %d columns, result schema has %d", rec.NumCols(), w.schema.NumFields())
	}
	if !w.started {
		w.start()
	}
	w.cols = w.cols[:0]
	for _, arr := range rec.Columns() {
		w.cols = append(w.cols, newColumn(arr))
	}
	n := int(rec.NumRows())
	for i := 0; i < n; i++ {
		w.writeRow(i)
	}
	w.rows += n
	if w.format != FormatTable {
		// Flush per batch so streaming formats reach a pipe promptly.
		w.setErr(w.out.Flush())
	}
	return w.err
}

// Finish completes the current result (the table, the closing bracket of a
// JSON array, the row-count footer) and flushes the output.
func (w *ResultWriter) Finish() error {
	if w.err != nil {
		return w.err
	}
	if w.schema == nil {
		w.schema = arrow.NewSchema(nil, nil)
	}
	if !w.started {
		w.start()
	}
	switch w.format {
	case FormatJSON:
		if w.rows == 0 {
			w.write([]byte("[]\n"))
		} else {
			w.write([]byte("\n]\n"))
		}
	case FormatTable:
		w.table.render(w)
	}
	w.setErr(w.out.Flush())
	w.schema = nil
	w.started = false
	return w.err
}

func (w *ResultWriter) setErr(err error) {
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("repl: writing result: %w", err)
	}
}

func (w *ResultWriter) write(b []byte) {
	if w.err != nil {
		return
	}
	_, err := w.out.Write(b)
	w.setErr(err)
}

// start writes what comes before the first row.
func (w *ResultWriter) start() {
	w.started = true
	fields := w.schema.Fields()
	b := w.buf[:0]
	switch w.format {
	case FormatCSV, FormatTSV:
		if w.opts.NoHeader || len(fields) == 0 {
			break
		}
		for i, f := range fields {
			if w.format == FormatCSV {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendCSVField(b, f.Name, false)
			} else {
				if i > 0 {
					b = append(b, '\t')
				}
				b = appendTSVField(b, f.Name)
			}
		}
		b = append(b, '\n')
	case FormatMarkdown:
		if len(fields) == 0 {
			break
		}
		b = append(b, '|')
		for _, f := range fields {
			b = append(b, ' ')
			b = appendMarkdownCell(b, f.Name)
			b = append(b, " |"...)
		}
		b = append(b, "\n|"...)
		for _, f := range fields {
			if isNumericType(f.Type) {
				b = append(b, "---:|"...)
			} else {
				b = append(b, "---|"...)
			}
		}
		b = append(b, '\n')
	case FormatJSON, FormatJSONL:
		w.jsonKeys = jsonKeys(fields)
	case FormatLine:
		// Names right-aligned on " = ", as DuckDB's line mode does.
		names := make([]string, len(fields))
		width := 0
		for c, f := range fields {
			names[c] = string(appendDisplay(nil, f.Name))
			width = max(width, displayWidth(names[c]))
		}
		w.lineNames = make([][]byte, len(fields))
		for c, n := range names {
			w.lineNames[c] = append(appendSpaces(nil, width-displayWidth(n)), n+" = "...)
		}
	case FormatTable:
		w.table = newTableBuffer(fields, w.opts)
	}
	w.buf = b
	w.write(b)
}

func (w *ResultWriter) writeRow(i int) {
	b := w.buf[:0]
	switch w.format {
	case FormatCSV:
		for c := range w.cols {
			if c > 0 {
				b = append(b, ',')
			}
			col := &w.cols[c]
			if col.isNull(i) {
				continue
			}
			if col.kind == kindText {
				// Quote an empty string so it differs from NULL.
				b = appendCSVField(b, col.str(i), true)
			} else {
				b = col.text(b, i)
			}
		}
		b = append(b, '\n')
	case FormatTSV:
		for c := range w.cols {
			if c > 0 {
				b = append(b, '\t')
			}
			col := &w.cols[c]
			if col.isNull(i) {
				continue
			}
			if col.kind == kindText {
				b = appendTSVField(b, col.str(i))
			} else {
				b = col.text(b, i)
			}
		}
		b = append(b, '\n')
	case FormatJSON, FormatJSONL:
		if w.format == FormatJSON {
			if w.rows == 0 && i == 0 {
				b = append(b, "[\n"...)
			} else {
				b = append(b, ",\n"...)
			}
		}
		b = append(b, '{')
		for c := range w.cols {
			if c > 0 {
				b = append(b, ',')
			}
			b = append(b, w.jsonKeys[c]...)
			b = w.cols[c].json(b, i)
		}
		b = append(b, '}')
		if w.format == FormatJSONL {
			b = append(b, '\n')
		}
	case FormatMarkdown:
		if len(w.cols) == 0 {
			break
		}
		b = append(b, '|')
		for c := range w.cols {
			b = append(b, ' ')
			col := &w.cols[c]
			switch {
			case col.isNull(i):
				b = append(b, "NULL"...)
			case col.kind == kindText:
				b = appendMarkdownCell(b, col.str(i))
			default:
				b = col.text(b, i)
			}
			b = append(b, " |"...)
		}
		b = append(b, '\n')
	case FormatLine:
		if w.rows > 0 || i > 0 {
			b = append(b, '\n')
		}
		for c := range w.cols {
			b = append(b, w.lineNames[c]...)
			b = w.cols[c].display(b, i)
			b = append(b, '\n')
		}
	case FormatTable:
		w.table.add(&w.cols, i)
	}
	w.buf = b
	w.write(b)
}

// ---- values ----

// valueKind decides alignment and JSON encoding of a column.
type valueKind uint8

const (
	kindNumber valueKind = iota // exact number: JSON number, right-aligned
	kindFloat                   // double: JSON number unless NaN/Inf
	kindBool                    // 1/0 as text, true/false in JSON
	kindText                    // string or binary bytes
	kindOther                   // dates, times, anything else: JSON string
)

// column renders the values of one array. The typed closures are chosen
// once per array so the per-value path has no type switch.
type column struct {
	arr     arrow.Array
	allNull bool // a NULL-typed array, whose validity bitmap is empty
	kind    valueKind
	// text appends the text of the non-null value i.
	text func(dst []byte, i int) []byte
	// str returns the bytes of value i of a kindText column (nil otherwise).
	str func(i int) string
}

func newColumn(arr arrow.Array) column {
	c := column{arr: arr, kind: kindOther, allNull: arr.DataType().ID() == arrow.NULL}
	switch a := arr.(type) {
	case *array.Int64:
		c.kind = kindNumber
		c.text = func(dst []byte, i int) []byte { return strconv.AppendInt(dst, a.Value(i), 10) }
	case *array.Int32:
		c.kind = kindNumber
		c.text = func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) }
	case *array.Int16:
		c.kind = kindNumber
		c.text = func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) }
	case *array.Int8:
		c.kind = kindNumber
		c.text = func(dst []byte, i int) []byte { return strconv.AppendInt(dst, int64(a.Value(i)), 10) }
	case *array.Uint64:
		c.kind = kindNumber
		c.text = func(dst []byte, i int) []byte { return strconv.AppendUint(dst, a.Value(i), 10) }
	case *array.Uint32:
		c.kind = kindNumber
		c.text = func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Uint16:
		c.kind = kindNumber
		c.text = func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Uint8:
		c.kind = kindNumber
		c.text = func(dst []byte, i int) []byte { return strconv.AppendUint(dst, uint64(a.Value(i)), 10) }
	case *array.Float64:
		c.kind = kindFloat
		c.text = func(dst []byte, i int) []byte { return AppendFloat(dst, a.Value(i)) }
	case *array.Float32:
		c.kind = kindFloat
		c.text = func(dst []byte, i int) []byte { return appendFloat(dst, float64(a.Value(i)), 32) }
	case *array.Decimal128:
		c.kind = kindNumber
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		c.text = func(dst []byte, i int) []byte { return AppendDecimal128(dst, a.Value(i), scale) }
	case *array.Decimal64:
		c.kind = kindNumber
		scale := a.DataType().(*arrow.Decimal64Type).Scale
		c.text = func(dst []byte, i int) []byte { return appendScaledInt(dst, int64(a.Value(i)), scale) }
	case *array.Decimal32:
		c.kind = kindNumber
		scale := a.DataType().(*arrow.Decimal32Type).Scale
		c.text = func(dst []byte, i int) []byte { return appendScaledInt(dst, int64(a.Value(i)), scale) }
	case *array.Decimal256:
		c.kind = kindNumber
		scale := a.DataType().(*arrow.Decimal256Type).Scale
		c.text = func(dst []byte, i int) []byte { return append(dst, a.Value(i).ToString(scale)...) }
	case *array.Boolean:
		c.kind = kindBool
		c.text = func(dst []byte, i int) []byte {
			if a.Value(i) {
				return append(dst, '1')
			}
			return append(dst, '0')
		}
	case *array.String:
		c.kind = kindText
		c.str = a.Value
	case *array.LargeString:
		c.kind = kindText
		c.str = a.Value
	case *array.StringView:
		c.kind = kindText
		c.str = a.Value
	case *array.Binary:
		c.kind = kindText
		c.str = a.ValueString
	case *array.Date32:
		c.text = func(dst []byte, i int) []byte { return AppendDate(dst, int64(a.Value(i))) }
	case *array.Date64:
		c.text = func(dst []byte, i int) []byte {
			return AppendDate(dst, floorDiv(int64(a.Value(i)), 86400000))
		}
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		c.text = func(dst []byte, i int) []byte { return appendTimestamp(dst, int64(a.Value(i)), unit) }
	default:
		c.text = func(dst []byte, i int) []byte { return append(dst, arr.ValueStr(i)...) }
	}
	if c.kind == kindText {
		str := c.str
		c.text = func(dst []byte, i int) []byte { return append(dst, str(i)...) }
	}
	return c
}

func (c *column) isNull(i int) bool { return c.allNull || c.arr.IsNull(i) }

// display appends value i as shown to people: NULL as "NULL", text with
// control characters and invalid UTF-8 escaped.
func (c *column) display(dst []byte, i int) []byte {
	switch {
	case c.isNull(i):
		return append(dst, "NULL"...)
	case c.kind == kindText:
		return appendDisplay(dst, c.str(i))
	default:
		return c.text(dst, i)
	}
}

// json appends value i as a JSON value.
func (c *column) json(dst []byte, i int) []byte {
	if c.isNull(i) {
		return append(dst, "null"...)
	}
	switch c.kind {
	case kindNumber:
		return c.text(dst, i)
	case kindFloat:
		start := len(dst)
		dst = c.text(dst, i)
		switch txt := string(dst[start:]); txt {
		case "NaN", "Inf", "-Inf":
			// No JSON number form: keep them as strings.
			dst = appendJSONString(dst[:start], txt)
		}
		return dst
	case kindBool:
		if c.arr.(*array.Boolean).Value(i) {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	case kindText:
		return appendJSONString(dst, c.str(i))
	default:
		start := len(dst)
		dst = c.text(dst, i)
		txt := string(dst[start:])
		return appendJSONString(dst[:start], txt)
	}
}

// FormatValue returns the text of value i of arr as quern prints it: "NULL"
// for a null; integers in decimal; doubles as AppendFloat does; decimals
// with exactly their scale's digits after the point; booleans as 1 or 0
// (as MySQL returns them); dates as YYYY-MM-DD; timestamps as
// YYYY-MM-DD HH:MM:SS with a fraction only when it is not zero; strings as
// their bytes, unchanged.
func FormatValue(arr arrow.Array, i int) string {
	c := newColumn(arr)
	if c.isNull(i) {
		return "NULL"
	}
	if c.kind == kindText {
		return c.str(i)
	}
	return string(c.text(nil, i))
}

// AppendFloat appends a double the way MySQL 8 prints one: the shortest
// digits that read back as the same double, in plain notation when the
// decimal exponent is within [-15, 14] (0.000000000000001,
// 100000000000000, 0.1, 2.5) and in scientific notation otherwise, written
// without a '+' or leading zeros in the exponent (1e15, 1e-16,
// 1.2345678901234567e19). Zero is "0" whatever its sign; NaN and infinities
// are "NaN", "Inf" and "-Inf" (MySQL itself never produces them).
func AppendFloat(dst []byte, v float64) []byte { return appendFloat(dst, v, 64) }

func appendFloat(dst []byte, v float64, bits int) []byte {
	switch {
	case v == 0:
		return append(dst, '0')
	case math.IsNaN(v):
		return append(dst, "NaN"...)
	case math.IsInf(v, 1):
		return append(dst, "Inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-Inf"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], v, 'e', -1, bits)
	at := strings.LastIndexByte(string(e), 'e')
	exp, _ := strconv.Atoi(string(e[at+1:]))
	if exp >= -15 && exp < 15 {
		return strconv.AppendFloat(dst, v, 'f', -1, bits)
	}
	dst = append(dst, e[:at]...)
	dst = append(dst, 'e')
	return strconv.AppendInt(dst, int64(exp), 10)
}

// AppendDecimal128 appends n scaled by 10^-scale with exactly scale digits
// after the point (3.50 for 350 at scale 2).
func AppendDecimal128(dst []byte, n decimal.Decimal128, scale int32) []byte {
	hi, lo := n.HighBits(), n.LowBits()
	if (hi == 0 && lo < 1<<63) || (hi == -1 && lo >= 1<<63) {
		return appendScaledInt(dst, int64(lo), scale)
	}
	return appendScaledDigits(dst, n.BigInt().String(), scale)
}

func appendScaledInt(dst []byte, v int64, scale int32) []byte {
	var tmp [24]byte
	return appendScaledDigits(dst, string(strconv.AppendInt(tmp[:0], v, 10)), scale)
}

// appendScaledDigits places the decimal point into the integer digits s
// (with an optional leading '-') scale digits from the right.
func appendScaledDigits(dst []byte, s string, scale int32) []byte {
	if s[0] == '-' {
		dst = append(dst, '-')
		s = s[1:]
	}
	if scale <= 0 {
		dst = append(dst, s...)
		if s != "0" {
			for ; scale < 0; scale++ {
				dst = append(dst, '0')
			}
		}
		return dst
	}
	sc := int(scale)
	if len(s) <= sc {
		dst = append(dst, "0."...)
		for k := len(s); k < sc; k++ {
			dst = append(dst, '0')
		}
		return append(dst, s...)
	}
	dst = append(dst, s[:len(s)-sc]...)
	dst = append(dst, '.')
	return append(dst, s[len(s)-sc:]...)
}

// AppendDate appends the date that is days after 1970-01-01 as YYYY-MM-DD.
func AppendDate(dst []byte, days int64) []byte {
	y, m, d := time.Unix(days*86400, 0).UTC().Date()
	dst = appendYear(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, int(m))
	dst = append(dst, '-')
	return append2(dst, d)
}

// appendTimestamp appends a zone-less timestamp as
// YYYY-MM-DD HH:MM:SS[.fraction], the fraction having as many digits as the
// unit resolves (6 for microseconds) and shown only when not zero.
func appendTimestamp(dst []byte, v int64, unit arrow.TimeUnit) []byte {
	var perSec int64
	var digits int
	switch unit {
	case arrow.Second:
		perSec, digits = 1, 0
	case arrow.Millisecond:
		perSec, digits = 1e3, 3
	case arrow.Microsecond:
		perSec, digits = 1e6, 6
	default:
		perSec, digits = 1e9, 9
	}
	sec := floorDiv(v, perSec)
	frac := v - sec*perSec
	t := time.Unix(sec, 0).UTC()
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	dst = appendYear(dst, y)
	dst = append(dst, '-')
	dst = append2(dst, int(m))
	dst = append(dst, '-')
	dst = append2(dst, d)
	dst = append(dst, ' ')
	dst = append2(dst, hh)
	dst = append(dst, ':')
	dst = append2(dst, mm)
	dst = append(dst, ':')
	dst = append2(dst, ss)
	if frac != 0 {
		dst = append(dst, '.')
		var tmp [12]byte
		f := strconv.AppendInt(tmp[:0], frac, 10)
		for k := len(f); k < digits; k++ {
			dst = append(dst, '0')
		}
		dst = append(dst, f...)
	}
	return dst
}

func appendYear(dst []byte, y int) []byte {
	if y < 0 {
		dst = append(dst, '-')
		y = -y
	}
	for p := 1000; p > 1 && y < p; p /= 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(y), 10)
}

func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func isNumericType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT32, arrow.FLOAT64,
		arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		return true
	}
	return false
}

// ---- escaping ----

// appendCSVField quotes s per RFC 4180 only when it holds a comma, a quote,
// CR or LF (or, with quoteEmpty, when it is empty, so that an empty string
// differs from NULL, which is written as nothing).
func appendCSVField(dst []byte, s string, quoteEmpty bool) []byte {
	if !(quoteEmpty && s == "") && !strings.ContainsAny(s, ",\"\r\n") {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	for k := 0; k < len(s); k++ {
		if s[k] == '"' {
			dst = append(dst, '"')
		}
		dst = append(dst, s[k])
	}
	return append(dst, '"')
}

// appendTSVField escapes backslash, tab, LF and CR with backslashes, as
// MySQL's batch output does, so every row stays on one line.
func appendTSVField(dst []byte, s string) []byte {
	for k := 0; k < len(s); k++ {
		switch c := s[k]; c {
		case '\\':
			dst = append(dst, `\\`...)
		case '\t':
			dst = append(dst, `\t`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func appendMarkdownCell(dst []byte, s string) []byte {
	start := len(dst)
	dst = appendDisplay(dst, s)
	if !strings.Contains(string(dst[start:]), "|") {
		return dst
	}
	cell := string(dst[start:])
	return append(dst[:start], strings.ReplaceAll(cell, "|", `\|`)...)
}

// appendDisplay appends s for a terminal: tab, LF and CR as \t \n \r, other
// control characters and bytes that are not UTF-8 as \xNN (\u00NN for C1
// controls), so one value stays on one line and cannot move the cursor.
func appendDisplay(dst []byte, s string) []byte {
	for k := 0; k < len(s); {
		c := s[k]
		if c >= 0x20 && c < 0x7f {
			dst = append(dst, c)
			k++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[k:])
		switch {
		case r == '\t':
			dst = append(dst, `\t`...)
		case r == '\n':
			dst = append(dst, `\n`...)
		case r == '\r':
			dst = append(dst, `\r`...)
		case r == utf8.RuneError && size == 1, r < 0x80 && unicode.IsControl(r):
			dst = append(dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
		case unicode.IsControl(r):
			dst = fmt.Appendf(dst, `\u%04x`, r)
		default:
			dst = append(dst, s[k:k+size]...)
		}
		k += size
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string. Bytes that are not valid
// UTF-8 become U+FFFD (\ufffd), so the output is always valid JSON even for
// binary VARCHAR values; control characters use \n, \r, \t or \u00XX.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for k := 0; k < len(s); {
		c := s[k]
		if c >= 0x20 && c < 0x80 && c != '"' && c != '\\' {
			dst = append(dst, c)
			k++
			continue
		}
		if c < 0x80 {
			switch c {
			case '"':
				dst = append(dst, `\"`...)
			case '\\':
				dst = append(dst, `\\`...)
			case '\n':
				dst = append(dst, `\n`...)
			case '\r':
				dst = append(dst, `\r`...)
			case '\t':
				dst = append(dst, `\t`...)
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			}
			k++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[k:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[k:k+size]...)
		}
		k += size
	}
	return append(dst, '"')
}

// jsonKeys pre-encodes `"name":` for each field. Repeated names (SELECT a, a)
// get a suffix _2, _3, … so no object has duplicate keys.
func jsonKeys(fields []arrow.Field) [][]byte {
	seen := make(map[string]bool, len(fields))
	keys := make([][]byte, len(fields))
	for i, f := range fields {
		name := f.Name
		for n := 2; seen[name]; n++ {
			name = f.Name + "_" + strconv.Itoa(n)
		}
		seen[name] = true
		keys[i] = append(appendJSONString(nil, name), ':')
	}
	return keys
}

// displayWidth counts the characters a terminal shows for an already
// escaped string (one per rune; wide East Asian characters are not
// accounted for).
func displayWidth(s string) int { return utf8.RuneCountInString(s) }

// ---- table mode ----

// tableBuffer keeps the rows a table shows: the first half in head and the
// last half in a ring, so memory stays bounded however long the result.
type tableBuffer struct {
	names    []string
	right    []bool
	maxWidth int
	headCap  int // -1: unlimited
	tailCap  int
	head     [][]string
	tail     [][]string // ring of the last tailCap rows once head is full
	tailNext int
	total    int
}

func newTableBuffer(fields []arrow.Field, opts WriterOptions) *tableBuffer {
	t := &tableBuffer{maxWidth: opts.MaxWidth, headCap: -1}
	if opts.MaxRows > 0 {
		t.tailCap = opts.MaxRows / 2
		t.headCap = opts.MaxRows - t.tailCap
	}
	for _, f := range fields {
		t.names = append(t.names, t.clip(string(appendDisplay(nil, f.Name))))
		t.right = append(t.right, isNumericType(f.Type))
	}
	return t
}

func (t *tableBuffer) clip(s string) string {
	if t.maxWidth <= 0 || utf8.RuneCountInString(s) <= t.maxWidth {
		return s
	}
	n := 0
	for k := range s {
		if n == t.maxWidth-1 {
			return s[:k] + "…"
		}
		n++
	}
	return s
}

func (t *tableBuffer) add(cols *[]column, i int) {
	t.total++
	var row []string
	switch {
	case t.headCap < 0 || len(t.head) < t.headCap:
		row = make([]string, len(*cols))
		t.head = append(t.head, row)
	case t.tailCap == 0:
		return
	case len(t.tail) < t.tailCap:
		row = make([]string, len(*cols))
		t.tail = append(t.tail, row)
	default:
		row = t.tail[t.tailNext] // reuse the evicted row's slice
		t.tailNext = (t.tailNext + 1) % t.tailCap
	}
	var b []byte
	for c := range *cols {
		b = (*cols)[c].display(b[:0], i)
		row[c] = t.clip(string(b))
	}
}

func (t *tableBuffer) render(w *ResultWriter) {
	rows := t.head
	hidden := t.total - len(t.head) - len(t.tail)
	tail := append(t.tail[t.tailNext:len(t.tail):len(t.tail)], t.tail[:t.tailNext]...)
	if len(t.names) > 0 {
		widths := make([]int, len(t.names))
		for c, n := range t.names {
			widths[c] = displayWidth(n)
		}
		for _, part := range [][][]string{rows, tail} {
			for _, r := range part {
				for c, v := range r {
					widths[c] = max(widths[c], displayWidth(v))
				}
			}
		}
		msg := "… " + strconv.Itoa(hidden) + " more rows"
		inner := -3
		for _, wd := range widths {
			inner += wd + 3
		}
		if hidden > 0 && inner < displayWidth(msg) {
			// Widen the last column so the message fits inside the box.
			widths[len(widths)-1] += displayWidth(msg) - inner
			inner = displayWidth(msg)
		}
		rule := []byte{'+'}
		for _, wd := range widths {
			rule = append(rule, strings.Repeat("-", wd+2)...)
			rule = append(rule, '+')
		}
		rule = append(rule, '\n')
		line := func(cells []string, header bool) {
			b := append(w.buf[:0], '|')
			for c, v := range cells {
				pad := widths[c] - displayWidth(v)
				b = append(b, ' ')
				if t.right[c] && !header {
					b = appendSpaces(b, pad)
					b = append(b, v...)
				} else {
					b = append(b, v...)
					b = appendSpaces(b, pad)
				}
				b = append(b, " |"...)
			}
			b = append(b, '\n')
			w.buf = b
			w.write(b)
		}
		w.write(rule)
		line(t.names, true)
		w.write(rule)
		for _, r := range rows {
			line(r, false)
		}
		if hidden > 0 {
			b := append(w.buf[:0], "| "...)
			b = append(b, msg...)
			b = appendSpaces(b, inner-displayWidth(msg))
			b = append(b, " |\n"...)
			w.buf = b
			w.write(b)
		}
		for _, r := range tail {
			line(r, false)
		}
		w.write(rule)
	}
	if t.total == 1 {
		w.write([]byte("(1 row)\n"))
	} else {
		w.write([]byte("(" + strconv.Itoa(t.total) + " rows)\n"))
	}
}

func appendSpaces(dst []byte, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, ' ')
	}
	return dst
}
