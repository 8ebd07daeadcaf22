package slt

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// renderColumn writes the rendered values of arr, a column of letter
// ('I', 'R' or 'T'), into vals[(row0+i)*ncols+col]. The value is converted
// by the declared letter, as the original harness does:
//
//   - I: integers as they are; doubles and decimals truncated toward zero
//     (as SQLite's sqlite3_column_int64 does; doubles beyond the int64 range
//     clamp to its ends, NaN is 0); booleans 1/0; text by its leading
//     integer ("12ab" is 12, "ab" is 0, like SQLite's text to integer).
//   - R: the value as a double (decimals parsed from their exact digits, so
//     correctly rounded) printed with "%.3f"; text by its leading number.
//   - T: strings as their bytes, other values as quern prints them; then an
//     empty string is "(empty)" and each byte outside 0x20–0x7E is '@'.
//
// NULL is "NULL" whatever the letter.
func renderColumn(arr arrow.Array, letter byte, vals []string, row0, col, ncols int) {
	n := arr.Len()
	allNull := arr.DataType().ID() == arrow.NULL
	set := func(i int, s string) { vals[(row0+i)*ncols+col] = s }
	for i := 0; i < n; i++ {
		if allNull || arr.IsNull(i) {
			set(i, "NULL")
		}
	}
	if allNull {
		return
	}
	// Typed loops: the type switch runs once per column, not per value.
	switch a := arr.(type) {
	case *array.Int64:
		for i, v := range a.Int64Values() {
			if a.IsValid(i) {
				set(i, renderInt(letter, v))
			}
		}
	case *array.Int32:
		for i, v := range a.Int32Values() {
			if a.IsValid(i) {
				set(i, renderInt(letter, int64(v)))
			}
		}
	case *array.Uint64:
		for i, v := range a.Uint64Values() {
			if a.IsValid(i) {
				switch letter {
				case 'R':
					set(i, strconv.FormatFloat(float64(v), 'f', 3, 64))
				default:
					set(i, textValue(letter, strconv.FormatUint(v, 10)))
				}
			}
		}
	case *array.Float64:
		for i, v := range a.Float64Values() {
			if a.IsValid(i) {
				set(i, renderFloat(letter, v))
			}
		}
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		for i := 0; i < n; i++ {
			if a.IsValid(i) {
				set(i, renderDecimal(letter, a.Value(i), scale))
			}
		}
	case *array.Boolean:
		for i := 0; i < n; i++ {
			if a.IsValid(i) {
				v := int64(0)
				if a.Value(i) {
					v = 1
				}
				set(i, renderInt(letter, v))
			}
		}
	case *array.String:
		for i := 0; i < n; i++ {
			if a.IsValid(i) {
				set(i, renderText(letter, a.Value(i)))
			}
		}
	case *array.LargeString:
		for i := 0; i < n; i++ {
			if a.IsValid(i) {
				set(i, renderText(letter, a.Value(i)))
			}
		}
	case *array.Binary:
		for i := 0; i < n; i++ {
			if a.IsValid(i) {
				set(i, renderText(letter, a.ValueString(i)))
			}
		}
	case *array.Date32:
		for i := 0; i < n; i++ {
			if a.IsValid(i) {
				set(i, renderText(letter, formatDate(int64(a.Value(i)))))
			}
		}
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		for i := 0; i < n; i++ {
			if a.IsValid(i) {
				set(i, renderText(letter, formatTimestamp(int64(a.Value(i)), unit)))
			}
		}
	default:
		for i := 0; i < n; i++ {
			if a.IsValid(i) {
				set(i, renderText(letter, arr.ValueStr(i)))
			}
		}
	}
}

func renderInt(letter byte, v int64) string {
	switch letter {
	case 'R':
		return strconv.FormatFloat(float64(v), 'f', 3, 64)
	default:
		return textValue(letter, strconv.FormatInt(v, 10))
	}
}

func renderFloat(letter byte, v float64) string {
	switch letter {
	case 'I':
		return strconv.FormatInt(truncFloat(v), 10)
	case 'R':
		return strconv.FormatFloat(v, 'f', 3, 64)
	default:
		return textValue(letter, formatFloat(v))
	}
}

// truncFloat converts a double to int64 toward zero, clamping at the ends
// of the range (NaN is 0).
func truncFloat(v float64) int64 {
	switch {
	case math.IsNaN(v):
		return 0
	case v >= math.MaxInt64:
		return math.MaxInt64
	case v <= math.MinInt64:
		return math.MinInt64
	}
	return int64(v)
}

