package expr

import (
	"math/big"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// num is a signed 128-bit integer laid out like decimal128.Num (low word
// first), so Arrow's decimal buffers are read and written in place. Its
// operations report overflow instead of wrapping, and take a fast path when
// both operands fit in 64 bits.
type num struct {
	lo uint64
	hi int64
}

func init() {
	if unsafe.Sizeof(num{}) != unsafe.Sizeof(decimal128.Num{}) {
		panic("internal: decimal128.Num layout changed")
	}
}

func castNums(b []byte) []num {
	if len(b) < 16 {
		return nil
	}
	return unsafe.Slice((*num)(unsafe.Pointer(&b[0])), len(b)/16)
}

func decValues(a arrow.Array) []num {
	v := a.(*array.Decimal128).Values()
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*num)(unsafe.Pointer(&v[0])), len(v))
}

func fromDec(d decimal128.Num) num { return num{lo: d.LowBits(), hi: d.HighBits()} }

func (n num) dec() decimal128.Num { return decimal128.New(n.hi, n.lo) }

func n64(i int64) num { return num{lo: uint64(i), hi: i >> 63} }

// fits64 reports whether n is an int64.
func (n num) fits64() bool { return n.hi == int64(n.lo)>>63 }

func (n num) neg() num {
	lo, b := bits.Sub64(0, n.lo, 0)
	hi, _ := bits.Sub64(0, uint64(n.hi), b)
	return num{lo: lo, hi: int64(hi)}
}

func (n num) sign() int {
	switch {
	case n.hi < 0:
		return -1
	case n.hi == 0 && n.lo == 0:
		return 0
	}
	return 1
}

// abs returns the magnitude as an unsigned 128-bit value.
func (n num) abs() (hi, lo uint64, negative bool) {
	if n.hi < 0 {
		m := n.neg()
		return uint64(m.hi), m.lo, true
	}
	return uint64(n.hi), n.lo, false
}

func fromMag(hi, lo uint64, negative bool) (num, bool) {
	if hi>>63 != 0 {
		return num{}, false
	}
	r := num{lo: lo, hi: int64(hi)}
	if negative {
		r = r.neg()
	}
	return r, true
}

func add128(a, b num) (num, bool) {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi, _ := bits.Add64(uint64(a.hi), uint64(b.hi), c)
	r := num{lo: lo, hi: int64(hi)}
	return r, ((a.hi ^ r.hi) & (b.hi ^ r.hi)) >= 0
}

func sub128(a, b num) (num, bool) {
	lo, c := bits.Sub64(a.lo, b.lo, 0)
	hi, _ := bits.Sub64(uint64(a.hi), uint64(b.hi), c)
	r := num{lo: lo, hi: int64(hi)}
	return r, ((a.hi ^ b.hi) & (a.hi ^ r.hi)) >= 0
}

func mul128(a, b num) (num, bool) {
	if a.fits64() && b.fits64() {
		x, y := int64(a.lo), int64(b.lo)
		hi, lo := bits.Mul64(uint64(x), uint64(y))
		// Signed correction of the unsigned product's high word.
		hi -= uint64((x >> 63) & y)
		hi -= uint64((y >> 63) & x)
		return num{lo: lo, hi: int64(hi)}, true
	}
	ahi, alo, an := a.abs()
	bhi, blo, bn := b.abs()
	if ahi != 0 && bhi != 0 {
		return num{}, false
	}
	if ahi != 0 {
		ahi, alo, bhi, blo = bhi, blo, ahi, alo
	}
	h1, l1 := bits.Mul64(alo, blo)
	h2, l2 := bits.Mul64(alo, bhi)
	if h2 != 0 {
		return num{}, false
	}
	hi, c := bits.Add64(h1, l2, 0)
	if c != 0 {
		return num{}, false
	}
	return fromMag(hi, l1, an != bn)
}

func cmp128(a, b num) int {
	switch {
	case a.hi < b.hi:
		return -1
	case a.hi > b.hi:
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

func less128(a, b num) bool { return a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo) }

// pow10n[i] is 10^i.
var pow10n = func() (t [39]num) {
	for i := range t {
		t[i] = fromDec(decimal128.GetScaleMultiplier(i))
	}
	return t
}()

var pow10u = func() (t [20]uint64) {
	t[0] = 1
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * 10
	}
	return t
}()

// inPrec reports whether |n| < 10^p.
func inPrec(n num, p int) bool {
	hi, lo, _ := n.abs()
	lim := pow10n[p]
	return hi < uint64(lim.hi) || (hi == uint64(lim.hi) && lo < lim.lo)
}

// mulPow10 returns n·10^k.
func mulPow10(n num, k int) (num, bool) {
	if k == 0 {
		return n, true
	}
	if k > 38 {
		return num{}, n.sign() == 0
	}
	return mul128(n, pow10n[k])
}

// divRound returns n / 10^k rounded half away from zero.
func divRound(n num, k int) num {
	if k == 0 {
		return n
	}
	hi, lo, neg := n.abs()
	if k > 38 {
		return num{}
	}
	if k <= 19 {
		d := pow10u[k]
		qhi, qlo, r := divU128(hi, lo, d)
		if r >= d-r {
			var c uint64
			qlo, c = bits.Add64(qlo, 1, 0)
			qhi += c
		}
		q, _ := fromMag(qhi, qlo, neg)
		return q
	}
	b := bigOf(n)
	return bigToNum(roundQuo(b, big.NewInt(0).Exp(big.NewInt(10), big.NewInt(int64(k)), nil)))
}

// divU128 divides the unsigned (hi, lo) by d.
func divU128(hi, lo, d uint64) (qhi, qlo, r uint64) {
	qhi, r = hi/d, hi%d
	qlo, r = bits.Div64(r, lo, d)
	return qhi, qlo, r
}

func bigOf(n num) *big.Int { return n.dec().BigInt() }

// bigToNum converts b, which must fit in 128 bits (callers check the
// precision first with bigFits).
func bigToNum(b *big.Int) num { return fromDec(decimal128.FromBigInt(b)) }

var bigLimit = new(big.Int).Lsh(big.NewInt(1), 127)

func bigFits(b *big.Int) bool { return b.CmpAbs(bigLimit) < 0 }

// roundQuo returns a/b rounded half away from zero.
func roundQuo(a, b *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(a, b, new(big.Int))
	r.Abs(r).Lsh(r, 1)
	if r.CmpAbs(b) >= 0 {
		if (a.Sign() < 0) != (b.Sign() < 0) {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

func pow10Big(k int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil) }
