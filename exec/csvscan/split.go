package csvscan

import (
	"bytes"
	"encoding/binary"
	"math/bits"
)

// span locates one field's value inside the read buffer: [start, end) with
// the surrounding quotes, if any, already excluded. Offsets are int32 because
// the buffer never grows past maxRecord.
type span struct {
	start, end int32
	flags      uint32
}

const (
	flagQuoted  = 1 << iota // the field was quoted: "" is an empty string, not NULL
	flagEscaped             // the value holds "" pairs that stand for one quote each
)

// maxRecord bounds the longest record; the read buffer stays below twice
// that, so int32 offsets into it cannot overflow.
const maxRecord = 1 << 29

// result is what splitter.record found at the position it was given.
type result uint8

const (
	recOK    result = iota // a record
	recBlank               // an empty line, skipped
	recMore                // the buffer ends inside the record: read more and retry
	recErr                 // malformed quoting; see splitter.errKind and errAt
)

type quoteErr uint8

const (
	errAfterQuote   quoteErr = iota + 1 // a byte other than delimiter or line end after a closing quote
	errUnterminated                     // end of file inside a quoted field
	errQuoteLine                        // a quoted field runs past its line in a format without MultilineQuotes
)

// splitter is the record grammar, used by Sniff and by the Reader alike so
// that the two can never disagree about where fields are.
//
// A record is a line ended by "\n" or "\r\n" (or by the end of the file).
// Fields are separated by delim. With quoted set, a field whose first byte is
// '"' runs to the next '"' not followed by another '"', and must be followed
// by the delimiter or the line end; with multiline also set, that field may
// contain line breaks. A line with no bytes (or just "\r") is blank.
type splitter struct {
	delim     byte
	quoted    bool
	multiline bool

	// slot maps a field's position in the record to the index in spans where
	// record stores it (the row number is added), or -1 to skip it.
	slot []int32
	// last is the highest position with a slot; after it, the rest of an
	// unquoted line is only counted, with SIMD-backed bytes.Count.
	last int
	// all makes record append every field to fields instead (for Sniff).
	all    bool
	fields []span

	delimSet []byte // []byte{delim}, kept to call bytes.Count without allocating
	bcast    uint64 // delim in every byte, for the word-at-a-time scan

	errKind quoteErr
	errAt   int // buffer offset where the malformed quoting was found
}

func newSplitter(delim byte, quoted, multiline bool) *splitter {
	return &splitter{
		delim:     delim,
		quoted:    quoted,
		multiline: multiline && quoted,
		last:      -1,
		delimSet:  []byte{delim},
		bcast:     uint64(delim) * 0x0101010101010101,
	}
}

// record splits the record that starts at buf[p], p < len(buf). eof says that
// buf ends where the file ends. It returns the offset after the record's line
// end and the number of fields; the spans of slotted fields are stored at
// spans[slot[i]+row].
func (s *splitter) record(buf []byte, p int, eof bool, row int, spans []span) (next, nf int, res result) {
	n := len(buf)
	lineEnd := bytes.IndexByte(buf[p:], '\n')
	if lineEnd < 0 {
		if !eof {
			return 0, 0, recMore
		}
		lineEnd, next = n, n
	} else {
		lineEnd += p
		next = lineEnd + 1
	}
	e := lineEnd
	if e > p && buf[e-1] == '\r' {
		e--
	}
	if e == p {
		return next, 0, recBlank
	}
	if s.all {
		s.fields = s.fields[:0]
	}
	tailTried := false
	fi := 0
	for {
		if fi > s.last && !s.all && !tailTried {
			// No field we want is left: count the remaining delimiters in one
			// pass, unless a quote could hide one.
			rest := buf[p:e]
			if !s.quoted || bytes.IndexByte(rest, '"') < 0 {
				return next, fi + 1 + bytes.Count(rest, s.delimSet), recOK
			}
			tailTried = true
		}
		var fs, fe, q int
		var flags uint32
		if s.quoted && p < e && buf[p] == '"' {
			flags = flagQuoted
			lim := e
			if s.multiline {
				lim = n
			}
			c := p + 1
			for {
				k := bytes.IndexByte(buf[c:lim], '"')
				if k < 0 {
					switch {
					case !s.multiline:
						s.errKind, s.errAt = errQuoteLine, p
						return 0, 0, recErr
					case !eof:
						return 0, 0, recMore
					}
					s.errKind, s.errAt = errUnterminated, p
					return 0, 0, recErr
				}
				c += k
				if c+1 < lim && buf[c+1] == '"' {
					flags |= flagEscaped
					c += 2
					continue
				}
				if c+1 == lim && s.multiline && !eof {
					return 0, 0, recMore // the next byte could be a second quote
				}
				break
			}
			fs, fe, q = p+1, c, c+1
			if c > e {
				// The field ran over line breaks (multiline only): the record
				// ends at the first line end after the closing quote.
				k := bytes.IndexByte(buf[q:], '\n')
				if k < 0 {
					if !eof {
						return 0, 0, recMore
					}
					lineEnd, next = n, n
				} else {
					lineEnd = q + k
					next = lineEnd + 1
				}
				e = lineEnd
				if e > q && buf[e-1] == '\r' {
					e--
				}
			}
			if q < e && buf[q] != s.delim {
				s.errKind, s.errAt = errAfterQuote, q
				return 0, 0, recErr
			}
		} else {
			q = s.scan(buf, p, e)
			fs, fe = p, q
		}
		if s.all {
			s.fields = append(s.fields, span{int32(fs), int32(fe), flags})
		} else if fi < len(s.slot) {
			if d := s.slot[fi]; d >= 0 {
				spans[int(d)+row] = span{int32(fs), int32(fe), flags}
			}
		}
		fi++
		if q >= e {
			return next, fi, recOK
		}
		p = q + 1
	}
}

// scan returns the offset of the first delimiter in buf[p:e], or e. Fields are
// short, so rather than calling bytes.IndexByte per field it tests eight bytes
// at a time: x has a zero byte where the input equals delim, and
// (x - 0x01…) &^ x & 0x80… marks the lowest such byte exactly (borrows only
// disturb bytes above it). Words may reach past e into the rest of the buffer;
// a match there is clamped to e.
func (s *splitter) scan(buf []byte, p, e int) int {
	for p+8 <= len(buf) && p < e {
		x := binary.LittleEndian.Uint64(buf[p:]) ^ s.bcast
		if m := (x - 0x0101010101010101) &^ x & 0x8080808080808080; m != 0 {
			return min(p+bits.TrailingZeros64(m)>>3, e)
		}
		p += 8
	}
	if p > e {
		return e
	}
	for p < e && buf[p] != s.delim {
		p++
	}
	return p
}

// unescape appends v to dst with each "" pair turned into one quote.
func unescape(dst, v []byte) []byte {
	for {
		k := bytes.IndexByte(v, '"')
		if k < 0 || k+1 >= len(v) {
			return append(dst, v...)
		}
		dst = append(dst, v[:k+1]...)
		v = v[k+2:]
	}
}
