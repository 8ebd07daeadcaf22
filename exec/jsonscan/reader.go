package jsonscan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec/compressed"
)

// Range is a byte range [Start, End) of a file. A Reader over it reads the
// lines that start at an offset in the range.
type Range struct{ Start, End int64 }

// Splits cuts a file of fileSize bytes into ranges of about target bytes
// (one range when target ≤ 0). It never looks at the file: line alignment
// is the Reader's job, so the ranges together read every line exactly once.
// An empty file still gets one (empty) range.
func Splits(fileSize, target int64) []Range {
	if fileSize <= 0 || target <= 0 || fileSize <= target {
		return []Range{{0, max(fileSize, 0)}}
	}
	n := (fileSize + target - 1) / target
	out := make([]Range, n)
	for i := range n {
		// Even cuts rather than n-1 full ranges and a runt.
		out[i] = Range{Start: fileSize * i / n, End: fileSize * (i + 1) / n}
	}
	return out
}

// lineSource hands out the lines of a file from a growing buffer, each with
// the file offset it starts at. It stops before the first line that starts at
// or beyond limit.
type lineSource struct {
	r      io.Reader
	buf    []byte
	lo, hi int   // unread bytes are buf[lo:hi]
	off    int64 // file offset of buf[lo]
	eof    bool
	limit  int64
}

func newLineSource(r io.Reader, off int64, size int) *lineSource {
	return &lineSource{r: r, buf: make([]byte, size), off: off, limit: 1<<63 - 1}
}

// next returns the next line without its '\n'; the slice is valid until the
// next call.
func (s *lineSource) next() (line []byte, start int64, err error) {
	for {
		if s.off >= s.limit {
			return nil, 0, io.EOF
		}
		if i := bytes.IndexByte(s.buf[s.lo:s.hi], '\n'); i >= 0 {
			line, start = s.buf[s.lo:s.lo+i], s.off
			s.lo += i + 1
			s.off += int64(i) + 1
			return stripBOM(line, start), start, nil
		}
		if s.eof {
			if s.lo == s.hi {
				return nil, 0, io.EOF
			}
			line, start = s.buf[s.lo:s.hi], s.off
			s.off += int64(s.hi - s.lo)
			s.lo = s.hi
			return stripBOM(line, start), start, nil
		}
		if err := s.fill(); err != nil {
			return nil, 0, err
		}
	}
}

// stripBOM drops a UTF-8 byte order mark that some editors put at the very
// start of a file.
func stripBOM(line []byte, start int64) []byte {
	if start == 0 && bytes.HasPrefix(line, []byte("\xEF\xBB\xBF")) {
		return line[3:]
	}
	return line
}

func (s *lineSource) fill() error {
	if s.lo > 0 {
		s.hi = copy(s.buf, s.buf[s.lo:s.hi])
		s.lo = 0
	}
	if s.hi == len(s.buf) { // one line fills the buffer: grow it
		s.buf = append(s.buf, make([]byte, len(s.buf))...)
	}
	n, err := s.r.Read(s.buf[s.hi:])
	s.hi += n
	if err == io.EOF {
		s.eof = true
		return nil
	}
	return err
}

// Reader reads a range of a JSON-lines file as Arrow records holding the
// projected columns of a Format.
type Reader struct {
	path      string
	file      *compressed.File
	src       *lineSource
	schema    *arrow.Schema
	alloc     memory.Allocator
	batchSize int

	cols   []column // projected columns, in output order
	slotOf map[string]int
	memo   []keyMemo // per member position on a line: the last key seen there
	slots  []value   // per distinct projected key: this line's value
	stamp  []int64   // per slot: the seq of the line that set it
	seq    int64     // lines parsed, used to tell stale slots from set ones
	parser lineParser
	text   []byte // scratch for decoded strings
	rec    arrow.Record
	err    error // sticky: once failed, every Next reports it
	done   bool

	// For a file of a glob other than Format.Source: the Format's columns,
	// against which the keys of the file's first line are checked.
	checkKeys map[string]bool
	source    string
}

