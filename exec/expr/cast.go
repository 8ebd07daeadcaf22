package expr

import (
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/quernsql/quern/planner"
)

var castBuilders = map[string]builder{"cast": buildCast, "cast_strict": buildCast}

// bstr views bytes as a string without copying, for parsers that do not
// keep their input.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func castErr(e *planner.Expr, v planner.Value, from planner.Type) error {
	return fmt.Errorf("incorrect %s value %s in '%s'", e.Type, planner.FormatLiteral(v, from), e)
}

// buildCast picks a typed loop for the common conversions and falls back to
// planner.CastValue row by row for the rare ones (number to date, DOUBLE to
// DECIMAL, ...) and for cast_strict, where a value that does not convert
// cleanly is an error.
func buildCast(e *planner.Expr) (kernel, bool, error) {
	from, to := e.Args[0].Type, e.Type
	strict := e.Name == "cast_strict"
	if from.Kind == planner.KindNull {
		return func(ec *evalCtx, _ []vec) (vec, error) { return nullVec(), nil }, true, nil
	}
	if strict {
		// Only INSERT stores with cast_strict: row by row through the
		// planner's rules is fast enough and agrees with literal folding.
		return slowCast(e, from, to, true), true, nil
	}
	if k := fastCast(e, from, to); k != nil {
		return k, true, nil
	}
	return slowCast(e, from, to, false), true, nil
}

