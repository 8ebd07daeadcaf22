package agg

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

// The variance family, BIT_AND/OR/XOR and GROUP_CONCAT.

// asFloats converts a numeric (or string, by its numeric prefix) column to
// DOUBLE, as MySQL does for the statistics aggregates; values under NULL
// slots are left 0. scratch is reused across batches.
func asFloats(col arrow.Array, scratch *[]float64) ([]float64, error) {
	n := col.Len()
	if col.DataType().ID() == arrow.FLOAT64 {
		return fixedValues[float64](col), nil
	}
	*scratch = growTo((*scratch)[:0], n)
	xs := (*scratch)[:n]
	v := validityOf(col)
	switch col.DataType().ID() {
	case arrow.INT64:
		for i, x := range fixedValues[int64](col) {
			xs[i] = float64(x)
		}
	case arrow.UINT64:
		for i, x := range fixedValues[uint64](col) {
			xs[i] = float64(x)
		}
	case arrow.BOOL:
		bm, off := boolBits(col)
		for i := range xs {
			xs[i] = 0
			if bitutil.BitIsSet(bm, off+i) {
				xs[i] = 1
			}
		}
	case arrow.DECIMAL128:
		scale := int(col.DataType().(*arrow.Decimal128Type).Scale)
		for i, x := range fixedValues[decimal128.Num](col) {
			if v.valid(i) {
				xs[i] = planner.DecimalToFloat(x, scale)
			}
		}
	case arrow.STRING:
		offs, data := stringParts(col)
		for i := range xs {
			xs[i] = 0
			if v.valid(i) {
				xs[i] = parseNumberPrefix(data[offs[i]:offs[i+1]])
			}
		}
	default:
		return nil, fmt.Errorf("internal: statistics kernel got Arrow type %s", col.DataType())
	}
	return xs, nil
}

// varianceAcc implements VAR_POP, VAR_SAMP, STDDEV_POP and STDDEV_SAMP with
// Welford's recurrence, as MySQL computes them; its state is {count, mean,
// m2} and partial states combine with Chan's formula.
type varianceAcc struct {
	samp, sqrt bool
	n          []int64
	mean, m2   []float64
	scratch    []float64
	done       int // groups emitted and given back
}

func newVariance(name string) *varianceAcc {
	return &varianceAcc{
		samp: name == "var_samp" || name == "stddev_samp",
		sqrt: name == "stddev_pop" || name == "stddev_samp",
	}
}

func (a *varianceAcc) resize(n int) {
	a.n = growState(a.n, n)
	a.mean = growState(a.mean, n)
	a.m2 = growState(a.m2, n)
}

func (a *varianceAcc) reset() {
	a.n, a.mean, a.m2 = resetState(a.n), resetState(a.mean), resetState(a.m2)
	a.done = 0
}

func (a *varianceAcc) emitted(n int) {
	bigRelease(a.n, a.done, n)
	bigRelease(a.mean, a.done, n)
	bigRelease(a.m2, a.done, n)
	a.done, a.scratch = n, nil
}

func (a *varianceAcc) free() {
	bigFree(a.n)
	bigFree(a.mean)
	bigFree(a.m2)
	a.n, a.mean, a.m2 = nil, nil, nil
}

func (a *varianceAcc) size() int64 {
	return heldBytes(a.n, a.done) + heldBytes(a.mean, a.done) + heldBytes(a.m2, a.done) + capBytes(a.scratch)
}

func (a *varianceAcc) update(gids []uint32, args []arrow.Array) error {
	col := args[0]
	v := validityOf(col)
	if v.all {
		return nil
	}
	xs, err := asFloats(col, &a.scratch)
	if err != nil {
		return err
	}
	for i, g := range gids {
		if v.bm != nil && !bitutil.BitIsSet(v.bm, v.off+i) {
			continue
		}
		x := xs[i]
		a.n[g]++
		d := x - a.mean[g]
		a.mean[g] += d / float64(a.n[g])
		a.m2[g] += d * (x - a.mean[g])
	}
	return nil
}

