package csvscan

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec/compressed"
)

// FuzzReader: any file either reads or fails with an error naming the
// file; never a panic, never a hang. The same bytes gzip-compressed read the
// same rows, or fail with the same error, as the plain file read whole.
func FuzzReader(f *testing.F) {
	f.Add([]byte("a,b,c\n1,2.5,x\n3,,\"q,\"\"u\"\"\"\n"), int64(7))
	f.Add([]byte("id|d|ok\r\n1|2020-01-02|true\r\n2|2021-13-01|false\r\n"), int64(3))
	f.Add([]byte("x;y\n\"multi\nline\";2\n"), int64(100))
	f.Add([]byte("\xef\xbb\xbfh\n1\n2\nx\n"), int64(1))
	f.Fuzz(func(t *testing.T, data []byte, split int64) {
		if len(data) > 1<<16 {
			return
		}
		path := filepath.Join(t.TempDir(), "f.csv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		format, err := Sniff(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("sniff error without the path: %v", err)
			}
			return
		}
		if split < 1 {
			split = 1
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		cols := make([]int, len(format.Header))
		for i := range cols {
			cols[i] = i
		}
		for _, r := range Splits(format, int64(len(data)), split) {
			rd, err := NewReader(path, format, cols, r, mem, 3)
			if err != nil {
				if !strings.Contains(err.Error(), path) {
					t.Fatalf("reader error without the path: %v", err)
				}
				continue
			}
			for {
				_, err := rd.Next(context.Background())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					if !strings.Contains(err.Error(), path) {
						t.Fatalf("read error without the path: %v", err)
					}
					break
				}
			}
			rd.Close()
		}
		plainRows, plainErr := fuzzReadWhole(path, format, cols, int64(len(data)), mem)
		gz := path + ".gz"
		if err := compressed.WriteFile(gz, data); err != nil {
			t.Fatal(err)
		}
		gzFormat, err := Sniff(gz)
		if err != nil {
			t.Fatalf("plain file sniffs, gzipped one fails: %v", err)
		}
		gzFormat.Source = format.Source
		if !reflect.DeepEqual(gzFormat, format) {
			t.Fatalf("gzipped format %+v, plain %+v", gzFormat, format)
		}
		gzRows, gzErr := fuzzReadWhole(gz, format, cols, 0, mem)
		if !reflect.DeepEqual(gzRows, plainRows) {
			t.Fatalf("gzipped rows %q, plain %q", gzRows, plainRows)
		}
		if (gzErr == nil) != (plainErr == nil) || gzErr != nil && strings.ReplaceAll(gzErr.Error(), gz, path) != plainErr.Error() {
			t.Fatalf("gzipped error %v, plain %v", gzErr, plainErr)
		}
	})
}

// FuzzIgnoreErrors: a file sniffed and read skipping malformed records
// reads the same rows, and skips the same number, whole or cut into
// ranges anywhere; errors (which only a damaged header can cause) name the
// file.
func FuzzIgnoreErrors(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n3\n4,x\n\"5\"\",6\n7,8,9\n10,11\n"), int64(3))
	f.Add([]byte("h|d\r\n1|2020-01-01\r\n2|2020-13-01\r\n\"3|x\n4|2021-01-01\n"), int64(5))
	f.Fuzz(func(t *testing.T, data []byte, split int64) {
		if len(data) > 1<<16 {
			return
		}
		path := filepath.Join(t.TempDir(), "f.csv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		format, err := SniffWith(path, SniffOptions{IgnoreErrors: true})
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("sniff error without the path: %v", err)
			}
			return
		}
		if format.MultilineQuotes {
			split = int64(len(data)) + 1 // read whole, as the planner does
		}
		split = max(split, 1)
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		cols := make([]int, len(format.Header))
		for i := range cols {
			cols[i] = i
		}
		read := func(ranges []Range) ([]string, int64, error) {
			var rows []string
			var skipped int64
			for _, r := range ranges {
				rd, err := NewReader(path, format, cols, r, mem, 3)
				if err != nil {
					return rows, skipped, err
				}
				for {
					rec, err := rd.Next(context.Background())
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						rd.Close()
						return rows, skipped, err
					}
					for i := range int(rec.NumRows()) {
						rows = append(rows, formatRow(rec, i))
					}
				}
				n, _ := rd.Skipped()
				skipped += n
				rd.Close()
			}
			return rows, skipped, nil
		}
		whole, wholeSkipped, err := read([]Range{{0, int64(len(data))}})
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("read error without the path: %v", err)
			}
			return
		}
		cut, cutSkipped, err := read(Splits(format, int64(len(data)), split))
		if err != nil {
			t.Fatalf("the whole file reads, its ranges fail: %v", err)
		}
		if !reflect.DeepEqual(cut, whole) || cutSkipped != wholeSkipped {
			t.Fatalf("ranges read %d rows and skip %d, the whole file %d and %d", len(cut), cutSkipped, len(whole), wholeSkipped)
		}
	})
}

// fuzzReadWhole reads a whole file with one reader: its rows until the
// first error, and the error.
func fuzzReadWhole(path string, f Format, cols []int, size int64, mem memory.Allocator) ([]string, error) {
	rd, err := NewReader(path, f, cols, Range{0, size}, mem, 3)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	var rows []string
	for {
		rec, err := rd.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		for i := range int(rec.NumRows()) {
			rows = append(rows, formatRow(rec, i))
		}
	}
}