func fastCast(e *planner.Expr, from, to planner.Type) kernel {
	fk, tk := from.Kind, to.Kind
	dt := to.Arrow()
	switch {
	case tk == planner.KindString && fk != planner.KindString:
		return castToString(from)
	case fk == planner.KindString:
		return castFromString(to)
	case fk == planner.KindInt && tk == planner.KindFloat:
		return func(ec *evalCtx, args []vec) (vec, error) {
			buf, out := newF64(ec.alloc, ec.n)
			for i, v := range args[0].arr.(*array.Int64).Int64Values() {
				out[i] = float64(v)
			}
			return vec{arr: makeArr(dt, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
		}
	case fk == planner.KindUint && tk == planner.KindFloat:
		return func(ec *evalCtx, args []vec) (vec, error) {
			buf, out := newF64(ec.alloc, ec.n)
			for i, v := range args[0].arr.(*array.Uint64).Uint64Values() {
				out[i] = float64(v)
			}
			return vec{arr: makeArr(dt, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
		}
	case fk == planner.KindBool && (tk == planner.KindInt || tk == planner.KindFloat || tk == planner.KindUint):
		return func(ec *evalCtx, args []vec) (vec, error) {
			in := boolOperand(args[0])
			buf := newBuf(ec.alloc, ec.n*8)
			switch tk {
			case planner.KindFloat:
				out := arrow.Float64Traits.CastFromBytes(buf.Bytes())
				for i := range out {
					out[i] = float64(b2u(in.at(i)))
				}
			default:
				out := arrow.Int64Traits.CastFromBytes(buf.Bytes())
				for i := range out {
					out[i] = int64(b2u(in.at(i)))
				}
			}
			return vec{arr: makeArr(dt, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
		}
	case tk == planner.KindBool && fk != planner.KindDate && fk != planner.KindDatetime:
		return func(ec *evalCtx, args []vec) (vec, error) {
			buf, out := newBits(ec.alloc, ec.n)
			a := args[0].arr
			switch fk {
			case planner.KindInt:
				for i, v := range a.(*array.Int64).Int64Values() {
					bitutil.SetBitTo(out, i, v != 0)
				}
			case planner.KindUint:
				for i, v := range a.(*array.Uint64).Uint64Values() {
					bitutil.SetBitTo(out, i, v != 0)
				}
			case planner.KindFloat:
				for i, v := range a.(*array.Float64).Float64Values() {
					bitutil.SetBitTo(out, i, v != 0)
				}
			case planner.KindDecimal:
				for i, v := range decValues(a) {
					bitutil.SetBitTo(out, i, v.hi != 0 || v.lo != 0)
				}
			}
			return vec{arr: makeArr(dt, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
		}
	case fk == planner.KindInt && tk == planner.KindUint || fk == planner.KindUint && tk == planner.KindInt:
		// Same bits, reinterpreted (CAST(-1 AS UNSIGNED) wraps in MySQL).
		return func(ec *evalCtx, args []vec) (vec, error) {
			return vec{arr: retype(args[0].arr, dt)}, nil
		}
	case fk == planner.KindFloat && tk == planner.KindInt:
		return func(ec *evalCtx, args []vec) (vec, error) {
			a := args[0].arr
			buf, out := newI64(ec.alloc, ec.n)
			for i, v := range a.(*array.Float64).Float64Values() {
				out[i] = planner.FloatToInt(v, false)
			}
			return vec{arr: makeArr(dt, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
		}
	case fk == planner.KindInt && tk == planner.KindDecimal:
		return intToDecimal(to)
	case fk == planner.KindDecimal && tk == planner.KindDecimal:
		return decToDecimal(from, to)
	case fk == planner.KindDecimal && tk == planner.KindFloat:
		return func(ec *evalCtx, args []vec) (vec, error) {
			buf, out := newF64(ec.alloc, ec.n)
			for i, v := range decValues(args[0].arr) {
				out[i] = planner.DecimalToFloat(v.dec(), from.Scale)
			}
			return vec{arr: makeArr(dt, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
		}
	case fk == planner.KindDecimal && tk == planner.KindInt:
		return func(ec *evalCtx, args []vec) (vec, error) {
			a := args[0].arr
			buf, out := newI64(ec.alloc, ec.n)
			for i, v := range decValues(a) {
				r := divRound(v, from.Scale)
				switch {
				case r.fits64():
					out[i] = int64(r.lo)
				case r.hi < 0:
					out[i] = math.MinInt64
				default:
					out[i] = math.MaxInt64
				}
			}
			return vec{arr: makeArr(dt, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
		}
	case fk == planner.KindDate && tk == planner.KindDatetime:
		return func(ec *evalCtx, args []vec) (vec, error) {
			buf, out := newI64(ec.alloc, ec.n)
			for i, v := range date32Values(args[0].arr) {
				out[i] = int64(v) * 86_400_000_000
			}
			return vec{arr: makeArr(dt, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
		}
	case fk == planner.KindDatetime && tk == planner.KindDate:
		return func(ec *evalCtx, args []vec) (vec, error) {
			buf, out := newI32(ec.alloc, ec.n)
			for i, v := range tsValues(args[0].arr) {
				out[i] = int32(floorDiv(v, 86_400_000_000))
			}
			return vec{arr: makeArr(dt, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
		}
	case (fk == planner.KindDate || fk == planner.KindDatetime) && tk == planner.KindInt:
		return func(ec *evalCtx, args []vec) (vec, error) {
			buf, out := newI64(ec.alloc, ec.n)
			if fk == planner.KindDate {
				for i, v := range date32Values(args[0].arr) {
					out[i], _ = planner.TemporalNumber(int64(v), fk)
				}
			} else {
				for i, v := range tsValues(args[0].arr) {
					out[i], _ = planner.TemporalNumber(v, fk)
				}
			}
			return vec{arr: makeArr(dt, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
		}
	}
	return nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// retype shares a's buffers under another type of the same layout.
func retype(a arrow.Array, dt arrow.DataType) arrow.Array {
	d := a.Data()
	data := array.NewData(dt, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
	out := array.MakeFromData(data)
	data.Release()
	return out
}

func intToDecimal(to planner.Type) kernel {
	dt := to.Arrow()
	return func(ec *evalCtx, args []vec) (vec, error) {
		a := args[0].arr
		buf, out := newD128(ec.alloc, ec.n)
		for i, v := range a.(*array.Int64).Int64Values() {
			r, ok := mulPow10(n64(v), to.Scale)
			if !ok || !inPrec(r, to.Prec) {
				r = maxDec(to.Prec, v < 0)
			}
			out[i] = r
		}
		return vec{arr: makeArr(dt, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
	}
}

// maxDec is the largest DECIMAL of prec digits (negated if neg), where
// MySQL clamps an out-of-range value.
func maxDec(prec int, neg bool) num {
	m, _ := sub128(pow10n[prec], n64(1))
	if neg {
		return m.neg()
	}
	return m
}

func decToDecimal(from, to planner.Type) kernel {
	dt := to.Arrow()
	if from.Scale == to.Scale && to.Prec-to.Scale >= from.Prec-from.Scale {
		// Only the declared precision widens: the values stay as they are.
		return func(ec *evalCtx, args []vec) (vec, error) {
			return vec{arr: retype(args[0].arr, dt)}, nil
		}
	}
	return func(ec *evalCtx, args []vec) (vec, error) {
		a := args[0].arr
		buf, out := newD128(ec.alloc, ec.n)
		for i, v := range decValues(a) {
			var r num
			ok := true
			if to.Scale >= from.Scale {
				r, ok = mulPow10(v, to.Scale-from.Scale)
			} else {
				r = divRound(v, from.Scale-to.Scale)
			}
			if !ok || !inPrec(r, to.Prec) {
				r = maxDec(to.Prec, v.hi < 0)
			}
			out[i] = r
		}
		return vec{arr: makeArr(dt, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
	}
}

// castToString formats each value as CAST(x AS CHAR) does.
func castToString(from planner.Type) kernel {
	var scratch []byte
	return func(ec *evalCtx, args []vec) (vec, error) {
		a := args[0].arr
		o := newStrOut(ec, scratch)
		switch from.Kind {
		case planner.KindBool:
			in := boolOperand(args[0])
			for i := 0; i < ec.n; i++ {
				o.data = append(o.data, '0'+b2u(in.at(i)))
				o.end()
			}
		case planner.KindInt:
			for _, v := range a.(*array.Int64).Int64Values() {
				o.data = strconv.AppendInt(o.data, v, 10)
				o.end()
			}
		case planner.KindUint:
			for _, v := range a.(*array.Uint64).Uint64Values() {
				o.data = strconv.AppendUint(o.data, v, 10)
				o.end()
			}
		case planner.KindFloat:
			for _, v := range a.(*array.Float64).Float64Values() {
				o.data = planner.AppendFloat(o.data, v)
				o.end()
			}
		case planner.KindDecimal:
			for _, v := range decValues(a) {
				o.data = planner.AppendDecimal(o.data, v.dec(), from.Scale)
				o.end()
			}
		case planner.KindDate:
			for _, v := range date32Values(a) {
				o.data = planner.AppendDate(o.data, int64(v))
				o.end()
			}
		case planner.KindDatetime:
			for _, v := range tsValues(a) {
				o.data = planner.AppendDatetime(o.data, v)
				o.end()
			}
		}
		scratch = o.data[:0]
		arr, err := o.finish(ec, andValidity(ec.alloc, ec.n, args))
		return vec{arr: arr}, err
	}
}

// castFromString parses each string; what is not a date becomes NULL.
func castFromString(to planner.Type) kernel {
	dt := to.Arrow()
	return func(ec *evalCtx, args []vec) (vec, error) {
		in := strOperand(args[0])
		valid := newValidBits(ec.alloc, ec.n, args)
		switch to.Kind {
		case planner.KindInt, planner.KindUint, planner.KindDatetime:
			b, out := newI64(ec.alloc, ec.n)
			for i := range out {
				s := bstr(in.at(i))
				switch to.Kind {
				case planner.KindInt:
					out[i], _ = planner.ParseIntPrefix(s)
				case planner.KindUint:
					u, _ := planner.ParseUintPrefix(s)
					out[i] = int64(u)
				default:
					us, _, ok := planner.ParseDatetime(s)
					if !ok && us == 0 {
						valid.setNull(ec.alloc, ec.n, i)
					}
					out[i] = us
				}
			}
			return vec{arr: makeArr(dt, ec.n, valid.buf, b)}, nil
		case planner.KindFloat:
			b, out := newF64(ec.alloc, ec.n)
			for i := range out {
				out[i], _ = planner.ParseFloatPrefix(bstr(in.at(i)))
			}
			return vec{arr: makeArr(dt, ec.n, valid.buf, b)}, nil
		case planner.KindDecimal:
			b, out := newD128(ec.alloc, ec.n)
			for i := range out {
				d, _ := planner.ParseDecimalPrefix(bstr(in.at(i)), to.Prec, to.Scale)
				out[i] = fromDec(d)
			}
			return vec{arr: makeArr(dt, ec.n, valid.buf, b)}, nil
		case planner.KindDate:
			b, out := newI32(ec.alloc, ec.n)
			for i := range out {
				us, _, ok := planner.ParseDatetime(bstr(in.at(i)))
				if !ok && us == 0 {
					valid.setNull(ec.alloc, ec.n, i)
				}
				out[i] = int32(floorDiv(us, 86_400_000_000))
			}
			return vec{arr: makeArr(dt, ec.n, valid.buf, b)}, nil
		case planner.KindBool:
			b, out := newBits(ec.alloc, ec.n)
			for i := 0; i < ec.n; i++ {
				f, _ := planner.ParseFloatPrefix(bstr(in.at(i)))
				bitutil.SetBitTo(out, i, f != 0)
			}
			return vec{arr: makeArr(dt, ec.n, valid.buf, b)}, nil
		}
		valid.release()
		return vec{}, fmt.Errorf("internal: no cast from VARCHAR to %s", to)
	}
}

// slowCast converts row by row through planner.CastValue.
func slowCast(e *planner.Expr, from, to planner.Type, strict bool) kernel {
	return func(ec *evalCtx, args []vec) (vec, error) {
		a := args[0].arr
		w := newValueWriter(ec, to)
		for i := 0; i < ec.n; i++ {
			v := ValueAt(a, i)
			r, ok := castValue(v, from, to, strict)
			if !ok && strict && !v.Null {
				w.release()
				return vec{}, castErr(e, v, from)
			}
			w.set(i, r)
		}
		arr, err := w.finish()
		return vec{arr: arr}, err
	}
}

func castValue(v planner.Value, from, to planner.Type, strict bool) (planner.Value, bool) {
	if strict {
		e := planner.Lit(v, from)
		out, err := planner.CastStrict(e, to)
		if err != nil {
			return planner.Value{Null: true}, false
		}
		return out.Value, true
	}
	return planner.CastValue(v, from, to)
}

// valueWriter fills an array of any type from planner.Values, row by row
// in order: the slow path for rare conversions and functions.
type valueWriter struct {
	ec    *evalCtx
	t     planner.Type
	valid validBits
	buf   interface{ Release() }
	bufm  func() arrow.Array
	set   func(i int, v planner.Value)
	str   *strOut
}

func newValueWriter(ec *evalCtx, t planner.Type) *valueWriter {
	w := &valueWriter{ec: ec, t: t}
	dt := t.Arrow()
	null := func(i int) { w.valid.setNull(ec.alloc, ec.n, i) }
	switch t.Kind {
	case planner.KindBool:
		b, out := newBits(ec.alloc, ec.n)
		w.buf = b
		w.set = func(i int, v planner.Value) {
			if v.Null {
				null(i)
			}
			bitutil.SetBitTo(out, i, v.I != 0)
		}
		w.bufm = func() arrow.Array { return makeArr(dt, ec.n, w.valid.buf, b) }
	case planner.KindInt, planner.KindDatetime:
		b, out := newI64(ec.alloc, ec.n)
		w.buf = b
		w.set = func(i int, v planner.Value) {
			if v.Null {
				null(i)
			}
			out[i] = v.I
		}
		w.bufm = func() arrow.Array { return makeArr(dt, ec.n, w.valid.buf, b) }
	case planner.KindUint:
		b, out := newU64(ec.alloc, ec.n)
		w.buf = b
		w.set = func(i int, v planner.Value) {
			if v.Null {
				null(i)
			}
			out[i] = v.U
		}
		w.bufm = func() arrow.Array { return makeArr(dt, ec.n, w.valid.buf, b) }
	case planner.KindFloat:
		b, out := newF64(ec.alloc, ec.n)
		w.buf = b
		w.set = func(i int, v planner.Value) {
			if v.Null {
				null(i)
			}
			out[i] = v.F
		}
		w.bufm = func() arrow.Array { return makeArr(dt, ec.n, w.valid.buf, b) }
	case planner.KindDecimal:
		b, out := newD128(ec.alloc, ec.n)
		w.buf = b
		w.set = func(i int, v planner.Value) {
			if v.Null {
				null(i)
			}
			out[i] = fromDec(v.Dec())
		}
		w.bufm = func() arrow.Array { return makeArr(dt, ec.n, w.valid.buf, b) }
	case planner.KindDate:
		b, out := newI32(ec.alloc, ec.n)
		w.buf = b
		w.set = func(i int, v planner.Value) {
			if v.Null {
				null(i)
			}
			out[i] = int32(v.I)
		}
		w.bufm = func() arrow.Array { return makeArr(dt, ec.n, w.valid.buf, b) }
	case planner.KindString:
		w.str = newStrOut(ec, nil)
		w.buf = w.str.offBuf
		w.set = func(i int, v planner.Value) {
			if v.Null {
				null(i)
			}
			w.str.data = append(w.str.data, v.S...)
			w.str.end()
		}
	default:
		w.set = func(int, planner.Value) {}
	}
	return w
}

func (w *valueWriter) finish() (arrow.Array, error) {
	if w.str != nil {
		return w.str.finish(w.ec, w.valid.buf)
	}
	if w.bufm == nil {
		w.valid.release()
		return Constant(w.ec.alloc, planner.Value{Null: true}, w.t, w.ec.n), nil
	}
	return w.bufm(), nil
}

func (w *valueWriter) release() {
	w.valid.release()
	if w.buf != nil {
		w.buf.Release()
	}
}