func (a *varianceAcc) merge(gids []uint32, states []arrow.Array) error {
	ns := fixedValues[int64](states[0])
	means := fixedValues[float64](states[1])
	m2s := fixedValues[float64](states[2])
	for i, g := range gids {
		nb := ns[i]
		if nb == 0 || !states[0].IsValid(i) {
			continue
		}
		na := a.n[g]
		if na == 0 {
			a.n[g], a.mean[g], a.m2[g] = nb, means[i], m2s[i]
			continue
		}
		n := na + nb
		d := means[i] - a.mean[g]
		a.mean[g] += d * float64(nb) / float64(n)
		a.m2[g] += m2s[i] + d*d*float64(na)*float64(nb)/float64(n)
		a.n[g] = n
	}
	return nil
}

func (a *varianceAcc) states(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	return []arrow.Array{
		buildFixed(mem, arrow.PrimitiveTypes.Int64, a.n[from:to], nil),
		buildFixed(mem, arrow.PrimitiveTypes.Float64, a.mean[from:to], nil),
		buildFixed(mem, arrow.PrimitiveTypes.Float64, a.m2[from:to], nil),
	}, nil
}

func (a *varianceAcc) result(mem memory.Allocator, from, to int) (arrow.Array, error) {
	vals := make([]float64, to-from)
	valid := make([]bool, to-from)
	for g := from; g < to; g++ {
		n := a.n[g]
		if n == 0 || a.samp && n == 1 {
			continue
		}
		div := float64(n)
		if a.samp {
			div--
		}
		r := a.m2[g] / div
		if a.sqrt {
			r = math.Sqrt(r)
		}
		vals[g-from], valid[g-from] = r, true
	}
	return buildFixed(mem, arrow.PrimitiveTypes.Float64, vals, valid), nil
}

// bitAcc implements BIT_AND, BIT_OR and BIT_XOR over 64-bit unsigned
// values: signed integers by their two's complement bits, DOUBLE and
// DECIMAL rounded to an integer first, strings by their leading integer.
type bitAcc struct {
	op      byte // '&', '|', '^'
	vals    []uint64
	scratch []uint64
	done    int // groups emitted and given back
}

func newBits(name string) *bitAcc {
	switch name {
	case "bit_and":
		return &bitAcc{op: '&'}
	case "bit_or":
		return &bitAcc{op: '|'}
	}
	return &bitAcc{op: '^'}
}

func (a *bitAcc) resize(n int) {
	old := len(a.vals)
	a.vals = growState(a.vals, n)
	if a.op == '&' {
		for g := old; g < len(a.vals); g++ {
			a.vals[g] = math.MaxUint64
		}
	}
}

func (a *bitAcc) reset() { a.vals, a.done = resetState(a.vals), 0 }

func (a *bitAcc) emitted(n int) {
	bigRelease(a.vals, a.done, n)
	a.done, a.scratch = n, nil
}

func (a *bitAcc) free() {
	bigFree(a.vals)
	a.vals = nil
}

func (a *bitAcc) size() int64 { return heldBytes(a.vals, a.done) + capBytes(a.scratch) }

func (a *bitAcc) asUints(col arrow.Array) ([]uint64, error) {
	n := col.Len()
	if col.DataType().ID() == arrow.UINT64 {
		return fixedValues[uint64](col), nil
	}
	a.scratch = growTo(a.scratch[:0], n)
	xs := a.scratch[:n]
	v := validityOf(col)
	switch col.DataType().ID() {
	case arrow.INT64:
		for i, x := range fixedValues[int64](col) {
			xs[i] = uint64(x)
		}
	case arrow.BOOL:
		bm, off := boolBits(col)
		for i := range xs {
			xs[i] = 0
			if bitutil.BitIsSet(bm, off+i) {
				xs[i] = 1
			}
		}
	case arrow.FLOAT64:
		for i, x := range fixedValues[float64](col) {
			xs[i] = floatBits(x)
		}
	case arrow.DECIMAL128:
		scale := int(col.DataType().(*arrow.Decimal128Type).Scale)
		for i, x := range fixedValues[decimal128.Num](col) {
			if v.valid(i) {
				u, _ := planner.CastValue(planner.DecValue(x), planner.Decimal(planner.MaxDecimalPrecision, scale), planner.Uint)
				xs[i] = u.U
			}
		}
	case arrow.STRING:
		offs, data := stringParts(col)
		for i := range xs {
			xs[i] = 0
			if v.valid(i) {
				n, _ := planner.ParseIntPrefix(string(data[offs[i]:offs[i+1]]))
				xs[i] = uint64(n)
			}
		}
	default:
		return nil, fmt.Errorf("internal: BIT kernel got Arrow type %s", col.DataType())
	}
	return xs, nil
}

