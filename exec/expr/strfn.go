package expr

import (
	"bytes"
	"fmt"
	"regexp"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"

	"github.com/quernsql/quern/planner"
)

// Strings are bytes compared byte-wise; positions and lengths count
// characters of UTF-8 (a byte that is not valid UTF-8 counts as one).

var stringBuilders = map[string]builder{
	"lower": buildStrMap, "upper": buildStrMap, "reverse": buildStrMap,
	"trim": buildTrim, "ltrim": buildTrim, "rtrim": buildTrim,
	"length": buildLength, "char_length": buildLength,
	"concat": buildConcat, "concat_ws": buildConcatWS,
	"substring": buildSubstring, "left": buildLeftRight, "right": buildLeftRight,
	"replace": buildReplace, "locate": buildLocate, "lpad": buildPad, "rpad": buildPad,
	"repeat": buildRepeat, "like": buildLike, "regexp": buildRegexp,
}

// maxStringLen is MySQL's default max_allowed_packet: longer results of
// REPEAT, LPAD and RPAD are NULL, as in MySQL.
const maxStringLen = 64 << 20

// charsLen returns the byte length of the first n characters of s.
func charsLen(s []byte, n int64) int {
	i := 0
	for ; n > 0 && i < len(s); n-- {
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, sz := utf8.DecodeRune(s[i:])
			i += sz
		}
	}
	return i
}

func isASCII(s []byte) bool {
	for _, c := range s {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func appendMapped(dst, s []byte, f func(rune) rune, ascii func(byte) byte) []byte {
	if isASCII(s) {
		for _, c := range s {
			dst = append(dst, ascii(c))
		}
		return dst
	}
	for len(s) > 0 {
		r, sz := utf8.DecodeRune(s)
		if r == utf8.RuneError && sz == 1 {
			dst = append(dst, s[0])
		} else {
			dst = utf8.AppendRune(dst, f(r))
		}
		s = s[sz:]
	}
	return dst
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 32
	}
	return c
}

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 32
	}
	return c
}

func appendReverse(dst, s []byte) []byte {
	n := len(dst)
	dst = append(dst, s...)
	out := dst[n:]
	for len(s) > 0 {
		_, sz := utf8.DecodeRune(s)
		copy(out[len(s)-sz:], s[:sz])
		s = s[sz:]
	}
	return dst
}

// strRows runs row(i, o, valid) for every row, with the strict NULL rule;
// row may mark more rows NULL. scratch keeps the byte buffer across batches.
func strRows(ec *evalCtx, args []vec, scratch *[]byte, row func(i int, o *strOut, valid *validBits)) (vec, error) {
	valid := newValidBits(ec.alloc, ec.n, args)
	o := newStrOut(ec, *scratch)
	for i := 0; i < ec.n; i++ {
		row(i, o, &valid)
		o.end()
	}
	*scratch = o.data[:0]
	arr, err := o.finish(ec, valid.buf)
	return vec{arr: arr}, err
}

func buildStrMap(e *planner.Expr) (kernel, bool, error) {
	name := e.Name
	var scratch []byte
	return func(ec *evalCtx, args []vec) (vec, error) {
		in := strOperand(args[0])
		o := newStrOut(ec, scratch)
		for i := 0; i < ec.n; i++ {
			s := in.at(i)
			switch name {
			case "lower":
				o.data = appendMapped(o.data, s, unicode.ToLower, lowerASCII)
			case "upper":
				o.data = appendMapped(o.data, s, unicode.ToUpper, upperASCII)
			case "reverse":
				o.data = appendReverse(o.data, s)
			}
			o.end()
		}
		scratch = o.data[:0]
		arr, err := o.finish(ec, andValidity(ec.alloc, ec.n, args))
		return vec{arr: arr}, err
	}, true, nil
}

// buildTrim: TRIM/LTRIM/RTRIM(s) strip spaces; with a second argument r
// they strip repeated occurrences of r (TRIM(BOTH/LEADING/TRAILING r FROM s)).
func buildTrim(e *planner.Expr) (kernel, bool, error) {
	left, right := e.Name != "rtrim", e.Name != "ltrim"
	space := []byte{' '}
	var scratch []byte
	var k kernel
	k = func(ec *evalCtx, args []vec) (vec, error) {
		in := strOperand(args[0])
		var rem strIn
		if len(args) > 1 {
			rem = strOperand(args[1])
		}
		return strRows(ec, args, &scratch, func(i int, o *strOut, _ *validBits) {
			s, r := in.at(i), space
			if len(args) > 1 {
				r = rem.at(i)
			}
			if len(r) > 0 {
				for left && bytes.HasPrefix(s, r) {
					s = s[len(r):]
				}
				for right && bytes.HasSuffix(s, r) {
					s = s[:len(s)-len(r)]
				}
			}
			o.data = append(o.data, s...)
		})
	}
	return k, true, nil
}

