package quern_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern"
)

// genText writes text with punctuation, digits, UTF-8 and invalid bytes,
// CRLF and LF line ends, tabs and blank lines.
func genText(t *testing.T, path string, size int, seed uint64) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b9))
	vocab := []string{"the", "The", "fox", "FOX", "a", "don", "t", "42", "x1y2", "café", "naïve", "\xff\xfe", "été", "MapReduce", "quern", "co-op", "e-mail", "über"}
	seps := []string{" ", "  ", ", ", ". ", "; ", "\t", " -- ", "!", "?", "(", ")", "'", "\"", "...", "\r\n", "\n", "\n\n", "\r\n\r\n", " \v", "\f", "_", "/", "@#$%"}
	var b bytes.Buffer
	for b.Len() < size {
		w := vocab[r.IntN(len(vocab))]
		if r.IntN(10) == 0 {
			w += strconv.Itoa(r.IntN(1000))
		}
		b.WriteString(w)
		b.WriteString(seps[r.IntN(len(seps))])
	}
	b.WriteString("tail")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pipelineCounts runs the reference: LC_ALL=C tr -s '[:punct:][:space:]' '\n' | sort | uniq -c.
func pipelineCounts(t *testing.T, path string) map[string]int64 {
	t.Helper()
	if _, err := exec.LookPath("tr"); err != nil {
		t.Skip("tr not installed")
	}
	cmd := exec.Command("sh", "-c", `tr -s '[:punct:][:space:]' '\n' < "$1" | sort | uniq -c`, "sh", path)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	counts := map[string]int64{}
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimLeft(line, " ")
		if line == "" {
			continue
		}
		sp := strings.IndexByte(line, ' ')
		n, err := strconv.ParseInt(line[:sp], 10, 64)
		if err != nil {
			t.Fatalf("pipeline line %q: %v", line, err)
		}
		word := line[sp+1:]
		if word == "" {
			continue // tr leaves one empty line when the text starts with a separator
		}
		counts[word] += n
	}
	return counts
}

// TestWordCountMatchesPipeline checks quern's word count against the
// shell pipeline on generated text split into many map tasks.
func TestWordCountMatchesPipeline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "corpus.txt")
	genText(t, path, 300_000, 7)
	want := pipelineCounts(t, path)
	for _, split := range []int64{1 << 20, 4096, 777} {
		t.Run(fmt.Sprintf("split%d", split), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			cfg := quern.DefaultConfig()
			cfg.Workers, cfg.Reducers, cfg.SplitSize, cfg.Allocator, cfg.TempDir = 4, 3, split, mem, t.TempDir()
			if split == 4096 {
				cfg.ShuffleMemory = 32 << 10 // past this, partitions spill to files
			}
			db, err := quern.Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer mem.AssertSize(t, 0)
			defer db.Close()
			q := fmt.Sprintf("SELECT word, count(*) AS n FROM `%s` GROUP BY word ORDER BY n DESC, word", path)
			plan, err := db.Explain(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if split < 1<<20 && !strings.Contains(plan, "WordCount") {
				t.Errorf("plan does not fuse the word count:\n%s", plan)
			}
			got := map[string]int64{}
			var order []string
			var counts []int64
			rr, err := db.Query(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			for rr.Next() {
				rec := rr.Record()
				w := rec.Column(0).(*array.String)
				n := rec.Column(1).(*array.Int64)
				for i := 0; i < int(rec.NumRows()); i++ {
					got[w.Value(i)] = n.Value(i)
					order = append(order, w.Value(i))
					counts = append(counts, n.Value(i))
				}
			}
			if err := rr.Err(); err != nil {
				t.Fatal(err)
			}
			rr.Release()
			if len(got) != len(want) {
				t.Errorf("%d distinct words, pipeline has %d", len(got), len(want))
			}
			for w, n := range want {
				if got[w] != n {
					t.Errorf("word %q: quern %d, pipeline %d", w, got[w], n)
				}
			}
			for i := 1; i < len(order); i++ {
				if counts[i] > counts[i-1] || counts[i] == counts[i-1] && order[i] <= order[i-1] {
					t.Fatalf("rows %d-%d out of order: (%q %d) then (%q %d)", i-1, i, order[i-1], counts[i-1], order[i], counts[i])
				}
			}
		})
	}
}
