package jsonscan

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// kind is what a JSON value is, as far as typing a column cares.
type kind uint8

const (
	kindNull kind = iota
	kindFalse
	kindTrue
	kindInt   // a number literal without fraction or exponent
	kindFloat // any other number literal
	kindString
	kindObject
	kindArray
)

// value is one JSON value found on a line: its kind and where its text is.
// For strings the span excludes the quotes and escaped says whether the text
// holds backslash escapes that must be decoded; for everything else the span
// is the value's exact JSON text.
type value struct {
	start, end int
	kind       kind
	escaped    bool
}

// maxDepth bounds nesting so a hostile line cannot exhaust the stack.
const maxDepth = 10000

// syntaxError is a malformed-JSON finding at a byte offset of a line; the
// reader turns it into a LineError once it knows the line number.
type syntaxError struct {
	offset int // 0-based byte offset within the line
	msg    string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at byte %d: %s", e.offset+1, e.msg)
}

// lineParser walks the members of one top-level JSON object without building
// anything: it validates the whole line and hands back each key and the span
// of its value. It is reused across lines, so its scratch buffer is the only
// memory it keeps.
type lineParser struct {
	line  []byte
	pos   int
	first bool   // no member read yet from the current object
	key   []byte // scratch for keys that contain escapes
}

func (p *lineParser) fail(msg string) error {
	return &syntaxError{offset: p.pos, msg: msg}
}

func (p *lineParser) unexpected(want string) error {
	if p.pos >= len(p.line) {
		return p.fail("unexpected end of line, expected " + want)
	}
	return p.fail(fmt.Sprintf("unexpected %s, expected %s", quoteByte(p.line[p.pos]), want))
}

