package textscan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"

	"github.com/quernsql/quern/exec/compressed"
)

// defaultChunkSize is how much one ReadAt asks for. Half a MiB keeps the
// per-read cost (syscall, context check) well under 1% of tokenizing it,
// and the kernel's copy lands in L2, where the tokenizer then reads it
// (4 MiB pieces went out to L3 and back: ~7% slower, measured).
const defaultChunkSize = 512 << 10

// pad is how many bytes past the data handed out stay addressable, so the
// tokenizer may classify 64 bytes at a time and load 16 at any word start.
const pad = 64

// maxWordLen is the longest word: Arrow utf8 offsets are int32, and the read
// buffer (which must hold a whole word) is at most maxWordLen+1+pad bytes.
const maxWordLen = math.MaxInt32 - pad - 1

// testingKnobs shrink the package's limits so tests can reach them. The zero
// value means the production values.
type testingKnobs struct {
	chunkSize  int // bytes per read (defaultChunkSize)
	wordLimit  int // longest word (maxWordLen)
	valueLimit int // most word bytes in one batch (maxValueBytes)
}

type chunkState uint8

const (
	seekBegin chunkState = iota // discarding the word that started before Start
	body                        // reading [begin, End)
	tail                        // reading past End to finish the word that holds End-1
	finished                    // everything up to finish is in the buffer
)

// chunker hands out the bytes [begin, finish) of one range (see doc.go) in
// pieces that never cut a word: each piece but the last ends just after a
// separator, and the partial word after it is carried to the next piece.
type chunker struct {
	f     *compressed.File
	path  string
	buf   []byte // cap(buf) >= len(buf)+pad
	n     int    // buf[:n] holds bytes read and not yet consumed
	out   int    // buf[:out] was handed out; buf[out:n] is the carry
	pos   int64  // file offset of the next read
	end   int64  // the range's End, clamped to the file size
	size  int64
	state chunkState
	// maxWord is the longest word; buf never grows past maxWord+1 bytes.
	maxWord int
}

// wholeStream stands for the unknown decompressed size of a compressed
// file, which is always read whole.
const wholeStream = 1 << 62

func openChunker(path string, r Range, knobs testingKnobs) (*chunker, error) {
	f, err := compressed.Open(path)
	if err != nil {
		return nil, fileErr(path, err)
	}
	size, err := f.Size()
	if err != nil {
		f.Close()
		return nil, fileErr(path, err)
	}
	if r.Start < 0 || r.End < r.Start {
		f.Close()
		return nil, fmt.Errorf("textscan: %s: invalid range [%d, %d)", path, r.Start, r.End)
	}
	if f.Compressed() {
		if r.Start > 0 {
			f.Close()
			return nil, fmt.Errorf("internal: textscan: %s: a compressed file is read whole, not from byte %d", path, r.Start)
		}
		size, r.End = wholeStream, wholeStream
	}
	c := &chunker{f: f, path: path, size: size}
	c.end = min(r.End, c.size)
	switch {
	case r.Start >= c.end:
		c.state = finished
	case r.Start == 0:
		c.state = body
	default:
		c.state, c.pos = seekBegin, r.Start-1
	}
	chunkSize := cmp.Or(knobs.chunkSize, defaultChunkSize)
	c.maxWord = cmp.Or(knobs.wordLimit, maxWordLen)
	// A small range needs no big buffer; grow handles a long last word.
	bufLen := int(min(int64(chunkSize), max(c.end-c.pos+1, 64), int64(c.maxWord)+1))
	c.buf = make([]byte, bufLen, bufLen+pad)
	return c, nil
}

// next returns the next piece of the range, valid until the following call,
// or io.EOF. The piece's capacity extends at least pad bytes past its length.
func (c *chunker) next(ctx context.Context) ([]byte, error) {
	if c.out > 0 {
		c.n = copy(c.buf, c.buf[c.out:c.n])
		c.out = 0
	}
	for {
		if c.state == finished {
			if c.n == 0 {
				return nil, io.EOF
			}
			if c.n > c.maxWord && indexSep(c.buf[:c.n]) < 0 {
				// The file ended just as one word filled the buffer.
				return nil, c.tooLong()
			}
			c.out = c.n
			return c.buf[:c.n], nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if c.n == len(c.buf) {
			if len(c.buf) > c.maxWord {
				return nil, c.tooLong()
			}
			c.grow()
		}
		limit := c.end
		if c.state == tail {
			limit = c.size
		}
		want := int(min(int64(len(c.buf)-c.n), limit-c.pos))
		got, err := c.f.ReadAt(c.buf[c.n:c.n+want], c.pos)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fileErr(c.path, err)
		}
		if got < want || want <= 0 {
			// The file shrank under us: it ends here.
			c.size = c.pos + int64(got)
			c.end = min(c.end, c.size)
		}
		fresh := c.buf[c.n : c.n+got]
		c.pos += int64(got)
		c.n += got
		switch c.state {
		case seekBegin:
			k := indexSep(fresh)
			if k < 0 {
				c.n = 0
				if c.pos >= c.end {
					c.state = finished // a word covers [Start-1, End): not ours
				}
				continue
			}
			c.n = copy(c.buf, fresh[k:])
			c.state = body
		case tail:
			if k := indexSep(fresh); k >= 0 {
				c.n -= len(fresh) - k
				c.state = finished
			} else if c.pos >= c.size {
				c.state = finished
			}
			continue
		}
		if c.pos >= c.end {
			if c.pos >= c.size || c.n == 0 || isSep[c.buf[c.n-1]] {
				c.state = finished
				continue
			}
			c.state = tail
		}
		cut := lastSep(c.buf[:c.n]) + 1
		if cut == 0 {
			continue // one partial word fills what we have: read on
		}
		c.out = cut
		return c.buf[:cut], nil
	}
}

// tooLong is the error for the word that fills the buffer, which starts at
// byte pos-n of the file.
func (c *chunker) tooLong() error {
	return fmt.Errorf("textscan: %s: the word at byte %d is longer than %d bytes, the most a string value may hold",
		c.path, c.pos-int64(c.n), c.maxWord)
}

func (c *chunker) grow() {
	size := min(2*len(c.buf), c.maxWord+1)
	nb := make([]byte, size, size+pad)
	copy(nb, c.buf[:c.n])
	c.buf = nb
}

func (c *chunker) close() error {
	if c == nil || c.f == nil {
		return nil
	}
	err := c.f.Close()
	c.f, c.buf = nil, nil
	if err != nil {
		return fileErr(c.path, err)
	}
	return nil
}

func indexSep(b []byte) int {
	for i, x := range b {
		if isSep[x] {
			return i
		}
	}
	return -1
}

func lastSep(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if isSep[b[i]] {
			return i
		}
	}
	return -1
}

// fileErr makes sure an I/O error names the file once: os errors already
// carry the path in a *fs.PathError.
func fileErr(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) || errors.Is(err, compressed.ErrCorrupt) {
		return fmt.Errorf("textscan: %w", err)
	}
	return fmt.Errorf("textscan: %s: %w", path, err)
}