func renderDecimal(letter byte, n decimal128.Num, scale int32) string {
	var digits string // unscaled, with sign
	if hi, lo := n.HighBits(), n.LowBits(); (hi == 0 && lo < 1<<63) || (hi == -1 && lo >= 1<<63) {
		digits = strconv.FormatInt(int64(lo), 10)
	} else {
		digits = n.BigInt().String()
	}
	switch letter {
	case 'I':
		// Integer part, truncated toward zero.
		return integerPart(digits, scale)
	case 'R':
		f, _ := strconv.ParseFloat(scaled(digits, scale), 64)
		return strconv.FormatFloat(f, 'f', 3, 64)
	default:
		return textValue(letter, scaled(digits, scale))
	}
}

// scaled places the decimal point scale digits from the right of the
// unscaled integer digits.
func scaled(digits string, scale int32) string {
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	var s string
	switch {
	case scale <= 0:
		s = digits
		if digits != "0" {
			s += strings.Repeat("0", int(-scale))
		}
	case len(digits) <= int(scale):
		s = "0." + strings.Repeat("0", int(scale)-len(digits)) + digits
	default:
		s = digits[:len(digits)-int(scale)] + "." + digits[len(digits)-int(scale):]
	}
	if neg {
		return "-" + s
	}
	return s
}

func integerPart(digits string, scale int32) string {
	if scale <= 0 {
		return scaled(digits, scale)
	}
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	if len(digits) <= int(scale) {
		return "0"
	}
	s := digits[:len(digits)-int(scale)]
	if neg {
		return "-" + s
	}
	return s
}

// renderText converts a text value by the letter.
func renderText(letter byte, s string) string {
	switch letter {
	case 'I':
		return leadingInt(s)
	case 'R':
		return strconv.FormatFloat(leadingFloat(s), 'f', 3, 64)
	default:
		return textValue(letter, s)
	}
}

// textValue applies the T rules; for I and R it returns s unchanged.
func textValue(letter byte, s string) string {
	if letter != 'T' {
		return s
	}
	if s == "" {
		return "(empty)"
	}
	for k := 0; k < len(s); k++ {
		if s[k] < 0x20 || s[k] > 0x7e {
			b := []byte(s)
			for j := k; j < len(b); j++ {
				if b[j] < 0x20 || b[j] > 0x7e {
					b[j] = '@'
				}
			}
			return string(b)
		}
	}
	return s
}

// numberPrefix returns the longest prefix of s (after leading white space)
// that reads as a number: sign, digits, and with float also a fraction and
// an exponent.
func numberPrefix(s string, float bool) string {
	s = strings.TrimLeft(s, " \t\n\r\f\v")
	k := 0
	if k < len(s) && (s[k] == '+' || s[k] == '-') {
		k++
	}
	digits := func() int {
		start := k
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		return k - start
	}
	n := digits()
	if float {
		if k < len(s) && s[k] == '.' {
			k++
			n += digits()
		}
		if n > 0 && k < len(s) && (s[k] == 'e' || s[k] == 'E') {
			save := k
			k++
			if k < len(s) && (s[k] == '+' || s[k] == '-') {
				k++
			}
			if digits() == 0 {
				k = save
			}
		}
	}
	if n == 0 {
		return ""
	}
	return s[:k]
}

func leadingInt(s string) string {
	p := numberPrefix(s, false)
	if p == "" {
		return "0"
	}
	if v, err := strconv.ParseInt(p, 10, 64); err == nil {
		return strconv.FormatInt(v, 10)
	}
	// Beyond int64: clamp as SQLite does.
	if strings.HasPrefix(p, "-") {
		return strconv.FormatInt(math.MinInt64, 10)
	}
	return strconv.FormatInt(math.MaxInt64, 10)
}

func leadingFloat(s string) float64 {
	v, _ := strconv.ParseFloat(numberPrefix(s, true), 64)
	return v
}

// formatFloat, formatDate and formatTimestamp print values under T as
// repl.FormatValue does (this package may not import repl).
func formatFloat(v float64) string {
	if v == 0 {
		return "0"
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	e := strconv.FormatFloat(v, 'e', -1, 64)
	at := strings.LastIndexByte(e, 'e')
	exp, _ := strconv.Atoi(e[at+1:])
	if exp >= -15 && exp < 15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return e[:at] + "e" + strconv.Itoa(exp)
}

func formatDate(days int64) string {
	return time.Unix(days*86400, 0).UTC().Format("2006-01-02")
}

func formatTimestamp(v int64, unit arrow.TimeUnit) string {
	t := arrow.Timestamp(v).ToTime(unit)
	s := t.Format("2006-01-02 15:04:05")
	if ns := t.Nanosecond(); ns != 0 {
		switch unit {
		case arrow.Millisecond:
			s += t.Format(".000")
		case arrow.Microsecond:
			s += t.Format(".000000")
		default:
			s += t.Format(".000000000")
		}
	}
	return s
}
