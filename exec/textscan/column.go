package textscan

import (
	"encoding/binary"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// defaultBatchSize matches exec.DefaultBatchSize, which this package cannot
// import (exec imports it).
const defaultBatchSize = 16 * 1024

// maxValueBytes keeps a utf8 column's int32 offsets from overflowing, with
// room for the 16-byte stores of putShort.
const maxValueBytes = math.MaxInt32 - pad

// stringColumn builds one utf8 array straight into allocator-owned offset and
// value buffers. Its value buffer always has pad spare bytes so that short
// words are copied with two 8-byte stores instead of a memmove call.
type stringColumn struct {
	alloc  memory.Allocator
	limit  int // most bytes of words in one array
	offBuf *memory.Buffer
	valBuf *memory.Buffer
	offs   []int32 // offBuf's capacity as int32s
	vals   []byte  // valBuf's capacity
	rows   int
	size   int // bytes of vals in use
}

func (c *stringColumn) start(rows, bytes int) {
	c.offBuf = memory.NewResizableBuffer(c.alloc)
	c.offBuf.Reserve(4 * (rows + 1))
	c.offs = arrow.Int32Traits.CastFromBytes(c.offBuf.Buf())
	c.offs[0] = 0
	c.valBuf = memory.NewResizableBuffer(c.alloc)
	c.valBuf.Reserve(max(bytes, 64) + pad)
	c.vals = c.valBuf.Buf()
	c.rows, c.size = 0, 0
}

// fits reports whether w more bytes of words can go into this array.
func (c *stringColumn) fits(w int) bool { return c.size+w <= c.limit }

// room grows the buffers so that rows more words of bytes bytes in all fit,
// with pad to spare. Callers count a short word as 16 bytes: putShort
// stores whole 8-byte halves.
func (c *stringColumn) room(rows, bytes int) {
	if need := c.rows + rows + 1; need > len(c.offs) {
		c.offBuf.Reserve(4 * max(need, 2*len(c.offs)))
		c.offs = arrow.Int32Traits.CastFromBytes(c.offBuf.Buf())
	}
	if need := c.size + bytes + pad; need > len(c.vals) {
		c.valBuf.Reserve(max(need, min(2*len(c.vals), c.limit+pad)))
		c.vals = c.valBuf.Buf()
	}
}

// putShort appends a word of w <= 16 bytes given as two zero-padded
// little-endian halves, with two 8-byte stores: the bytes past w are
// overwritten by the next word or lie past the array's end.
func (c *stringColumn) putShort(k0, k1 uint64, w int) {
	v := c.vals[c.size : c.size+16]
	binary.LittleEndian.PutUint64(v, k0)
	binary.LittleEndian.PutUint64(v[8:], k1)
	c.size += w
	c.rows++
	c.offs[c.rows] = int32(c.size)
}

func (c *stringColumn) putBytes(w []byte) {
	c.size += copy(c.vals[c.size:], w)
	c.rows++
	c.offs[c.rows] = int32(c.size)
}

// finish hands the buffers over to a new array and forgets them.
func (c *stringColumn) finish() *array.String {
	c.offBuf.ResizeNoShrink(4 * (c.rows + 1))
	c.valBuf.ResizeNoShrink(c.size)
	data := array.NewData(arrow.BinaryTypes.String, c.rows, []*memory.Buffer{nil, c.offBuf, c.valBuf}, nil, 0, 0)
	arr := array.NewStringData(data)
	data.Release()
	c.release()
	return arr
}

func (c *stringColumn) release() {
	if c.offBuf != nil {
		c.offBuf.Release()
		c.valBuf.Release()
	}
	c.offBuf, c.valBuf, c.offs, c.vals = nil, nil, nil, nil
}

func wordField() arrow.Field {
	return arrow.Field{Name: "word", Type: arrow.BinaryTypes.String, Nullable: true}
}
