package driver

import (
	"database/sql/driver"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// bind replaces each '?' of query that is outside quotes and comments with
// the SQL literal of the next argument. The engine parses the result, so a
// literal must read back as the same value and type: strings are quoted
// and escaped, doubles are written in exponent form (a DOUBLE literal, not
// a DECIMAL one), times as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC.
func bind(query string, args []driver.NamedValue) (string, error) {
	if len(args) == 0 && !strings.Contains(query, "?") {
		return query, nil
	}
	var b strings.Builder
	next := 0
	for i := 0; i < len(query); {
		c := query[i]
		end := i + 1
		switch {
		case c == '\'' || c == '"' || c == '`':
			end = skipQuoted(query, i)
		case c == '#' || (c == '-' && strings.HasPrefix(query[i:], "--") && (i+2 == len(query) || query[i+2] <= ' ')):
			end = strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query)
			} else {
				end += i
			}
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			end = strings.Index(query[i+2:], "*/")
			if end < 0 {
				end = len(query)
			} else {
				end += i + 4
			}
		case c == '?':
			if next >= len(args) {
				return "", fmt.Errorf("quern: the statement has more '?' placeholders than the %d argument(s) given", len(args))
			}
			lit, err := literal(args[next].Value)
			if err != nil {
				return "", fmt.Errorf("quern: argument %d: %w", next+1, err)
			}
			b.WriteString(lit)
			next++
			i++
			continue
		}
		b.WriteString(query[i:end])
		i = end
	}
	if next != len(args) {
		return "", fmt.Errorf("quern: %d argument(s) given for %d '?' placeholder(s)", len(args), next)
	}
	return b.String(), nil
}

// skipQuoted returns the offset just past the quoted text opening at i: a
// doubled quote escapes, and so does a backslash in strings (not in
// backquoted names).
func skipQuoted(s string, i int) int {
	q := s[i]
	for k := i + 1; k < len(s); k++ {
		switch s[k] {
		case '\\':
			if q != '`' {
				k++
			}
		case q:
			if k+1 < len(s) && s[k+1] == q {
				k++
				continue
			}
			return k + 1
		}
	}
	return len(s)
}

// literal writes v as a SQL literal.
func literal(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "NULL", nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint64:
		return strconv.FormatUint(v, 10), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fmt.Errorf("%v has no SQL literal", v)
		}
		return strconv.FormatFloat(v, 'e', -1, 64), nil
	case bool:
		if v {
			return "TRUE", nil
		}
		return "FALSE", nil
	case string:
		return quote(v), nil
	case []byte:
		return quote(string(v)), nil
	case time.Time:
		return quote(v.UTC().Format("2006-01-02 15:04:05.999999")), nil
	}
	return "", fmt.Errorf("unsupported argument type %T", v)
}

// quote writes s as a single-quoted MySQL string, escaping what the
// parser unescapes, so every byte reads back unchanged.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			b.WriteString(`\'`)
		case '\\':
			b.WriteString(`\\`)
		case 0:
			b.WriteString(`\0`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case 0x1a:
			b.WriteString(`\Z`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
