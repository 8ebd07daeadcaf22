package parquetscan

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Reader reads row groups of a Parquet file as Arrow records holding the
// projected columns, cast to their quern types.
type Reader struct {
	path      string
	schema    *arrow.Schema
	alloc     memory.Allocator
	batchSize int

	file    *file.Reader
	records pqarrow.RecordReader // nil when no column is projected
	cols    []column             // projected columns, in output order
	source  []int                // per output column: its column in records
	left    int64                // rows still to emit when no column is projected

	rec  arrow.Record
	err  error // sticky: once failed, every Next reports it
	done bool
}

// NewReader opens path to read the given row groups (in that order) and
// the columns listed (indexes into Info.Columns, in output order; a column
// may be listed twice). With no columns it emits 0-column records whose
// NumRows add up to the row groups' rows. batchSize ≤ 0 means 16384.
func NewReader(path string, rowGroups []int, columns []int, alloc memory.Allocator, batchSize int) (_ *Reader, err error) {
	defer recoverCorrupt(path, &err)
	if batchSize <= 0 {
		batchSize = 16 * 1024
	}
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	// The file reader's page buffers come from the Go allocator: Arrow Go
	// pools them and frees them by finalizer, so they cannot be accounted
	// to the caller's allocator. Every array handed out is built with alloc.
	f, err := open(path, nil)
	if err != nil {
		return nil, err
	}
	rd := &Reader{path: path, file: f, alloc: alloc, batchSize: batchSize}
	defer func() {
		if err != nil {
			rd.Close()
		}
	}()

	all, err := describe(path, f)
	if err != nil {
		return nil, err
	}
	md := f.MetaData()
	for _, g := range rowGroups {
		if g < 0 || g >= md.NumRowGroups() {
			return nil, fmt.Errorf("internal: parquetscan: %s: row group %d out of range (file has %d)", path, g, md.NumRowGroups())
		}
		rd.left += md.RowGroup(g).NumRows()
	}
	fields := make([]arrow.Field, len(columns))
	rd.cols = make([]column, len(columns))
	rd.source = make([]int, len(columns))
	var leaves []int
	leafPos := map[int]int{}
	for i, k := range columns {
		if k < 0 || k >= len(all) {
			return nil, fmt.Errorf("internal: parquetscan: %s: column index %d out of range (file has %d)", path, k, len(all))
		}
		c := all[k]
		if c.Type == Unsupported {
			return nil, fmt.Errorf("parquetscan: %s: %w: parquet column %q of type %s (leave it out of the query)", path, ErrUnsupported, c.Name, c.Stored)
		}
		pos, seen := leafPos[c.leaf]
		if !seen {
			pos = len(leaves)
			leafPos[c.leaf] = pos
			leaves = append(leaves, c.leaf)
		}
		rd.cols[i], rd.source[i] = c, pos
		fields[i] = arrow.Field{Name: c.Name, Type: c.ArrowType(), Nullable: true}
	}
	rd.schema = arrow.NewSchema(fields, nil)

	if len(rowGroups) == 0 {
		rd.done = true
		return rd, nil
	}
	if len(leaves) == 0 {
		return rd, nil
	}
	fr, err := pqarrow.NewFileReader(f, pqarrow.ArrowReadProperties{BatchSize: int64(batchSize)}, alloc)
	if err != nil {
		return nil, fmt.Errorf("parquetscan: %s: %w", path, err)
	}
	rd.records, err = fr.GetRecordReader(context.Background(), leaves, rowGroups)
	if err != nil {
		return nil, fmt.Errorf("parquetscan: %s: %w: %v", path, ErrCorrupt, err)
	}
	return rd, nil
}

// Schema is the schema of the projected columns.
func (rd *Reader) Schema() *arrow.Schema { return rd.schema }

// Next returns the next record of at most batchSize rows, or io.EOF.
func (rd *Reader) Next(ctx context.Context) (rec arrow.Record, err error) {
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
	// Deferred in this order so the sticky error also records a recovered
	// panic: recoverCorrupt runs first and sets err.
	defer func() {
		if err != nil && err != io.EOF {
			rd.err = err
		}
	}()
	defer recoverCorrupt(rd.path, &err)

	if rd.records == nil {
		n := min(rd.left, int64(rd.batchSize))
		if n == 0 {
			rd.done = true
			return nil, io.EOF
		}
		rd.left -= n
		rd.rec = array.NewRecordBatch(rd.schema, nil, n)
		return rd.rec, nil
	}

	in, err := rd.records.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			rd.done = true
			return nil, io.EOF
		}
		return nil, fmt.Errorf("parquetscan: %s: %w: %v", rd.path, ErrCorrupt, err)
	}
	arrs := make([]arrow.Array, len(rd.cols))
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i := range rd.cols {
		c := &rd.cols[i]
		arrs[i], err = convert(in.Column(rd.source[i]), c.ArrowType(), rd.alloc)
		if err != nil {
			return nil, fmt.Errorf("parquetscan: %s: column %q: %w", rd.path, c.Name, err)
		}
	}
	rd.rec = array.NewRecordBatch(rd.schema, arrs, in.NumRows())
	return rd.rec, nil
}

// Close releases the current record, the Parquet readers and the file. It
// may be called more than once.
func (rd *Reader) Close() error {
	if rd.rec != nil {
		rd.rec.Release()
		rd.rec = nil
	}
	if rd.records != nil {
		rd.records.Release()
		rd.records = nil
	}
	var err error
	if rd.file != nil {
		err = rd.file.Close()
		rd.file = nil
	}
	if rd.err == nil {
		rd.err = errors.New("parquetscan: reader is closed")
	}
	return err
}
