package expr

import (
	"fmt"
	"math"
	"math/big"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

var arithBuilders = map[string]builder{
	"+": buildArith, "-": buildArith, "*": buildArith, "/": buildArith, "div": buildArith, "%": buildArith,
	"neg": buildNeg, "abs": buildAbs,
}

func rangeErr(typ string, e *planner.Expr) error {
	return fmt.Errorf("%s value is out of range in '%s'", typ, e)
}

func intRangeErr(e *planner.Expr) error {
	if e.Type.Kind == planner.KindUint {
		return rangeErr("BIGINT UNSIGNED", e)
	}
	return rangeErr("BIGINT", e)
}

func buildArith(e *planner.Expr) (kernel, bool, error) {
	ta, tb := e.Args[0].Type.Kind, e.Args[1].Type.Kind
	isInt := func(k planner.Kind) bool { return k == planner.KindInt || k == planner.KindUint }
	switch {
	case ta == planner.KindFloat && tb == planner.KindFloat:
		if e.Type.Kind == planner.KindInt {
			return floatIntDiv(e), true, nil
		}
		return floatArith(e), true, nil
	case ta == planner.KindDecimal && tb == planner.KindDecimal:
		if e.Type.Kind == planner.KindInt {
			return decIntDiv(e), true, nil
		}
		return decArith(e)
	case ta == planner.KindInt && tb == planner.KindInt && e.Type.Kind == planner.KindInt:
		return intArith(e), true, nil
	case ta == planner.KindUint && tb == planner.KindUint && e.Type.Kind == planner.KindUint:
		return uintArith(e), true, nil
	case isInt(ta) && isInt(tb) && isInt(e.Type.Kind):
		return mixedArith(e), true, nil
	}
	return nil, false, fmt.Errorf("internal: no kernel for %s over %s and %s", e, e.Args[0].Type, e.Args[1].Type)
}

// intArith: BIGINT op BIGINT. The loops accumulate an overflow flag without
// branching; only when it is set do they look for a non-NULL row that
// overflowed.
func intArith(e *planner.Expr) kernel {
	op := e.Name
	return func(ec *evalCtx, args []vec) (vec, error) {
		a, ma := i64Op(args[0])
		b, mb := i64Op(args[1])
		valid := newValidBits(ec.alloc, ec.n, args)
		buf, out := newI64(ec.alloc, ec.n)
		bad := false
		switch op {
		case "+":
			var o int64
			for i := range out {
				x, y := a[i&ma], b[i&mb]
				r := x + y
				o |= (x ^ r) & (y ^ r)
				out[i] = r
			}
			if o < 0 {
				for i := range out {
					x, y := a[i&ma], b[i&mb]
					r := x + y
					if (x^r)&(y^r) < 0 && valid.valid(i) {
						bad = true
						break
					}
				}
			}
		case "-":
			var o int64
			for i := range out {
				x, y := a[i&ma], b[i&mb]
				r := x - y
				o |= (x ^ y) & (x ^ r)
				out[i] = r
			}
			if o < 0 {
				for i := range out {
					x, y := a[i&ma], b[i&mb]
					r := x - y
					if (x^y)&(x^r) < 0 && valid.valid(i) {
						bad = true
						break
					}
				}
			}
		case "*":
			var o int64
			for i := range out {
				x, y := a[i&ma], b[i&mb]
				hi, lo := bits.Mul64(uint64(x), uint64(y))
				hi -= uint64((x>>63)&y) + uint64((y>>63)&x)
				o |= int64(hi) ^ (int64(lo) >> 63)
				out[i] = int64(lo)
			}
			if o != 0 {
				for i := range out {
					x, y := a[i&ma], b[i&mb]
					hi, lo := bits.Mul64(uint64(x), uint64(y))
					hi -= uint64((x>>63)&y) + uint64((y>>63)&x)
					if int64(hi) != int64(lo)>>63 && valid.valid(i) {
						bad = true
						break
					}
				}
			}
		case "div":
			for i := range out {
				x, y := a[i&ma], b[i&mb]
				switch {
				case y == 0:
					out[i] = 0
					valid.setNull(ec.alloc, ec.n, i)
				case y == -1:
					if x == math.MinInt64 && valid.valid(i) {
						bad = true
					}
					out[i] = -x
				default:
					out[i] = x / y
				}
			}
		case "%":
			for i := range out {
				x, y := a[i&ma], b[i&mb]
				switch y {
				case 0:
					out[i] = 0
					valid.setNull(ec.alloc, ec.n, i)
				case -1:
					out[i] = 0
				default:
					out[i] = x % y
				}
			}
		}
		if bad {
			buf.Release()
			valid.release()
			return vec{}, intRangeErr(e)
		}
		return vec{arr: makeArr(arrow.PrimitiveTypes.Int64, ec.n, valid.buf, buf)}, nil
	}
}

func uintArith(e *planner.Expr) kernel {
	op := e.Name
	return func(ec *evalCtx, args []vec) (vec, error) {
		a, ma := u64Op(args[0])
		b, mb := u64Op(args[1])
		valid := newValidBits(ec.alloc, ec.n, args)
		buf, out := newU64(ec.alloc, ec.n)
		bad := false
		for i := range out {
			x, y := a[i&ma], b[i&mb]
			var ovf bool
			switch op {
			case "+":
				var c uint64
				out[i], c = bits.Add64(x, y, 0)
				ovf = c != 0
			case "-":
				var c uint64
				out[i], c = bits.Sub64(x, y, 0)
				ovf = c != 0
			case "*":
				var hi uint64
				hi, out[i] = bits.Mul64(x, y)
				ovf = hi != 0
			case "div", "%":
				if y == 0 {
					out[i] = 0
					valid.setNull(ec.alloc, ec.n, i)
				} else if op == "div" {
					out[i] = x / y
				} else {
					out[i] = x % y
				}
			}
			if ovf && valid.valid(i) {
				bad = true
				break
			}
		}
		if bad {
			buf.Release()
			valid.release()
			return vec{}, intRangeErr(e)
		}
		return vec{arr: makeArr(arrow.PrimitiveTypes.Uint64, ec.n, valid.buf, buf)}, nil
	}
}

// intIn reads a BIGINT or BIGINT UNSIGNED operand as sign and magnitude.
type intIn struct {
	i      []int64
	u      []uint64
	mask   int
	signed bool
}

func intOperand(v vec, k planner.Kind) intIn {
	if k == planner.KindUint {
		u, m := u64Op(v)
		return intIn{u: u, mask: m}
	}
	i, m := i64Op(v)
	return intIn{i: i, mask: m, signed: true}
}

func (o *intIn) at(i int) (neg bool, mag uint64) {
	if o.signed {
		x := o.i[i&o.mask]
		if x < 0 {
			return true, uint64(-(x + 1)) + 1
		}
		return false, uint64(x)
	}
	return false, o.u[i&o.mask]
}

// mixedArith computes signed with unsigned operands through sign and
// magnitude, checking the result against the result type's range.
func mixedArith(e *planner.Expr) kernel {
	op := e.Name
	ka, kb := e.Args[0].Type.Kind, e.Args[1].Type.Kind
	unsignedOut := e.Type.Kind == planner.KindUint
	return func(ec *evalCtx, args []vec) (vec, error) {
		a, b := intOperand(args[0], ka), intOperand(args[1], kb)
		valid := newValidBits(ec.alloc, ec.n, args)
		buf, out := newU64(ec.alloc, ec.n) // int64 results are stored as their bits
		bad := false
		for i := range out {
			xn, xm := a.at(i)
			yn, ym := b.at(i)
			if op == "-" {
				yn = !yn
			}
			var rn, ovf bool
			var rm uint64
			switch op {
			case "+", "-":
				if xn == yn {
					var c uint64
					rm, c = bits.Add64(xm, ym, 0)
					rn, ovf = xn, c != 0
				} else if xm >= ym {
					rm, rn = xm-ym, xn
				} else {
					rm, rn = ym-xm, yn
				}
			case "*":
				var hi uint64
				hi, rm = bits.Mul64(xm, ym)
				rn, ovf = xn != yn, hi != 0
			case "div", "%":
				if ym == 0 {
					valid.setNull(ec.alloc, ec.n, i)
					out[i] = 0
					continue
				}
				if op == "div" {
					rm, rn = xm/ym, xn != yn
				} else {
					rm, rn = xm%ym, xn
				}
			}
			if rm == 0 {
				rn = false
			}
			switch {
			case unsignedOut:
				ovf = ovf || rn
				out[i] = rm
			case rn:
				ovf = ovf || rm > 1<<63
				out[i] = -rm
			default:
				ovf = ovf || rm > math.MaxInt64
				out[i] = rm
			}
			if ovf && valid.valid(i) {
				bad = true
				break
			}
		}
		if bad {
			buf.Release()
			valid.release()
			return vec{}, intRangeErr(e)
		}
		dt := arrow.DataType(arrow.PrimitiveTypes.Uint64)
		if !unsignedOut {
			dt = arrow.PrimitiveTypes.Int64
		}
		return vec{arr: makeArr(dt, ec.n, valid.buf, buf)}, nil
	}
}

func floatArith(e *planner.Expr) kernel {
	op := e.Name
	return func(ec *evalCtx, args []vec) (vec, error) {
		a, ma := f64Op(args[0])
		b, mb := f64Op(args[1])
		valid := newValidBits(ec.alloc, ec.n, args)
		buf, out := newF64(ec.alloc, ec.n)
		// o gets bit 63 once a result is infinite or NaN (exponent all
		// ones): an OR chain instead of a branch per row.
		var o uint64
		switch op {
		case "+":
			for i := range out {
				r := a[i&ma] + b[i&mb]
				o |= math.Float64bits(r)&expMask + expOne
				out[i] = r
			}
		case "-":
			for i := range out {
				r := a[i&ma] - b[i&mb]
				o |= math.Float64bits(r)&expMask + expOne
				out[i] = r
			}
		case "*":
			for i := range out {
				r := a[i&ma] * b[i&mb]
				o |= math.Float64bits(r)&expMask + expOne
				out[i] = r
			}
		case "/", "%":
			for i := range out {
				x, y := a[i&ma], b[i&mb]
				if y == 0 {
					out[i] = 0
					valid.setNull(ec.alloc, ec.n, i)
					continue
				}
				var r float64
				if op == "/" {
					r = x / y
				} else {
					r = math.Mod(x, y)
				}
				o |= math.Float64bits(r)&expMask + expOne
				out[i] = r
			}
		}
		if o>>63 != 0 {
			for i, r := range out {
				if r-r != 0 && valid.valid(i) {
					buf.Release()
					valid.release()
					return vec{}, rangeErr("DOUBLE", e)
				}
			}
		}
		return vec{arr: makeArr(arrow.PrimitiveTypes.Float64, ec.n, valid.buf, buf)}, nil
	}
}

const (
	expMask = 0x7ff << 52
	expOne  = 1 << 52
)

// floatIntDiv is DIV over DOUBLE: the truncated quotient as BIGINT.
func floatIntDiv(e *planner.Expr) kernel {
	return func(ec *evalCtx, args []vec) (vec, error) {
		a, ma := f64Op(args[0])
		b, mb := f64Op(args[1])
		valid := newValidBits(ec.alloc, ec.n, args)
		buf, out := newI64(ec.alloc, ec.n)
		for i := range out {
			x, y := a[i&ma], b[i&mb]
			if y == 0 {
				out[i] = 0
				valid.setNull(ec.alloc, ec.n, i)
				continue
			}
			q := math.Trunc(x / y)
			if !(q >= -(1<<63) && q < 1<<63) && valid.valid(i) {
				buf.Release()
				valid.release()
				return vec{}, rangeErr("BIGINT", e)
			}
			out[i] = int64(q)
		}
		return vec{arr: makeArr(arrow.PrimitiveTypes.Int64, ec.n, valid.buf, buf)}, nil
	}
}

// decArith: DECIMAL + - * / %. The planner gives + - % operands of one
// scale; * and / rescale here.
func decArith(e *planner.Expr) (kernel, bool, error) {
	op := e.Name
	ta, tb, tr := e.Args[0].Type, e.Args[1].Type, e.Type
	if (op == "+" || op == "-" || op == "%") && (ta.Scale != tb.Scale || ta.Scale != tr.Scale) {
		return nil, false, fmt.Errorf("internal: %s needs operands of scale %d, got %s and %s", e, tr.Scale, ta, tb)
	}
	p := tr.Prec
	var natural int // the precision before clamping to 38 digits
	switch op {
	case "+", "-":
		natural = max(ta.Prec-ta.Scale, tb.Prec-tb.Scale) + tr.Scale + 1
	case "*":
		natural = ta.Prec + tb.Prec
	case "/":
		// The scale the session's div_precision_increment added; when the
		// scale was capped, assume the most it could have added.
		inc := tr.Scale - ta.Scale
		if tr.Scale == planner.MaxDecimalScale {
			inc = planner.MaxDecimalScale
		}
		natural = ta.Prec + tb.Scale + inc
	case "%":
		natural = p
	}
	check := natural > p
	dt := tr.Arrow()
	return func(ec *evalCtx, args []vec) (vec, error) {
		a, ma := d128Op(args[0])
		b, mb := d128Op(args[1])
		valid := newValidBits(ec.alloc, ec.n, args)
		buf, out := newD128(ec.alloc, ec.n)
		bad := false
		switch op {
		case "+", "-":
			sub := op == "-"
			for i := range out {
				x, y := a[i&ma], b[i&mb]
				if x.fits64() && y.fits64() {
					xs, ys := int64(x.lo), int64(y.lo)
					if sub {
						if r := xs - ys; (xs^ys)&(xs^r) >= 0 {
							out[i] = n64(r)
							continue
						}
					} else if r := xs + ys; (xs^r)&(ys^r) >= 0 {
						out[i] = n64(r)
						continue
					}
				}
				var r num
				var ok bool
				if sub {
					r, ok = sub128(x, y)
				} else {
					r, ok = add128(x, y)
				}
				out[i] = r
				if (!ok || (check && !inPrec(r, p))) && valid.valid(i) {
					bad = true
					break
				}
			}
		case "*":
			k := ta.Scale + tb.Scale - tr.Scale // digits to round away (scale over 30)
			for i := range out {
				x, y := a[i&ma], b[i&mb]
				var r num
				ok := true
				if x.fits64() && y.fits64() {
					xs, ys := int64(x.lo), int64(y.lo)
					hi, lo := bits.Mul64(uint64(xs), uint64(ys))
					hi -= uint64((xs>>63)&ys) + uint64((ys>>63)&xs)
					r = num{lo: lo, hi: int64(hi)}
				} else {
					r, ok = mul128(x, y)
				}
				if k > 0 && ok {
					r = divRound(r, k)
				}
				out[i] = r
				if (!ok || (check && !inPrec(r, p))) && valid.valid(i) {
					bad = true
					break
				}
			}
		case "/":
			k := tr.Scale - ta.Scale + tb.Scale // result = round(x·10^k / y)
			for i := range out {
				x, y := a[i&ma], b[i&mb]
				if y.hi == 0 && y.lo == 0 {
					out[i] = num{}
					valid.setNull(ec.alloc, ec.n, i)
					continue
				}
				r, ok := decDivide(x, y, k)
				out[i] = r
				if (!ok || (check && !inPrec(r, p))) && valid.valid(i) {
					bad = true
					break
				}
			}
		case "%":
			for i := range out {
				x, y := a[i&ma], b[i&mb]
				switch {
				case y.hi == 0 && y.lo == 0:
					out[i] = num{}
					valid.setNull(ec.alloc, ec.n, i)
				case x.fits64() && y.fits64():
					out[i] = n64(int64(x.lo) % int64(y.lo))
				default:
					out[i] = bigToNum(new(big.Int).Rem(bigOf(x), bigOf(y)))
				}
			}
		}
		if bad {
			buf.Release()
			valid.release()
			return vec{}, rangeErr("DECIMAL", e)
		}
		return vec{arr: makeArr(dt, ec.n, valid.buf, buf)}, nil
	}, true, nil
}

// decDivide returns round(x·10^k / y) half away from zero; y is not zero.
func decDivide(x, y num, k int) (num, bool) {
	if k >= 0 && k <= 19 && x.fits64() && y.fits64() {
		_, xm, xn := x.abs()
		_, ym, yn := y.abs()
		hi, lo := bits.Mul64(xm, pow10u[k])
		qhi, qlo, r := divU128(hi, lo, ym)
		if r >= ym-r {
			var c uint64
			qlo, c = bits.Add64(qlo, 1, 0)
			qhi += c
		}
		return fromMag(qhi, qlo, xn != yn)
	}
	n := bigOf(x)
	d := bigOf(y)
	if k >= 0 {
		n.Mul(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil))
	} else {
		d.Mul(d, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-k)), nil))
	}
	q := roundQuo(n, d)
	if !bigFits(q) {
		return num{}, false
	}
	return bigToNum(q), true
}

