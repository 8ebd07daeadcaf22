package expr

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

var logicBuilders = map[string]builder{
	"not": buildNot, "xor": buildXor,
	"isnull": buildIs, "isnotnull": buildIs, "istrue": buildIs, "isfalse": buildIs,
	"isnottrue": buildIs, "isnotfalse": buildIs,
}

// boolBits returns the value and validity bitmaps of a BOOLEAN vec aligned
// to row 0 (valid is nil when no row is NULL). They may alias the array's
// buffers and must not be written.
func boolBits(v vec, n int) (vals, valid []byte) {
	if v.arr == nil {
		vals = make([]byte, bitmapLen(n))
		if !v.c.Null && v.c.I != 0 {
			for i := range vals {
				vals[i] = 0xff
			}
		}
		if v.c.Null {
			valid = make([]byte, bitmapLen(n))
		}
		return vals, valid
	}
	d := v.arr.Data()
	off := d.Offset()
	src := d.Buffers()[1].Bytes()
	if off%8 == 0 {
		vals = src[off/8:]
	} else {
		vals = make([]byte, bitmapLen(n))
		bitutil.CopyBitmap(src, off, n, vals, 0)
	}
	if v.arr.NullN() > 0 {
		nb := v.arr.NullBitmapBytes()
		if off%8 == 0 {
			valid = nb[off/8:]
		} else {
			valid = make([]byte, bitmapLen(n))
			bitutil.CopyBitmap(nb, off, n, valid, 0)
		}
	}
	return vals, valid
}

func allValid(valid []byte, i int) byte {
	if valid == nil {
		return 0xff
	}
	return valid[i]
}

