package csvscan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec/compressed"
)

const (
	// DefaultBatchSize is used when NewReader is given a batch size <= 0.
	DefaultBatchSize = 16 * 1024

	bufSize   = 1 << 20 // read buffer, grown for longer records
	tailRead  = 4 << 10 // read size past the range's end, to finish its last record
	flushRows = 1024    // rows split before their values are parsed, a column at a time

	// maxBatchBytes ends a batch early so string offsets (int32) cannot
	// overflow however long the records are.
	maxBatchBytes = 1 << 30

	// wholeStream is the End of the range over a compressed file: its
	// decompressed size is unknown, and it is always read whole.
	wholeStream = 1 << 62
)

var errClosed = errors.New("internal: csv reader used after Close")

// Reader scans one Range of a delimited text file into Arrow record batches
// holding the projected columns. It implements exec.Operator.
type Reader struct {
	path    string
	format  Format
	rng     Range
	file    *compressed.File
	schema  *arrow.Schema
	sp      *splitter
	cols    []column
	nfields int

	batchSize int
	flushRows int
	spans     []span // pending rows' fields, column-major: spans[c*flushRows+row]
	pending   int

	buf  []byte
	base int64 // file offset of buf[0]
	pos  int   // next record starts at buf[pos]
	lim  int   // buf[:lim] holds file bytes
	eof  bool  // buf[:lim] reaches the end of the file

	started bool
	done    bool
	rec     arrow.Record
	err     error // sticky: a failed reader keeps failing the same way

	// With Format.IgnoreErrors: the records skipped and the error the first
	// of them would have been.
	skipped   int64
	firstSkip error
	dropped   int          // rows of the current batch flushSkipping dropped
	marks     []columnMark // scratch for flushSkipping
}

// NewReader opens path to read the records that r owns (see Range) with
// format f, materializing only the given columns (positions in f.Header, in
// the order wanted). With no columns it still counts rows: its batches have
// zero columns and NumRows set. Batches hold at most batchSize rows
// (DefaultBatchSize if batchSize <= 0); memory for them comes from alloc.
//
// A path ending in .gz or .zst is decompressed as it is read (see package
// compressed); such a file is read whole, so r must start at 0 and its End
// is ignored. Lines and columns in errors count decompressed bytes.
//
// The reader that starts at offset 0 checks the file's header against
// f.Header, so that a file of a glob whose columns differ from those of the
// file the Format was sniffed from is an error naming both.
func NewReader(path string, f Format, columns []int, r Range, alloc memory.Allocator, batchSize int) (*Reader, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	if f.MultilineQuotes && r.Start > 0 {
		return nil, fmt.Errorf("internal: %s: cannot start reading at byte %d: its quoted fields span lines, so it is read whole", path, r.Start)
	}
	rd := &Reader{
		path:      path,
		format:    f,
		rng:       r,
		nfields:   len(f.Header),
		batchSize: batchSize,
		flushRows: min(batchSize, flushRows),
		sp:        newSplitter(f.Delim, f.Quoted, f.MultilineQuotes),
	}
	rd.sp.slot = make([]int32, len(f.Header))
	for i := range rd.sp.slot {
		rd.sp.slot[i] = -1
	}
	full := f.Schema()
	fields := make([]arrow.Field, len(columns))
	rd.cols = make([]column, len(columns))
	for i, c := range columns {
		if c < 0 || c >= len(f.Header) {
			return nil, fmt.Errorf("internal: csv column %d out of range [0, %d)", c, len(f.Header))
		}
		if rd.sp.slot[c] >= 0 {
			return nil, fmt.Errorf("internal: csv column %d projected twice", c)
		}
		rd.sp.slot[c] = int32(i * rd.flushRows)
		rd.sp.last = max(rd.sp.last, c)
		fields[i] = full.Field(c)
		rd.cols[i] = column{typ: f.Types[c], dt: fields[i].Type, field: c, alloc: alloc}
	}
	rd.schema = arrow.NewSchema(fields, nil)
	rd.spans = make([]span, len(columns)*rd.flushRows)
	file, err := compressed.Open(path)
	if err != nil {
		return nil, err
	}
	rd.file = file
	size := min(bufSize, r.End-r.Start+tailRead)
	if file.Compressed() {
		if r.Start > 0 {
			file.Close()
			return nil, fmt.Errorf("internal: %s: a compressed file is read whole, not from byte %d", path, r.Start)
		}
		rd.rng.End = wholeStream
		size = bufSize
	}
	rd.buf = make([]byte, max(size, tailRead))
	return rd, nil
}

