package agg

import (
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/quernsql/quern/planner"
)

// addChecked adds two 128-bit decimals and reports whether the sum fits in
// 128 bits (two's complement overflow flips the sign of same-signed operands).
func addChecked(a, b decimal128.Num) (decimal128.Num, bool) {
	r := a.Add(b)
	as, bs, rs := a.HighBits() < 0, b.HighBits() < 0, r.HighBits() < 0
	return r, as != bs || rs == as
}

// pow10 holds 10^0 … 10^19, the powers that fit in a uint64.
var pow10 = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// divRound returns sum·10^shift / count rounded half away from zero, the
// value of an exact AVG with shift more digits of scale than its sum. The
// product is formed in 192 bits so that no intermediate overflows; ok is
// false when the quotient does not fit in 38 digits.
func divRound(sum decimal128.Num, shift int, count uint64) (q decimal128.Num, ok bool) {
	neg := sum.Sign() < 0
	m := sum
	if neg {
		m = sum.Negate()
	}
	w := [3]uint64{m.LowBits(), uint64(m.HighBits()), 0}
	for shift > 0 {
		step := min(shift, 19)
		if !mul192(&w, pow10[step]) {
			return q, false
		}
		shift -= step
	}
	var r uint64
	for i := 2; i >= 0; i-- {
		w[i], r = bits.Div64(r, w[i], count)
	}
	if r >= count-r {
		var c uint64
		w[0], c = bits.Add64(w[0], 1, 0)
		w[1], c = bits.Add64(w[1], 0, c)
		w[2] += c
	}
	if w[2] != 0 || w[1]>>63 != 0 {
		return q, false
	}
	q = decimal128.New(int64(w[1]), w[0])
	if !q.FitsInPrecision(planner.MaxDecimalPrecision) {
		return q, false
	}
	if neg {
		q = q.Negate()
	}
	return q, true
}

// mul192 multiplies w by m in place and reports whether it still fits.
func mul192(w *[3]uint64, m uint64) bool {
	h0, l0 := bits.Mul64(w[0], m)
	h1, l1 := bits.Mul64(w[1], m)
	h2, l2 := bits.Mul64(w[2], m)
	var c uint64
	w[0] = l0
	w[1], c = bits.Add64(l1, h0, 0)
	w[2], c = bits.Add64(l2, h1, c)
	return h2 == 0 && c == 0
}
