package textscan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var batchSizes = []int{1, 2, 3, 7, 1024}

// refWords is the obvious tokenizer the fast paths must agree with.
func refWords(data []byte) []string {
	var out []string
	start := -1
	for i, b := range data {
		sep := strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \t\n\v\f\r", b) >= 0
		switch {
		case sep && start >= 0:
			out = append(out, string(data[start:i]))
			start = -1
		case !sep && start < 0:
			start = i
		}
	}
	if start >= 0 {
		out = append(out, string(data[start:]))
	}
	return out
}

func tally(words []string) map[string]int64 {
	m := make(map[string]int64)
	for _, w := range words {
		m[w]++
	}
	return m
}

// pipelineCounts runs the shell pipeline the package imitates, or skips.
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
	m := make(map[string]int64)
	for _, line := range bytes.Split(out, []byte("\n")) {
		line = bytes.TrimLeft(line, " ")
		if len(line) == 0 {
			continue
		}
		num, word, _ := bytes.Cut(line, []byte(" "))
		n, err := strconv.ParseInt(string(num), 10, 64)
		if err != nil {
			t.Fatalf("pipeline output line %q: %v", line, err)
		}
		if len(word) > 0 { // tr leaves one empty line when the file starts with a separator
			m[string(word)] += n
		}
	}
	return m
}

