package expr

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

var mathBuilders = map[string]builder{
	"round": buildRound, "truncate": buildRound, "floor": buildFloor, "ceil": buildFloor, "sign": buildSign,
	"pow": buildFloatFn, "sqrt": buildFloatFn, "exp": buildFloatFn, "ln": buildFloatFn, "log": buildFloatFn,
	"log10": buildFloatFn, "log2": buildFloatFn,
}

// roundFloat is MySQL's my_double_round: scale by 10^d, rint (half to
// even) or truncate, scale back.
func roundFloat(v float64, d int64, trunc bool) float64 {
	ad := d
	if ad < 0 {
		ad = -ad
	}
	tmp := math.Pow(10, float64(ad))
	div, mul := v/tmp, v*tmp
	switch {
	case d < 0 && math.IsInf(tmp, 0):
		return 0
	case d >= 0 && math.IsInf(mul, 0):
		return v
	case trunc:
		if d < 0 {
			return math.Trunc(div) * tmp
		}
		return math.Trunc(mul) / tmp
	case d < 0:
		return math.RoundToEven(div) * tmp
	}
	return math.RoundToEven(mul) / tmp
}

// roundInt rounds x to 10^k (k > 0) half away from zero, or truncates.
func roundInt(x int64, k int64, trunc bool) (int64, bool) {
	if k > 19 {
		return 0, true
	}
	p := pow10u[min(k, 19)]
	if k == 19 {
		// |x| < 10^19: only a value of at least half of 10^19 rounds up,
		// and 10^19 is out of range.
		if !trunc && (x >= 5e18 || x <= -5e18) {
			return 0, false
		}
		return 0, true
	}
	q, r := x/int64(p), x%int64(p)
	if !trunc {
		if r >= 0 && uint64(r)*2 >= p {
			q++
		} else if r < 0 && uint64(-r)*2 >= p {
			q--
		}
	}
	hi, lo := mulSigned(q, int64(p))
	return lo, hi == lo>>63
}

func mulSigned(x, y int64) (hi, lo int64) {
	h, l := bits.Mul64(uint64(x), uint64(y))
	h -= uint64((x>>63)&y) + uint64((y>>63)&x)
	return int64(h), int64(l)
}

// buildRound: ROUND(x, d) and TRUNCATE(x, d).
func buildRound(e *planner.Expr) (kernel, bool, error) {
	trunc := e.Name == "truncate"
	from, to := e.Args[0].Type, e.Type
	dt := to.Arrow()
	return func(ec *evalCtx, args []vec) (vec, error) {
		d, md := i64Op(args[1])
		valid := newValidBits(ec.alloc, ec.n, args[:])
		fail := func(b *memory.Buffer, typ string) (vec, error) {
			b.Release()
			valid.release()
			return vec{}, rangeErr(typ, e)
		}
		switch from.Kind {
		case planner.KindFloat:
			x, mx := f64Op(args[0])
			buf, out := newF64(ec.alloc, ec.n)
			for i := range out {
				out[i] = roundFloat(x[i&mx], d[i&md], trunc)
			}
			return vec{arr: makeArr(dt, ec.n, valid.buf, buf)}, nil
		case planner.KindInt:
			x, mx := i64Op(args[0])
			buf, out := newI64(ec.alloc, ec.n)
			for i := range out {
				v, dd := x[i&mx], d[i&md]
				if dd >= 0 {
					out[i] = v
					continue
				}
				r, ok := roundInt(v, -dd, trunc)
				if !ok && valid.valid(i) {
					return fail(buf, "BIGINT")
				}
				out[i] = r
			}
			return vec{arr: makeArr(dt, ec.n, valid.buf, buf)}, nil
		case planner.KindUint:
			x, mx := u64Op(args[0])
			buf, out := newU64(ec.alloc, ec.n)
			for i := range out {
				v, dd := x[i&mx], d[i&md]
				if dd >= 0 {
					out[i] = v
					continue
				}
				r, ok := roundDec(num{lo: v}, 0, dd, 0, trunc)
				if !ok || r.hi != 0 {
					if valid.valid(i) {
						return fail(buf, "BIGINT UNSIGNED")
					}
				}
				out[i] = r.lo
			}
			return vec{arr: makeArr(dt, ec.n, valid.buf, buf)}, nil
		case planner.KindDecimal:
			x, mx := d128Op(args[0])
			buf, out := newD128(ec.alloc, ec.n)
			for i := range out {
				r, ok := roundDec(x[i&mx], from.Scale, d[i&md], to.Scale, trunc)
				if (!ok || !inPrec(r, to.Prec)) && valid.valid(i) {
					return fail(buf, "DECIMAL")
				}
				out[i] = r
			}
			return vec{arr: makeArr(dt, ec.n, valid.buf, buf)}, nil
		}
		valid.release()
		return vec{}, fmt.Errorf("internal: no kernel for %s over %s", e, from)
	}, true, nil
}

// roundDec rounds x (scale s) to d decimals and returns it at scale rs.
func roundDec(x num, s int, d int64, rs int, trunc bool) (num, bool) {
	r := x
	if d < int64(s) {
		k := int64(s) - d
		if k > 38 {
			return num{}, true
		}
		if trunc {
			r = divTrunc(x, int(k))
		} else {
			r = divRound(x, int(k))
		}
		// r has scale d; bring it to rs.
		if sh := int64(rs) - d; sh >= 0 {
			return mulPow10(r, int(sh))
		}
		return divRound(r, int(d-int64(rs))), true
	}
	if rs >= s {
		return mulPow10(r, rs-s)
	}
	return divRound(r, s-rs), true
}

