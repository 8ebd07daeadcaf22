package csvscan

import (
	"math"
	"strconv"
	"unsafe"
)

// The value parsers below are shared by Sniff and the Reader, so a value that
// made the sampler pick a type is read by the scan exactly the same way. They
// take byte slices straight out of the read buffer and never allocate: a
// per-value allocation would dominate a scan of hundreds of MB.

// parseInt reads an optionally signed run of ASCII digits into an int64.
// Anything else (spaces, a decimal point, overflow) is rejected.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	if len(b) <= 18 {
		// 18 digits cannot overflow an int64, so the loop needs no checks.
		var v int64
		for _, c := range b {
			d := c - '0'
			if d > 9 {
				return 0, false
			}
			v = v*10 + int64(d)
		}
		if neg {
			v = -v
		}
		return v, true
	}
	var u uint64
	for _, c := range b {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(d)
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return int64(-u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat reads a decimal number: [+-] digits [. digits] [e|E [+-] digits],
// where either side of the point may be empty but not both. No inf, nan, hex
// or underscores: those would make a column of numbers silently accept text.
//
// The fast path is Clinger's: when the digits fit in 53 bits and the decimal
// exponent is within ±22, both the mantissa and the power of ten are exact
// float64 values, so one IEEE multiplication or division yields the correctly
// rounded result. Every other well-formed value goes to strconv.ParseFloat
// through a string view of the bytes, which does not allocate.
func parseFloat(b []byte) (float64, bool) {
	i := 0
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i = 1
	}
	var mant uint64
	digits := 0  // significant digits folded into mant
	dropped := 0 // significant digits that did not fit in mant
	exp := 0
	sawDigit := false
	for ; i < len(b); i++ {
		d := b[i] - '0'
		if d > 9 {
			break
		}
		sawDigit = true
		if digits < 19 {
			mant = mant*10 + uint64(d)
			if mant != 0 {
				digits++
			}
		} else {
			dropped++
			exp++
		}
	}
	if i < len(b) && b[i] == '.' {
		i++
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			sawDigit = true
			if digits < 19 {
				mant = mant*10 + uint64(d)
				if mant != 0 {
					digits++
				}
				exp--
			} else {
				dropped++
			}
		}
	}
	if !sawDigit {
		return 0, false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '-' || b[i] == '+') {
			eneg = b[i] == '-'
			i++
		}
		if i == len(b) {
			return 0, false
		}
		e := 0
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				return 0, false
			}
			if e < 100000 {
				e = e*10 + int(d)
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(b) {
		return 0, false
	}
	if mant == 0 && dropped == 0 {
		if neg {
			return math.Copysign(0, -1), true
		}
		return 0, true
	}
	if dropped == 0 && mant <= 1<<53 && exp >= -22 && exp <= 22 {
		f := float64(mant)
		if exp < 0 {
			f /= pow10[-exp]
		} else {
			f *= pow10[exp]
		}
		if neg {
			f = -f
		}
		return f, true
	}
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	if err != nil {
		// Only a range error can get here: the syntax was checked above.
		return 0, false
	}
	return f, true
}

// parseBool accepts true and false in any letter case.
func parseBool(b []byte) (v, ok bool) {
	switch len(b) {
	case 4:
		return true, b[0]|0x20 == 't' && b[1]|0x20 == 'r' && b[2]|0x20 == 'u' && b[3]|0x20 == 'e'
	case 5:
		return false, b[0]|0x20 == 'f' && b[1]|0x20 == 'a' && b[2]|0x20 == 'l' && b[3]|0x20 == 's' && b[4]|0x20 == 'e'
	}
	return false, false
}

// parseDate reads YYYY-MM-DD (exactly that shape, a real calendar day in the
// proleptic Gregorian calendar) as days since 1970-01-01.
func parseDate(b []byte) (int32, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return 0, false
	}
	var n [8]int
	for k, i := range [8]int{0, 1, 2, 3, 5, 6, 8, 9} {
		d := b[i] - '0'
		if d > 9 {
			return 0, false
		}
		n[k] = int(d)
	}
	y := n[0]*1000 + n[1]*100 + n[2]*10 + n[3]
	m := n[4]*10 + n[5]
	d := n[6]*10 + n[7]
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return civilDays(y, m, d), true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// civilDays counts days from 1970-01-01 to y-m-d. It treats March as the
// first month of a shifted year, so the leap day falls at the end of that year
// and the day of the year follows from a linear formula; whole 400-year eras
// have a fixed length of 146097 days. Years here are 0..9999, so the shifted
// year is never below -1 and the era arithmetic needs no negative rounding.
func civilDays(y, m, d int) int32 {
	if m <= 2 {
		y--
	}
	era := (y + 400) / 400 // shifted by one era to stay non-negative
	yoe := y + 400 - era*400
	mp := (m + 9) % 12 // March = 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32((era-1)*146097 + doe - 719468)
}
