package agg

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// groupKeys turns the key columns of a batch into dense group ids and, at the
// end, turns group ids back into key columns. The implementation is chosen by
// the shape of the keys (see newGroupKeys).
type groupKeys interface {
	// groupIDs writes the group of each of the n rows into gids, adding
	// groups for keys not seen before.
	groupIDs(cols []arrow.Array, n int, gids []uint32)
	// groups is the number of groups so far.
	groups() int
	// emit builds the key columns of groups [from, to).
	emit(mem memory.Allocator, from, to int) ([]arrow.Array, error)
	// seal says that no row will come any more: what only finding groups
	// needs (hash slots, the batch's hashes, encoding scratch) goes back.
	// Afterwards groupIDs and hashes may not be called.
	seal()
	// emitted says that groups [0, n) have been emitted (after seal, n
	// never less than in the call before): the memory that held their keys
	// goes back, and emit may be asked for groups n and up only.
	emitted(n int)
	// free gives back the table's memory; nothing may be called after it.
	free()
	// size estimates the bytes the table holds (slots, keys, scratch), in
	// O(1): it is asked after every batch when a memory budget applies.
	size() int64
	// hashes writes a hash of the key of each group of [from, to) into
	// dst (the spill path partitions groups by it; equal keys hash alike).
	hashes(from, to int, dst []uint64)
}

// newGroupKeys picks the table for the key types: none, one integer-like key
// (open addressing on the 64-bit value), one string key (bytes in an arena),
// or several keys packed into one byte string per row (fixed width when no
// key is a string).
func newGroupKeys(types []arrow.DataType, alwaysOneGroup bool) (groupKeys, error) {
	parts := make([]keyPart, len(types))
	for i, dt := range types {
		p, err := partOf(dt)
		if err != nil {
			return nil, fmt.Errorf("group key %d: %w", i+1, err)
		}
		parts[i] = p
	}
	switch {
	case len(types) == 0:
		return &noKeys{one: alwaysOneGroup}, nil
	case len(types) == 1 && parts[0].intLike():
		return &intKeys{dt: types[0], t: newIntTable(), nullG: -1}, nil
	case len(types) == 1 && types[0].ID() == arrow.STRING:
		return &stringKeys{t: newBytesTable(0), nullG: -1}, nil
	}
	enc := newRowEncoder(parts, false)
	return &packedKeys{enc: enc, t: newBytesTable(enc.fixed)}, nil
}

// noKeys is the single group of an aggregate without GROUP BY. In Final and
// Complete mode the group exists even before any row arrives, so that an
// empty input still yields one row (COUNT 0, others NULL).
type noKeys struct{ one bool }

func (k *noKeys) groupIDs(_ []arrow.Array, n int, gids []uint32) {
	if n > 0 {
		k.one = true
	}
	clear(gids[:n])
}

func (k *noKeys) groups() int {
	if k.one {
		return 1
	}
	return 0
}

func (k *noKeys) emit(memory.Allocator, int, int) ([]arrow.Array, error) { return nil, nil }

func (k *noKeys) seal()       {}
func (k *noKeys) emitted(int) {}
func (k *noKeys) free()       {}

func (k *noKeys) size() int64 { return 0 }

func (k *noKeys) hashes(from, to int, dst []uint64) { clear(dst[:to-from]) }

// intKeys groups by one key whose values fit in 64 bits.
type intKeys struct {
	dt      arrow.DataType
	t       *intTable
	nullG   int64 // group of NULL, or -1
	scratch []uint64
	hs      []uint64 // the batch's hashes, for a big table
}

func (k *intKeys) groupIDs(cols []arrow.Array, n int, gids []uint32) {
	col := cols[0]
	v := validityOf(col)
	if cap(k.scratch) < n {
		k.scratch = make([]uint64, n)
	}
	s := k.scratch[:n]
	toUint64(col, s)
	// A table past the caches makes each probe a miss: hash the batch
	// first and prefetch a block ahead. A small one needs none of that.
	if len(k.t.slots) <= 1<<14 {
		for i, x := range s {
			if v.bm == nil || bitutil.BitIsSet(v.bm, v.off+i) {
				gids[i] = k.t.find(x)
			} else {
				gids[i] = k.null()
			}
		}
		return
	}
	k.hs = growTo(k.hs[:0], n)
	hs := k.hs[:n]
	for i, x := range s {
		hs[i] = hashInt(x)
	}
	for lo := 0; lo < n; lo += prefetchBlock {
		k.t.prefetchNext(hs, lo)
		for i := lo; i < min(lo+prefetchBlock, n); i++ {
			if v.bm == nil || bitutil.BitIsSet(v.bm, v.off+i) {
				gids[i] = k.t.findHashed(s[i], hs[i])
			} else {
				gids[i] = k.null()
			}
		}
	}
}

