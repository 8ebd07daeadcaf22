package expr

import (
	"bytes"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/quernsql/quern/planner"
)

var compareBuilders = map[string]builder{
	"=": buildCompare, "<>": buildCompare, "<": buildCompare, "<=": buildCompare,
	">": buildCompare, ">=": buildCompare, "<=>": buildNullSafeEq,
}

type ordered interface {
	~int32 | ~int64 | ~uint64 | ~float64
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// The packed loops below compute eight rows per output byte. Only < and =
// have loops; > swaps the operands and <=, >=, <> invert a result.

func ltAA[T ordered](a, b []T, out []byte) {
	n := len(a) &^ 7
	b = b[:len(a)]
	for j := 0; j < n/8; j++ {
		x, y := a[j*8:j*8+8:j*8+8], b[j*8:j*8+8:j*8+8]
		out[j] = b2u(x[0] < y[0]) | b2u(x[1] < y[1])<<1 | b2u(x[2] < y[2])<<2 | b2u(x[3] < y[3])<<3 |
			b2u(x[4] < y[4])<<4 | b2u(x[5] < y[5])<<5 | b2u(x[6] < y[6])<<6 | b2u(x[7] < y[7])<<7
	}
	for i := n; i < len(a); i++ {
		bitutil.SetBitTo(out, i, a[i] < b[i])
	}
}

func ltAC[T ordered](a []T, c T, out []byte) {
	n := len(a) &^ 7
	for j := 0; j < n/8; j++ {
		x := a[j*8 : j*8+8 : j*8+8]
		out[j] = b2u(x[0] < c) | b2u(x[1] < c)<<1 | b2u(x[2] < c)<<2 | b2u(x[3] < c)<<3 |
			b2u(x[4] < c)<<4 | b2u(x[5] < c)<<5 | b2u(x[6] < c)<<6 | b2u(x[7] < c)<<7
	}
	for i := n; i < len(a); i++ {
		bitutil.SetBitTo(out, i, a[i] < c)
	}
}

func gtAC[T ordered](a []T, c T, out []byte) {
	n := len(a) &^ 7
	for j := 0; j < n/8; j++ {
		x := a[j*8 : j*8+8 : j*8+8]
		out[j] = b2u(x[0] > c) | b2u(x[1] > c)<<1 | b2u(x[2] > c)<<2 | b2u(x[3] > c)<<3 |
			b2u(x[4] > c)<<4 | b2u(x[5] > c)<<5 | b2u(x[6] > c)<<6 | b2u(x[7] > c)<<7
	}
	for i := n; i < len(a); i++ {
		bitutil.SetBitTo(out, i, a[i] > c)
	}
}

func eqAA[T ordered](a, b []T, out []byte) {
	n := len(a) &^ 7
	b = b[:len(a)]
	for j := 0; j < n/8; j++ {
		x, y := a[j*8:j*8+8:j*8+8], b[j*8:j*8+8:j*8+8]
		out[j] = b2u(x[0] == y[0]) | b2u(x[1] == y[1])<<1 | b2u(x[2] == y[2])<<2 | b2u(x[3] == y[3])<<3 |
			b2u(x[4] == y[4])<<4 | b2u(x[5] == y[5])<<5 | b2u(x[6] == y[6])<<6 | b2u(x[7] == y[7])<<7
	}
	for i := n; i < len(a); i++ {
		bitutil.SetBitTo(out, i, a[i] == b[i])
	}
}

func eqAC[T ordered](a []T, c T, out []byte) {
	n := len(a) &^ 7
	for j := 0; j < n/8; j++ {
		x := a[j*8 : j*8+8 : j*8+8]
		out[j] = b2u(x[0] == c) | b2u(x[1] == c)<<1 | b2u(x[2] == c)<<2 | b2u(x[3] == c)<<3 |
			b2u(x[4] == c)<<4 | b2u(x[5] == c)<<5 | b2u(x[6] == c)<<6 | b2u(x[7] == c)<<7
	}
	for i := n; i < len(a); i++ {
		bitutil.SetBitTo(out, i, a[i] == c)
	}
}

func invert(out []byte) {
	for i := range out {
		out[i] = ^out[i]
	}
}

// cmpOrdered writes op(a, b) for every row; ma/mb are 0 for a constant.
func cmpOrdered[T ordered](op string, a []T, ma int, b []T, mb int, out []byte, n int) {
	if ma == 0 && mb == 0 {
		var one [1]byte
		cmpOrdered(op, a[:1], -1, b[:1], -1, one[:], 1)
		fill := byte(0)
		if one[0]&1 != 0 {
			fill = 0xff
		}
		for i := range out {
			out[i] = fill
		}
		return
	}
	// Normalise to <, > or = with a possible inversion.
	inv := false
	switch op {
	case "<=":
		op, inv = ">", true
	case ">=":
		op, inv = "<", true
	case "<>":
		op, inv = "=", true
	}
	switch {
	case ma != 0 && mb != 0:
		a, b = a[:n], b[:n]
		switch op {
		case "<":
			ltAA(a, b, out)
		case ">":
			ltAA(b, a, out)
		default:
			eqAA(a, b, out)
		}
	case ma != 0:
		a = a[:n]
		switch op {
		case "<":
			ltAC(a, b[0], out)
		case ">":
			gtAC(a, b[0], out)
		default:
			eqAC(a, b[0], out)
		}
	default:
		b = b[:n]
		switch op { // c op b[i]
		case "<":
			gtAC(b, a[0], out)
		case ">":
			ltAC(b, a[0], out)
		default:
			eqAC(b, a[0], out)
		}
	}
	if inv {
		invert(out)
	}
}

// cmpTable[op][c+1] is the result of op for a three-way comparison c.
func cmpTable(op string) [3]bool {
	switch op {
	case "=":
		return [3]bool{false, true, false}
	case "<>":
		return [3]bool{true, false, true}
	case "<":
		return [3]bool{true, false, false}
	case "<=":
		return [3]bool{true, true, false}
	case ">":
		return [3]bool{false, false, true}
	}
	return [3]bool{false, true, true} // >=
}

func buildCompare(e *planner.Expr) (kernel, bool, error) {
	ta, tb := e.Args[0].Type, e.Args[1].Type
	if ta.Kind != tb.Kind || (ta.Kind == planner.KindDecimal && ta.Scale != tb.Scale) {
		return nil, false, fmt.Errorf("internal: %s compares %s with %s", e, ta, tb)
	}
	op := e.Name
	k := func(ec *evalCtx, args []vec) (vec, error) {
		valid := andValidity(ec.alloc, ec.n, args)
		buf, out := newBits(ec.alloc, ec.n)
		if err := compareInto(op, ta.Kind, args[0], args[1], out, ec.n); err != nil {
			buf.Release()
			if valid != nil {
				valid.Release()
			}
			return vec{}, err
		}
		return vec{arr: makeArr(arrow.FixedWidthTypes.Boolean, ec.n, valid, buf)}, nil
	}
	return k, true, nil
}

// compareInto writes op(x, y) as bits for n rows (values under NULLs are
// meaningless).
func compareInto(op string, k planner.Kind, x, y vec, out []byte, n int) error {
	switch k {
	case planner.KindInt:
		a, ma := i64Op(x)
		b, mb := i64Op(y)
		cmpOrdered(op, a, ma, b, mb, out, n)
	case planner.KindUint:
		a, ma := u64Op(x)
		b, mb := u64Op(y)
		cmpOrdered(op, a, ma, b, mb, out, n)
	case planner.KindFloat:
		a, ma := f64Op(x)
		b, mb := f64Op(y)
		cmpOrdered(op, a, ma, b, mb, out, n)
	case planner.KindDate:
		a, ma := date32Op(x)
		b, mb := date32Op(y)
		cmpOrdered(op, a, ma, b, mb, out, n)
	case planner.KindDatetime:
		a, ma := tsOp(x)
		b, mb := tsOp(y)
		cmpOrdered(op, a, ma, b, mb, out, n)
	case planner.KindDecimal:
		a, ma := d128Op(x)
		b, mb := d128Op(y)
		t := cmpTable(op)
		for i := 0; i < n; i++ {
			bitutil.SetBitTo(out, i, t[cmp128(a[i&ma], b[i&mb])+1])
		}
	case planner.KindString:
		a, b := strOperand(x), strOperand(y)
		t := cmpTable(op)
		if op == "=" || op == "<>" {
			want := op == "="
			for i := 0; i < n; i++ {
				bitutil.SetBitTo(out, i, bytes.Equal(a.at(i), b.at(i)) == want)
			}
			return nil
		}
		for i := 0; i < n; i++ {
			bitutil.SetBitTo(out, i, t[bytes.Compare(a.at(i), b.at(i))+1])
		}
	default:
		return fmt.Errorf("internal: no comparison for %s", planner.Type{Kind: k})
	}
	return nil
}

// buildNullSafeEq: <=> is never NULL; two NULLs are equal.
func buildNullSafeEq(e *planner.Expr) (kernel, bool, error) {
	kind := e.Args[0].Type.Kind
	return func(ec *evalCtx, args []vec) (vec, error) {
		buf, out := newBits(ec.alloc, ec.n)
		if err := compareInto("=", kind, args[0], args[1], out, ec.n); err != nil {
			buf.Release()
			return vec{}, err
		}
		x, y := args[0], args[1]
		if (x.arr == nil || x.arr.NullN() > 0) || (y.arr == nil || y.arr.NullN() > 0) {
			for i := 0; i < ec.n; i++ {
				vx, vy := rowValid(x, i), rowValid(y, i)
				if !vx || !vy {
					bitutil.SetBitTo(out, i, vx == vy)
				}
			}
		}
		return vec{arr: makeArr(arrow.FixedWidthTypes.Boolean, ec.n, nil, buf)}, nil
	}, false, nil
}

// compileIn: x IN (items). A list of literals becomes a hash set (or a
// short list); otherwise the OR of equalities, which has the same
// three-valued meaning.
func compileIn(c *compiler, e *planner.Expr) (node, error) {
	lhs, items := e.Args[0], e.Args[1:]
	allLit := true
	for _, it := range items {
		allLit = allLit && it.Kind == planner.ExprLiteral
	}
	if !allLit {
		var or *planner.Expr
		for _, it := range items {
			eq := planner.Call("=", planner.Bool, lhs, it)
			if or == nil {
				or = eq
			} else {
				or = planner.Call("or", planner.Bool, or, eq)
			}
		}
		return c.compile(or)
	}
	arg, err := c.compile(lhs)
	if err != nil {
		return nil, err
	}
	k, err := inSetKernel(lhs.Type, items)
	if err != nil {
		return nil, err
	}
	return &callNode{e: e, args: []node{arg}, k: k, strict: true, vals: make([]vec, 0, 1)}, nil
}

func inSetKernel(t planner.Type, items []*planner.Expr) (kernel, error) {
	hasNull := false
	var vals []planner.Value
	for _, it := range items {
		if it.Value.Null {
			hasNull = true
			continue
		}
		vals = append(vals, it.Value)
	}
	var probe func(v vec, out []byte, n int)
	switch t.Kind {
	case planner.KindInt, planner.KindDatetime:
		set := map[int64]struct{}{}
		for _, v := range vals {
			set[v.I] = struct{}{}
		}
		probe = func(v vec, out []byte, n int) {
			var a []int64
			if t.Kind == planner.KindInt {
				a, _ = i64Op(v)
			} else {
				a, _ = tsOp(v)
			}
			for i := 0; i < n; i++ {
				_, ok := set[a[i]]
				bitutil.SetBitTo(out, i, ok)
			}
		}
	case planner.KindDate:
		set := map[int32]struct{}{}
		for _, v := range vals {
			set[int32(v.I)] = struct{}{}
		}
		probe = func(v vec, out []byte, n int) {
			a, _ := date32Op(v)
			for i := 0; i < n; i++ {
				_, ok := set[a[i]]
				bitutil.SetBitTo(out, i, ok)
			}
		}
	case planner.KindUint:
		set := map[uint64]struct{}{}
		for _, v := range vals {
			set[v.U] = struct{}{}
		}
		probe = func(v vec, out []byte, n int) {
			a, _ := u64Op(v)
			for i := 0; i < n; i++ {
				_, ok := set[a[i]]
				bitutil.SetBitTo(out, i, ok)
			}
		}
	case planner.KindFloat:
		set := map[float64]struct{}{}
		for _, v := range vals {
			set[v.F] = struct{}{}
		}
		probe = func(v vec, out []byte, n int) {
			a, _ := f64Op(v)
			for i := 0; i < n; i++ {
				_, ok := set[a[i]]
				bitutil.SetBitTo(out, i, ok)
			}
		}
	case planner.KindDecimal:
		set := map[num]struct{}{}
		for _, v := range vals {
			set[fromDec(v.Dec())] = struct{}{}
		}
		probe = func(v vec, out []byte, n int) {
			a, _ := d128Op(v)
			for i := 0; i < n; i++ {
				_, ok := set[a[i]]
				bitutil.SetBitTo(out, i, ok)
			}
		}
	case planner.KindString:
		set := map[string]struct{}{}
		for _, v := range vals {
			set[v.S] = struct{}{}
		}
		probe = func(v vec, out []byte, n int) {
			s := strOperand(v)
			for i := 0; i < n; i++ {
				_, ok := set[string(s.at(i))]
				bitutil.SetBitTo(out, i, ok)
			}
		}
	default:
		return nil, fmt.Errorf("internal: no IN over %s", t)
	}
	return func(ec *evalCtx, args []vec) (vec, error) {
		valid := andValidity(ec.alloc, ec.n, args)
		buf, out := newBits(ec.alloc, ec.n)
		probe(args[0], out, ec.n)
		if hasNull {
			// No match against a list holding NULL is NULL, not FALSE.
			if valid == nil {
				valid = newBuf(ec.alloc, bitmapLen(ec.n))
				copy(valid.Bytes(), out)
			} else {
				v := valid.Bytes()
				for i := range v {
					v[i] &= out[i]
				}
			}
		}
		return vec{arr: makeArr(arrow.FixedWidthTypes.Boolean, ec.n, valid, buf)}, nil
	}, nil
}
