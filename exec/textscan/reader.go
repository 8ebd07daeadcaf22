package textscan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Reader emits the words of one range of a text file, in file order, as
// batches of schema {word: utf8} with at most batchSize rows (exactly
// batchSize except for the last batch). It implements exec.Operator.
type Reader struct {
	chunks    *chunker
	schema    *arrow.Schema
	col       stringColumn
	batchSize int
	chunk     []byte // the current piece; words before chunk[pos] are emitted
	pos       int
	toks      [block]token
	eof       bool
	rec       arrow.Record
}

// NewReader opens path and prepares to read the words of range r. A nil alloc
// means memory.DefaultAllocator; batchSize <= 0 means 16384.
func NewReader(path string, r Range, alloc memory.Allocator, batchSize int) (*Reader, error) {
	return newReader(path, r, alloc, batchSize, testingKnobs{})
}

func newReader(path string, r Range, alloc memory.Allocator, batchSize int, knobs testingKnobs) (*Reader, error) {
	ch, err := openChunker(path, r, knobs)
	if err != nil {
		return nil, err
	}
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	if batchSize <= 0 {
		batchSize = defaultBatchSize
	}
	return &Reader{
		chunks:    ch,
		schema:    arrow.NewSchema([]arrow.Field{wordField()}, nil),
		col:       stringColumn{alloc: alloc, limit: cmp.Or(knobs.valueLimit, maxValueBytes)},
		batchSize: batchSize,
	}, nil
}

// Schema is {word: utf8}.
func (r *Reader) Schema() *arrow.Schema { return r.schema }

// Next returns the next batch of words, or io.EOF after the last one.
func (r *Reader) Next(ctx context.Context) (arrow.Record, error) {
	r.releaseRecord()
	if r.eof {
		return nil, io.EOF
	}
	// A batch of natural text averages ~6 bytes a word; room() grows the rest.
	r.col.start(min(r.batchSize, 4096), 8*min(r.batchSize, 4096))
	for r.col.rows < r.batchSize {
		if r.pos >= len(r.chunk) {
			chunk, err := r.chunks.next(ctx)
			if errors.Is(err, io.EOF) {
				r.eof = true
				break
			}
			if err != nil {
				r.col.release()
				return nil, err
			}
			r.chunk, r.pos = chunk, 0
		}
		if !r.fill() {
			if r.col.rows == 0 {
				r.col.release()
				return nil, fmt.Errorf("internal: textscan: %s: a word does not fit in an empty batch", r.chunks.path)
			}
			break // the batch holds as many word bytes as an array may
		}
	}
	if r.col.rows == 0 && r.eof {
		r.col.release()
		r.chunks.close()
		return nil, io.EOF
	}
	rows := r.col.rows
	arr := r.col.finish()
	r.rec = array.NewRecordBatch(r.schema, []arrow.Array{arr}, int64(rows))
	arr.Release()
	return r.rec, nil
}

// fill copies words of the current piece into the column until the batch is
// full or the piece is used up. It reports false when the next word does not
// fit in the column's 2 GiB of values.
func (r *Reader) fill() bool {
	for r.col.rows < r.batchSize && r.pos < len(r.chunk) {
		k, next := tokenize(r.chunk, r.pos, r.toks[:min(len(r.toks), r.batchSize-r.col.rows)])
		toks := r.toks[:k]
		bytes := 0
		for i := range toks {
			bytes += max(toks[i].w, 16)
		}
		if !r.col.fits(bytes) {
			return r.fillToLimit(toks, next)
		}
		r.col.room(k, bytes)
		for i := range toks {
			if t := &toks[i]; t.w <= 16 {
				r.col.putShort(t.k0, t.k1, t.w)
			} else {
				r.col.putBytes(r.chunk[t.pos : t.pos+t.w])
			}
		}
		r.pos = next
	}
	return true
}

// fillToLimit takes words one at a time until the 2 GiB of values are full.
func (r *Reader) fillToLimit(toks []token, next int) bool {
	for i := range toks {
		t := &toks[i]
		if !r.col.fits(max(t.w, 16)) {
			r.pos = t.pos // the next batch starts with it
			return false
		}
		r.col.room(1, max(t.w, 16))
		r.col.putBytes(r.chunk[t.pos : t.pos+t.w])
	}
	r.pos = next
	return true
}

func (r *Reader) releaseRecord() {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
}

// Close releases the last batch and closes the file; it may be called again.
func (r *Reader) Close() error {
	r.releaseRecord()
	r.col.release()
	r.eof = true
	return r.chunks.close()
}
