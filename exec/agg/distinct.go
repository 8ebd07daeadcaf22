package agg

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// distinctFilter implements DISTINCT for any aggregate: it remembers every
// (group, arguments) pair seen so far in one hash table, and lets a row reach
// the aggregate only the first time its pair appears. Rows whose arguments
// include a NULL never reach it either (every aggregate ignores them). The
// filtered-out rows are sent to group 0 of the aggregate's accumulator, which
// is never emitted; real group g is g+1 there. This keeps the kernels free of
// selection vectors.
type distinctFilter struct {
	enc  *rowEncoder
	t    *bytesTable
	out  []uint32
	args []validity
}

func newDistinctFilter(parts []keyPart) *distinctFilter {
	enc := newRowEncoder(parts, true)
	return &distinctFilter{enc: enc, t: newBytesTable(enc.fixed)}
}

// filter returns the shifted group ids for one batch.
func (d *distinctFilter) filter(gids []uint32, args []arrow.Array) []uint32 {
	n := len(gids)
	d.out = growTo(d.out[:0], n)
	out := d.out[:n]
	d.args = d.args[:0]
	for _, a := range args {
		v := validityOf(a)
		if v.all {
			clear(out)
			return out
		}
		if v.bm != nil {
			d.args = append(d.args, v)
		}
	}
	d.enc.encode(args, n, gids)
rows:
	for i, g := range gids {
		for _, v := range d.args {
			if !bitutil.BitIsSet(v.bm, v.off+i) {
				out[i] = 0
				continue rows
			}
		}
		key := d.enc.row(i)
		if _, added := d.t.find(hashBytes(key), key); added {
			out[i] = g + 1
		} else {
			out[i] = 0
		}
	}
	return out
}

// size is the bytes the filter holds: every (group, arguments) pair seen.
func (d *distinctFilter) size() int64 {
	return d.t.size() + d.enc.size() + 4*int64(cap(d.out))
}

// free gives back the table and scratch once no row will come any more;
// filter may not be called afterwards. It may be called more than once.
func (d *distinctFilter) free() {
	d.t.free()
	d.enc.freeScratch()
	d.out, d.args = nil, nil
}
