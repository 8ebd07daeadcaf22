package parquetscan

import (
	"context"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// recyclingAllocator hands freed buffers out again by power-of-two size, as
// a task's buffer pool does in production: once a read has warmed it, what
// a second read allocates on Go's heap is what bypasses the allocator.
type recyclingAllocator struct {
	mu   sync.Mutex
	free [64][][]byte
	live int
}

func (a *recyclingAllocator) Allocate(size int) []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.live += size
	if size == 0 {
		return []byte{}
	}
	c := bits.Len(uint(size - 1))
	if n := len(a.free[c]); n > 0 {
		b := a.free[c][n-1][:size]
		a.free[c] = a.free[c][:n-1]
		clear(b)
		return b
	}
	return make([]byte, size, 1<<c)
}

func (a *recyclingAllocator) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		a.mu.Lock()
		a.live += size - len(b)
		a.mu.Unlock()
		return b[:size]
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

func (a *recyclingAllocator) Free(b []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.live -= len(b)
	if cap(b) > 0 {
		c := bits.Len(uint(cap(b) - 1))
		a.free[c] = append(a.free[c], b[:0])
	}
}

// TestDecimalOnIntegersAllocatesInAllocator reads DECIMAL columns stored as
// INT64 and INT32 (TPC-H lineitem's money columns are the first kind) and
// checks that their values and NULLs come out right and that they cost the
// Go heap no more than the same integers read as BIGINT: pqarrow's own
// conversion made a fresh 16 bytes per value per batch, outside the
// allocator. (What both pay is Arrow Go's page buffers, per column chunk.)
func TestDecimalOnIntegersAllocatesInAllocator(t *testing.T) {
	const rows = 300_000
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "price", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}, Nullable: true},
		{Name: "qty", Type: &arrow.Decimal128Type{Precision: 9, Scale: 2}, Nullable: true},
		{Name: "price_int", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "qty_int", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	price := func(r int) int64 { return int64(r%100_000)*37 - 1_000_000 }
	qty := func(r int) int64 { return int64(r%50+1) * 100 }
	isNull := func(r int) bool { return r%7 == 3 }
	bld := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer bld.Release()
	for r := range rows {
		if isNull(r) {
			bld.Field(0).AppendNull()
			bld.Field(2).AppendNull()
		} else {
			bld.Field(0).(*array.Decimal128Builder).Append(decimal128.FromI64(price(r)))
			bld.Field(2).(*array.Int64Builder).Append(price(r))
		}
		bld.Field(1).(*array.Decimal128Builder).Append(decimal128.FromI64(qty(r)))
		bld.Field(3).(*array.Int32Builder).Append(int32(qty(r)))
	}
	rec := bld.NewRecordBatch()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	rec.Release()
	defer tbl.Release()
	path := filepath.Join(t.TempDir(), "money.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// As in TPC-H's lineitem: prices plain, quantities from a small dictionary.
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithStoreDecimalAsInteger(true),
		parquet.WithDictionaryFor("price", false), parquet.WithDictionaryFor("price_int", false))
	if err := pqarrow.WriteTable(tbl, f, 64*1024, props, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}

	checkStored(t, path, map[string]parquet.Type{"price": parquet.Types.Int64, "qty": parquet.Types.Int32})
	info, err := Inspect(path)
	if err != nil {
		t.Fatal(err)
	}
	groups := make([]int, len(info.RowGroups))
	for g := range groups {
		groups[g] = g
	}

	alloc := &recyclingAllocator{}
	// read reads two columns, price then quantity, checking every value,
	// and returns what the Go heap gave for it.
	read := func(columns []int) uint64 {
		t.Helper()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		rd, err := NewReader(path, groups, columns, alloc, 16*1024)
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		n := 0
		for {
			rec, err := rd.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch p := rec.Column(0).(type) {
			case *array.Decimal128:
				q := rec.Column(1).(*array.Decimal128).Values()
				for i := range p.Len() {
					if p.IsNull(i) != isNull(n+i) || p.IsValid(i) && p.Value(i) != decimal128.FromI64(price(n+i)) || q[i] != decimal128.FromI64(qty(n+i)) {
						t.Fatalf("row %d: (%v, %s, %s), want (%d, %d)", n+i, p.IsNull(i), p.Value(i).ToString(2), q[i].ToString(2), price(n+i), qty(n+i))
					}
				}
			case *array.Int64:
				q := rec.Column(1).(*array.Int64).Int64Values()
				for i := range p.Len() {
					if p.IsNull(i) != isNull(n+i) || p.IsValid(i) && p.Value(i) != price(n+i) || q[i] != qty(n+i) {
						t.Fatalf("row %d: (%v, %d, %d), want (%d, %d)", n+i, p.IsNull(i), p.Value(i), q[i], price(n+i), qty(n+i))
					}
				}
			default:
				t.Fatalf("column of %s", p.DataType())
			}
			n += int(rec.NumRows())
		}
		if n != rows {
			t.Fatalf("read %d rows, want %d", n, rows)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	decimals, ints := []int{0, 1}, []int{2, 3}
	read(decimals) // warms the allocator's free lists
	read(ints)
	decHeap, intHeap := read(decimals), read(ints)
	decimalBytes := uint64(2 * rows * arrow.Decimal128SizeBytes)
	t.Logf("Go heap: %d bytes reading %d bytes of decimals, %d bytes reading the same as BIGINT", decHeap, decimalBytes, intHeap)
	if decHeap > intHeap+decimalBytes/32 {
		t.Errorf("reading %d bytes of decimals took %d bytes of Go heap, %d more than the same as BIGINT", decimalBytes, decHeap, decHeap-intHeap)
	}
	if alloc.live != 0 {
		t.Errorf("%d bytes still allocated after Close", alloc.live)
	}
}