func quoteByte(c byte) string {
	if c < utf8.RuneSelf && strconv.IsPrint(rune(c)) {
		return strconv.QuoteRune(rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

func (p *lineParser) skipSpace() {
	for p.pos < len(p.line) {
		switch p.line[p.pos] {
		case ' ', '\t', '\r', '\n':
			p.pos++
		default:
			return
		}
	}
}

// begin starts a line. It reports blank for a line holding only white space.
func (p *lineParser) begin(line []byte) (blank bool, err error) {
	p.line, p.pos, p.first = line, 0, true
	p.skipSpace()
	if p.pos == len(line) {
		return true, nil
	}
	if line[p.pos] != '{' {
		return false, p.fail(fmt.Sprintf("line must hold one JSON object, found %s", quoteByte(line[p.pos])))
	}
	p.pos++
	return false, nil
}

// next returns the next member of the object begun by begin; ok is false
// once the closing brace (and nothing but white space after it) was read.
// The key slice is valid until the next call.
func (p *lineParser) next() (key []byte, v value, ok bool, err error) {
	p.skipSpace()
	if p.pos >= len(p.line) {
		return nil, v, false, p.unexpected(`'"' or '}'`)
	}
	c := p.line[p.pos]
	if c == '}' {
		p.pos++
		p.skipSpace()
		if p.pos != len(p.line) {
			return nil, v, false, p.fail("unexpected data after the object")
		}
		return nil, v, false, nil
	}
	if !p.first {
		if c != ',' {
			return nil, v, false, p.unexpected(`',' or '}'`)
		}
		p.pos++
		p.skipSpace()
	}
	p.first = false
	if p.pos >= len(p.line) || p.line[p.pos] != '"' {
		return nil, v, false, p.unexpected("a string key")
	}
	ks, ke, esc, err := p.scanString()
	if err != nil {
		return nil, v, false, err
	}
	if esc {
		p.key = appendUnescaped(p.key[:0], p.line[ks:ke])
		key = p.key
	} else {
		key = p.line[ks:ke]
	}
	p.skipSpace()
	if p.pos >= len(p.line) || p.line[p.pos] != ':' {
		return nil, v, false, p.unexpected("':'")
	}
	p.pos++
	p.skipSpace()
	v, err = p.value(0)
	return key, v, err == nil, err
}

// value scans one value starting at p.pos (white space already skipped).
func (p *lineParser) value(depth int) (value, error) {
	if p.pos >= len(p.line) {
		return value{}, p.unexpected("a value")
	}
	start := p.pos
	switch c := p.line[p.pos]; {
	case c == '"':
		s, e, esc, err := p.scanString()
		return value{start: s, end: e, kind: kindString, escaped: esc}, err
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return value{}, p.fail("nesting too deep")
		}
		var err error
		k := kindObject
		if c == '{' {
			err = p.skipObject(depth + 1)
		} else {
			k = kindArray
			err = p.skipArray(depth + 1)
		}
		return value{start: start, end: p.pos, kind: k}, err
	case c == 't':
		return value{start: start, end: start + 4, kind: kindTrue}, p.literal("true")
	case c == 'f':
		return value{start: start, end: start + 5, kind: kindFalse}, p.literal("false")
	case c == 'n':
		return value{start: start, end: start + 4, kind: kindNull}, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		k, err := p.scanNumber()
		return value{start: start, end: p.pos, kind: k}, err
	default:
		return value{}, p.unexpected("a value")
	}
}

func (p *lineParser) literal(word string) error {
	if len(p.line)-p.pos < len(word) || string(p.line[p.pos:p.pos+len(word)]) != word {
		return p.fail("invalid literal, expected " + word)
	}
	p.pos += len(word)
	return nil
}

// scanString reads a string whose opening quote is at p.pos and returns the
// span of its contents. Escapes are validated here so decoding cannot fail.
// Raw bytes ≥ 0x80 pass through unvalidated: quern strings are byte strings.
func (p *lineParser) scanString() (start, end int, escaped bool, err error) {
	line := p.line
	i := p.pos + 1
	start = i
	for i < len(line) {
		c := line[i]
		switch {
		case c == '"':
			p.pos = i + 1
			return start, i, escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(line) {
				p.pos = i
				return 0, 0, false, p.fail("unterminated escape in string")
			}
			switch line[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(line) || !isHex4(line[i+2:i+6]) {
					p.pos = i
					return 0, 0, false, p.fail(`invalid \u escape in string`)
				}
				i += 6
			default:
				p.pos = i
				return 0, 0, false, p.fail("invalid escape " + quoteByte(line[i+1]) + " in string")
			}
		case c < 0x20:
			p.pos = i
			return 0, 0, false, p.fail("control character in string (must be escaped)")
		default:
			i++
		}
	}
	p.pos = len(line)
	return 0, 0, false, p.fail("unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if hexVal(c) < 0 {
			return false
		}
	}
	return true
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// scanNumber checks the JSON number grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and tells integers apart.
func (p *lineParser) scanNumber() (kind, error) {
	line := p.line
	i := p.pos
	if line[i] == '-' {
		i++
	}
	switch {
	case i < len(line) && line[i] == '0':
		i++
	case i < len(line) && line[i] >= '1' && line[i] <= '9':
		for i < len(line) && line[i] >= '0' && line[i] <= '9' {
			i++
		}
	default:
		p.pos = i
		return 0, p.fail("invalid number")
	}
	k := kindInt
	if i < len(line) && line[i] == '.' {
		i++
		d := i
		for i < len(line) && line[i] >= '0' && line[i] <= '9' {
			i++
		}
		if i == d {
			p.pos = i
			return 0, p.fail("invalid number: digits expected after '.'")
		}
		k = kindFloat
	}
	if i < len(line) && (line[i] == 'e' || line[i] == 'E') {
		i++
		if i < len(line) && (line[i] == '+' || line[i] == '-') {
			i++
		}
		d := i
		for i < len(line) && line[i] >= '0' && line[i] <= '9' {
			i++
		}
		if i == d {
			p.pos = i
			return 0, p.fail("invalid number: digits expected in exponent")
		}
		k = kindFloat
	}
	p.pos = i
	return k, nil
}

func (p *lineParser) skipObject(depth int) error {
	p.pos++ // '{'
	p.skipSpace()
	if p.pos < len(p.line) && p.line[p.pos] == '}' {
		p.pos++
		return nil
	}
	for {
		if p.pos >= len(p.line) || p.line[p.pos] != '"' {
			return p.unexpected("a string key")
		}
		if _, _, _, err := p.scanString(); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos >= len(p.line) || p.line[p.pos] != ':' {
			return p.unexpected("':'")
		}
		p.pos++
		p.skipSpace()
		if _, err := p.value(depth); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos < len(p.line) {
			switch p.line[p.pos] {
			case ',':
				p.pos++
				p.skipSpace()
				continue
			case '}':
				p.pos++
				return nil
			}
		}
		return p.unexpected(`',' or '}'`)
	}
}

func (p *lineParser) skipArray(depth int) error {
	p.pos++ // '['
	p.skipSpace()
	if p.pos < len(p.line) && p.line[p.pos] == ']' {
		p.pos++
		return nil
	}
	for {
		if _, err := p.value(depth); err != nil {
			return err
		}
		p.skipSpace()
		if p.pos < len(p.line) {
			switch p.line[p.pos] {
			case ',':
				p.pos++
				p.skipSpace()
				continue
			case ']':
				p.pos++
				return nil
			}
		}
		return p.unexpected(`',' or ']'`)
	}
}

// appendUnescaped decodes the contents of a string already validated by
// scanString. \u escapes become UTF-8; a surrogate pair becomes one code
// point and a lone surrogate becomes U+FFFD, as encoding/json does.
func appendUnescaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		e := s[i+1]
		i += 2
		switch e {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := rune(hex4(s[i:]))
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = rune(hex4(s[i+2:]))
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					i += 6
					r = d
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
	}
	return dst
}

func hex4(b []byte) int {
	return hexVal(b[0])<<12 | hexVal(b[1])<<8 | hexVal(b[2])<<4 | hexVal(b[3])
}

// parseInt converts an integer literal already validated by scanNumber.
func parseInt(b []byte) (int64, bool) {
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) > 19 {
		return 0, false
	}
	var u uint64
	for _, c := range b {
		u = u*10 + uint64(c-'0') // cannot overflow uint64 with at most 19 digits
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// parseFloat converts a number literal already validated by scanNumber.
func parseFloat(b []byte, k kind) (float64, bool) {
	if k == kindInt && len(b) <= 16 {
		// Up to 15 digits is exact in a float64, and cheaper than ParseFloat.
		if n, ok := parseInt(b); ok && n > -1<<53 && n < 1<<53 {
			return float64(n), true
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return f, err == nil
}
