package textscan

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// benchCorpus is the headline workload's text: the file named by
// QUERN_WORDS, else /tmp/words-100m.txt (made by
// `cd /work/shared/bench && go run ./gen/words -size 104857600 -out /tmp/words-100m.txt`),
// else 16 MiB of Zipf text generated here.
func benchCorpus(b *testing.B) string {
	b.Helper()
	for _, p := range []string{os.Getenv("QUERN_WORDS"), "/tmp/words-100m.txt"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	path := filepath.Join(b.TempDir(), "zipf.txt")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.0001, 1, 1e6-1)
	w := bufio.NewWriterSize(f, 1<<20)
	line := 0
	for n := 0; n < 16<<20; {
		k := zipf.Uint64()
		word := strconv.FormatUint(k*2654435761%(1<<40), 36)[:2+k%7]
		n += len(word) + 1
		line += len(word) + 1
		w.WriteString(word)
		switch {
		case line > 70:
			w.WriteByte('\n')
			line = 0
		case rng.IntN(10) == 0:
			w.WriteString(", ")
		default:
			w.WriteByte(' ')
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return path
}

func fileSize(b *testing.B, path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return st.Size()
}

// BenchmarkTokenize measures splitting text into words: "scan" runs the
// tokenizer alone over the corpus in memory, "reader" the Reader from the
// file to Arrow batches.
func BenchmarkTokenize(b *testing.B) {
	path := benchCorpus(b)
	size := fileSize(b, path)
	b.Run("scan", func(b *testing.B) {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		data = append(data, make([]byte, pad)...)[:len(data)]
		b.SetBytes(size)
		var toks [block]token
		var words int
		for b.Loop() {
			for i := 0; i < len(data); {
				var k int
				k, i = tokenize(data, i, toks[:])
				words += k
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(words), "ns/word")
	})
	b.Run("reader", func(b *testing.B) {
		b.SetBytes(size)
		var words int64
		for b.Loop() {
			rd, err := NewReader(path, Range{0, size}, memory.DefaultAllocator, 16*1024)
			if err != nil {
				b.Fatal(err)
			}
			for {
				rec, err := rd.Next(context.Background())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				words += rec.NumRows()
			}
			rd.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(words), "ns/word")
	})
}

// BenchmarkCounter measures the fused scan + combiner over the whole corpus,
// as one range and as the ranges a map stage would cut.
func BenchmarkCounter(b *testing.B) {
	path := benchCorpus(b)
	size := fileSize(b, path)
	for _, bc := range []struct {
		name    string
		target  int64
		workers int
	}{{"one-range", size, 1}, {"16MiB-ranges", 16 << 20, 1}, {"64MiB-ranges", 64 << 20, 1},
		// Two ranges at once, as two map tasks on a 2-core worker pool: they
		// share the last-level cache and memory bandwidth.
		{"2x-parallel", (size + 1) / 2, 2}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(size)
			var distinct atomic.Int64
			for b.Loop() {
				distinct.Store(0)
				ranges := make(chan Range, 1024)
				for _, r := range Splits(size, bc.target) {
					ranges <- r
				}
				close(ranges)
				var wg sync.WaitGroup
				for range bc.workers {
					wg.Go(func() {
						for r := range ranges {
							n, err := countRange(path, r)
							if err != nil {
								b.Error(err)
								return
							}
							distinct.Add(n)
						}
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(distinct.Load()), "rows-out")
		})
	}
}

func countRange(path string, r Range) (int64, error) {
	c, err := NewCounter(path, r, memory.DefaultAllocator, 16*1024)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	var rows int64
	for {
		rec, err := c.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return 0, err
		}
		rows += rec.NumRows()
	}
}