// genText writes text with everything the tokenizer must get right: ASCII
// and UTF-8 words, invalid UTF-8, control and NUL bytes, digits, words of
// 8/9/16/17 bytes (the inline-key edges) and long ones, runs of punctuation,
// tabs, CRLF and LF line ends and blank lines.
func genText(seed uint64, size int, finalNewline bool) []byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	vocab := []string{"the", "The", "a", "of", "naïve", "日本語", "x1", "42", "3", "don", "t",
		"\xff\xfe", "\xc3", "caf\xc3\xa9", "\x01ctl", "\x7f", "nul\x00byte", "exactly8", "ninebytes",
		"sixteen-bytes-ok", "seventeen_bytes_x", "\x80\x81\x82", "ÀÉÎ", "a\x1fb"}
	// Distinct random words make the table grow and collide.
	var wordByte []byte
	for b := 0; b < 256; b++ {
		if !isSep[b] {
			wordByte = append(wordByte, byte(b))
		}
	}
	for i := 0; i < 300; i++ {
		w := make([]byte, 1+rng.IntN(20))
		for j := range w {
			if rng.IntN(4) == 0 {
				w[j] = wordByte[rng.IntN(len(wordByte))]
			} else {
				w[j] = byte('a' + rng.IntN(6))
			}
		}
		vocab = append(vocab, string(w))
	}
	seps := []string{" ", " ", " ", "\t", "\r\n", "\n", "\n\n", "\r\n\r\n", ", ", ". ", "...", "--",
		"\v", "\f", "(", ") ", "\"", "'", "`~", "  \t ", "_", "\\", "@#$%^&*"}
	var b bytes.Buffer
	if rng.IntN(2) == 0 {
		b.WriteString(",\n ")
	}
	for b.Len() < size {
		switch r := rng.IntN(1000); {
		case r < 2: // a long word, longer than small chunks and ranges
			n := 50 + rng.IntN(3000)
			for j := 0; j < n; j++ {
				b.WriteByte(byte('k' + j%7))
			}
		case r < 500:
			b.WriteString(vocab[rng.IntN(24)]) // the frequent ones
		default:
			b.WriteString(vocab[rng.IntN(len(vocab))])
		}
		b.WriteString(seps[rng.IntN(len(seps))])
	}
	b.WriteString("lastword")
	if finalNewline {
		b.WriteString("\r\n")
	}
	return b.Bytes()
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "text.txt")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// cuts returns ranges of about target bytes, or random ones when target < 0.
func cuts(size, target int64, seed uint64) []Range {
	if target >= 0 {
		return Splits(size, target)
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	var out []Range
	for start := int64(0); start < size; {
		end := min(size, start+1+rng.Int64N(200))
		out = append(out, Range{start, end})
		start = end
	}
	return append(out, Range{size, size + 10}) // past the end: nothing
}

func readAll(t *testing.T, path string, ranges []Range, batch int, knobs testingKnobs) []string {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var words []string
	for _, r := range ranges {
		rd, err := newReader(path, r, mem, batch, knobs)
		if err != nil {
			t.Fatal(err)
		}
		last := false
		for {
			rec, err := rd.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if last && knobs.valueLimit == 0 {
				t.Fatalf("range %v: a batch shorter than %d rows was not the last", r, batch)
			}
			if rec.NumRows() > int64(batch) || rec.NumRows() == 0 {
				t.Fatalf("range %v: batch of %d rows, batch size %d", r, rec.NumRows(), batch)
			}
			last = rec.NumRows() < int64(batch)
			col := rec.Column(0).(*array.String)
			if knobs.valueLimit > 0 && len(col.ValueBytes()) > knobs.valueLimit {
				t.Fatalf("range %v: batch of %d word bytes, limit %d", r, len(col.ValueBytes()), knobs.valueLimit)
			}
			for i := 0; i < col.Len(); i++ {
				words = append(words, col.Value(i))
			}
		}
		if err := rd.Close(); err != nil {
			t.Fatal(err)
		}
		if err := rd.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return words
}

func countAll(t *testing.T, path string, ranges []Range, batch int, knobs testingKnobs) map[string]int64 {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	got := make(map[string]int64)
	for _, r := range ranges {
		c, err := newCounter([]Part{{path, r}}, mem, batch, knobs)
		if err != nil {
			t.Fatal(err)
		}
		seen := make(map[string]bool)
		last := false
		for {
			rec, err := c.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if last && knobs.valueLimit == 0 || rec.NumRows() > int64(batch) || rec.NumRows() == 0 {
				t.Fatalf("range %v: bad batch of %d rows, batch size %d", r, rec.NumRows(), batch)
			}
			last = rec.NumRows() < int64(batch)
			words, ns := rec.Column(0).(*array.String), rec.Column(1).(*array.Int64)
			if knobs.valueLimit > 0 && len(words.ValueBytes()) > knobs.valueLimit {
				t.Fatalf("range %v: batch of %d word bytes, limit %d", r, len(words.ValueBytes()), knobs.valueLimit)
			}
			for i := 0; i < words.Len(); i++ {
				w := words.Value(i)
				if seen[w] {
					t.Fatalf("range %v: word %q emitted twice", r, w)
				}
				seen[w] = true
				if ns.Value(i) <= 0 {
					t.Fatalf("range %v: word %q count %d", r, w, ns.Value(i))
				}
				got[w] += ns.Value(i)
			}
		}
		c.Close()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return got
}

func TestSplits(t *testing.T) {
	for _, tc := range []struct {
		size, target int64
		want         []Range
	}{
		{0, 10, []Range{{0, 0}}},
		{5, 10, []Range{{0, 5}}},
		{10, 10, []Range{{0, 10}}},
		{11, 10, []Range{{0, 5}, {5, 11}}},
		{10, 3, []Range{{0, 2}, {2, 5}, {5, 7}, {7, 10}}},
		{3, 1, []Range{{0, 1}, {1, 2}, {2, 3}}},
		{100, 0, []Range{{0, 100}}},
		{3 * DefaultSplitSize, -1, []Range{{0, DefaultSplitSize}, {DefaultSplitSize, 2 * DefaultSplitSize}, {2 * DefaultSplitSize, 3 * DefaultSplitSize}}},
	} {
		if got := Splits(tc.size, tc.target); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Splits(%d, %d) = %v, want %v", tc.size, tc.target, got, tc.want)
		}
	}
}

// TestSeparatorsMatchTr pins the separator set to the real tool, byte by byte.
func TestSeparatorsMatchTr(t *testing.T) {
	var data []byte
	for b := 0; b < 256; b++ {
		data = append(data, 'x', byte(b), 'y', '\n')
	}
	path := writeFile(t, data)
	got := pipelineCounts(t, path)
	for b := 0; b < 256; b++ {
		joined := string([]byte{'x', byte(b), 'y'})
		if b == '\n' {
			continue
		}
		if trSep := got[joined] == 0; trSep != isSep[b] {
			t.Errorf("byte %#02x: tr separates: %v, isSep: %v", b, trSep, isSep[b])
		}
	}
}

func TestSmallInputs(t *testing.T) {
	long := strings.Repeat("L", 300)
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"empty", "", nil},
		{"only separators", " ,.\r\n\t\v\f!?\n\n", nil},
		{"one word, no newline", "word", []string{"word"}},
		{"crlf lines", "one two\r\nthree\r\n\r\nfour\r\n", []string{"one", "two", "three", "four"}},
		{"punctuation joins nothing", "don't stop-the_music(now)!", []string{"don", "t", "stop", "the", "music", "now"}},
		{"utf8 and invalid bytes", "naïve café\xff \xc3(日本)", []string{"naïve", "café\xff", "\xc3", "日本"}},
		{"control bytes are word bytes", "a\x00b \x01\x7f\x1b c", []string{"a\x00b", "\x01\x7f\x1b", "c"}},
		{"inline key edges", "12345678 123456789 1234567890123456 12345678901234567 1234567\x00",
			[]string{"12345678", "123456789", "1234567890123456", "12345678901234567", "1234567\x00"}},
		{"NUL padding differs from shorter word", "ab ab\x00 ab\x00\x00 ab", []string{"ab", "ab\x00", "ab\x00\x00", "ab"}},
		{"long word across everything", ",," + long + ".." + long + "x", []string{long, long + "x"}},
		{"digits", "3.14 2024-01-02 42", []string{"3", "14", "2024", "01", "02", "42"}},
		{"long words sharing 16 bytes", "abcdefghijklmnop1 abcdefghijklmnop2\tabcdefghijklmnop1 abcdefghijklmnop12",
			[]string{"abcdefghijklmnop1", "abcdefghijklmnop2", "abcdefghijklmnop1", "abcdefghijklmnop12"}},
		{"64-byte window edges", strings.Repeat("x", 63) + " " + strings.Repeat("y", 64) + "," + strings.Repeat("z", 65),
			[]string{strings.Repeat("x", 63), strings.Repeat("y", 64), strings.Repeat("z", 65)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := refWords([]byte(tc.text)); !slices.Equal(got, tc.want) {
				t.Fatalf("reference tokenizer: %q, want %q", got, tc.want)
			}
			path := writeFile(t, []byte(tc.text))
			size := int64(len(tc.text))
			targets := []int64{size / 3, size / 2, size, size + 1}
			for target := int64(1); target <= min(size, 24); target++ {
				targets = append(targets, target)
			}
			for _, target := range targets {
				for _, chunk := range []int{0, 1, 5} {
					for _, batch := range []int{1, 1024} {
						if got := readAll(t, path, Splits(size, target), batch, testingKnobs{chunkSize: chunk}); !slices.Equal(got, tc.want) {
							t.Fatalf("Reader, target %d, chunk %d, batch %d: %q, want %q", target, chunk, batch, got, tc.want)
						}
						if got := countAll(t, path, Splits(size, target), batch, testingKnobs{chunkSize: chunk}); !reflect.DeepEqual(got, tally(tc.want)) {
							t.Fatalf("Counter, target %d, chunk %d, batch %d: %v, want %v", target, chunk, batch, got, tally(tc.want))
						}
					}
				}
			}
		})
	}
}