// decIntDiv is DIV over DECIMAL: the truncated quotient as BIGINT.
func decIntDiv(e *planner.Expr) kernel {
	sa, sb := e.Args[0].Type.Scale, e.Args[1].Type.Scale
	return func(ec *evalCtx, args []vec) (vec, error) {
		a, ma := d128Op(args[0])
		b, mb := d128Op(args[1])
		valid := newValidBits(ec.alloc, ec.n, args)
		buf, out := newI64(ec.alloc, ec.n)
		for i := range out {
			x, y := a[i&ma], b[i&mb]
			if y.hi == 0 && y.lo == 0 {
				out[i] = 0
				valid.setNull(ec.alloc, ec.n, i)
				continue
			}
			if sa == sb && x.fits64() && y.fits64() && !(int64(x.lo) == math.MinInt64 && int64(y.lo) == -1) {
				out[i] = int64(x.lo) / int64(y.lo)
				continue
			}
			n := bigOf(x)
			n.Mul(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(sb)), nil))
			d := bigOf(y)
			d.Mul(d, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(sa)), nil))
			q := n.Quo(n, d)
			if !q.IsInt64() && valid.valid(i) {
				buf.Release()
				valid.release()
				return vec{}, rangeErr("BIGINT", e)
			}
			out[i] = q.Int64()
		}
		return vec{arr: makeArr(arrow.PrimitiveTypes.Int64, ec.n, valid.buf, buf)}, nil
	}
}