func (k *intKeys) null() uint32 {
	if k.nullG < 0 {
		k.nullG = int64(k.t.addOutside())
	}
	return uint32(k.nullG)
}

func (k *intKeys) groups() int { return len(k.t.keys) }

func (k *intKeys) seal() {
	k.t.seal()
	k.scratch, k.hs = nil, nil
}

func (k *intKeys) emitted(n int) { k.t.emitted(n) }

func (k *intKeys) free() { k.t.free() }

func (k *intKeys) size() int64 {
	return k.t.size() + 8*int64(cap(k.scratch)+cap(k.hs))
}

func (k *intKeys) hashes(from, to int, dst []uint64) {
	for i, x := range k.t.keys[from:to] {
		dst[i] = hashInt(x) // the NULL group's key is 0: it shares key 0's hash
	}
}

func (k *intKeys) emit(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	var valid []bool
	if k.nullG >= int64(from) && k.nullG < int64(to) {
		valid = make([]bool, to-from)
		for i := range valid {
			valid[i] = true
		}
		valid[k.nullG-int64(from)] = false
	}
	return []arrow.Array{fromUint64(mem, k.dt, k.t.keys[from:to], valid)}, nil
}

// toUint64 widens the values of an integer-like column to uint64 keys.
// Floats are normalized so that -0 groups with 0 and every NaN with every
// other NaN.
func toUint64(col arrow.Array, dst []uint64) {
	switch col.DataType().ID() {
	case arrow.INT64, arrow.UINT64, arrow.TIMESTAMP:
		copy(dst, fixedValues[uint64](col))
	case arrow.DATE32:
		for i, x := range fixedValues[int32](col) {
			dst[i] = uint64(int64(x))
		}
	case arrow.FLOAT64:
		for i, x := range fixedValues[float64](col) {
			dst[i] = floatKey(x)
		}
	case arrow.BOOL:
		bm, off := boolBits(col)
		for i := range dst {
			dst[i] = 0
			if bitutil.BitIsSet(bm, off+i) {
				dst[i] = 1
			}
		}
	}
}

func floatKey(x float64) uint64 {
	switch {
	case x == 0:
		return 0
	case x != x:
		return 0x7ff8000000000001
	}
	return math.Float64bits(x)
}

// fromUint64 is the inverse of toUint64.
func fromUint64(mem memory.Allocator, dt arrow.DataType, keys []uint64, valid []bool) arrow.Array {
	switch dt.ID() {
	case arrow.DATE32:
		vals := make([]int32, len(keys))
		for i, x := range keys {
			vals[i] = int32(int64(x))
		}
		return buildFixed(mem, dt, vals, valid)
	case arrow.BOOL:
		vals := make([]bool, len(keys))
		for i, x := range keys {
			vals[i] = x != 0
		}
		return buildBool(mem, vals, valid)
	}
	// INT64, UINT64, TIMESTAMP and FLOAT64 share the 64-bit layout.
	return buildFixed(mem, dt, keys, valid)
}

// stringKeys groups by one string key; the table's arena holds each group's
// bytes exactly once and probes read the batch's bytes in place.
type stringKeys struct {
	t     *bytesTable
	nullG int64
	hs    []uint64 // the batch's hashes
}

func (k *stringKeys) groupIDs(cols []arrow.Array, n int, gids []uint32) {
	col := cols[0]
	v := validityOf(col)
	offs, data := stringParts(col)
	k.hs = growTo(k.hs[:0], n)
	hs := k.hs[:n]
	for i := range hs {
		hs[i] = hashBytes(data[offs[i]:offs[i+1]]) // a NULL's (empty) bytes: never probed
	}
	for lo := 0; lo < n; lo += prefetchBlock {
		k.t.prefetchNext(hs, lo)
		for i := lo; i < min(lo+prefetchBlock, n); i++ {
			if v.bm != nil && !bitutil.BitIsSet(v.bm, v.off+i) {
				gids[i] = k.null()
				continue
			}
			gids[i], _ = k.t.find(hs[i], data[offs[i]:offs[i+1]])
		}
	}
}