// Schema is the projected part of the format's schema.
func (r *Reader) Schema() *arrow.Schema { return r.schema }

// Next returns the next batch, or io.EOF after the range's last record. The
// batch is valid until the next call to Next or Close.
func (r *Reader) Next(ctx context.Context) (arrow.Record, error) {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	switch {
	case r.err != nil:
		return nil, r.err
	case r.file == nil:
		return nil, errClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !r.started {
		r.started = true
		if err := r.seek(); err != nil {
			r.err = err
			return nil, err
		}
	}
	if r.done {
		return nil, io.EOF
	}
	for i := range r.cols {
		r.cols[i].start(r.batchSize)
	}
	rows, err := r.read(r.batchSize)
	for err == nil && rows == 0 && !r.done {
		// Every record of the batch was malformed and skipped.
		if err = ctx.Err(); err == nil {
			rows, err = r.read(r.batchSize)
		}
	}
	if err != nil || rows == 0 {
		for i := range r.cols {
			r.cols[i].release()
		}
		if err != nil {
			r.err = err
			return nil, err
		}
		return nil, io.EOF
	}
	arrs := make([]arrow.Array, len(r.cols))
	for i := range r.cols {
		arrs[i] = r.cols[i].finish()
	}
	r.rec = array.NewRecordBatch(r.schema, arrs, int64(rows))
	for _, a := range arrs {
		a.Release()
	}
	return r.rec, nil
}

// Close releases the current batch and closes the file. It may be called
// more than once.
func (r *Reader) Close() error {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	for i := range r.cols {
		r.cols[i].release()
	}
	if r.file == nil {
		return nil
	}
	err := r.file.Close()
	r.file = nil
	return err
}

// seek positions the reader at the range's first record: past the header
// (and a byte order mark) at offset 0, else at the first line start at or
// after Start.
func (r *Reader) seek() error {
	if r.rng.Start <= 0 {
		for r.lim < len(bom) && !r.eof {
			if err := r.refill(); err != nil {
				return err
			}
		}
		if bytes.HasPrefix(r.buf[:r.lim], bom) {
			r.pos = len(bom)
		}
		for {
			if r.pos >= r.lim {
				if r.eof {
					r.done = true
					return nil
				}
				if err := r.refill(); err != nil {
					return err
				}
				continue
			}
			hs := newSplitter(r.format.Delim, r.format.Quoted, r.format.MultilineQuotes)
			hs.all = true
			next, _, res := hs.record(r.buf[:r.lim], r.pos, r.eof, 0, nil)
			switch res {
			case recMore:
				if err := r.refill(); err != nil {
					return err
				}
				continue
			case recErr:
				r.sp.errKind, r.sp.errAt = hs.errKind, hs.errAt
				return r.quoteError()
			case recBlank:
				return &ParseError{Path: r.path, Line: 1, Msg: "blank first line; a CSV file starts with a header line naming its columns"}
			}
			if err := r.checkHeader(columnNames(r.buf, hs.fields)); err != nil {
				return err
			}
			r.pos = next
			return nil
		}
	}
	// Start-1 is read too: if it holds '\n', Start itself is a line start.
	r.base = r.rng.Start - 1
	for {
		if err := r.refill(); err != nil {
			return err
		}
		if k := bytes.IndexByte(r.buf[r.pos:r.lim], '\n'); k >= 0 {
			r.pos += k + 1
			return nil
		}
		r.pos = r.lim
		if r.eof {
			r.done = true
			return nil
		}
	}
}

// checkHeader compares a file's column names with the Format's.
func (r *Reader) checkHeader(names []string) error {
	same := len(names) == len(r.format.Header)
	for i := 0; same && i < len(names); i++ {
		same = names[i] == r.format.Header[i]
	}
	if same {
		return nil
	}
	msg := fmt.Sprintf("the header names the columns (%s) but the table has (%s)", shortList(names), shortList(r.format.Header))
	if src := r.format.Source; src != "" && src != r.path {
		msg += ", from " + src + "; the files of a glob must have the same columns"
	} else {
		msg += " (has the file changed since it was sniffed?)"
	}
	return &ParseError{Path: r.path, Line: 1, Msg: msg}
}

// shortList prints column names for an error, eliding the middle of long
// lists.
func shortList(names []string) string {
	if len(names) > 12 {
		return strings.Join(names[:6], ", ") + fmt.Sprintf(", … %d more …, ", len(names)-11) + strings.Join(names[len(names)-5:], ", ")
	}
	return strings.Join(names, ", ")
}

// read splits up to limit records into the current batch and parses their
// values. It returns how many it added; fewer than limit means the range is
// done, the batch holds maxBatchBytes, or IgnoreErrors dropped some.
func (r *Reader) read(limit int) (int, error) {
	r.dropped = 0
	rows, err := r.split(limit)
	return rows - r.dropped, err
}

// split is read before dropped rows are taken off.
func (r *Reader) split(limit int) (int, error) {
	rows := 0
	batchBytes := 0
	for rows < limit && batchBytes < maxBatchBytes {
		if r.pending == r.flushRows {
			if err := r.flush(); err != nil {
				return rows, err
			}
		}
		if r.base+int64(r.pos) >= r.rng.End {
			r.done = true
			break
		}
		if r.pos >= r.lim {
			if r.eof {
				r.done = true
				break
			}
			if err := r.refill(); err != nil {
				return rows, err
			}
			continue
		}
		next, nf, res := r.sp.record(r.buf[:r.lim], r.pos, r.eof, r.pending, r.spans)
		switch res {
		case recMore:
			if err := r.refill(); err != nil {
				return rows, err
			}
			continue
		case recBlank:
			r.pos = next
			continue
		case recErr:
			if !r.format.IgnoreErrors {
				return rows, r.quoteError()
			}
			next, ok := r.badRecordEnd()
			if !ok {
				if err := r.refill(); err != nil {
					return rows, err
				}
				continue
			}
			r.skip(r.quoteError)
			r.pos = next
			continue
		}
		if nf != r.nfields {
			at := r.base + int64(r.pos)
			fieldErr := func() error { return r.fieldError(at, false, fieldCountMsg(r.nfields, nf)) }
			if !r.format.IgnoreErrors {
				return rows, fieldErr()
			}
			r.skip(fieldErr)
			r.pos = next
			continue
		}
		batchBytes += next - r.pos
		r.pos = next
		r.pending++
		rows++
	}
	return rows, r.flush()
}

// flush parses the pending rows' values into the columns. It must run before
// the buffer moves, since spans point into it.
func (r *Reader) flush() error {
	n := r.pending
	if n == 0 {
		return nil
	}
	r.pending = 0
	if r.format.IgnoreErrors {
		return r.flushSkipping(n)
	}
	for i := range r.cols {
		c := &r.cols[i]
		spans := r.spans[i*r.flushRows : i*r.flushRows+n]
		if bad := c.appendSpans(r.buf, spans); bad >= 0 {
			return r.valueError(c, spans[bad])
		}
	}
	return nil
}

// flushSkipping is flush for IgnoreErrors: when a value does not read, the
// columns are rolled back to before this flush, every pending row is
// checked, the bad ones are dropped, and the rest are appended again. Bad
// values are rare, so the happy path parses each value once.
func (r *Reader) flushSkipping(n int) error {
	r.marks = r.marks[:0]
	for i := range r.cols {
		r.marks = append(r.marks, r.cols[i].mark())
	}
	failed := false
	for i := range r.cols {
		c := &r.cols[i]
		if c.appendSpans(r.buf, r.spans[i*r.flushRows:i*r.flushRows+n]) >= 0 {
			failed = true
			break
		}
	}
	if !failed {
		return nil
	}
	for i := range r.cols {
		r.cols[i].rollback(r.marks[i], n)
	}
	kept := 0
	for row := range n {
		bad := -1
		for i := range r.cols {
			if !r.cols[i].readable(r.buf, r.spans[i*r.flushRows+row]) {
				bad = i
				break
			}
		}
		if bad >= 0 {
			c, s := &r.cols[bad], r.spans[bad*r.flushRows+row]
			r.skip(func() error { return r.valueError(c, s) })
			continue
		}
		for i := range r.cols {
			r.spans[i*r.flushRows+kept] = r.spans[i*r.flushRows+row]
		}
		kept++
	}
	for i := range r.cols {
		if r.cols[i].appendSpans(r.buf, r.spans[i*r.flushRows:i*r.flushRows+kept]) >= 0 {
			return fmt.Errorf("internal: csvscan: %s: a value checked as readable did not read", r.path)
		}
	}
	r.dropped += n - kept // read counted them when it split them
	return nil
}

// skip counts one malformed record; describe builds the error it would have
// been, only for the first, while the buffer still holds the record.
func (r *Reader) skip(describe func() error) {
	r.skipped++
	if r.firstSkip == nil {
		r.firstSkip = describe()
	}
}

// badRecordEnd is where reading resumes after a record with broken quoting:
// past the line end after the fault (the end of the file when the quote is
// never closed). ok is false when the buffer does not reach that line end
// yet.
func (r *Reader) badRecordEnd() (next int, ok bool) {
	if r.sp.errKind == errUnterminated {
		return r.lim, true
	}
	at := max(r.sp.errAt, r.pos)
	if k := bytes.IndexByte(r.buf[at:r.lim], '\n'); k >= 0 {
		return at + k + 1, true
	}
	if r.eof {
		return r.lim, true
	}
	return 0, false
}

// Skipped reports how many malformed records the reader has dropped so far
// with Format.IgnoreErrors, and the error the first of them would have been
// without it (nil when none was dropped).
func (r *Reader) Skipped() (int64, error) { return r.skipped, r.firstSkip }

// refill moves the unread bytes to the front of the buffer and reads more
// after them, growing the buffer when one record fills it.
func (r *Reader) refill() error {
	if err := r.flush(); err != nil {
		return err
	}
	if r.pos > 0 {
		r.lim = copy(r.buf, r.buf[r.pos:r.lim])
		r.base += int64(r.pos)
		r.pos = 0
	}
	if r.lim == len(r.buf) {
		if len(r.buf) >= maxRecord {
			return r.fieldError(r.base, false, fmt.Sprintf("record longer than %d MiB", maxRecord>>20))
		}
		nb := make([]byte, 2*len(r.buf))
		copy(nb, r.buf[:r.lim])
		r.buf = nb
	}
	want := len(r.buf) - r.lim
	// Past the range's end only the last record is needed: read little.
	if rest := max(r.rng.End-r.base-int64(r.lim), 0) + tailRead; rest < int64(want) {
		want = int(rest)
	}
	n, err := r.file.ReadAt(r.buf[r.lim:r.lim+want], r.base+int64(r.lim))
	r.lim += n
	switch {
	case err == io.EOF:
		r.eof = true
	case errors.Is(err, compressed.ErrCorrupt):
		return err // names the file and the line
	case err != nil:
		return fmt.Errorf("read %s: %w", r.path, err)
	}
	return nil
}

func (r *Reader) quoteError() error {
	return r.fieldError(r.base+int64(r.sp.errAt), true, quoteMsg(r.sp.errKind, r.buf[r.sp.errAt]))
}

func (r *Reader) valueError(c *column, s span) error {
	v := r.buf[s.start:s.end]
	if s.flags&flagEscaped != 0 {
		v = unescape(nil, v)
	}
	const maxShown = 80
	shown := string(v)
	if len(shown) > maxShown {
		shown = shown[:maxShown] + "…"
	}
	off := r.base + int64(s.start)
	if s.flags&flagQuoted != 0 {
		off-- // point at the opening quote
	}
	from := ""
	if src := r.format.Source; src != "" && src != r.path {
		from = " of " + src
	}
	err := r.fieldError(off, true, fmt.Sprintf("column %d (%s): cannot read %q as %s; the type was inferred from the first %d rows%s",
		c.field+1, r.format.Header[c.field], shown, c.typ, r.format.SampleRows, from))
	if pe, ok := err.(*ParseError); ok {
		pe.Field, pe.Column, pe.Value = c.field+1, r.format.Header[c.field], string(v)
	}
	return err
}

// fieldError builds a ParseError at file offset off, with the column when
// withCol is set. Line numbers are counted only now, from the file's start,
// so that the scan never pays for them.
func (r *Reader) fieldError(off int64, withCol bool, msg string) error {
	line, col, err := r.locate(off)
	if err != nil {
		return fmt.Errorf("%s: at byte %d: %s (and counting lines failed: %v)", r.path, off, msg, err)
	}
	if !withCol {
		col = 0
	}
	return &ParseError{Path: r.path, Line: line, Col: col, Msg: msg}
}

// locate turns a file offset into a 1-based line and byte column.
func (r *Reader) locate(off int64) (line, col int64, err error) {
	buf := make([]byte, 1<<20)
	line, lastNL := 1, int64(-1)
	for pos := int64(0); pos < off; {
		n, err := r.file.ReadAt(buf[:min(int64(len(buf)), off-pos)], pos)
		chunk := buf[:n]
		line += int64(bytes.Count(chunk, []byte{'\n'}))
		if k := bytes.LastIndexByte(chunk, '\n'); k >= 0 {
			lastNL = pos + int64(k)
		}
		pos += int64(n)
		if err != nil {
			if err == io.EOF {
				break
			}
			return 0, 0, err
		}
	}
	return line, off - lastNL, nil
}
