package csvscan

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// column builds one projected column of the current batch straight into
// Arrow buffers: values are parsed from spans of the read buffer, a column at
// a time, so each loop runs one type's parser over many rows. Capacity for a
// whole batch is taken up front; the validity bitmap only once a NULL shows.
type column struct {
	typ   Type
	dt    arrow.DataType
	field int // position in the file's record, for error messages
	alloc memory.Allocator

	values   *memory.Buffer // int64/float64/date32 values, a boolean bitmap, or string offsets
	data     *memory.Buffer // string bytes
	validity *memory.Buffer // nil while the batch has no NULL
	cap      int            // rows the buffers hold
	n        int            // rows appended
	nulls    int
	dataLen  int
	dataHint int // string bytes to reserve for the next batch: the last one's, plus some
}

// start gives the column fresh buffers for a batch of up to rows rows. Fresh,
// because the last batch's buffers may still be retained by a consumer.
func (c *column) start(rows int) {
	c.n, c.nulls, c.dataLen, c.cap = 0, 0, 0, rows
	c.values = memory.NewResizableBuffer(c.alloc)
	switch c.typ {
	case BigInt, Double:
		c.values.Resize(rows * 8)
	case Date:
		c.values.Resize(rows * 4)
	case Boolean:
		c.values.Resize(int(bitutil.BytesForBits(int64(rows))))
		clear(c.values.Bytes())
	case Varchar:
		c.values.Resize((rows + 1) * 4)
		arrow.Int32Traits.CastFromBytes(c.values.Bytes())[0] = 0
		c.data = memory.NewResizableBuffer(c.alloc)
		if c.dataHint > 0 {
			c.data.ResizeNoShrink(c.dataHint)
		}
	}
}

func (c *column) setNull(i int) {
	if c.validity == nil {
		c.validity = memory.NewResizableBuffer(c.alloc)
		c.validity.Resize(int(bitutil.BytesForBits(int64(c.cap))))
		b := c.validity.Bytes()
		for k := range b {
			b[k] = 0xFF
		}
	}
	bitutil.ClearBit(c.validity.Bytes(), i)
	c.nulls++
}

// appendSpans parses one value per span out of buf and appends them. On a
// value its type cannot read it returns that span's index, else -1. An empty
// span is NULL, except a quoted empty VARCHAR, which is the empty string.
func (c *column) appendSpans(buf []byte, spans []span) int {
	base := c.n
	switch c.typ {
	case BigInt:
		vals := arrow.Int64Traits.CastFromBytes(c.values.Bytes())[base : base+len(spans)]
		for i, s := range spans {
			if s.start == s.end {
				vals[i] = 0
				c.setNull(base + i)
				continue
			}
			v, ok := parseInt(buf[s.start:s.end])
			if !ok || s.flags&flagEscaped != 0 {
				return i
			}
			vals[i] = v
		}
	case Double:
		vals := arrow.Float64Traits.CastFromBytes(c.values.Bytes())[base : base+len(spans)]
		for i, s := range spans {
			if s.start == s.end {
				vals[i] = 0
				c.setNull(base + i)
				continue
			}
			v, ok := parseFloat(buf[s.start:s.end])
			if !ok || s.flags&flagEscaped != 0 {
				return i
			}
			vals[i] = v
		}
	case Date:
		vals := arrow.Date32Traits.CastFromBytes(c.values.Bytes())[base : base+len(spans)]
		for i, s := range spans {
			if s.start == s.end {
				vals[i] = 0
				c.setNull(base + i)
				continue
			}
			v, ok := parseDate(buf[s.start:s.end])
			if !ok || s.flags&flagEscaped != 0 {
				return i
			}
			vals[i] = arrow.Date32(v)
		}
	case Boolean:
		bm := c.values.Bytes()
		for i, s := range spans {
			if s.start == s.end {
				c.setNull(base + i)
				continue
			}
			v, ok := parseBool(buf[s.start:s.end])
			if !ok || s.flags&flagEscaped != 0 {
				return i
			}
			if v {
				bitutil.SetBit(bm, base+i)
			}
		}
	case Varchar:
		total := 0
		for _, s := range spans {
			total += int(s.end - s.start)
		}
		if need := c.dataLen + total; need > c.data.Len() {
			c.data.ResizeNoShrink(max(need, 2*c.data.Len()))
		}
		data := c.data.Bytes()
		offs := arrow.Int32Traits.CastFromBytes(c.values.Bytes())[base+1 : base+1+len(spans)]
		pos := c.dataLen
		for i, s := range spans {
			v := buf[s.start:s.end]
			switch {
			case len(v) == 0:
				if s.flags&flagQuoted == 0 {
					c.setNull(base + i)
				}
			case s.flags&flagEscaped != 0:
				pos += len(unescape(data[pos:pos], v))
			default:
				pos += copy(data[pos:], v)
			}
			offs[i] = int32(pos)
		}
		c.dataLen = pos
	}
	c.n += len(spans)
	return -1
}

// finish hands the batch's buffers over to a new array.
func (c *column) finish() arrow.Array {
	bufs := []*memory.Buffer{nil, c.values}
	if c.nulls > 0 {
		bufs[0] = c.validity
	}
	if c.typ == Varchar {
		c.dataHint = c.dataLen + c.dataLen/8
		c.data.ResizeNoShrink(c.dataLen)
		bufs = append(bufs, c.data)
	}
	d := array.NewData(c.dt, c.n, bufs, nil, c.nulls, 0)
	arr := array.MakeFromData(d)
	d.Release()
	c.release()
	return arr
}

// release drops the column's references to its buffers.
func (c *column) release() {
	for _, b := range []**memory.Buffer{&c.values, &c.data, &c.validity} {
		if *b != nil {
			(*b).Release()
			*b = nil
		}
	}
}

// columnMark is a column's fill level, to roll a failed flush back to.
type columnMark struct{ n, nulls, dataLen int }

func (c *column) mark() columnMark { return columnMark{c.n, c.nulls, c.dataLen} }

// rollback undoes appendSpans calls since m that touched at most rows rows,
// including one that failed halfway: bits it set or cleared are restored so
// the rows can be appended again.
func (c *column) rollback(m columnMark, rows int) {
	rows = min(rows, c.cap-m.n)
	if c.validity != nil {
		bitutil.SetBitsTo(c.validity.Bytes(), int64(m.n), int64(rows), true)
	}
	if c.typ == Boolean {
		bitutil.SetBitsTo(c.values.Bytes(), int64(m.n), int64(rows), false)
	}
	c.n, c.nulls, c.dataLen = m.n, m.nulls, m.dataLen
}

// readable reports whether appendSpans would take s.
func (c *column) readable(buf []byte, s span) bool {
	if s.start == s.end || c.typ == Varchar {
		return true
	}
	if s.flags&flagEscaped != 0 {
		return false
	}
	v := buf[s.start:s.end]
	var ok bool
	switch c.typ {
	case BigInt:
		_, ok = parseInt(v)
	case Double:
		_, ok = parseFloat(v)
	case Date:
		_, ok = parseDate(v)
	case Boolean:
		_, ok = parseBool(v)
	}
	return ok
}