func buildLength(e *planner.Expr) (kernel, bool, error) {
	chars := e.Name == "char_length"
	return func(ec *evalCtx, args []vec) (vec, error) {
		in := strOperand(args[0])
		buf, out := newI64(ec.alloc, ec.n)
		for i := range out {
			s := in.at(i)
			if chars {
				out[i] = int64(utf8.RuneCount(s))
			} else {
				out[i] = int64(len(s))
			}
		}
		return vec{arr: makeArr(arrow.PrimitiveTypes.Int64, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
	}, true, nil
}

func strOperands(args []vec) []strIn {
	ins := make([]strIn, len(args))
	for k, a := range args {
		ins[k] = strOperand(a)
	}
	return ins
}

func buildConcat(*planner.Expr) (kernel, bool, error) {
	var scratch []byte
	return func(ec *evalCtx, args []vec) (vec, error) {
		ins := strOperands(args)
		o := newStrOut(ec, scratch)
		for i := 0; i < ec.n; i++ {
			for k := range ins {
				o.data = append(o.data, ins[k].at(i)...)
			}
			o.end()
		}
		scratch = o.data[:0]
		arr, err := o.finish(ec, andValidity(ec.alloc, ec.n, args))
		return vec{arr: arr}, err
	}, true, nil
}

// buildConcatWS: CONCAT_WS(sep, ...) skips NULL arguments and is NULL only
// when the separator is.
func buildConcatWS(*planner.Expr) (kernel, bool, error) {
	var scratch []byte
	return func(ec *evalCtx, args []vec) (vec, error) {
		ins := strOperands(args)
		vs := make([]srcBits, len(args))
		for k, a := range args {
			vs[k] = validityOf(a)
		}
		o := newStrOut(ec, scratch)
		for i := 0; i < ec.n; i++ {
			first := true
			for k := 1; k < len(ins); k++ {
				if !vs[k].valid(i) {
					continue
				}
				if !first {
					o.data = append(o.data, ins[0].at(i)...)
				}
				first = false
				o.data = append(o.data, ins[k].at(i)...)
			}
			o.end()
		}
		scratch = o.data[:0]
		arr, err := o.finish(ec, andValidity(ec.alloc, ec.n, args[:1]))
		return vec{arr: arr}, err
	}, false, nil
}

// substr returns SUBSTRING(s, pos, n) with MySQL's rules: positions from 1,
// a negative position counts from the end, position 0 or a length below 1
// give ”.
func substr(s []byte, pos, n int64) []byte {
	if pos == 0 || n <= 0 {
		return nil
	}
	if pos < 0 {
		cl := int64(utf8.RuneCount(s))
		if -pos > cl {
			return nil
		}
		pos = cl + pos + 1
	}
	start := charsLen(s, pos-1)
	if start >= len(s) {
		return nil
	}
	s = s[start:]
	return s[:charsLen(s, n)]
}

func buildSubstring(*planner.Expr) (kernel, bool, error) {
	var scratch []byte
	return func(ec *evalCtx, args []vec) (vec, error) {
		in := strOperand(args[0])
		pos, mp := i64Op(args[1])
		var ln []int64
		ml := 0
		if len(args) > 2 {
			ln, ml = i64Op(args[2])
		}
		return strRows(ec, args, &scratch, func(i int, o *strOut, _ *validBits) {
			n := int64(1 << 62)
			if ln != nil {
				n = ln[i&ml]
			}
			o.data = append(o.data, substr(in.at(i), pos[i&mp], n)...)
		})
	}, true, nil
}

func buildLeftRight(e *planner.Expr) (kernel, bool, error) {
	right := e.Name == "right"
	var scratch []byte
	return func(ec *evalCtx, args []vec) (vec, error) {
		in := strOperand(args[0])
		cnt, mc := i64Op(args[1])
		return strRows(ec, args, &scratch, func(i int, o *strOut, _ *validBits) {
			s, n := in.at(i), cnt[i&mc]
			if n <= 0 {
				return
			}
			if right {
				cl := int64(utf8.RuneCount(s))
				if n < cl {
					s = s[charsLen(s, cl-n):]
				}
			} else {
				s = s[:charsLen(s, n)]
			}
			o.data = append(o.data, s...)
		})
	}, true, nil
}

func buildReplace(*planner.Expr) (kernel, bool, error) {
	var scratch []byte
	return func(ec *evalCtx, args []vec) (vec, error) {
		ins := strOperands(args)
		return strRows(ec, args, &scratch, func(i int, o *strOut, _ *validBits) {
			s, from, to := ins[0].at(i), ins[1].at(i), ins[2].at(i)
			if len(from) == 0 {
				o.data = append(o.data, s...)
				return
			}
			for {
				j := bytes.Index(s, from)
				if j < 0 {
					break
				}
				o.data = append(o.data, s[:j]...)
				o.data = append(o.data, to...)
				s = s[j+len(from):]
			}
			o.data = append(o.data, s...)
		})
	}, true, nil
}

// buildLocate: LOCATE(sub, s[, pos]), the character position of the first
// sub in s at or after pos, 0 when there is none.
func buildLocate(*planner.Expr) (kernel, bool, error) {
	return func(ec *evalCtx, args []vec) (vec, error) {
		sub, in := strOperand(args[0]), strOperand(args[1])
		var pos []int64
		mp := 0
		if len(args) > 2 {
			pos, mp = i64Op(args[2])
		}
		buf, out := newI64(ec.alloc, ec.n)
		for i := range out {
			p := int64(1)
			if pos != nil {
				p = pos[i&mp]
			}
			out[i] = locate(sub.at(i), in.at(i), p)
		}
		return vec{arr: makeArr(arrow.PrimitiveTypes.Int64, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
	}, true, nil
}

func locate(sub, s []byte, pos int64) int64 {
	if pos < 1 {
		return 0
	}
	start := charsLen(s, pos-1)
	if start == len(s) && int64(utf8.RuneCount(s)) < pos-1 {
		return 0
	}
	j := bytes.Index(s[start:], sub)
	if j < 0 {
		return 0
	}
	return pos + int64(utf8.RuneCount(s[start:start+j]))
}

// buildPad: LPAD/RPAD(s, n, pad), cut to n characters when longer, NULL
// for a negative n or when padding is needed and pad is ”.
func buildPad(e *planner.Expr) (kernel, bool, error) {
	left := e.Name == "lpad"
	var scratch []byte
	return func(ec *evalCtx, args []vec) (vec, error) {
		in, pad := strOperand(args[0]), strOperand(args[2])
		cnt, mc := i64Op(args[1])
		return strRows(ec, args, &scratch, func(i int, o *strOut, valid *validBits) {
			s, n, p := in.at(i), cnt[i&mc], pad.at(i)
			cl := int64(utf8.RuneCount(s))
			switch {
			case n < 0 || n > maxStringLen:
				valid.setNull(ec.alloc, ec.n, i)
				return
			case n <= cl:
				o.data = append(o.data, s[:charsLen(s, n)]...)
				return
			case len(p) == 0:
				valid.setNull(ec.alloc, ec.n, i)
				return
			}
			if !left {
				o.data = append(o.data, s...)
			}
			need := n - cl
			pl := int64(utf8.RuneCount(p))
			for ; need >= pl; need -= pl {
				o.data = append(o.data, p...)
			}
			o.data = append(o.data, p[:charsLen(p, need)]...)
			if left {
				o.data = append(o.data, s...)
			}
		})
	}, true, nil
}

func buildRepeat(*planner.Expr) (kernel, bool, error) {
	var scratch []byte
	return func(ec *evalCtx, args []vec) (vec, error) {
		in := strOperand(args[0])
		cnt, mc := i64Op(args[1])
		return strRows(ec, args, &scratch, func(i int, o *strOut, valid *validBits) {
			s, n := in.at(i), cnt[i&mc]
			if n <= 0 || len(s) == 0 {
				return
			}
			if n > maxStringLen/int64(len(s)) {
				valid.setNull(ec.alloc, ec.n, i)
				return
			}
			for ; n > 0; n-- {
				o.data = append(o.data, s...)
			}
		})
	}, true, nil
}

// --- LIKE ---

const (
	likeLit  = iota // one byte
	likeOne         // _ : one character
	likeMany        // % : any characters
)

type likeTok struct {
	kind uint8
	b    byte
}

// likePattern is a compiled LIKE pattern; the common shapes ('abc',
// 'abc%', '%abc', '%abc%') match with a single byte search.
type likePattern struct {
	toks  []likeTok
	shape int // 0 general, 1 exact, 2 prefix, 3 suffix, 4 contains
	lit   []byte
}

func compileLike(p []byte, esc rune, hasEsc bool) *likePattern {
	lp := &likePattern{}
	var lit []byte
	stars, ones := 0, 0
	for len(p) > 0 {
		r, sz := utf8.DecodeRune(p)
		switch {
		case hasEsc && r == esc && sz < len(p):
			_, sz2 := utf8.DecodeRune(p[sz:])
			for _, c := range p[sz : sz+sz2] {
				lp.toks = append(lp.toks, likeTok{kind: likeLit, b: c})
				lit = append(lit, c)
			}
			p = p[sz+sz2:]
			continue
		case r == '%':
			if len(lp.toks) == 0 || lp.toks[len(lp.toks)-1].kind != likeMany {
				lp.toks = append(lp.toks, likeTok{kind: likeMany})
				stars++
			}
		case r == '_':
			lp.toks = append(lp.toks, likeTok{kind: likeOne})
			ones++
		default:
			for _, c := range p[:sz] {
				lp.toks = append(lp.toks, likeTok{kind: likeLit, b: c})
				lit = append(lit, c)
			}
		}
		p = p[sz:]
	}
	t := lp.toks
	if ones == 0 {
		first := len(t) > 0 && t[0].kind == likeMany
		last := len(t) > 0 && t[len(t)-1].kind == likeMany
		switch {
		case stars == 0:
			lp.shape = 1
		case stars == 1 && last && !first:
			lp.shape = 2
		case stars == 1 && first && !last:
			lp.shape = 3
		case stars == 2 && first && last:
			lp.shape = 4
		}
		lp.lit = lit
	}
	return lp
}

func (lp *likePattern) match(s []byte) bool {
	switch lp.shape {
	case 1:
		return bytes.Equal(s, lp.lit)
	case 2:
		return bytes.HasPrefix(s, lp.lit)
	case 3:
		return bytes.HasSuffix(s, lp.lit)
	case 4:
		return bytes.Contains(s, lp.lit)
	}
	// Greedy matching with backtracking to the last %.
	p := lp.toks
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch t := p[pi]; t.kind {
			case likeMany:
				starP, starS = pi, si
				pi++
				continue
			case likeOne:
				_, sz := utf8.DecodeRune(s[si:])
				si += sz
				pi++
				continue
			default:
				if s[si] == t.b {
					si++
					pi++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, sz := utf8.DecodeRune(s[starS:])
		starS += sz
		si, pi = starS, starP+1
	}
	for pi < len(p) && p[pi].kind == likeMany {
		pi++
	}
	return pi == len(p)
}

func buildLike(e *planner.Expr) (kernel, bool, error) {
	esc, hasEsc := '\\', true
	if len(e.Args) == 3 {
		s := e.Args[2].Value.S
		if s == "" {
			hasEsc = false
		} else {
			esc, _ = utf8.DecodeRuneInString(s)
		}
	}
	var fixed *likePattern
	if p := e.Args[1]; p.Kind == planner.ExprLiteral {
		fixed = compileLike([]byte(p.Value.S), esc, hasEsc)
	}
	var last []byte
	var lastP *likePattern
	return func(ec *evalCtx, args []vec) (vec, error) {
		in, pat := strOperand(args[0]), strOperand(args[1])
		buf, out := newBits(ec.alloc, ec.n)
		for i := 0; i < ec.n; i++ {
			lp := fixed
			if lp == nil {
				p := pat.at(i)
				if lastP == nil || !bytes.Equal(p, last) {
					last, lastP = append(last[:0], p...), compileLike(p, esc, hasEsc)
				}
				lp = lastP
			}
			bitutil.SetBitTo(out, i, lp.match(in.at(i)))
		}
		return vec{arr: makeArr(arrow.FixedWidthTypes.Boolean, ec.n, andValidity(ec.alloc, ec.n, args[:2]), buf)}, nil
	}, true, nil
}

// buildRegexp: s REGEXP pattern, case-sensitive (binary collation), with
// Go's RE2 syntax, which covers the common MySQL (ICU) patterns.
func buildRegexp(e *planner.Expr) (kernel, bool, error) {
	var fixed *regexp.Regexp
	if p := e.Args[1]; p.Kind == planner.ExprLiteral {
		re, err := regexp.Compile(p.Value.S)
		if err != nil {
			return nil, false, fmt.Errorf("invalid regular expression in '%s': %w", e, err)
		}
		fixed = re
	}
	var last string
	var lastRe *regexp.Regexp
	return func(ec *evalCtx, args []vec) (vec, error) {
		in, pat := strOperand(args[0]), strOperand(args[1])
		buf, out := newBits(ec.alloc, ec.n)
		for i := 0; i < ec.n; i++ {
			re := fixed
			if re == nil {
				if !rowValid(args[1], i) {
					continue
				}
				p := pat.at(i)
				if lastRe == nil || string(p) != last {
					r, err := regexp.Compile(string(p))
					if err != nil {
						buf.Release()
						return vec{}, fmt.Errorf("invalid regular expression in '%s': %w", e, err)
					}
					last, lastRe = string(p), r
				}
				re = lastRe
			}
			bitutil.SetBitTo(out, i, re.Match(in.at(i)))
		}
		return vec{arr: makeArr(arrow.FixedWidthTypes.Boolean, ec.n, andValidity(ec.alloc, ec.n, args), buf)}, nil
	}, true, nil
}