// keyMemo remembers which slot the key at one member position resolved to.
// Lines of one file usually list their keys in the same order, so comparing
// against the previous line's key skips most map lookups.
type keyMemo struct {
	key  []byte
	slot int // -1: not projected
}

// column is one projected column with the builder its type needs; the
// builder is kept typed so the per-value path is a switch, not an interface
// call.
type column struct {
	name string
	typ  Type
	slot int // where readLine leaves this column's value
	i64  *array.Int64Builder
	f64  *array.Float64Builder
	bl   *array.BooleanBuilder
	str  *array.StringBuilder
	nul  *array.NullBuilder
}

const readBufferSize = 256 << 10

// wholeStream is the End of the range over a compressed file, whose
// decompressed size is unknown until its end.
const wholeStream = 1 << 62

// NewReader opens path and prepares to read the lines of r, emitting the
// Format's columns listed in columns (indexes into f.Columns, in output
// order; a column may be listed twice). With no columns it emits 0-column
// records whose NumRows counts the lines read. batchSize ≤ 0 means 16384
// rows per record.
//
// A .gz or .zst file is decompressed as it is read and read whole: r must
// start at 0, and its End is ignored. When path is not the file f was
// sniffed from (f.Source), the reader from offset 0 checks that the keys of
// the file's first line are all columns of f: the files of a glob share the
// Format sniffed from one of them.
func NewReader(path string, f Format, columns []int, r Range, alloc memory.Allocator, batchSize int) (*Reader, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	if batchSize <= 0 {
		batchSize = 16 * 1024
	}
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	fields := make([]arrow.Field, len(columns))
	cols := make([]column, len(columns))
	slotOf := make(map[string]int, len(columns))
	for i, c := range columns {
		if c < 0 || c >= len(f.Columns) {
			return nil, fmt.Errorf("internal: jsonscan: column index %d out of range for %d columns", c, len(f.Columns))
		}
		name := f.Columns[c]
		slot, seen := slotOf[name]
		if !seen {
			slot = len(slotOf)
			slotOf[name] = slot
		}
		cols[i] = column{name: name, typ: f.Types[c], slot: slot}
		fields[i] = arrow.Field{Name: name, Type: f.Types[c].ArrowType(), Nullable: true}
	}

	file, err := compressed.Open(path)
	if err != nil {
		return nil, fmt.Errorf("jsonscan: %w", err)
	}
	if file.Compressed() {
		if r.Start > 0 {
			file.Close()
			return nil, fmt.Errorf("internal: jsonscan: %s: a compressed file is read whole, not from byte %d", path, r.Start)
		}
		r.End = wholeStream
	}
	rd := &Reader{
		path:      path,
		file:      file,
		schema:    arrow.NewSchema(fields, nil),
		alloc:     alloc,
		batchSize: batchSize,
		cols:      cols,
		slotOf:    slotOf,
		slots:     make([]value, len(slotOf)),
		stamp:     make([]int64, len(slotOf)),
	}
	if r.Start == 0 && f.Source != "" && f.Source != path {
		rd.source = f.Source
		rd.checkKeys = make(map[string]bool, len(f.Columns))
		for _, c := range f.Columns {
			rd.checkKeys[c] = true
		}
	}
	bufSize := readBufferSize
	if n := r.End - r.Start; n >= 0 && n < int64(bufSize) {
		bufSize = int(n) + 4096 // small split: the lines end soon after
	}
	if r.End <= r.Start {
		rd.done = true
	} else if err := rd.seek(r, bufSize); err != nil {
		file.Close()
		return nil, err
	}
	for i := range rd.cols {
		rd.cols[i].newBuilder(alloc)
	}
	for i := range rd.stamp {
		rd.stamp[i] = -1
	}
	return rd, nil
}

