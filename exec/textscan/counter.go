package textscan

import (
	"cmp"
	"context"
	"errors"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/exec/compressed"
)

// Counter is the map side of `SELECT word, count(*) … GROUP BY word` fused
// into the scan: its first Next reads the whole range and counts each
// distinct word; then it emits batches of schema {word: utf8, n: int64}, at
// most batchSize rows each, one row per distinct word of the range, in an
// unspecified order. It implements exec.Operator.
type Counter struct {
	chunks    *chunker // the part being counted
	parts     []Part   // the parts after it
	knobs     testingKnobs
	schema    *arrow.Schema
	alloc     memory.Allocator
	col       stringColumn
	batchSize int
	table     *wordTable
	counted   bool
	next      int // index of the next slot to emit
	emitted   int // rows emitted so far
	rec       arrow.Record
}

// NewCounter opens path and prepares to count the words of range r. A nil
// alloc means memory.DefaultAllocator; batchSize <= 0 means 16384.
func NewCounter(path string, r Range, alloc memory.Allocator, batchSize int) (*Counter, error) {
	return newCounter([]Part{{path, r}}, alloc, batchSize, testingKnobs{})
}

// Part is one file's range among those a Counter reads.
type Part struct {
	Path  string
	Range Range
}

// NewPartsCounter is NewCounter over several parts, counted together (a
// map task over many small files emits each distinct word once). Files are
// opened one at a time, the first one now.
func NewPartsCounter(parts []Part, alloc memory.Allocator, batchSize int) (*Counter, error) {
	if len(parts) == 0 {
		return nil, errors.New("internal: textscan: a counter over no parts")
	}
	return newCounter(parts, alloc, batchSize, testingKnobs{})
}

// compressionRatio guesses how much a compressed text file grows when
// decompressed, to size the word table.
const compressionRatio = 4

func newCounter(parts []Part, alloc memory.Allocator, batchSize int, knobs testingKnobs) (*Counter, error) {
	ch, err := openChunker(parts[0].Path, parts[0].Range, knobs)
	if err != nil {
		return nil, err
	}
	var bytes int64
	for _, p := range parts {
		n := p.Range.End - p.Range.Start
		if compressed.Of(p.Path) != compressed.None {
			n *= compressionRatio
		}
		bytes += n
	}
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	if batchSize <= 0 {
		batchSize = defaultBatchSize
	}
	return &Counter{
		chunks: ch,
		parts:  parts[1:],
		knobs:  knobs,
		schema: arrow.NewSchema([]arrow.Field{
			wordField(),
			{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		}, nil),
		alloc:     alloc,
		col:       stringColumn{alloc: alloc, limit: cmp.Or(knobs.valueLimit, maxValueBytes)},
		batchSize: batchSize,
		// Start at a slot per 64 bytes of range (a 64 MiB range of Zipf text
		// over a 1e6-word vocabulary holds ~670K distinct words: 1M slots,
		// 32 MiB, never grow), capped at 64 MiB. Growing costs a rehash and
		// fresh pages; an oversized table costs TLB reach for small
		// vocabularies (~10% slower at 30K words, measured). Tiny ranges
		// stay tiny.
		table: newWordTable(int(min(bytes/64, 1<<21))),
	}, nil
}

// Schema is {word: utf8, n: int64}.
func (c *Counter) Schema() *arrow.Schema { return c.schema }

// Next returns the next batch of (word, count) rows, or io.EOF after the last.
func (c *Counter) Next(ctx context.Context) (arrow.Record, error) {
	c.releaseRecord()
	if c.table == nil {
		return nil, io.EOF
	}
	if !c.counted {
		if err := c.count(ctx); err != nil {
			return nil, err
		}
	}
	rows := min(c.batchSize, c.table.used-c.emitted)
	if rows == 0 {
		c.table.free()
		c.table = nil
		return nil, io.EOF
	}
	c.col.start(rows, 16*rows) // putShort stores 16 bytes a word
	nBuf := memory.NewResizableBuffer(c.alloc)
	nBuf.Resize(8 * rows)
	counts := arrow.Int64Traits.CastFromBytes(nBuf.Bytes())
	slots := c.table.slots
	i, r := c.next, 0
	for ; r < rows; i++ {
		s := &slots[i]
		if s.n == 0 {
			continue
		}
		if !c.col.fits(max(int(s.n), 16)) {
			break // 2 GiB of words in one batch: end it early
		}
		if s.n <= 16 {
			c.col.putShort(s.k0, s.k1, int(s.n))
		} else {
			c.col.room(rows-r, int(s.n)+16*(rows-r))
			c.col.putBytes(c.table.word(s))
		}
		counts[r] = int64(s.count)
		r++
	}
	if r < rows {
		rows = r
		nBuf.ResizeNoShrink(8 * rows)
	}
	c.next = i
	c.emitted += rows
	words := c.col.finish()
	nData := array.NewData(arrow.PrimitiveTypes.Int64, rows, []*memory.Buffer{nil, nBuf}, nil, 0, 0)
	ns := array.NewInt64Data(nData)
	nData.Release()
	nBuf.Release()
	c.rec = array.NewRecordBatch(c.schema, []arrow.Array{words, ns}, int64(rows))
	words.Release()
	ns.Release()
	return c.rec, nil
}

func (c *Counter) count(ctx context.Context) error {
	for {
		chunk, err := c.chunks.next(ctx)
		if errors.Is(err, io.EOF) {
			if err := c.chunks.close(); err != nil {
				return err
			}
			if len(c.parts) == 0 {
				break
			}
			// A file's end is a word's end, so files need no carry.
			if c.chunks, err = openChunker(c.parts[0].Path, c.parts[0].Range, c.knobs); err != nil {
				return err
			}
			c.parts = c.parts[1:]
			continue
		}
		if err != nil {
			return err
		}
		c.table.countChunk(chunk)
	}
	c.counted = true
	return nil
}

func (c *Counter) releaseRecord() {
	if c.rec != nil {
		c.rec.Release()
		c.rec = nil
	}
}

// Close releases the last batch, the table and the file; it may be called
// again.
func (c *Counter) Close() error {
	c.releaseRecord()
	c.col.release()
	if c.table != nil {
		c.table.free()
		c.table = nil
	}
	return c.chunks.close()
}