func (k *stringKeys) null() uint32 {
	if k.nullG < 0 {
		k.nullG = int64(k.t.addOutside())
	}
	return uint32(k.nullG)
}

func (k *stringKeys) groups() int { return k.t.groups() }

func (k *stringKeys) seal() {
	k.t.seal()
	k.hs = nil
}

func (k *stringKeys) emitted(n int) { k.t.emitted(n) }

func (k *stringKeys) free() { k.t.free() }

func (k *stringKeys) size() int64 { return k.t.size() + 8*int64(cap(k.hs)) }

func (k *stringKeys) hashes(from, to int, dst []uint64) { k.t.hashes(from, to, dst) }

func (k *stringKeys) emit(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	b, err := newStringBuilder(mem, to-from, k.t.keyBytes(from, to))
	if err != nil {
		return nil, err
	}
	for g := from; g < to; g++ {
		b.append(k.t.key(g), int64(g) != k.nullG)
	}
	return []arrow.Array{b.finish(mem)}, nil
}

// packedKeys groups by several keys packed into one byte string per row.
type packedKeys struct {
	enc *rowEncoder
	t   *bytesTable
	hs  []uint64 // the batch's hashes
}

func (k *packedKeys) groupIDs(cols []arrow.Array, n int, gids []uint32) {
	k.enc.encode(cols, n, nil)
	k.hs = growTo(k.hs[:0], n)
	hs := k.hs[:n]
	for i := range hs {
		hs[i] = hashBytes(k.enc.row(i))
	}
	for lo := 0; lo < n; lo += prefetchBlock {
		k.t.prefetchNext(hs, lo)
		for i := lo; i < min(lo+prefetchBlock, n); i++ {
			gids[i], _ = k.t.find(hs[i], k.enc.row(i))
		}
	}
}

func (k *packedKeys) groups() int { return k.t.groups() }

func (k *packedKeys) seal() {
	k.t.seal()
	k.hs = nil
	k.enc.freeScratch()
}

func (k *packedKeys) emitted(n int) { k.t.emitted(n) }

func (k *packedKeys) free() { k.t.free() }

func (k *packedKeys) size() int64 {
	return k.t.size() + 8*int64(cap(k.hs)) + k.enc.size()
}

func (k *packedKeys) hashes(from, to int, dst []uint64) { k.t.hashes(from, to, dst) }

func (k *packedKeys) emit(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	return k.enc.decode(mem, k.t, from, to)
}

// keyPart describes how one column is packed: fixed-width columns take width
// bytes (zeros when NULL), strings their length (see putStrLen) and their
// bytes.
type keyPart struct {
	dt    arrow.DataType
	width int
}

func partOf(dt arrow.DataType) (keyPart, error) {
	switch dt.ID() {
	case arrow.NULL:
		return keyPart{dt, 0}, nil
	case arrow.BOOL:
		return keyPart{dt, 1}, nil
	case arrow.DATE32:
		return keyPart{dt, 4}, nil
	case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.TIMESTAMP:
		return keyPart{dt, 8}, nil
	case arrow.DECIMAL128:
		return keyPart{dt, 16}, nil
	case arrow.STRING:
		return keyPart{dt, -1}, nil
	}
	return keyPart{}, fmt.Errorf("internal: cannot group by Arrow type %s", dt)
}

func (p keyPart) intLike() bool {
	switch p.dt.ID() {
	case arrow.BOOL, arrow.DATE32, arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.TIMESTAMP:
		return true
	}
	return false
}

