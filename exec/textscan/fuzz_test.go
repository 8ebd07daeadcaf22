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

	"github.com/quernsql/quern/exec/compressed"
)

// FuzzCounter: for any bytes and any cut, the counter over the ranges
// counts exactly the words the reader over the whole file sees, and so do a
// reader and a counter over the same bytes gzip-compressed.
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
		// words tallies what a Reader over r of file p yields.
		words := func(p string, r Range) map[string]int64 {
			got := map[string]int64{}
			rd, err := NewReader(p, r, mem, 5)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			for {
				rec, err := rd.Next(context.Background())
				if errors.Is(err, io.EOF) {
					return got
				}
				if err != nil {
					t.Fatal(err)
				}
				w := rec.Column(0).(*array.String)
				for i := 0; i < w.Len(); i++ {
					got[w.Value(i)]++
				}
			}
		}
		want := words(path, Range{0, int64(len(data))})
		gz := path + ".gz"
		if err := compressed.WriteFile(gz, data); err != nil {
			t.Fatal(err)
		}
		gzWords := words(gz, Range{0, 1})
		if len(gzWords) != len(want) {
			t.Fatalf("gzipped reader found %d distinct words, plain %d", len(gzWords), len(want))
		}
		for w, n := range want {
			if gzWords[w] != n {
				t.Fatalf("word %q: gzipped reader %d, plain %d", w, gzWords[w], n)
			}
		}
		got := map[string]int64{}
		ranges := Splits(int64(len(data)), split)
		parts := []Part{{gz, Range{0, 1}}}
		for _, r := range ranges {
			parts = append(parts, Part{path, r})
		}
		for i, r := range ranges {
			var c *Counter
			var err error
			if i == 0 {
				// The first range counts the gzipped copy too, then the
				// plain file's parts: twice the words in all.
				c, err = NewPartsCounter(parts[:2], mem, 4)
			} else {
				c, err = NewCounter(path, r, mem, 4)
			}
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
			if got[w] != 2*n {
				t.Fatalf("word %q: counters %d over the plain and gzipped files, reader %d", w, got[w], n)
			}
		}
	})
}