// floatBits converts a DOUBLE as MySQL's BIT_* do (rint, then the 64-bit
// pattern of the integer, clamped to the unsigned range).
func floatBits(x float64) uint64 {
	x = math.RoundToEven(x)
	switch {
	case math.IsNaN(x):
		return 0
	case x >= 1<<64:
		return math.MaxUint64
	case x >= 1<<63:
		return uint64(x)
	case x < -(1 << 63):
		return 1 << 63
	}
	return uint64(int64(x))
}

func (a *bitAcc) update(gids []uint32, args []arrow.Array) error {
	col := args[0]
	v := validityOf(col)
	if v.all {
		return nil
	}
	xs, err := a.asUints(col)
	if err != nil {
		return err
	}
	a.fold(gids, xs, v)
	return nil
}

func (a *bitAcc) fold(gids []uint32, xs []uint64, v validity) {
	vals := a.vals
	for i, g := range gids {
		if v.bm != nil && !bitutil.BitIsSet(v.bm, v.off+i) {
			continue
		}
		switch a.op {
		case '&':
			vals[g] &= xs[i]
		case '|':
			vals[g] |= xs[i]
		default:
			vals[g] ^= xs[i]
		}
	}
}

func (a *bitAcc) merge(gids []uint32, states []arrow.Array) error {
	a.fold(gids, fixedValues[uint64](states[0]), validityOf(states[0]))
	return nil
}

func (a *bitAcc) states(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	r, err := a.result(mem, from, to)
	return []arrow.Array{r}, err
}

func (a *bitAcc) result(mem memory.Allocator, from, to int) (arrow.Array, error) {
	return buildFixed(mem, arrow.PrimitiveTypes.Uint64, a.vals[from:to], nil), nil
}

// groupConcatAcc implements GROUP_CONCAT. Each group keeps its entries as
// one byte string of length-prefixed (sort key, text) pairs, so partial
// states merge by appending; the result sorts the entries by key, then by
// text (byte-wise), and joins the texts with the separator (planner.Aggregates
// says why). The sort key is an order-preserving encoding of the ORDER BY
// values, empty without ORDER BY.
type groupConcatAcc struct {
	desc  []bool // per ORDER BY key
	lists [][]byte
	held  int64 // total capacity of lists[g], kept up to date as they grow
	sep   []byte
	known bool // sep has been read
	key   []byte
	row   []byte
	done  int // groups emitted, their lists dropped
}

func newGroupConcat(call planner.AggCall, args []planner.Type) (accumulator, error) {
	if len(args) < 2+len(call.OrderDesc) {
		return nil, fmt.Errorf("internal: GROUP_CONCAT with %d arguments for %d ORDER BY keys", len(args), len(call.OrderDesc))
	}
	return &groupConcatAcc{desc: call.OrderDesc}, nil
}

func (a *groupConcatAcc) resize(n int) { a.lists = growTo(a.lists, n) }

func (a *groupConcatAcc) reset() {
	clear(a.lists)
	a.lists = a.lists[:0]
	a.held = 0
	a.done = 0
}

// emitted lets the collector have the lists of the emitted groups (the
// array of list headers stays until free).
func (a *groupConcatAcc) emitted(n int) {
	for g := a.done; g < n; g++ {
		a.held -= int64(cap(a.lists[g]))
		a.lists[g] = nil
	}
	a.done, a.key, a.row = n, nil, nil
}

// free lets the collector have the lists (they hold pointers, so they
// stay on the Go heap).
func (a *groupConcatAcc) free() {
	a.lists = nil
	a.held = 0
}

func (a *groupConcatAcc) size() int64 {
	return a.held + capBytes(a.lists) + capBytes(a.key) + capBytes(a.row) + capBytes(a.sep)
}

func (a *groupConcatAcc) setSep(col arrow.Array) {
	if a.known || col.DataType().ID() != arrow.STRING {
		return
	}
	offs, data := stringParts(col)
	for i := 0; i < col.Len(); i++ {
		if col.IsValid(i) {
			a.sep = append(a.sep[:0], data[offs[i]:offs[i+1]]...)
			a.known = true
			return
		}
	}
}