// rowEncoder packs several columns into one byte string per row:
//
//	[prefix: 4-byte group id, DISTINCT filters only][NULL mask][part 1][part 2]…
//
// Equal byte strings mean equal keys (NULL equal to NULL, as GROUP BY wants).
// With no string part every row has the same width and rows sit at i*fixed.
type rowEncoder struct {
	parts  []keyPart
	prefix int
	mask   int
	fixed  int // total width when every part is fixed, else 0
	buf    []byte
	offs   []int     // variable width: row i is buf[offs[i]:offs[i+1]]
	cur    []int     // per row: where the next part goes
	maskAt []int     // per row: where its NULL mask starts
	outs   []partOut // decode: one per part
}

func newRowEncoder(parts []keyPart, withPrefix bool) *rowEncoder {
	e := &rowEncoder{parts: parts, mask: (len(parts) + 7) / 8}
	if withPrefix {
		e.prefix = 4
	}
	e.fixed = e.prefix + e.mask
	for _, p := range parts {
		if p.width < 0 {
			e.fixed = 0
			break
		}
		e.fixed += p.width
	}
	return e
}

// size is the bytes of the encoder's scratch.
func (e *rowEncoder) size() int64 {
	n := int64(cap(e.buf)) + 8*int64(cap(e.offs)+cap(e.cur)+cap(e.maskAt))
	for i := range e.outs {
		n += e.outs[i].size()
	}
	return n
}

// freeScratch drops what encode keeps between batches (decode's stays).
func (e *rowEncoder) freeScratch() {
	e.buf, e.offs, e.cur, e.maskAt = nil, nil, nil, nil
}

func (e *rowEncoder) row(i int) []byte {
	if e.fixed > 0 {
		return e.buf[i*e.fixed : (i+1)*e.fixed]
	}
	return e.buf[e.offs[i]:e.offs[i+1]]
}

// encode packs n rows of cols (one per part); prefix, when the encoder has
// one, gives each row's 4-byte prefix.
func (e *rowEncoder) encode(cols []arrow.Array, n int, prefix []uint32) {
	if cap(e.cur) < n {
		e.cur = make([]int, n)
		e.maskAt = make([]int, n)
		e.offs = make([]int, n+1)
	}
	cur := e.cur[:n]
	total := 0
	if e.fixed > 0 {
		total = n * e.fixed
		for i := range cur {
			cur[i] = i * e.fixed
		}
	} else {
		base := e.prefix + e.mask
		for _, p := range e.parts {
			if p.width >= 0 {
				base += p.width
			}
		}
		offs := e.offs[:n+1]
		for i := range cur {
			offs[i] = base
		}
		for c, p := range e.parts {
			if p.width >= 0 {
				continue
			}
			so, _ := stringParts(cols[c])
			v := validityOf(cols[c])
			for i := range cur {
				l := 0
				if v.bm == nil || bitutil.BitIsSet(v.bm, v.off+i) {
					l = int(so[i+1] - so[i])
				}
				offs[i] += strLenSize(l) + l
			}
		}
		for i := range cur {
			l := offs[i]
			offs[i] = total
			cur[i] = total
			total += l
		}
		offs[n] = total
	}
	if cap(e.buf) < total {
		e.buf = make([]byte, total, total+total/4)
	}
	e.buf = e.buf[:total]
	clear(e.buf)
	buf := e.buf
	if e.prefix > 0 {
		for i, c := range cur {
			binary.LittleEndian.PutUint32(buf[c:], prefix[i])
			cur[i] = c + 4
		}
	}
	maskAt := e.maskAt[:n]
	for i, c := range cur {
		maskAt[i] = c
		cur[i] = c + e.mask
	}
	for c := range e.parts {
		col := cols[c]
		v := validityOf(col)
		if v.bm != nil || v.all {
			for i := range cur {
				if v.all || !bitutil.BitIsSet(v.bm, v.off+i) {
					buf[maskAt[i]+c/8] |= 1 << (c % 8)
				}
			}
		}
		switch col.DataType().ID() {
		case arrow.NULL:
		case arrow.BOOL:
			bm, off := boolBits(col)
			for i, at := range cur {
				if bitutil.BitIsSet(bm, off+i) && v.valid(i) {
					buf[at] = 1
				}
				cur[i] = at + 1
			}
		case arrow.DATE32:
			vals := fixedValues[uint32](col)
			for i, at := range cur {
				if v.bm == nil || bitutil.BitIsSet(v.bm, v.off+i) {
					binary.LittleEndian.PutUint32(buf[at:], vals[i])
				}
				cur[i] = at + 4
			}
		case arrow.FLOAT64:
			vals := fixedValues[float64](col)
			for i, at := range cur {
				if v.bm == nil || bitutil.BitIsSet(v.bm, v.off+i) {
					binary.LittleEndian.PutUint64(buf[at:], floatKey(vals[i]))
				}
				cur[i] = at + 8
			}
		case arrow.INT64, arrow.UINT64, arrow.TIMESTAMP:
			vals := fixedValues[uint64](col)
			for i, at := range cur {
				if v.bm == nil || bitutil.BitIsSet(v.bm, v.off+i) {
					binary.LittleEndian.PutUint64(buf[at:], vals[i])
				}
				cur[i] = at + 8
			}
		case arrow.DECIMAL128:
			vals := fixedValues[decimal128.Num](col)
			for i, at := range cur {
				if v.bm == nil || bitutil.BitIsSet(v.bm, v.off+i) {
					binary.LittleEndian.PutUint64(buf[at:], vals[i].LowBits())
					binary.LittleEndian.PutUint64(buf[at+8:], uint64(vals[i].HighBits()))
				}
				cur[i] = at + 16
			}
		case arrow.STRING:
			so, data := stringParts(col)
			for i, at := range cur {
				var val []byte
				if v.bm == nil || bitutil.BitIsSet(v.bm, v.off+i) {
					val = data[so[i]:so[i+1]]
				}
				at = putStrLen(buf, at, len(val))
				if len(val) <= 16 {
					// Short keys (codes, flags) are the common case: a
					// call to copy would cost more than the bytes.
					for j, c := range val {
						buf[at+j] = c
					}
				} else {
					copy(buf[at:], val)
				}
				cur[i] = at + len(val)
			}
		}
	}
}

