package parquetscan

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// Type is the quern type of a Parquet column, spelled as SQL spells it so
// an Info reads well when printed or encoded inside a job.
type Type string

// The types Parquet columns map to.
const (
	Unsupported    Type = "UNSUPPORTED"     // nested or exotic: listed, but not readable
	BigInt         Type = "BIGINT"          // int64
	BigIntUnsigned Type = "BIGINT UNSIGNED" // uint64
	Double         Type = "DOUBLE"          // float64
	Decimal        Type = "DECIMAL"         // decimal128(Precision, Scale)
	Varchar        Type = "VARCHAR"         // utf8
	Boolean        Type = "BOOLEAN"         // boolean
	Date           Type = "DATE"            // date32
	Datetime       Type = "DATETIME"        // timestamp[us], no zone
)

// Column is one top-level column of a Parquet file.
type Column struct {
	Name      string
	Type      Type
	Precision int32 `json:",omitempty"` // DECIMAL only
	Scale     int32 `json:",omitempty"` // DECIMAL only
	// Stored describes the column as the file stores it (the Arrow type Arrow
	// Go reads it as), for messages and EXPLAIN.
	Stored string
}

// ArrowType is the Arrow type the column is read as; Arrow null for an
// unsupported column, which cannot be read.
func (c Column) ArrowType() arrow.DataType {
	switch c.Type {
	case BigInt:
		return arrow.PrimitiveTypes.Int64
	case BigIntUnsigned:
		return arrow.PrimitiveTypes.Uint64
	case Double:
		return arrow.PrimitiveTypes.Float64
	case Decimal:
		return &arrow.Decimal128Type{Precision: c.Precision, Scale: c.Scale}
	case Varchar:
		return arrow.BinaryTypes.String
	case Boolean:
		return arrow.FixedWidthTypes.Boolean
	case Date:
		return arrow.FixedWidthTypes.Date32
	case Datetime:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	default:
		return arrow.Null
	}
}

// Info is what a file's footer says: its columns and row groups.
type Info struct {
	Columns   []Column
	RowGroups []RowGroup
}

// RowGroup describes one row group, the unit of splitting.
type RowGroup struct {
	NumRows int64
	Bytes   int64         // compressed size on disk
	Stats   []ColumnStats // parallel to Info.Columns
}

// ColumnStats are one column's statistics in one row group, converted to the
// column's quern type. Absent statistics have HasMinMax / HasNullCount
// false. Bounds are what the writer recorded: a planner may use them to skip
// a row group whose [Min, Max] cannot match.
type ColumnStats struct {
	HasMinMax    bool
	Min, Max     Value
	HasNullCount bool
	NullCount    int64
}

// Value is a statistics bound; the field the column's Type selects holds it:
// Int for BIGINT, DATE (days since 1970-01-01) and DATETIME (microseconds
// since 1970-01-01 00:00:00); Uint for BIGINT UNSIGNED; Float for DOUBLE;
// Bool; Bytes for VARCHAR; DecHi/DecLo, the unscaled decimal128, for DECIMAL.
type Value struct {
	Int   int64   `json:",omitempty"`
	Uint  uint64  `json:",omitempty"`
	Float float64 `json:",omitempty"`
	Bool  bool    `json:",omitempty"`
	Bytes []byte  // not omitempty: an empty bound must come back non-nil
	DecHi int64   `json:",omitempty"`
	DecLo uint64  `json:",omitempty"`
}

// Decimal128 returns a DECIMAL bound as Arrow's decimal128.
func (v Value) Decimal128() decimal128.Num { return decimal128.New(v.DecHi, v.DecLo) }