// seek positions the source at the first line that starts in r: a line
// starts at offset 0 or just after a '\n', so from Start-1 skip through the
// first '\n' (which is the byte at Start-1 itself when a line starts at Start).
func (rd *Reader) seek(r Range, bufSize int) error {
	from := max(r.Start-1, 0)
	rd.src = newLineSource(io.NewSectionReader(rd.file, from, wholeStream), from, bufSize)
	if r.Start > 0 {
		if _, _, err := rd.src.next(); err != nil && err != io.EOF {
			return readError(rd.path, err)
		}
	}
	rd.src.limit = r.End
	return nil
}

func (c *column) newBuilder(alloc memory.Allocator) {
	switch c.typ {
	case BigInt:
		c.i64 = array.NewInt64Builder(alloc)
	case Double:
		c.f64 = array.NewFloat64Builder(alloc)
	case Boolean:
		c.bl = array.NewBooleanBuilder(alloc)
	case Varchar:
		c.str = array.NewStringBuilder(alloc)
	default:
		c.nul = array.NewNullBuilder(alloc)
	}
}

func (c *column) builder() array.Builder {
	switch c.typ {
	case BigInt:
		return c.i64
	case Double:
		return c.f64
	case Boolean:
		return c.bl
	case Varchar:
		return c.str
	default:
		return c.nul
	}
}

// Schema is the schema of the projected columns.
func (rd *Reader) Schema() *arrow.Schema { return rd.schema }