func buildNot(*planner.Expr) (kernel, bool, error) {
	return func(ec *evalCtx, args []vec) (vec, error) {
		vals, _ := boolBits(args[0], ec.n)
		buf, out := newBits(ec.alloc, ec.n)
		for i := range out {
			out[i] = ^vals[i]
		}
		return vec{arr: makeArr(arrow.FixedWidthTypes.Boolean, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
	}, true, nil
}

func buildXor(*planner.Expr) (kernel, bool, error) {
	return func(ec *evalCtx, args []vec) (vec, error) {
		a, _ := boolBits(args[0], ec.n)
		b, _ := boolBits(args[1], ec.n)
		buf, out := newBits(ec.alloc, ec.n)
		for i := range out {
			out[i] = a[i] ^ b[i]
		}
		return vec{arr: makeArr(arrow.FixedWidthTypes.Boolean, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
	}, true, nil
}

// buildIs: IS [NOT] NULL / TRUE / FALSE, never NULL themselves.
func buildIs(e *planner.Expr) (kernel, bool, error) {
	op := e.Name
	return func(ec *evalCtx, args []vec) (vec, error) {
		buf, out := newBits(ec.alloc, ec.n)
		v := args[0]
		switch op {
		case "isnull", "isnotnull":
			var valid []byte
			switch {
			case v.nullConst(), v.arr != nil && v.arr.NullN() > 0 && len(v.arr.NullBitmapBytes()) == 0:
				valid = make([]byte, bitmapLen(ec.n))
			case v.arr != nil && v.arr.NullN() > 0:
				valid = make([]byte, bitmapLen(ec.n))
				bitutil.CopyBitmap(v.arr.NullBitmapBytes(), v.arr.Data().Offset(), ec.n, valid, 0)
			}
			for i := range out {
				out[i] = allValid(valid, i)
				if op == "isnull" {
					out[i] = ^out[i]
				}
			}
		default:
			vals, valid := boolBits(v, ec.n)
			for i := range out {
				t := vals[i] & allValid(valid, i)  // TRUE
				f := ^vals[i] & allValid(valid, i) // FALSE
				switch op {
				case "istrue":
					out[i] = t
				case "isfalse":
					out[i] = f
				case "isnottrue":
					out[i] = ^t
				case "isnotfalse":
					out[i] = ^f
				}
			}
		}
		return vec{arr: makeArr(arrow.FixedWidthTypes.Boolean, ec.n, nil, buf)}, nil
	}, false, nil
}

// andOrNode is three-valued AND / OR. The right side is evaluated for the
// whole batch; if that fails, it is evaluated again on only the rows the
// left side does not decide (MySQL short-circuits row by row).
type andOrNode struct {
	e           *planner.Expr
	left, right node
	and         bool
}

func compileAndOr(c *compiler, e *planner.Expr) (node, error) {
	args, err := c.compileAll(e.Args)
	if err != nil {
		return nil, err
	}
	return &andOrNode{e: e, left: args[0], right: args[1], and: e.Name == "and"}, nil
}

func (n *andOrNode) eval(ec *evalCtx) (vec, error) {
	l, err := n.left.eval(ec)
	if err != nil {
		return vec{}, err
	}
	defer l.release()
	lv, lok := boolBits(l, ec.n)
	r, err := n.right.eval(ec)
	if err != nil {
		// Rows left undecided: AND needs the right side unless the left is
		// FALSE, OR unless it is TRUE.
		need := make([]byte, bitmapLen(ec.n))
		for i := range need {
			if n.and {
				need[i] = ^(^lv[i] & allValid(lok, i))
			} else {
				need[i] = ^(lv[i] & allValid(lok, i))
			}
		}
		r, err = evalOnRows(ec, n.right, need, n.e.Args[1])
		if err != nil {
			return vec{}, err
		}
	}
	defer r.release()
	rv, rok := boolBits(r, ec.n)
	buf, out := newBits(ec.alloc, ec.n)
	var valid *memory.Buffer
	if lok != nil || rok != nil {
		valid = newBuf(ec.alloc, bitmapLen(ec.n))
	}
	vb := []byte(nil)
	if valid != nil {
		vb = valid.Bytes()
	}
	for i := range out {
		la, ra := allValid(lok, i), allValid(rok, i)
		if n.and {
			out[i] = lv[i] & rv[i]
			if vb != nil {
				// Known when both are known, or either is a known FALSE.
				vb[i] = (la & ra) | (la &^ lv[i]) | (ra &^ rv[i])
			}
		} else {
			out[i] = (lv[i] & la) | (rv[i] & ra)
			if vb != nil {
				vb[i] = (la & ra) | (la & lv[i]) | (ra & rv[i])
			}
		}
	}
	return vec{arr: makeArr(arrow.FixedWidthTypes.Boolean, ec.n, valid, buf)}, nil
}

// evalOnRows evaluates nd (compiled from pe) on the rows set in need only,
// and spreads the result back over all rows (the other rows NULL).
func evalOnRows(ec *evalCtx, nd node, need []byte, pe *planner.Expr) (vec, error) {
	t := pe.Type
	idx := make([]int32, 0, ec.n)
	for i := 0; i < ec.n; i++ {
		if bitutil.BitIsSet(need, i) {
			idx = append(idx, int32(i))
		}
	}
	if len(idx) == 0 {
		return nullVec(), nil
	}
	sub := &evalCtx{ctx: ec.ctx, alloc: ec.alloc, n: len(idx)}
	if ec.rec != nil {
		used := map[int]bool{}
		for _, c := range pe.Columns(nil) {
			used[c] = true
		}
		cols := make([]arrow.Array, ec.rec.NumCols())
		for c := range cols {
			if !used[c] {
				cols[c] = array.MakeArrayOfNull(ec.alloc, ec.rec.Column(c).DataType(), len(idx))
				continue
			}
			a, err := take(ec.alloc, ec.rec.Column(c), idx)
			if err != nil {
				releaseArrays(cols[:c])
				return vec{}, err
			}
			cols[c] = a
		}
		sub.rec = newRecord(ec.rec.Schema(), cols, len(idx))
		defer sub.rec.Release()
	}
	v, err := nd.eval(sub)
	if err != nil {
		return vec{}, err
	}
	if v.arr == nil {
		v.arr = Constant(ec.alloc, v.c, t, len(idx))
	}
	defer v.release()
	back := make([]int32, ec.n)
	for i := range back {
		back[i] = -1
	}
	for j, i := range idx {
		back[i] = int32(j)
	}
	a, err := take(ec.alloc, v.arr, back)
	if err != nil {
		return vec{}, fmt.Errorf("internal: %w", err)
	}
	return vec{arr: a}, nil
}

func releaseArrays(as []arrow.Array) {
	for _, a := range as {
		if a != nil {
			a.Release()
		}
	}
}
