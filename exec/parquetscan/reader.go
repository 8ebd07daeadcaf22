package parquetscan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
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

	file *file.Reader
	// Plain columns are read by records[0]; string columns by records[1],
	// as dictionaries (see dictReader). Both step through the same rows.
	records [2]pqarrow.RecordReader // nil when it reads no column
	cols    []column                // projected columns, in output order
	source  []leafRef               // per output column: where records has it
	left    int64                   // rows still to emit when no column is projected

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
	rd.source = make([]leafRef, len(columns))
	var leaves [2][]int
	leafPos := map[int]leafRef{}
	for i, k := range columns {
		if k < 0 || k >= len(all) {
			return nil, fmt.Errorf("internal: parquetscan: %s: column index %d out of range (file has %d)", path, k, len(all))
		}
		c := all[k]
		if c.Type == Unsupported {
			return nil, fmt.Errorf("parquetscan: %s: %w: parquet column %q of type %s (leave it out of the query)", path, ErrUnsupported, c.Name, c.Stored)
		}
		ref, seen := leafPos[c.leaf]
		if !seen {
			if id := c.stored.ID(); id == arrow.STRING || id == arrow.BINARY {
				ref.reader = 1
			}
			ref.pos = len(leaves[ref.reader])
			leafPos[c.leaf] = ref
			leaves[ref.reader] = append(leaves[ref.reader], c.leaf)
		}
		rd.cols[i], rd.source[i] = c, ref
		fields[i] = arrow.Field{Name: c.Name, Type: c.ArrowType(), Nullable: true}
	}
	rd.schema = arrow.NewSchema(fields, nil)

	if len(rowGroups) == 0 {
		rd.done = true
		return rd, nil
	}
	for r, ls := range leaves {
		if len(ls) == 0 {
			continue
		}
		props := pqarrow.ArrowReadProperties{BatchSize: int64(batchSize)}
		mem := alloc
		if r == 1 {
			// Dictionary-encoded strings (flags, modes, names: the common
			// case) come out as indices into the dictionary, which convert
			// expands in one tight loop; read plainly they are appended to
			// a builder value by value, several times slower. The
			// dictionaries never leave this package, and Arrow Go's
			// dictionary reader drops buffers on damaged pages, so they
			// come from Go's allocator: the garbage collector takes what
			// it drops.
			mem = memory.NewGoAllocator()
			for _, leaf := range ls {
				props.SetReadDict(leaf, true)
			}
		}
		fr, err := pqarrow.NewFileReader(f, props, mem)
		if err != nil {
			return nil, fmt.Errorf("parquetscan: %s: %w", path, err)
		}
		readAsStored(fr, ls)
		rd.records[r], err = fr.GetRecordReader(context.Background(), ls, rowGroups)
		if err != nil {
			return nil, fmt.Errorf("parquetscan: %s: %w: %v", path, ErrCorrupt, err)
		}
	}
	return rd, nil
}

// NewFileReader reads every row group of path, as NewReader does, after
// checking that the file's columns are want's, names and types in order:
// the files of a glob are read with the schema inspected from one of them,
// and a file whose columns differ is an error naming it rather than columns
// read by the wrong index.
func NewFileReader(path string, want *arrow.Schema, columns []int, alloc memory.Allocator, batchSize int) (_ *Reader, err error) {
	defer recoverCorrupt(path, &err)
	f, err := open(path, nil)
	if err != nil {
		return nil, err
	}
	all, err := describe(path, f)
	groups := f.MetaData().NumRowGroups()
	f.Close()
	if err != nil {
		return nil, err
	}
	if err := sameColumns(path, all, want); err != nil {
		return nil, err
	}
	rowGroups := make([]int, groups)
	for g := range rowGroups {
		rowGroups[g] = g
	}
	return NewReader(path, rowGroups, columns, alloc, batchSize)
}

// ErrSchema marks a file of a glob whose columns are not the table's.
var ErrSchema = errors.New("file does not match the table's columns")