func TestMatchesPipeline(t *testing.T) {
	for _, tc := range []struct {
		name    string
		size    int
		newline bool
		targets []int64 // -1: random cut points
	}{
		{"tiny ranges", 2000, false, []int64{1, 7, 100}},
		{"with final newline", 40000, true, []int64{100, 4096, -1, 1 << 30}},
		{"without final newline", 40000, false, []int64{100, 4096, -1, 1 << 30}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := genText(uint64(tc.size), tc.size, tc.newline)
			path := writeFile(t, data)
			want := refWords(data)
			wantCounts := pipelineCounts(t, path)
			if got := tally(want); !reflect.DeepEqual(got, wantCounts) {
				t.Fatalf("reference tokenizer disagrees with tr: %d vs %d distinct words", len(got), len(wantCounts))
			}
			for _, target := range tc.targets {
				ranges := cuts(int64(len(data)), target, uint64(target)+1)
				for _, chunk := range []int{0, 5} {
					for _, batch := range batchSizes {
						name := fmt.Sprintf("target %d, chunk %d, batch %d", target, chunk, batch)
						if got := readAll(t, path, ranges, batch, testingKnobs{chunkSize: chunk}); !slices.Equal(got, want) {
							t.Fatalf("Reader, %s: %d words, want %d", name, len(got), len(want))
						}
						if got := countAll(t, path, ranges, batch, testingKnobs{chunkSize: chunk}); !reflect.DeepEqual(got, wantCounts) {
							t.Fatalf("Counter, %s: %d distinct words, want %d", name, len(got), len(wantCounts))
						}
					}
				}
			}
		})
	}
}

