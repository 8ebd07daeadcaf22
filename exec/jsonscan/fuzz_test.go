package jsonscan

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzReader: any file either reads or fails with an error naming the
// file; never a panic, never a hang.
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
	})
}