func sameColumns(path string, got []column, want *arrow.Schema) error {
	same := len(got) == want.NumFields()
	for i := 0; same && i < len(got); i++ {
		f := want.Field(i)
		same = got[i].Name == f.Name && arrow.TypeEqual(got[i].ArrowType(), f.Type)
	}
	if same {
		return nil
	}
	list := func(n int, col func(int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = col(i)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Errorf("parquetscan: %s: %w: its columns are (%s), the table's (%s); the files of a glob must have the same columns",
		path, ErrSchema,
		list(len(got), func(i int) string { return got[i].Name + " " + typeName(got[i].ArrowType()) }),
		list(want.NumFields(), func(i int) string { return want.Field(i).Name + " " + typeName(want.Field(i).Type) }))
}

func typeName(t arrow.DataType) string {
	if t == nil {
		return "UNSUPPORTED"
	}
	return t.String()
}

// readAsStored makes fr read the leaves it would widen itself as the
// integers they are stored as: DECIMALs stored as INT32 or INT64, which
// convert widens to decimal128, and DATEs (INT32), which convert relabels
// as date32 without a copy. pqarrow widens them into a fresh Go slice per
// batch (transferDecimalInteger, transferInt), outside the allocator: on
// TPC-H Q1 over lineitem, 358 MB of the 840 MB the query allocated for the
// decimals alone, and the heap grew to twice what was live. Read as
// integers, the values land in the record reader's buffers, which come
// from the allocator, as do convert's. Only the leaf's Arrow type changes:
// fr's manifest is its own, built by NewFileReader, and rows, NULLs and
// errors come from the same column readers.
func readAsStored(fr *pqarrow.FileReader, leaves []int) {
	sc := fr.Manifest
	for _, leaf := range leaves {
		sf, ok := sc.ColIndexToField[leaf]
		if !ok {
			continue
		}
		physical := fr.ParquetReader().MetaData().Schema.Column(leaf).PhysicalType()
		var stored arrow.DataType
		switch id := sf.Field.Type.ID(); {
		case id == arrow.DECIMAL128 && physical == parquet.Types.Int32:
			stored = arrow.PrimitiveTypes.Int32
		case id == arrow.DECIMAL128 && physical == parquet.Types.Int64:
			stored = arrow.PrimitiveTypes.Int64
		case id == arrow.DATE32 && physical == parquet.Types.Int32:
			stored = arrow.PrimitiveTypes.Int32
		default:
			continue
		}
		f := *sf.Field
		f.Type = stored
		sf.Field = &f
	}
}

// leafRef is where a projected leaf column is read: by which of
// Reader.records, at which column of its records.
type leafRef struct{ reader, pos int }

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

	if rd.records[0] == nil && rd.records[1] == nil {
		n := min(rd.left, int64(rd.batchSize))
		if n == 0 {
			rd.done = true
			return nil, io.EOF
		}
		rd.left -= n
		rd.rec = array.NewRecordBatch(rd.schema, nil, n)
		return rd.rec, nil
	}

	var in [2]arrow.Record
	for r, records := range rd.records {
		if records == nil {
			continue
		}
		if in[r], err = records.Read(); err != nil {
			if errors.Is(err, io.EOF) {
				rd.done = true
				return nil, io.EOF
			}
			return nil, fmt.Errorf("parquetscan: %s: %w: %v", rd.path, ErrCorrupt, err)
		}
	}
	rows := int64(-1)
	for _, rec := range in {
		if rec != nil && rows >= 0 && rec.NumRows() != rows {
			return nil, fmt.Errorf("internal: parquetscan: %s: column readers out of step (%d and %d rows)", rd.path, rows, rec.NumRows())
		}
		if rec != nil {
			rows = rec.NumRows()
		}
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
		src := rd.source[i]
		arrs[i], err = convert(in[src.reader].Column(src.pos), c.ArrowType(), rd.alloc)
		if err != nil {
			return nil, fmt.Errorf("parquetscan: %s: column %q: %w", rd.path, c.Name, err)
		}
	}
	rd.rec = array.NewRecordBatch(rd.schema, arrs, rows)
	return rd.rec, nil
}

// Close releases the current record, the Parquet readers and the file. It
// may be called more than once.
func (rd *Reader) Close() error {
	if rd.rec != nil {
		rd.rec.Release()
		rd.rec = nil
	}
	for r, records := range rd.records {
		if records != nil {
			records.Release()
			rd.records[r] = nil
		}
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