// TestTableGrowth counts enough distinct words to grow the table many times.
func TestTableGrowth(t *testing.T) {
	var b bytes.Buffer
	want := make(map[string]int64)
	for i := 0; i < 50000; i++ {
		w := strconv.FormatInt(int64(i*i)%99991, 36) + strings.Repeat("z", i%20)
		want[w]++
		b.WriteString(w)
		b.WriteString(" \n,"[i%3 : i%3+1])
	}
	path := writeFile(t, b.Bytes())
	if got := countAll(t, path, []Range{{0, int64(b.Len())}}, 1024, testingKnobs{}); !reflect.DeepEqual(got, want) {
		t.Fatalf("%d distinct words, want %d", len(got), len(want))
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope.txt")
	if _, err := NewReader(missing, Range{0, 10}, nil, 0); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("NewReader(missing) = %v, want a not-exist error naming the file", err)
	}
	if _, err := NewCounter(missing, Range{0, 10}, nil, 0); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("NewCounter(missing) = %v, want a not-exist error naming the file", err)
	}
	if _, err := NewCounter(dir, Range{0, 10}, nil, 0); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("NewCounter(directory) = %v, want an error naming it", err)
	}
	path := writeFile(t, genText(1, 10000, true))
	if _, err := NewReader(path, Range{5, 2}, nil, 0); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("NewReader(bad range) = %v, want an error naming the file", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rd, err := NewReader(path, Range{0, 10000}, mem, 7)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Reader.Next(cancelled) = %v, want context.Canceled", err)
	}
	rd.Close()
	c, err := NewCounter(path, Range{0, 10000}, mem, 7)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Counter.Next(cancelled) = %v, want context.Canceled", err)
	}
	c.Close()
}