// A string's length takes one byte below 255 (keys are mostly short: codes,
// names, ids), else a 255 byte and 4 bytes little-endian. Each length has
// one encoding, so equal keys still encode to equal bytes.
const longStr = 255

func strLenSize(l int) int {
	if l < longStr {
		return 1
	}
	return 5
}

// putStrLen writes length l at buf[at:] and returns where the bytes go.
func putStrLen(buf []byte, at, l int) int {
	if l < longStr {
		buf[at] = byte(l)
		return at + 1
	}
	buf[at] = longStr
	binary.LittleEndian.PutUint32(buf[at+1:], uint32(l))
	return at + 5
}

// strLen reads the length at k[at:] and returns it and where the bytes are.
func strLen(k []byte, at int) (l, next int) {
	if b := k[at]; b < longStr {
		return int(b), at + 1
	}
	return int(binary.LittleEndian.Uint32(k[at+1:])), at + 5
}

// decode unpacks groups [from, to) of t back into one column per part. It
// reads each group's key once, left to right, and writes every part's value
// straight into that column's Arrow buffer: a column at a time would read
// each key once per part, and a batch of keys does not stay in cache.
func (e *rowEncoder) decode(mem memory.Allocator, t *bytesTable, from, to int) ([]arrow.Array, error) {
	n := to - from
	if len(e.outs) != len(e.parts) {
		e.outs = make([]partOut, len(e.parts))
	}
	outs := e.outs
	for c, p := range e.parts {
		outs[c].start(mem, p.dt, n)
	}
	base := e.prefix + e.mask
	for i := range n {
		k := t.key(from + i)
		mask := k[e.prefix:base]
		at := base
		for c := range outs {
			o := &outs[c]
			if mask[c>>3]&(1<<(c&7)) != 0 {
				o.nulls++
			} else {
				o.valid[i>>3] |= 1 << (i & 7)
			}
			// A NULL's bytes are zeros (an empty string): read like any.
			switch o.width {
			case 8:
				o.u64[i] = binary.LittleEndian.Uint64(k[at:])
			case 4:
				o.u32[i] = binary.LittleEndian.Uint32(k[at:])
			case 16:
				o.dec[i] = decimal128.New(int64(binary.LittleEndian.Uint64(k[at+8:])), binary.LittleEndian.Uint64(k[at:]))
			case 1:
				if k[at] != 0 {
					o.bits[i>>3] |= 1 << (i & 7)
				}
			case -1:
				var l int
				l, at = strLen(k, at)
				o.data = append(o.data, k[at:at+l]...)
				o.offs[i+1] = int32(len(o.data))
				at += l
				continue
			}
			at += o.width
		}
	}
	out := make([]arrow.Array, 0, len(outs))
	for c, p := range e.parts {
		a, err := outs[c].finish(mem, p.dt, n)
		if err != nil {
			for _, a := range out {
				a.Release()
			}
			for _, o := range outs[c:] {
				o.drop()
			}
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// partOut is one column being decoded: its value buffer (fixed width, or
// a string column's offsets) comes from the allocator at the batch's exact
// size; string bytes and the validity bits collect in scratch kept from
// batch to batch, copied out once their size is known.
type partOut struct {
	width int // bytes per value in the key, -1 for strings, 0 for NULL
	buf   *memory.Buffer
	u64   []uint64
	u32   []uint32
	dec   []decimal128.Num
	bits  []byte
	offs  []int32
	data  []byte // scratch
	valid []byte // scratch
	nulls int
}

func (o *partOut) start(mem memory.Allocator, dt arrow.DataType, n int) {
	o.nulls = 0
	o.valid = growTo(o.valid[:0], int(bitutil.BytesForBits(int64(n))))
	clear(o.valid)
	o.buf = nil
	switch dt.ID() {
	case arrow.NULL:
		o.width = 0
		return
	case arrow.BOOL:
		o.width = 1
		o.buf = memory.NewResizableBuffer(mem)
		o.buf.Resize(int(bitutil.BytesForBits(int64(n))))
		o.bits = o.buf.Bytes()
		clear(o.bits)
	case arrow.DATE32:
		o.width = 4
		o.buf = memory.NewResizableBuffer(mem)
		o.buf.Resize(4 * n)
		o.u32 = castSlice[uint32](o.buf.Bytes())
	case arrow.DECIMAL128:
		o.width = 16
		o.buf = memory.NewResizableBuffer(mem)
		o.buf.Resize(16 * n)
		o.dec = castSlice[decimal128.Num](o.buf.Bytes())
	case arrow.STRING:
		o.width = -1
		o.buf = memory.NewResizableBuffer(mem)
		o.buf.Resize(4 * (n + 1))
		o.offs = castSlice[int32](o.buf.Bytes())
		o.offs[0] = 0
		o.data = o.data[:0]
	default: // INT64, UINT64, TIMESTAMP, FLOAT64: the 64-bit layout
		o.width = 8
		o.buf = memory.NewResizableBuffer(mem)
		o.buf.Resize(8 * n)
		o.u64 = castSlice[uint64](o.buf.Bytes())
	}
}

// finish wraps the column up as an array of type dt and n rows.
func (o *partOut) finish(mem memory.Allocator, dt arrow.DataType, n int) (arrow.Array, error) {
	if o.width == 0 {
		return nullsOf(mem, dt, n), nil
	}
	var vb *memory.Buffer
	if o.nulls > 0 {
		vb = memory.NewResizableBuffer(mem)
		vb.Resize(len(o.valid))
		copy(vb.Bytes(), o.valid)
	}
	bufs := []*memory.Buffer{vb, o.buf}
	if o.width < 0 {
		if len(o.data) > 1<<31-1 {
			o.drop()
			if vb != nil {
				vb.Release()
			}
			return nil, fmt.Errorf("not supported: %d bytes of strings in one batch (the limit is 2 GiB); lower the batch size", len(o.data))
		}
		db := memory.NewResizableBuffer(mem)
		db.Resize(len(o.data))
		copy(db.Bytes(), o.data)
		bufs = append(bufs, db)
	}
	o.forget()
	return makeArray(dt, n, bufs, o.nulls), nil
}

// forget lets go of the value buffer, which the array (or nobody) owns now.
func (o *partOut) forget() {
	o.buf = nil
	o.u64, o.u32, o.dec, o.bits, o.offs = nil, nil, nil, nil, nil
}

// drop releases a column that will not be finished.
func (o *partOut) drop() {
	if o.buf != nil {
		o.buf.Release()
	}
	o.forget()
}

// size is the bytes of the scratch kept between batches.
func (o *partOut) size() int64 { return int64(cap(o.data) + cap(o.valid)) }
