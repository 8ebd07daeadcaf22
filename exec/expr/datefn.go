package expr

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quernsql/quern/planner"
)

// EXTRACT, STR_TO_DATE and MySQL's week numbering (DATE_FORMAT's %U %u %V
// %v %X %x, EXTRACT(WEEK …)).

// extractPart is EXTRACT(unit FROM d) of one value. Composite units glue
// their fields together as decimal digits (DAY_MINUTE of the 2nd at 01:02
// is 20102).
func extractPart(unit string, days, tod int64) int64 {
	h := tod / 3_600_000_000
	mi := tod / 60_000_000 % 60
	s := tod / 1_000_000 % 60
	us := tod % 1_000_000
	switch unit {
	case "week":
		w, _ := calcWeek(days, weekFirstWeekday) // default_week_format 0
		return int64(w)
	case "year_month":
		y, m, _ := planner.CivilFromDays(days)
		return int64(y)*100 + int64(m)
	case "day_hour", "day_minute", "day_second", "day_microsecond":
		_, _, d := planner.CivilFromDays(days)
		v := int64(d)*100 + h
		switch unit {
		case "day_hour":
			return v
		case "day_minute":
			return v*100 + mi
		case "day_second":
			return (v*100+mi)*100 + s
		}
		return ((v*100+mi)*100+s)*1_000_000 + us
	case "hour_minute":
		return h*100 + mi
	case "hour_second":
		return (h*100+mi)*100 + s
	case "hour_microsecond":
		return ((h*100+mi)*100+s)*1_000_000 + us
	case "minute_second":
		return mi*100 + s
	case "minute_microsecond":
		return (mi*100+s)*1_000_000 + us
	case "second_microsecond":
		return s*1_000_000 + us
	}
	return datePart(unit, days, tod) // year, quarter, month, day, hour, minute, second, microsecond
}

func buildExtract(e *planner.Expr) (kernel, bool, error) {
	unit, k := e.Args[1].Value.S, e.Args[0].Type.Kind
	return func(ec *evalCtx, args []vec) (vec, error) {
		in := temporalOperand(args[0], k)
		buf, out := newI64(ec.alloc, ec.n)
		for i := range out {
			days, tod := in.at(i)
			out[i] = extractPart(unit, days, tod)
		}
		return vec{arr: makeArr(arrow.PrimitiveTypes.Int64, ec.n, andValidity(ec.alloc, ec.n, args[:1]), buf)}, nil
	}, true, nil
}

// Week behaviour flags of MySQL's calc_week.
const (
	weekMondayFirst  = 1 // weeks start on Monday (else Sunday)
	weekYear         = 2 // a week in the previous/next year keeps that year's number
	weekFirstWeekday = 4 // week 1 is the first containing the first weekday (else: with 4+ days)
)

func daysInYear(y int) int64 {
	if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
		return 366
	}
	return 365
}

// calcWeek numbers the week of a day as MySQL's calc_week does, returning
// the week and the year it belongs to.
func calcWeek(days int64, behaviour int) (week, year int) {
	y, m, d := planner.CivilFromDays(days)
	first := planner.DayNumber(y, 1, 1)
	mondayFirst := behaviour&weekMondayFirst != 0
	inYear := behaviour&weekYear != 0
	firstWeekday := behaviour&weekFirstWeekday != 0
	var weekday int64 // of January 1st: 0 is the first day of the week
	if mondayFirst {
		weekday = floorMod(first+3, 7)
	} else {
		weekday = floorMod(first+4, 7)
	}
	year = y
	if m == 1 && int64(d) <= 7-weekday {
		if !inYear && ((firstWeekday && weekday != 0) || (!firstWeekday && weekday >= 4)) {
			return 0, year
		}
		inYear = true
		year--
		n := daysInYear(year)
		first -= n
		weekday = (weekday + 53*7 - n) % 7
	}
	var dd int64
	if (firstWeekday && weekday != 0) || (!firstWeekday && weekday >= 4) {
		dd = days - (first + 7 - weekday)
	} else {
		dd = days - (first - weekday)
	}
	if inYear && dd >= 52*7 {
		weekday = (weekday + daysInYear(year)) % 7
		if (!firstWeekday && weekday < 4) || (firstWeekday && weekday == 0) {
			return 1, year + 1
		}
	}
	return int(dd/7 + 1), year
}

// --- STR_TO_DATE ---

// checkStrToDateFormat rejects the week-number specifiers, which quern
// does not parse.
func checkStrToDateFormat(f []byte) error {
	for i := 0; i+1 < len(f); i++ {
		if f[i] == '%' {
			switch f[i+1] {
			case 'U', 'u', 'V', 'v', 'X', 'x':
				return fmt.Errorf("not supported: STR_TO_DATE specifier %%%c", f[i+1])
			}
			i++
		}
	}
	return nil
}