func TestCloseEarly(t *testing.T) {
	path := writeFile(t, genText(2, 20000, true))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rd, err := NewReader(path, Range{0, 20000}, mem, 3)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCounter(path, Range{0, 20000}, mem, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []interface {
		Schema() *arrow.Schema
		Next(context.Context) (arrow.Record, error)
		Close() error
	}{rd, c} {
		if _, err := op.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := op.Close(); err != nil {
			t.Fatal(err)
		}
		if err := op.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := op.Next(context.Background()); !errors.Is(err, io.EOF) {
			t.Errorf("Next after Close = %v, want io.EOF", err)
		}
	}
	if got := c.Schema().String(); !strings.Contains(got, "word: type=utf8, nullable") || !strings.Contains(got, "n: type=int64, nullable") {
		t.Errorf("Counter schema = %s", got)
	}
}

// TestLimits lowers the 2 GiB limits: a word longer than the longest allowed
// is an error naming the file, and a batch stops early when its word bytes
// reach the most an array may hold.
func TestLimits(t *testing.T) {
	long := strings.Repeat("w", 100)
	path := writeFile(t, []byte("a bb "+long+" ccc\n"))
	// The same word last in the file, with nothing after it: it fills the
	// read buffer exactly (the limit plus one byte) as the file ends.
	last := writeFile(t, []byte("a bb "+long))
	for _, p := range []string{path, last} {
		for _, op := range []string{"Reader", "Counter"} {
			var err error
			knobs := testingKnobs{chunkSize: 8, wordLimit: 99}
			if op == "Reader" {
				rd, _ := newReader(p, Range{0, 200}, nil, 7, knobs)
				for err == nil {
					_, err = rd.Next(context.Background())
				}
				rd.Close()
			} else {
				c, _ := newCounter([]Part{{p, Range{0, 200}}}, nil, 7, knobs)
				for err == nil {
					_, err = c.Next(context.Background())
				}
				c.Close()
			}
			if err == io.EOF || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "longer than 99 bytes") {
				t.Errorf("%s with a 100-byte word, limit 99, in %q: %v, want an error naming the file and the limit", op, p, err)
			}
		}
	}
	want := []string{"a", "bb", long, "ccc"}
	knobs := testingKnobs{chunkSize: 8, wordLimit: 100}
	if got := readAll(t, path, []Range{{0, 200}}, 7, knobs); !slices.Equal(got, want) {
		t.Errorf("Reader with a 100-byte word, limit 100: %q, want %q", got, want)
	}

	data := genText(5, 5000, true)
	for _, w := range refWords(data) {
		if len(w) > 48 {
			data = bytes.ReplaceAll(data, []byte(w), []byte("long"))
		}
	}
	path = writeFile(t, data)
	knobs = testingKnobs{valueLimit: 64}
	for _, batch := range batchSizes {
		if got := readAll(t, path, []Range{{0, int64(len(data))}}, batch, knobs); !slices.Equal(got, refWords(data)) {
			t.Errorf("Reader, 64-byte batches, batch size %d: %d words, want %d", batch, len(got), len(refWords(data)))
		}
		if got := countAll(t, path, []Range{{0, int64(len(data))}}, batch, knobs); !reflect.DeepEqual(got, tally(refWords(data))) {
			t.Errorf("Counter, 64-byte batches, batch size %d: %d distinct words, want %d", batch, len(got), len(tally(refWords(data))))
		}
	}
}

// TestClassifyMatchesIsSep checks the separator bitmaps (the SIMD classifier
// where the CPU has one, and the portable one) against isSep for every byte
// value at every position of a window.
func TestClassifyMatchesIsSep(t *testing.T) {
	buf := make([]byte, 64*windows, 64*windows+pad)
	for b := 0; b < 256; b++ {
		for i := range buf {
			buf[i] = byte((i*7 + b*13) % 256) // every value, shuffled across positions
		}
		buf[b%len(buf)] = byte(b)
		var simd, generic [windows]uint64
		classify(buf, windows, &simd)
		classifyGeneric(buf, windows, &generic)
		for k := range windows {
			var want uint64
			for q := 0; q < 64; q++ {
				if isSep[buf[64*k+q]] {
					want |= 1 << q
				}
			}
			if simd[k] != want || generic[k] != want {
				t.Fatalf("round %d window %d: classify %#x, classifyGeneric %#x, want %#x", b, k, simd[k], generic[k], want)
			}
		}
	}
}