// Schema is the Arrow schema of all columns; every field is nullable.
// Unsupported columns appear with Arrow's null type.
func (i Info) Schema() *arrow.Schema {
	fields := make([]arrow.Field, len(i.Columns))
	for k, c := range i.Columns {
		fields[k] = arrow.Field{Name: c.Name, Type: c.ArrowType(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// NumRows is the file's row count.
func (i Info) NumRows() int64 {
	var n int64
	for _, rg := range i.RowGroups {
		n += rg.NumRows
	}
	return n
}

// Splits groups consecutive row groups into splits of about targetBytes
// (compressed) each, at least one row group per split; targetBytes ≤ 0 makes
// one split per row group. A file without row groups gets one empty split.
func (i Info) Splits(targetBytes int64) [][]int {
	var out [][]int
	var cur []int
	var size int64
	for k, rg := range i.RowGroups {
		if len(cur) > 0 && (targetBytes <= 0 || size+rg.Bytes > targetBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, k)
		size += rg.Bytes
	}
	if len(cur) > 0 || len(out) == 0 {
		out = append(out, cur)
	}
	return out
}

// ErrUnsupported marks a column whose Parquet type quern cannot read.
var ErrUnsupported = errors.New("not supported")

// ErrCorrupt marks a file whose bytes are not valid Parquet.
var ErrCorrupt = errors.New("corrupt or truncated parquet file")

// Inspect reads the footer of a Parquet file.
func Inspect(path string) (info Info, err error) {
	defer recoverCorrupt(path, &err)
	rdr, err := open(path, nil)
	if err != nil {
		return Info{}, err
	}
	defer rdr.Close()
	cols, err := describe(path, rdr)
	if err != nil {
		return Info{}, err
	}
	md := rdr.MetaData()
	info.Columns = make([]Column, len(cols))
	for k, c := range cols {
		info.Columns[k] = c.Column
	}
	info.RowGroups = make([]RowGroup, md.NumRowGroups())
	for g := range info.RowGroups {
		rg := md.RowGroup(g)
		info.RowGroups[g] = RowGroup{NumRows: rg.NumRows(), Bytes: rg.TotalCompressedSize(), Stats: make([]ColumnStats, len(cols))}
		for k, c := range cols {
			if c.Type == Unsupported {
				continue
			}
			chunk, err := rg.ColumnChunk(c.leaf)
			if err != nil {
				return Info{}, fmt.Errorf("parquetscan: %s: row group %d column %q: %w: %v", path, g, c.Name, ErrCorrupt, err)
			}
			info.RowGroups[g].Stats[k] = columnStats(chunk, c)
		}
	}
	return info, nil
}

// open opens a Parquet file and reads its footer.
func open(path string, props *parquet.ReaderProperties) (*file.Reader, error) {
	var opts []file.ReadOption
	if props != nil {
		opts = append(opts, file.WithReadProps(props))
	}
	rdr, err := file.OpenParquetFile(path, false, opts...)
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) { // could not open: missing, permissions
		return nil, fmt.Errorf("parquetscan: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("parquetscan: %s: %w: %v", path, ErrCorrupt, err)
	}
	forgetArrowSchema(rdr)
	return rdr, nil
}

// forgetArrowSchema drops the Arrow schema an Arrow writer may have stored in
// the footer, so that column types follow from the Parquet schema alone:
// the same file reads the same whoever wrote it, and pqarrow never hands us
// dictionary, large-offset or decimal256 arrays to unpack. The reader owns
// its parsed footer, so editing it affects nothing else.
func forgetArrowSchema(rdr *file.Reader) {
	md := rdr.MetaData()
	if md == nil || md.FileMetaData == nil {
		return
	}
	kept := md.FileMetaData.KeyValueMetadata[:0]
	for _, kv := range md.FileMetaData.KeyValueMetadata {
		if kv.Key != "ARROW:schema" {
			kept = append(kept, kv)
		}
	}
	md.FileMetaData.KeyValueMetadata = kept
}

// recoverCorrupt turns a panic inside Arrow Go's Parquet decoding, which
// damaged input can provoke, into an error naming the file.
func recoverCorrupt(path string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("parquetscan: %s: %w: %v", path, ErrCorrupt, r)
	}
}

// column is a Column with what reading it needs.
type column struct {
	Column
	leaf   int // Parquet leaf column index; -1 for nested columns
	descr  *schema.Column
	stored arrow.DataType // the Arrow type pqarrow reads it as
}

// describe maps a file's top-level fields to quern columns, using the same
// schema manifest pqarrow reads with so the types agree.
func describe(path string, rdr *file.Reader) ([]column, error) {
	md := rdr.MetaData()
	manifest, err := pqarrow.NewSchemaManifest(md.Schema, md.KeyValueMetadata(), &pqarrow.ArrowReadProperties{})
	if err != nil {
		return nil, fmt.Errorf("parquetscan: %s: reading schema: %w", path, err)
	}
	cols := make([]column, len(manifest.Fields))
	for k, f := range manifest.Fields {
		c := column{Column: Column{Name: f.Field.Name, Type: Unsupported, Stored: f.Field.Type.String()}, leaf: f.ColIndex, stored: f.Field.Type}
		if f.IsLeaf() {
			c.descr = md.Schema.Column(f.ColIndex)
			c.Type, c.Precision, c.Scale = typeOf(f.Field.Type, c.descr)
		}
		cols[k] = c
	}
	return cols, nil
}

// typeOf maps the Arrow type pqarrow reads a leaf as to its quern type. With
// the stored Arrow schema ignored, these are the only types pqarrow produces
// for the Parquet types quern supports.
func typeOf(t arrow.DataType, descr *schema.Column) (Type, int32, int32) {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		return BigInt, 0, 0
	case arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return BigIntUnsigned, 0, 0
	case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return Double, 0, 0
	case arrow.DECIMAL128: // pqarrow reads DECIMAL(p>38) as decimal256: unsupported
		d := t.(*arrow.Decimal128Type)
		return Decimal, d.Precision, d.Scale
	case arrow.STRING, arrow.BINARY:
		return Varchar, 0, 0
	case arrow.FIXED_SIZE_BINARY:
		// Plain fixed-length bytes are strings; INTERVAL and UUID are not.
		if descr.LogicalType().IsNone() {
			return Varchar, 0, 0
		}
	case arrow.BOOL:
		return Boolean, 0, 0
	case arrow.DATE32:
		return Date, 0, 0
	case arrow.TIMESTAMP:
		return Datetime, 0, 0
	}
	return Unsupported, 0, 0
}

// columnStats converts a column chunk's statistics to the column's type.
func columnStats(chunk *metadata.ColumnChunkMetaData, c column) ColumnStats {
	st, err := chunk.Statistics()
	if err != nil || st == nil {
		return ColumnStats{}
	}
	var out ColumnStats
	if st.HasNullCount() {
		out.HasNullCount, out.NullCount = true, st.NullCount()
	}
	if st.HasMinMax() {
		out.Min, out.Max, out.HasMinMax = bounds(st, c)
	}
	return out
}

func bounds(st metadata.TypedStatistics, c column) (lo, hi Value, ok bool) {
	switch s := st.(type) {
	case *metadata.BooleanStatistics:
		if c.Type == Boolean {
			return Value{Bool: s.Min()}, Value{Bool: s.Max()}, true
		}
	case *metadata.Int32Statistics:
		return intBounds(int64(s.Min()), int64(s.Max()), uint64(uint32(s.Min())), uint64(uint32(s.Max())), c)
	case *metadata.Int64Statistics:
		return intBounds(s.Min(), s.Max(), uint64(s.Min()), uint64(s.Max()), c)
	case *metadata.Float32Statistics:
		return floatBounds(float64(s.Min()), float64(s.Max()), c)
	case *metadata.Float64Statistics:
		return floatBounds(s.Min(), s.Max(), c)
	case *metadata.ByteArrayStatistics:
		return bytesBounds(s.Min(), s.Max(), c)
	case *metadata.FixedLenByteArrayStatistics:
		return bytesBounds(s.Min(), s.Max(), c)
	}
	return Value{}, Value{}, false
}

// intBounds handles INT32/INT64 storage; the unsigned forms are the same
// bits reread, which the writer compared in unsigned order.
func intBounds(lo, hi int64, ulo, uhi uint64, c column) (Value, Value, bool) {
	switch c.Type {
	case BigInt, Date:
		return Value{Int: lo}, Value{Int: hi}, true
	case BigIntUnsigned:
		return Value{Uint: ulo}, Value{Uint: uhi}, true
	case Decimal:
		l, h := decimal128.FromI64(lo), decimal128.FromI64(hi)
		return Value{DecHi: l.HighBits(), DecLo: l.LowBits()}, Value{DecHi: h.HighBits(), DecLo: h.LowBits()}, true
	case Datetime:
		ts, ok := c.stored.(*arrow.TimestampType)
		if !ok || c.descr.PhysicalType() != parquet.Types.Int64 {
			return Value{}, Value{}, false
		}
		return Value{Int: toMicros(lo, ts.Unit)}, Value{Int: toMicros(hi, ts.Unit)}, true
	}
	return Value{}, Value{}, false
}

func floatBounds(lo, hi float64, c column) (Value, Value, bool) {
	if c.Type != Double || lo != lo || hi != hi { // NaN bounds prune nothing safely
		return Value{}, Value{}, false
	}
	return Value{Float: lo}, Value{Float: hi}, true
}

func bytesBounds(lo, hi []byte, c column) (Value, Value, bool) {
	switch c.Type {
	case Varchar:
		return Value{Bytes: append([]byte{}, lo...)}, Value{Bytes: append([]byte{}, hi...)}, true
	case Decimal:
		l, okl := decimalFromBigEndian(lo)
		h, okh := decimalFromBigEndian(hi)
		if okl && okh {
			return Value{DecHi: l.HighBits(), DecLo: l.LowBits()}, Value{DecHi: h.HighBits(), DecLo: h.LowBits()}, true
		}
	}
	return Value{}, Value{}, false
}

// decimalFromBigEndian decodes Parquet's big-endian two's complement
// unscaled decimal of up to 16 bytes.
func decimalFromBigEndian(b []byte) (decimal128.Num, bool) {
	if len(b) == 0 || len(b) > 16 {
		return decimal128.Num{}, false
	}
	var buf [16]byte
	if b[0]&0x80 != 0 {
		for i := range buf {
			buf[i] = 0xff
		}
	}
	copy(buf[16-len(b):], b)
	var hi, lo uint64
	for i := range 8 {
		hi = hi<<8 | uint64(buf[i])
		lo = lo<<8 | uint64(buf[8+i])
	}
	return decimal128.New(int64(hi), lo), true
}

// toMicros converts a timestamp in unit to microseconds, flooring.
func toMicros(v int64, unit arrow.TimeUnit) int64 {
	switch unit {
	case arrow.Second:
		return v * 1_000_000
	case arrow.Millisecond:
		return v * 1_000
	case arrow.Nanosecond:
		return floorDiv(v, 1_000)
	default:
		return v
	}
}