// Next returns the next record of at most batchSize rows, or io.EOF.
func (rd *Reader) Next(ctx context.Context) (arrow.Record, error) {
	if rd.rec != nil {
		rd.rec.Release()
		rd.rec = nil
	}
	if rd.err != nil {
		return nil, rd.err
	}
	if rd.done {
		return nil, io.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for i := range rd.cols {
		rd.cols[i].builder().Reserve(rd.batchSize)
	}
	rows := 0
	for rows < rd.batchSize {
		line, start, err := rd.src.next()
		if err == io.EOF {
			rd.done = true
			break
		}
		if err != nil {
			rd.err = readError(rd.path, err)
			return nil, rd.err
		}
		added, err := rd.readLine(line)
		if err != nil {
			rd.err = rd.lineError(start, err)
			return nil, rd.err
		}
		if added {
			rows++
		}
	}
	if rows == 0 && rd.done {
		return nil, io.EOF
	}
	arrs := make([]arrow.Array, len(rd.cols))
	for i := range rd.cols {
		arrs[i] = rd.cols[i].builder().NewArray()
	}
	rd.rec = array.NewRecordBatch(rd.schema, arrs, int64(rows))
	for _, a := range arrs {
		a.Release()
	}
	return rd.rec, nil
}

// readLine parses one line and appends its row; added is false for a blank
// line.
func (rd *Reader) readLine(line []byte) (added bool, err error) {
	p := &rd.parser
	blank, err := p.begin(line)
	if blank || err != nil {
		return false, err
	}
	rd.seq++
	for member := 0; ; member++ {
		key, v, ok, err := p.next()
		if err != nil {
			return false, err
		}
		if !ok {
			break
		}
		if rd.checkKeys != nil && !rd.checkKeys[string(key)] {
			return false, &kindError{kind: ErrSchema, msg: fmt.Sprintf(
				"key %q is not a column of the table, whose columns come from %s; the files of a glob must have the same keys", key, rd.source)}
		}
		if len(rd.cols) == 0 {
			continue
		}
		if i := rd.slotFor(member, key); i >= 0 {
			rd.slots[i] = v // a repeated key overwrites: the last value wins
			rd.stamp[i] = rd.seq
		}
	}
	rd.checkKeys = nil // only the first line is checked: it is cheap and catches a different file
	// Append only after the whole line parsed, so a malformed line never
	// leaves a half-built row behind.
	for i := range rd.cols {
		c := &rd.cols[i]
		if rd.stamp[c.slot] != rd.seq {
			c.builder().AppendNull()
			continue
		}
		if err := rd.appendValue(c, line, rd.slots[c.slot]); err != nil {
			// The builders are now uneven, but the reader is failed for
			// good and only Close touches them again.
			return false, err
		}
	}
	return true, nil
}

func (rd *Reader) slotFor(member int, key []byte) int {
	if member < len(rd.memo) && bytes.Equal(rd.memo[member].key, key) {
		return rd.memo[member].slot
	}
	slot, found := rd.slotOf[string(key)]
	if !found {
		slot = -1
	}
	if member < 64 { // bound the memo for lines with very many keys
		for len(rd.memo) <= member {
			rd.memo = append(rd.memo, keyMemo{slot: -1})
		}
		rd.memo[member].key = append(rd.memo[member].key[:0], key...)
		rd.memo[member].slot = slot
	}
	return slot
}

func (rd *Reader) appendValue(c *column, line []byte, v value) error {
	text := line[v.start:v.end]
	if v.kind == kindNull {
		c.builder().AppendNull()
		return nil
	}
	switch c.typ {
	case BigInt:
		if v.kind == kindInt {
			if n, ok := parseInt(text); ok {
				c.i64.Append(n)
				return nil
			}
			return rd.typeError(c, v, text, "is out of range for BIGINT")
		}
	case Double:
		if v.kind == kindInt || v.kind == kindFloat {
			if f, ok := parseFloat(text, v.kind); ok {
				c.f64.Append(f)
				return nil
			}
			return rd.typeError(c, v, text, "is out of range for DOUBLE")
		}
	case Boolean:
		if v.kind == kindTrue || v.kind == kindFalse {
			c.bl.Append(v.kind == kindTrue)
			return nil
		}
	case Varchar:
		switch {
		case v.kind != kindString || !v.escaped:
			c.str.BinaryBuilder.Append(text)
		default:
			rd.text = appendUnescaped(rd.text[:0], text)
			c.str.BinaryBuilder.Append(rd.text)
		}
		return nil
	}
	return rd.typeError(c, v, text, "is not a "+string(c.typ))
}

func (rd *Reader) typeError(c *column, v value, text []byte, what string) error {
	shown := string(text)
	if v.kind == kindString {
		shown = strconv.Quote(string(appendUnescaped(nil, text)))
	}
	if len(shown) > 64 {
		shown = shown[:61] + "..."
	}
	return &kindError{kind: ErrType, msg: fmt.Sprintf(
		"column %q: value %s %s (the type was inferred from a sample at the start of the file)",
		c.name, shown, what)}
}

// lineError attaches the file and true line number to an error on the line
// starting at offset start, counting newlines from the top of the file only
// now that an error needs it.
func (rd *Reader) lineError(start int64, err error) error {
	line, cerr := countLines(rd.file, start)
	if cerr != nil {
		return fmt.Errorf("jsonscan: %s: at byte offset %d: %w (line number unknown: %v)", rd.path, start, wrapSyntax(err), cerr)
	}
	return &LineError{Path: rd.path, Line: line, Err: wrapSyntax(err)}
}

// countLines returns the 1-based number of the line starting at offset.
func countLines(f io.ReaderAt, offset int64) (int64, error) {
	buf := make([]byte, 1<<20)
	var n int64 = 1
	for pos := int64(0); pos < offset; {
		want := min(int64(len(buf)), offset-pos)
		got, err := f.ReadAt(buf[:want], pos)
		n += int64(bytes.Count(buf[:got], []byte{'\n'}))
		pos += int64(got)
		if err != nil && !(errors.Is(err, io.EOF) && pos >= offset) {
			return 0, err
		}
	}
	return n, nil
}

// Close releases the current record, the builders and the file. It may be
// called more than once.
func (rd *Reader) Close() error {
	if rd.rec != nil {
		rd.rec.Release()
		rd.rec = nil
	}
	for i := range rd.cols {
		rd.cols[i].builder().Release()
	}
	rd.cols = nil
	var err error
	if rd.file != nil {
		err = rd.file.Close()
		rd.file = nil
	}
	if rd.err == nil {
		rd.err = errors.New("jsonscan: reader is closed")
	}
	return err
}
