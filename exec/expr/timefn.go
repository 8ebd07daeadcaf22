package expr

import (
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

var timeBuilders = map[string]builder{
	"year": buildDatePart, "month": buildDatePart, "day": buildDatePart, "dayofweek": buildDatePart,
	"weekday": buildDatePart, "dayofyear": buildDatePart, "quarter": buildDatePart,
	"hour": buildDatePart, "minute": buildDatePart, "second": buildDatePart, "microsecond": buildDatePart,
	"datediff": buildDateDiff, "date_add": buildDateAdd, "date_sub": buildDateAdd,
	"date_format": buildDateFormat, "extract": buildExtract, "str_to_date": buildStrToDate,
}

const usPerDay = 86_400_000_000

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// temporalIn reads DATE (days) or DATETIME (microseconds) values as days
// and microseconds of the day.
type temporalIn struct {
	days  []int32
	ts    []int64
	mask  int
	isDay bool
}

func temporalOperand(v vec, k planner.Kind) temporalIn {
	if k == planner.KindDate {
		d, m := date32Op(v)
		return temporalIn{days: d, mask: m, isDay: true}
	}
	t, m := tsOp(v)
	return temporalIn{ts: t, mask: m}
}

func (t *temporalIn) at(i int) (days, tod int64) {
	if t.isDay {
		return int64(t.days[i&t.mask]), 0
	}
	us := t.ts[i&t.mask]
	days = floorDiv(us, usPerDay)
	return days, us - days*usPerDay
}

func datePart(part string, days, tod int64) int64 {
	switch part {
	case "hour":
		return tod / 3_600_000_000
	case "minute":
		return tod / 60_000_000 % 60
	case "second":
		return tod / 1_000_000 % 60
	case "microsecond":
		return tod % 1_000_000
	case "dayofweek": // 1 = Sunday; 1970-01-01 was a Thursday
		return floorMod(days+4, 7) + 1
	case "weekday": // 0 = Monday
		return floorMod(days+3, 7)
	}
	y, m, d := planner.CivilFromDays(days)
	switch part {
	case "year":
		return int64(y)
	case "month":
		return int64(m)
	case "day":
		return int64(d)
	case "quarter":
		return int64((m + 2) / 3)
	}
	return days - planner.DayNumber(y, 1, 1) + 1 // dayofyear
}

func buildDatePart(e *planner.Expr) (kernel, bool, error) {
	part, k := e.Name, e.Args[0].Type.Kind
	return func(ec *evalCtx, args []vec) (vec, error) {
		in := temporalOperand(args[0], k)
		buf, out := newI64(ec.alloc, ec.n)
		for i := range out {
			days, tod := in.at(i)
			out[i] = datePart(part, days, tod)
		}
		return vec{arr: makeArr(arrow.PrimitiveTypes.Int64, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
	}, true, nil
}

func buildDateDiff(*planner.Expr) (kernel, bool, error) {
	return func(ec *evalCtx, args []vec) (vec, error) {
		a, ma := date32Op(args[0])
		b, mb := date32Op(args[1])
		buf, out := newI64(ec.alloc, ec.n)
		for i := range out {
			out[i] = int64(a[i&ma]) - int64(b[i&mb])
		}
		return vec{arr: makeArr(arrow.PrimitiveTypes.Int64, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
	}, true, nil
}

var unitMicros = map[string]int64{
	"microsecond": 1, "second": 1_000_000, "minute": 60_000_000, "hour": 3_600_000_000,
	"day": usPerDay, "week": 7 * usPerDay,
}

var unitMonths = map[string]int64{"month": 1, "quarter": 3, "year": 12}

// minDay and maxDay bound the dates MySQL produces (0000-01-01 to
// 9999-12-31); date arithmetic outside them is NULL.
var minDay, maxDay = planner.DayNumber(0, 1, 1), planner.DayNumber(9999, 12, 31)

// addMonths adds n months to a day number, keeping the day of the month
// unless the new month is shorter.
func addMonths(days, n int64) (int64, bool) {
	y, m, d := planner.CivilFromDays(days)
	total := int64(y)*12 + int64(m-1) + n
	if total < 0 || total > 9999*12+11 {
		return 0, false
	}
	ny, nm := int(total/12), int(total%12)+1
	return planner.DayNumber(ny, nm, min(d, planner.DaysInMonth(ny, nm))), true
}

// buildDateAdd: DATE_ADD / DATE_SUB(d, n, unit). A DATE stays a DATE for
// day-or-longer units; the planner made d a DATETIME otherwise.
func buildDateAdd(e *planner.Expr) (kernel, bool, error) {
	unit := e.Args[2].Value.S
	sub := e.Name == "date_sub"
	isDate := e.Args[0].Type.Kind == planner.KindDate
	months, byMonth := unitMonths[unit]
	micros := unitMicros[unit]
	if !byMonth && micros == 0 {
		return nil, false, fmt.Errorf("not supported: INTERVAL unit %s", unit)
	}
	dt := e.Type.Arrow()
	return func(ec *evalCtx, args []vec) (vec, error) {
		in := temporalOperand(args[0], e.Args[0].Type.Kind)
		cnt, mc := i64Op(args[1])
		valid := newValidBits(ec.alloc, ec.n, args[:2])
		var di []int32
		var ti []int64
		var buf *memory.Buffer
		if isDate {
			buf, di = newI32(ec.alloc, ec.n)
		} else {
			buf, ti = newI64(ec.alloc, ec.n)
		}
		for i := 0; i < ec.n; i++ {
			n := cnt[i&mc]
			if sub {
				if n == math.MinInt64 {
					valid.setNull(ec.alloc, ec.n, i)
					continue
				}
				n = -n
			}
			days, tod := in.at(i)
			ok := true
			if byMonth {
				if n > math.MaxInt64/12 || n < math.MinInt64/12 {
					ok = false
				} else {
					days, ok = addMonths(days, n*months)
				}
			} else {
				var q, r int64 // whole days and the rest in units
				if micros >= usPerDay {
					q = n * (micros / usPerDay)
					ok = n > -1e9 && n < 1e9
				} else {
					per := usPerDay / micros
					q, r = n/per, n%per
				}
				days += q
				tod += r * micros
				days += floorDiv(tod, usPerDay)
				tod = floorMod(tod, usPerDay)
				ok = ok && q > -1e9 && q < 1e9
			}
			if !ok || days < minDay || days > maxDay {
				valid.setNull(ec.alloc, ec.n, i)
				continue
			}
			if isDate {
				di[i] = int32(days)
			} else {
				ti[i] = days*usPerDay + tod
			}
		}
		return vec{arr: makeArr(dt, ec.n, valid.buf, buf)}, nil
	}, true, nil
}

// --- DATE_FORMAT ---

var monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"}
var dayNames = [...]string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}

func appendPad(dst []byte, v int64, width int) []byte {
	var b [20]byte
	s := strconv.AppendInt(b[:0], v, 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}

// appendDateFormat formats one value with MySQL's DATE_FORMAT specifiers.
func appendDateFormat(dst []byte, f []byte, days, tod int64) []byte {
	y, m, d := planner.CivilFromDays(days)
	h := tod / 3_600_000_000
	mi := tod / 60_000_000 % 60
	s := tod / 1_000_000 % 60
	h12 := (h+11)%12 + 1
	wd := floorMod(days+3, 7) // 0 = Monday
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' || i+1 == len(f) {
			dst = append(dst, c)
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			dst = appendPad(dst, int64(y), 4)
		case 'y':
			dst = appendPad(dst, int64(y%100), 2)
		case 'm':
			dst = appendPad(dst, int64(m), 2)
		case 'c':
			dst = strconv.AppendInt(dst, int64(m), 10)
		case 'M':
			dst = append(dst, monthNames[m-1]...)
		case 'b':
			dst = append(dst, monthNames[m-1][:3]...)
		case 'd':
			dst = appendPad(dst, int64(d), 2)
		case 'e':
			dst = strconv.AppendInt(dst, int64(d), 10)
		case 'D':
			dst = strconv.AppendInt(dst, int64(d), 10)
			switch {
			case d >= 11 && d <= 13:
				dst = append(dst, "th"...)
			case d%10 == 1:
				dst = append(dst, "st"...)
			case d%10 == 2:
				dst = append(dst, "nd"...)
			case d%10 == 3:
				dst = append(dst, "rd"...)
			default:
				dst = append(dst, "th"...)
			}
		case 'j':
			dst = appendPad(dst, days-planner.DayNumber(y, 1, 1)+1, 3)
		case 'H':
			dst = appendPad(dst, h, 2)
		case 'k':
			dst = strconv.AppendInt(dst, h, 10)
		case 'h', 'I':
			dst = appendPad(dst, h12, 2)
		case 'l':
			dst = strconv.AppendInt(dst, h12, 10)
		case 'i':
			dst = appendPad(dst, mi, 2)
		case 'S', 's':
			dst = appendPad(dst, s, 2)
		case 'f':
			dst = appendPad(dst, tod%1_000_000, 6)
		case 'p':
			if h < 12 {
				dst = append(dst, "AM"...)
			} else {
				dst = append(dst, "PM"...)
			}
		case 'r':
			dst = appendPad(dst, h12, 2)
			dst = appendPad(append(dst, ':'), mi, 2)
			dst = appendPad(append(dst, ':'), s, 2)
			if h < 12 {
				dst = append(dst, " AM"...)
			} else {
				dst = append(dst, " PM"...)
			}
		case 'T':
			dst = appendPad(dst, h, 2)
			dst = appendPad(append(dst, ':'), mi, 2)
			dst = appendPad(append(dst, ':'), s, 2)
		case 'W':
			dst = append(dst, dayNames[wd]...)
		case 'a':
			dst = append(dst, dayNames[wd][:3]...)
		case 'w':
			dst = strconv.AppendInt(dst, (wd+1)%7, 10)
		case 'U', 'u', 'V', 'v':
			w, _ := calcWeek(days, weekSpecifier[f[i]])
			dst = appendPad(dst, int64(w), 2)
		case 'X', 'x':
			_, wy := calcWeek(days, weekSpecifier[f[i]])
			dst = appendPad(dst, int64(wy), 4)
		default: // %% and unknown letters print the letter
			dst = append(dst, f[i])
		}
	}
	return dst
}

// weekSpecifier maps DATE_FORMAT's week specifiers to calcWeek behaviours.
var weekSpecifier = map[byte]int{
	'U': weekFirstWeekday, 'u': weekMondayFirst,
	'V': weekYear | weekFirstWeekday, 'v': weekYear | weekMondayFirst,
	'X': weekYear | weekFirstWeekday, 'x': weekYear | weekMondayFirst,
}

func buildDateFormat(e *planner.Expr) (kernel, bool, error) {
	k := e.Args[0].Type.Kind
	var scratch []byte
	return func(ec *evalCtx, args []vec) (vec, error) {
		in := temporalOperand(args[0], k)
		fs := strOperand(args[1])
		return strRows(ec, args, &scratch, func(i int, o *strOut, _ *validBits) {
			days, tod := in.at(i)
			o.data = appendDateFormat(o.data, fs.at(i), days, tod)
		})
	}, true, nil
}