func buildStrToDate(e *planner.Expr) (kernel, bool, error) {
	if f := e.Args[1]; f.Kind == planner.ExprLiteral {
		if err := checkStrToDateFormat([]byte(f.Value.S)); err != nil {
			return nil, false, err
		}
	}
	isDate := e.Type.Kind == planner.KindDate
	dt := e.Type.Arrow()
	return func(ec *evalCtx, args []vec) (vec, error) {
		ss, fs := strOperand(args[0]), strOperand(args[1])
		valid := newValidBits(ec.alloc, ec.n, args)
		var di []int32
		var ti []int64
		var buf *memory.Buffer
		if isDate {
			buf, di = newI32(ec.alloc, ec.n)
		} else {
			buf, ti = newI64(ec.alloc, ec.n)
		}
		for i := 0; i < ec.n; i++ {
			if !valid.valid(i) {
				continue
			}
			f := fs.at(i)
			if !fs.isConst {
				if err := checkStrToDateFormat(f); err != nil {
					valid.release()
					buf.Release()
					return vec{}, err
				}
			}
			var p dateParts
			if !p.parse(ss.at(i), f) {
				valid.setNull(ec.alloc, ec.n, i)
				continue
			}
			days, tod, ok := p.value()
			if !ok {
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

// dateParts collects the fields STR_TO_DATE reads.
type dateParts struct {
	year, month, day, hour, minute, second, micros, yearday int64
	usa                                                     bool // %h %I %l: a 12-hour clock
	pm                                                      int64
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func isAlphaByte(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// readInt reads an optionally signed integer from s[i:limit]; ok is false
// when there is no digit.
func readInt(s []byte, i, limit int) (v int64, next int, ok bool) {
	limit = min(limit, len(s))
	neg := false
	if i < limit && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for i < limit && s[i] >= '0' && s[i] <= '9' {
		v = v*10 + int64(s[i]-'0')
		i++
	}
	if i == start {
		return 0, i, false
	}
	if neg {
		v = -v
	}
	return v, i, true
}

// readName matches the letters at s[i:] against names (case-insensitive):
// the whole name, or a prefix of exactly one of them. It returns the
// 1-based index.
func readName(s []byte, i int, names []string) (idx int, next int) {
	j := i
	for j < len(s) && isAlphaByte(s[j]) {
		j++
	}
	w := s[i:j]
	if len(w) == 0 {
		return 0, i
	}
	found := 0
	for k, n := range names {
		if len(w) > len(n) {
			continue
		}
		match := true
		for p := range w {
			if lowerASCII(w[p]) != lowerASCII(n[p]) {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		if len(w) == len(n) {
			return k + 1, j
		}
		if found != 0 {
			return 0, i // ambiguous prefix
		}
		found = k + 1
	}
	return found, j
}

var abMonthNames = func() []string {
	out := make([]string, len(monthNames))
	for i, m := range monthNames {
		out[i] = m[:3]
	}
	return out
}()

var abDayNames = func() []string {
	out := make([]string, len(dayNames))
	for i, d := range dayNames {
		out[i] = d[:3]
	}
	return out
}()

// parse reads s by format f as MySQL's extract_date_time does: white space
// is skipped before every format element, literal characters must match,
// and reading stops (successfully) when s runs out; trailing text in s is
// ignored.
func (p *dateParts) parse(s, f []byte) bool {
	_, ok := p.scan(s, f)
	return ok && p.clock()
}

// scan is parse without the 12-hour clock adjustment; it returns how many
// bytes of s it read.
func (p *dateParts) scan(s, f []byte) (int, bool) {
	i := 0
	for k := 0; k < len(f) && i < len(s); k++ {
		for i < len(s) && isSpaceByte(s[i]) {
			i++
		}
		if i >= len(s) {
			break
		}
		c := f[k]
		if c != '%' || k+1 == len(f) {
			if !isSpaceByte(c) {
				if s[i] != c {
					return 0, false
				}
				i++
			}
			continue
		}
		k++
		var ok bool
		switch f[k] {
		case 'Y':
			start := i
			if p.year, i, ok = readInt(s, i, i+4); ok && i-start <= 2 {
				p.year = twoDigitYear(p.year)
			}
		case 'y':
			if p.year, i, ok = readInt(s, i, i+2); ok {
				p.year = twoDigitYear(p.year)
			}
		case 'm', 'c':
			p.month, i, ok = readInt(s, i, i+2)
		case 'M', 'b':
			names := monthNames[:]
			if f[k] == 'b' {
				names = abMonthNames
			}
			var m int
			m, i = readName(s, i, names)
			p.month, ok = int64(m), m > 0
		case 'd', 'e':
			p.day, i, ok = readInt(s, i, i+2)
		case 'D':
			if p.day, i, ok = readInt(s, i, i+2); ok {
				i = min(i+2, len(s)) // "st", "nd", "rd", "th"
			}
		case 'h', 'I', 'l', 'k', 'H':
			p.usa = p.usa || f[k] == 'h' || f[k] == 'I' || f[k] == 'l'
			p.hour, i, ok = readInt(s, i, i+2)
		case 'i':
			p.minute, i, ok = readInt(s, i, i+2)
		case 's', 'S':
			p.second, i, ok = readInt(s, i, i+2)
		case 'f':
			start := i
			if p.micros, i, ok = readInt(s, i, i+6); ok {
				for w := i - start; w < 6; w++ {
					p.micros *= 10
				}
			}
		case 'p':
			if len(s)-i < 2 || !p.usa {
				return 0, false
			}
			switch {
			case lowerASCII(s[i]) == 'p' && lowerASCII(s[i+1]) == 'm':
				p.pm = 12
			case lowerASCII(s[i]) == 'a' && lowerASCII(s[i+1]) == 'm':
			default:
				return 0, false
			}
			i += 2
			ok = true
		case 'W', 'a':
			names := dayNames[:]
			if f[k] == 'a' {
				names = abDayNames
			}
			var d int
			d, i = readName(s, i, names)
			ok = d > 0
		case 'w':
			var w int64
			w, i, ok = readInt(s, i, i+1)
			ok = ok && w >= 0 && w < 7
		case 'j':
			p.yearday, i, ok = readInt(s, i, i+3)
		case 'r', 'T':
			sub := dateParts{}
			format := "%I:%i:%S %p"
			if f[k] == 'T' {
				format = "%H:%i:%S"
			}
			n, subOK := sub.scan(s[i:], []byte(format))
			if !subOK || !sub.clock() {
				return 0, false
			}
			p.hour, p.minute, p.second = sub.hour, sub.minute, sub.second
			i += n
			ok = true
		case '.':
			for i < len(s) && isPunct(s[i]) {
				i++
			}
			ok = true
		case '@':
			for i < len(s) && isAlphaByte(s[i]) {
				i++
			}
			ok = true
		case '#':
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			ok = true
		case '%':
			if s[i] != '%' {
				return 0, false
			}
			i++
			ok = true
		default:
			return 0, false
		}
		if !ok {
			return 0, false
		}
	}
	return i, true
}

// clock applies the 12-hour clock of %h/%I/%l with %p.
func (p *dateParts) clock() bool {
	if p.usa {
		if p.hour < 1 || p.hour > 12 {
			return false
		}
		p.hour = p.hour%12 + p.pm
		p.usa, p.pm = false, 0
	}
	return true
}

func isPunct(c byte) bool {
	return c > ' ' && c < 0x7f && !isAlphaByte(c) && !(c >= '0' && c <= '9')
}

func twoDigitYear(y int64) int64 {
	if y < 70 {
		return y + 2000
	}
	return y + 1900
}

// value checks the fields (zero parts are invalid, as under MySQL's
// default NO_ZERO_IN_DATE and NO_ZERO_DATE) and returns the day number
// and the time of day.
func (p *dateParts) value() (days, tod int64, ok bool) {
	if p.yearday > 0 {
		if p.year < 0 || p.year > 9999 {
			return 0, 0, false
		}
		days = planner.DayNumber(int(p.year), 1, 1) + p.yearday - 1
		y, m, d := planner.CivilFromDays(days)
		p.year, p.month, p.day = int64(y), int64(m), int64(d)
	}
	if p.year < 0 || p.year > 9999 || p.month < 1 || p.month > 12 || p.day < 1 ||
		p.day > int64(planner.DaysInMonth(int(p.year), int(p.month))) ||
		p.hour < 0 || p.hour > 23 || p.minute < 0 || p.minute > 59 || p.second < 0 || p.second > 59 ||
		p.micros < 0 || p.micros > 999_999 {
		return 0, 0, false
	}
	days = planner.DayNumber(int(p.year), int(p.month), int(p.day))
	tod = ((p.hour*60+p.minute)*60+p.second)*1_000_000 + p.micros
	if days > math.MaxInt64/usPerDay {
		return 0, 0, false
	}
	return days, tod, true
}
