package textscan

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzCounter: for any bytes and any cut, the counter over the ranges
// counts exactly the words the reader over the whole file sees.
func FuzzCounter(f *testing.F) {
	f.Add([]byte("The fox, the FOX!\r\n\n42 caf\xc3\xa9 \xff"), int64(3))
	f.Fuzz(func(t *testing.T, data []byte, split int64) {
		if len(data) > 1<<16 {
			return
		}
		path := filepath.Join(t.TempDir(), "f.txt")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if split < 1 {
			split = 1
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		want := map[string]int64{}
		rd, err := NewReader(path, Range{0, int64(len(data))}, mem, 5)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := rd.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			w := rec.Column(0).(*array.String)
			for i := 0; i < w.Len(); i++ {
				want[w.Value(i)]++
			}
		}
		rd.Close()
		got := map[string]int64{}
		for _, r := range Splits(int64(len(data)), split) {
			c, err := NewCounter(path, r, mem, 4)
			if err != nil {
				t.Fatal(err)
			}
			for {
				rec, err := c.Next(context.Background())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				w := rec.Column(0).(*array.String)
				n := rec.Column(1).(*array.Int64)
				for i := 0; i < w.Len(); i++ {
					got[w.Value(i)] += n.Value(i)
				}
			}
			c.Close()
		}
		if len(got) != len(want) {
			t.Fatalf("counter found %d distinct words, reader %d", len(got), len(want))
		}
		for w, n := range want {
			if got[w] != n {
				t.Fatalf("word %q: counter %d, reader %d", w, got[w], n)
			}
		}
	})
}
