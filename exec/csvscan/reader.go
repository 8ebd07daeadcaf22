package csvscan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
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
)

var errClosed = errors.New("internal: csv reader used after Close")

// Reader scans one Range of a delimited text file into Arrow record batches
// holding the projected columns. It implements exec.Operator.
type Reader struct {
	path    string
	format  Format
	rng     Range
	file    *os.File
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
}

// NewReader opens path to read the records that r owns (see Range) with
// format f, materializing only the given columns (positions in f.Header, in
// the order wanted). With no columns it still counts rows: its batches have
// zero columns and NumRows set. Batches hold at most batchSize rows
// (DefaultBatchSize if batchSize <= 0); memory for them comes from alloc.
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
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	rd.file = file
	rd.buf = make([]byte, max(min(bufSize, r.End-r.Start+tailRead), tailRead))
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
			next, nf, res := r.sp.record(r.buf[:r.lim], r.pos, r.eof, 0, r.spans)
			switch res {
			case recMore:
				if err := r.refill(); err != nil {
					return err
				}
				continue
			case recErr:
				return r.quoteError()
			case recBlank:
				return &ParseError{Path: r.path, Line: 1, Msg: "blank first line; a CSV file starts with a header line naming its columns"}
			}
			if nf != r.nfields {
				return &ParseError{Path: r.path, Line: 1, Msg: fmt.Sprintf("header has %d fields, expected %d (has the file changed since it was sniffed?)", nf, r.nfields)}
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

// read splits up to limit records into the current batch and parses their
// values. It returns how many it added; fewer than limit means the range is
// done (or the batch holds maxBatchBytes).
func (r *Reader) read(limit int) (int, error) {
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
			return rows, r.quoteError()
		}
		if nf != r.nfields {
			return rows, r.fieldError(r.base+int64(r.pos), false, fieldCountMsg(r.nfields, nf))
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
	for i := range r.cols {
		c := &r.cols[i]
		spans := r.spans[i*r.flushRows : i*r.flushRows+n]
		if bad := c.appendSpans(r.buf, spans); bad >= 0 {
			return r.valueError(c, spans[bad])
		}
	}
	return nil
}

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
	return r.fieldError(off, true, fmt.Sprintf("cannot read %q as %s (column %s; type inferred from the first %d rows)",
		shown, c.typ, r.format.Header[c.field], r.format.SampleRows))
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