// divTrunc returns n / 10^k truncated toward zero.
func divTrunc(n num, k int) num {
	if k == 0 {
		return n
	}
	hi, lo, neg := n.abs()
	if k <= 19 {
		qhi, qlo, _ := divU128(hi, lo, pow10u[k])
		q, _ := fromMag(qhi, qlo, neg)
		return q
	}
	b := bigOf(n)
	return bigToNum(b.Quo(b, pow10Big(k)))
}

// buildFloor: FLOOR and CEIL of DOUBLE and DECIMAL (integers are never
// passed; the planner returns them unchanged).
func buildFloor(e *planner.Expr) (kernel, bool, error) {
	ceil := e.Name == "ceil"
	from, to := e.Args[0].Type, e.Type
	dt := to.Arrow()
	return func(ec *evalCtx, args []vec) (vec, error) {
		valid := andValidity(ec.alloc, ec.n, args)
		a := args[0].arr
		switch from.Kind {
		case planner.KindFloat:
			buf, out := newF64(ec.alloc, ec.n)
			for i, v := range a.(*array.Float64).Float64Values() {
				if ceil {
					out[i] = math.Ceil(v)
				} else {
					out[i] = math.Floor(v)
				}
			}
			return vec{arr: makeArr(dt, ec.n, valid, buf)}, nil
		case planner.KindDecimal:
			buf, out := newD128(ec.alloc, ec.n)
			for i, v := range decValues(a) {
				q := divTrunc(v, from.Scale)
				back, _ := mulPow10(q, from.Scale)
				if back != v {
					if ceil && v.hi >= 0 {
						q, _ = add128(q, n64(1))
					} else if !ceil && v.hi < 0 {
						q, _ = sub128(q, n64(1))
					}
				}
				out[i] = q
			}
			if to.Kind == planner.KindInt {
				// The planner chose BIGINT because the digits fit.
				ib, io := newI64(ec.alloc, ec.n)
				for i, q := range out {
					io[i] = int64(q.lo)
				}
				buf.Release()
				return vec{arr: makeArr(dt, ec.n, valid, ib)}, nil
			}
			return vec{arr: makeArr(dt, ec.n, valid, buf)}, nil
		}
		if valid != nil {
			valid.Release()
		}
		return vec{}, fmt.Errorf("internal: no kernel for %s over %s", e, from)
	}, true, nil
}

func buildSign(e *planner.Expr) (kernel, bool, error) {
	from := e.Args[0].Type.Kind
	return func(ec *evalCtx, args []vec) (vec, error) {
		a := args[0].arr
		buf, out := newI64(ec.alloc, ec.n)
		switch from {
		case planner.KindInt:
			for i, v := range a.(*array.Int64).Int64Values() {
				out[i] = int64(b2u(v > 0)) - int64(b2u(v < 0))
			}
		case planner.KindUint:
			for i, v := range a.(*array.Uint64).Uint64Values() {
				out[i] = int64(b2u(v > 0))
			}
		case planner.KindFloat:
			for i, v := range a.(*array.Float64).Float64Values() {
				out[i] = int64(b2u(v > 0)) - int64(b2u(v < 0))
			}
		case planner.KindDecimal:
			for i, v := range decValues(a) {
				out[i] = int64(v.sign())
			}
		}
		return vec{arr: makeArr(arrow.PrimitiveTypes.Int64, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
	}, true, nil
}

// buildFloatFn: POW, SQRT, EXP, LN, LOG, LOG10, LOG2. Arguments outside
// the domain give NULL, as in MySQL; an infinite result is an error.
func buildFloatFn(e *planner.Expr) (kernel, bool, error) {
	name := e.Name
	if name == "log" && len(e.Args) == 2 {
		name = "logb"
	}
	return func(ec *evalCtx, args []vec) (vec, error) {
		x, mx := f64Op(args[0])
		var y []float64
		my := 0
		if len(args) > 1 {
			y, my = f64Op(args[1])
		}
		valid := newValidBits(ec.alloc, ec.n, args)
		buf, out := newF64(ec.alloc, ec.n)
		for i := range out {
			v := x[i&mx]
			var r float64
			ok := true
			switch name {
			case "pow":
				r = math.Pow(v, y[i&my])
			case "sqrt":
				r, ok = math.Sqrt(v), v >= 0
			case "exp":
				r = math.Exp(v)
			case "ln", "log":
				r, ok = math.Log(v), v > 0
			case "log10":
				r, ok = math.Log10(v), v > 0
			case "log2":
				r, ok = math.Log2(v), v > 0
			case "logb": // LOG(b, x)
				w := y[i&my]
				r, ok = math.Log(w)/math.Log(v), v > 0 && v != 1 && w > 0
			}
			if !ok || math.IsNaN(r) {
				valid.setNull(ec.alloc, ec.n, i)
				r = 0
			} else if math.IsInf(r, 0) && valid.valid(i) {
				buf.Release()
				valid.release()
				return vec{}, rangeErr("DOUBLE", e)
			}
			out[i] = r
		}
		return vec{arr: makeArr(arrow.PrimitiveTypes.Float64, ec.n, valid.buf, buf)}, nil
	}, true, nil
}