func (a *groupConcatAcc) update(gids []uint32, args []arrow.Array) error {
	a.setSep(args[len(args)-1])
	nv := len(args) - 1 - len(a.desc)
	vals, keys := args[:nv], args[nv:len(args)-1]
	vs := make([]validity, nv)
	for j, c := range vals {
		if vs[j] = validityOf(c); vs[j].all {
			return nil // a NULL value skips the row
		}
	}
rows:
	for i, g := range gids {
		for _, v := range vs {
			if !v.valid(i) {
				continue rows
			}
		}
		a.key = a.key[:0]
		for j, c := range keys {
			var err error
			if a.key, err = appendSortKey(a.key, c, i, a.desc[j]); err != nil {
				return err
			}
		}
		a.row = a.row[:0]
		for _, c := range vals {
			var err error
			if a.row, err = appendText(a.row, c, i); err != nil {
				return err
			}
		}
		old := cap(a.lists[g])
		l := binary.AppendUvarint(a.lists[g], uint64(len(a.key)))
		l = append(l, a.key...)
		l = binary.AppendUvarint(l, uint64(len(a.row)))
		a.lists[g] = append(l, a.row...)
		a.held += int64(cap(a.lists[g]) - old)
	}
	return nil
}

// appendSortKey appends an encoding of row i of col whose byte order is
// the value order (NULL first), inverted for DESC. Strings escape 0x00 as
// 0x00 0xff and end with 0x00 0x00, so a key that is a prefix of another
// sorts first and the next key's bytes never interfere.
func appendSortKey(dst []byte, col arrow.Array, i int, desc bool) ([]byte, error) {
	start := len(dst)
	if !col.IsValid(i) {
		dst = append(dst, 0)
	} else {
		dst = append(dst, 1)
		switch col.DataType().ID() {
		case arrow.INT64:
			dst = binary.BigEndian.AppendUint64(dst, uint64(fixedValues[int64](col)[i])^1<<63)
		case arrow.TIMESTAMP:
			dst = binary.BigEndian.AppendUint64(dst, uint64(fixedValues[int64](col)[i])^1<<63)
		case arrow.DATE32:
			dst = binary.BigEndian.AppendUint32(dst, uint32(fixedValues[int32](col)[i])^1<<31)
		case arrow.UINT64:
			dst = binary.BigEndian.AppendUint64(dst, fixedValues[uint64](col)[i])
		case arrow.FLOAT64:
			f := fixedValues[float64](col)[i]
			if f == 0 {
				f = 0 // -0 sorts as 0
			}
			b := math.Float64bits(f)
			if f < 0 {
				b = ^b
			} else {
				b ^= 1 << 63
			}
			dst = binary.BigEndian.AppendUint64(dst, b)
		case arrow.DECIMAL128:
			n := fixedValues[decimal128.Num](col)[i]
			dst = binary.BigEndian.AppendUint64(dst, uint64(n.HighBits())^1<<63)
			dst = binary.BigEndian.AppendUint64(dst, n.LowBits())
		case arrow.BOOL:
			bm, off := boolBits(col)
			if bitutil.BitIsSet(bm, off+i) {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		case arrow.STRING:
			offs, data := stringParts(col)
			for _, c := range data[offs[i]:offs[i+1]] {
				dst = append(dst, c)
				if c == 0 {
					dst = append(dst, 0xff)
				}
			}
			dst = append(dst, 0, 0)
		default:
			return dst, fmt.Errorf("not supported: GROUP_CONCAT … ORDER BY a value of %s", col.DataType())
		}
	}
	if desc {
		for k := start; k < len(dst); k++ {
			dst[k] = ^dst[k]
		}
	}
	return dst, nil
}

// appendText appends row i of col in the text form CONCAT gives it.
func appendText(dst []byte, col arrow.Array, i int) ([]byte, error) {
	switch col.DataType().ID() {
	case arrow.STRING:
		offs, data := stringParts(col)
		return append(dst, data[offs[i]:offs[i+1]]...), nil
	case arrow.INT64:
		return strconv.AppendInt(dst, fixedValues[int64](col)[i], 10), nil
	case arrow.UINT64:
		return strconv.AppendUint(dst, fixedValues[uint64](col)[i], 10), nil
	case arrow.FLOAT64:
		return planner.AppendFloat(dst, fixedValues[float64](col)[i]), nil
	case arrow.DECIMAL128:
		scale := int(col.DataType().(*arrow.Decimal128Type).Scale)
		return planner.AppendDecimal(dst, fixedValues[decimal128.Num](col)[i], scale), nil
	case arrow.BOOL:
		bm, off := boolBits(col)
		if bitutil.BitIsSet(bm, off+i) {
			return append(dst, '1'), nil
		}
		return append(dst, '0'), nil
	case arrow.DATE32:
		return planner.AppendDate(dst, int64(fixedValues[int32](col)[i])), nil
	case arrow.TIMESTAMP:
		return planner.AppendDatetime(dst, fixedValues[int64](col)[i]), nil
	}
	return dst, fmt.Errorf("not supported: GROUP_CONCAT of %s", col.DataType())
}

func (a *groupConcatAcc) merge(gids []uint32, states []arrow.Array) error {
	a.setSep(states[1])
	v := validityOf(states[0])
	if v.all {
		return nil
	}
	offs, data := stringParts(states[0])
	for i, g := range gids {
		if v.valid(i) {
			old := cap(a.lists[g])
			a.lists[g] = append(a.lists[g], data[offs[i]:offs[i+1]]...)
			a.held += int64(cap(a.lists[g]) - old)
		}
	}
	return nil
}

func (a *groupConcatAcc) states(mem memory.Allocator, from, to int) ([]arrow.Array, error) {
	size := 0
	for g := from; g < to; g++ {
		size += len(a.lists[g])
	}
	lists, err := newStringBuilder(mem, to-from, size)
	if err != nil {
		return nil, err
	}
	seps, err := newStringBuilder(mem, to-from, (to-from)*len(a.sep))
	if err != nil {
		return nil, err
	}
	for g := from; g < to; g++ {
		lists.append(a.lists[g], len(a.lists[g]) > 0)
		seps.append(a.sep, a.known)
	}
	return []arrow.Array{lists.finish(mem), seps.finish(mem)}, nil
}

func (a *groupConcatAcc) result(mem memory.Allocator, from, to int) (arrow.Array, error) {
	out := make([][]byte, to-from)
	size := 0
	type entry struct{ key, text []byte }
	var entries []entry
	next := func(l []byte) ([]byte, []byte, bool) {
		n, k := binary.Uvarint(l)
		if k <= 0 || uint64(len(l)-k) < n {
			return nil, nil, false
		}
		return l[k : k+int(n)], l[k+int(n):], true
	}
	var texts [][]byte
	for g := from; g < to; g++ {
		l := a.lists[g]
		if len(l) == 0 {
			continue
		}
		entries = entries[:0]
		for len(l) > 0 {
			var e entry
			var ok1, ok2 bool
			e.key, l, ok1 = next(l)
			e.text, l, ok2 = next(l)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("internal: GROUP_CONCAT state is corrupt")
			}
			entries = append(entries, e)
		}
		slices.SortFunc(entries, func(x, y entry) int {
			if c := bytes.Compare(x.key, y.key); c != 0 {
				return c
			}
			return bytes.Compare(x.text, y.text)
		})
		texts = texts[:0]
		for _, e := range entries {
			texts = append(texts, e.text)
		}
		s := bytes.Join(texts, a.sep)
		if len(s) > planner.GroupConcatMaxLen {
			// Cut as MySQL does, without splitting a UTF-8 character.
			s = s[:planner.GroupConcatMaxLen]
			for k := 0; k < utf8.UTFMax && len(s) > 0; k++ {
				if r, w := utf8.DecodeLastRune(s); r != utf8.RuneError || w != 1 {
					break
				}
				s = s[:len(s)-1]
			}
		}
		out[g-from] = s
		size += len(s)
	}
	b, err := newStringBuilder(mem, to-from, size)
	if err != nil {
		return nil, err
	}
	for g := from; g < to; g++ {
		b.append(out[g-from], len(a.lists[g]) > 0)
	}
	return b.finish(mem), nil
}