func buildNeg(e *planner.Expr) (kernel, bool, error) {
	return unaryNum(e, "neg")
}

func buildAbs(e *planner.Expr) (kernel, bool, error) {
	return unaryNum(e, "abs")
}

// unaryNum: unary minus and ABS. Its argument is always an array.
func unaryNum(e *planner.Expr, op string) (kernel, bool, error) {
	from := e.Args[0].Type.Kind
	dt := e.Type.Arrow()
	return func(ec *evalCtx, args []vec) (vec, error) {
		src := args[0].arr
		valid := andValidity(ec.alloc, ec.n, args)
		fail := func(b *memory.Buffer) (vec, error) {
			b.Release()
			if valid != nil {
				valid.Release()
			}
			return vec{}, intRangeErr(e)
		}
		switch from {
		case planner.KindInt:
			x := src.(*array.Int64).Int64Values()
			buf, out := newI64(ec.alloc, ec.n)
			for i, v := range x {
				if v == math.MinInt64 && (op == "neg" || v < 0) && src.IsValid(i) {
					return fail(buf)
				}
				if op == "neg" || v < 0 {
					v = -v
				}
				out[i] = v
			}
			return vec{arr: makeArr(dt, ec.n, valid, buf)}, nil
		case planner.KindUint:
			x := src.(*array.Uint64).Uint64Values()
			if op == "abs" {
				if valid != nil {
					valid.Release()
				}
				src.Retain()
				return vec{arr: src}, nil
			}
			buf, out := newI64(ec.alloc, ec.n)
			for i, v := range x {
				if v > 1<<63 && src.IsValid(i) {
					return fail(buf)
				}
				out[i] = -int64(v)
			}
			return vec{arr: makeArr(dt, ec.n, valid, buf)}, nil
		case planner.KindFloat:
			x := src.(*array.Float64).Float64Values()
			buf, out := newF64(ec.alloc, ec.n)
			for i, v := range x {
				if op == "neg" {
					out[i] = -v
				} else {
					out[i] = math.Abs(v)
				}
			}
			return vec{arr: makeArr(dt, ec.n, valid, buf)}, nil
		case planner.KindDecimal:
			x := decValues(src)
			buf, out := newD128(ec.alloc, ec.n)
			for i, v := range x {
				if op == "neg" || v.hi < 0 {
					v = v.neg()
				}
				out[i] = v
			}
			return vec{arr: makeArr(dt, ec.n, valid, buf)}, nil
		}
		if valid != nil {
			valid.Release()
		}
		return vec{}, fmt.Errorf("internal: no kernel for %s over %s", e, e.Args[0].Type)
	}, true, nil
}
