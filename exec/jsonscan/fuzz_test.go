package jsonscan

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
// file; never a panic, never a hang. The same bytes gzip-compressed sniff
// and read the same, or fail with the same error, as the plain file.
func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"a": 1, "b": "x\u00e9", "c": [1, {"d": null}]}`+"\n"+`{"a": 2.5, "e": true}`+"\n"), int64(9))
	f.Add([]byte("{\"a\":\"\\ud83d\\ude00\"}\r\n\n{\"a\":1}\n{bad\n"), int64(4))
	f.Fuzz(func(t *testing.T, data []byte, split int64) {
		if len(data) > 1<<16 {
			return
		}
		path := filepath.Join(t.TempDir(), "f.jsonl")
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
		cols := make([]int, len(format.Columns))
		for i := range cols {
			cols[i] = i
		}
		for _, r := range Splits(int64(len(data)), split) {
			rd, err := NewReader(path, format, cols, r, mem, 3)
			if err != nil {
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
		rows = append(rows, render(rec)...)
	}
}
