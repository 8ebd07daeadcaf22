package sql

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// ErrorKind classifies SQL errors so that callers can react without parsing
// messages.
type ErrorKind int

const (
	ErrSyntax      ErrorKind = iota + 1 // the text does not parse
	ErrUnsupported                      // valid MySQL that quern does not run
	ErrName                             // unknown table or column, ambiguous name
	ErrType                             // an expression whose types do not fit
)

// Error is a SQL error with the position (1-based line and column) of the
// construct it is about. Line is 0 when no position is known.
type Error struct {
	Kind ErrorKind
	Msg  string
	Line int
	Col  int
	// Hint is a suggestion such as the nearest known name.
	Hint string
}

func (e *Error) Error() string {
	s := e.Msg
	if e.Line > 0 {
		s += fmt.Sprintf(" at line %d, column %d", e.Line, e.Col)
	}
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// IsUnsupported reports whether err says a construct is not supported.
func IsUnsupported(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == ErrUnsupported
}

// position converts a byte offset in src into a 1-based line and column.
func position(src string, off int) (line, col int) {
	if off < 0 {
		return 0, 0
	}
	if off > len(src) {
		off = len(src)
	}
	line = 1 + strings.Count(src[:off], "\n")
	col = off - strings.LastIndexByte(src[:off], '\n')
	return line, col
}

var tidbSyntax = regexp.MustCompile(`line (\d+) column (\d+) near "((?s).*)"\s*$`)

// syntaxError turns the parser's message into a quern error with the
// position and the offending text.
func syntaxError(src string, err error) error {
	msg := err.Error()
	m := tidbSyntax.FindStringSubmatch(msg)
	if m == nil {
		if i := strings.Index(msg, "]"); i >= 0 && strings.HasPrefix(msg, "[") {
			msg = msg[i+1:]
		}
		return &Error{Kind: ErrSyntax, Msg: "syntax error: " + msg}
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	near := m[3]
	// The parser reports the column just past the offending token; point at
	// its start instead, found by locating the remaining text in src.
	if near != "" {
		if i := strings.LastIndex(src, near); i >= 0 {
			line, col = position(src, i)
		}
	} else {
		line, col = position(src, len(src))
	}
	tok := near
	if j := strings.IndexAny(tok, " \t\r\n(),;"); j > 0 {
		tok = tok[:j]
	} else if j == 0 {
		tok = tok[:1]
	}
	if tok == "" {
		return &Error{Kind: ErrSyntax, Msg: "syntax error: unexpected end of input", Line: line, Col: col}
	}
	return &Error{Kind: ErrSyntax, Msg: fmt.Sprintf("syntax error near %q", tok), Line: line, Col: col}
}

// Caret renders the line of src that err points at with a caret under the
// column, for terminals. It returns "" when err has no position.
func Caret(src string, err error) string {
	var e *Error
	if !errors.As(err, &e) || e.Line == 0 {
		return ""
	}
	lines := strings.Split(src, "\n")
	if e.Line > len(lines) {
		return ""
	}
	l := strings.TrimRight(lines[e.Line-1], "\r")
	pad := strings.Map(func(r rune) rune {
		if r == '\t' {
			return '\t'
		}
		return ' '
	}, l[:min(len(l), max(e.Col-1, 0))])
	return l + "\n" + pad + "^"
}

// nearest returns the candidate closest to name when exactly one is clearly
// closest (an edit distance of at most a third of the name, at least 1... 2).
func nearest(name string, candidates []string) string {
	best, bestD, ties := "", 1<<30, 0
	ln := strings.ToLower(name)
	for _, c := range candidates {
		d := editDistance(ln, strings.ToLower(c))
		switch {
		case d < bestD:
			best, bestD, ties = c, d, 0
		case d == bestD && c != best:
			ties++
		}
	}
	limit := max(2, len(name)/3)
	if best == "" || bestD > limit || ties > 0 {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// asciiLower lowercases ASCII letters only, so that byte offsets into the
// result are offsets into s (strings.ToLower may change the length of
// text that is not valid UTF-8).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
