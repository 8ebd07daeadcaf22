package parquetscan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// smallFile is a valid Parquet file of a few rows in two row groups, small
// enough for the fuzzer to mutate: an integer, a dictionary-encoded string,
// a double with nulls, a date and a decimal, under the given writer
// properties.
func smallFile(t testing.TB, props *parquet.WriterProperties) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "m", Type: &arrow.Decimal128Type{Precision: 9, Scale: 2}, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	for r := range 7 {
		b.Field(0).(*array.Int64Builder).Append(int64(r * 1000003))
		b.Field(1).(*array.StringBuilder).Append([]string{"a", "bb", "a", "ccc"}[r%4])
		if r%3 == 0 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Float64Builder).Append(float64(r) / 4)
		}
		b.Field(3).(*array.Date32Builder).Append(arrow.Date32(19000 + r))
		b.Field(4).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(r * 125)))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	tbl := array.NewTableFromRecords(schema, []arrow.Record{rec})
	defer tbl.Release()
	var out bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &out, 4, props, pqarrow.DefaultWriterProps()); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func smallFileProps() []*parquet.WriterProperties {
	return []*parquet.WriterProperties{
		parquet.NewWriterProperties(parquet.WithDictionaryDefault(false), parquet.WithStats(true)),
		parquet.NewWriterProperties(parquet.WithDictionaryDefault(true), parquet.WithCompression(compress.Codecs.Snappy)),
		parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDataPageVersion(parquet.DataPageV2)),
		parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Gzip), parquet.WithStoreDecimalAsInteger(true)),
	}
}

// FuzzParquet: any bytes either inspect and read, or fail with an error
// naming the file; never a panic, a hang or a leak. The seeds are small
// valid files (testdata/fuzz/FuzzParquet holds them and the crashers found
// so far), which the fuzzer damages.
func FuzzParquet(f *testing.F) {
	for _, props := range smallFileProps() {
		f.Add(smallFile(f, props))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		path := filepath.Join(t.TempDir(), "f.parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		// A watchdog, since the fuzzer itself reports a stuck input only
		// as a stall.
		done := make(chan error, 1)
		go func() { done <- fuzzRead(path, mem) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("reading took more than 10s")
		}
		mem.AssertSize(t, 0)
	})
}

// fuzzRead inspects and reads a file every way a task can; it returns a
// failure of the contract (an error that does not name the file).
func fuzzRead(path string, mem memory.Allocator) error {
	unnamed := func(what string, err error) error {
		if err != nil && !strings.Contains(err.Error(), path) {
			return fmt.Errorf("%s error without the path: %v", what, err)
		}
		return nil
	}
	info, err := Inspect(path)
	if err != nil {
		return unnamed("Inspect", err)
	}
	var cols []int
	for k, c := range info.Columns {
		if c.Type != Unsupported {
			cols = append(cols, k)
		}
	}
	for _, groups := range info.Splits(1) {
		for _, proj := range [][]int{cols, nil} {
			rd, err := NewReader(path, groups, proj, mem, 3)
			if err != nil {
				if bad := unnamed("NewReader", err); bad != nil {
					return bad
				}
				continue
			}
			for {
				_, err := rd.Next(context.Background())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					if bad := unnamed("Next", err); bad != nil {
						rd.Close()
						return bad
					}
					break
				}
			}
			rd.Close()
		}
	}
	rd, err := NewFileReader(path, info.Schema(), cols, mem, 1024)
	if err != nil {
		return unnamed("NewFileReader", err)
	}
	rd.Close()
	return nil
}
