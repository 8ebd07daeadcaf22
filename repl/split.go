package repl

import "strings"

// Statement is one SQL statement cut out of a script.
type Statement struct {
	// SQL is the statement text from its first token to just before its ';'
	// (or the end of the script), with surrounding white space removed.
	// Comments before the first token are dropped; comments inside or after
	// it are kept.
	SQL string
	// Line and Col are the 1-based position of SQL's first byte in the
	// script. Col counts bytes, as the parser's positions do, so a parser
	// error at (l, c) inside SQL is at (Line+l-1, c) in the script, or
	// (Line, Col+c-1) when l is 1.
	Line, Col int
	// Offset is the byte offset of SQL's first byte in the script.
	Offset int
}

// SplitStatements cuts src into statements at each ';' that is outside
// quotes and comments, following MySQL's lexical rules:
//
//   - 'text' and "text" are strings, where a doubled quote or a backslash
//     escapes the next character;
//   - `name` is an identifier, where a doubled backquote escapes;
//   - "-- " (two dashes then white space or the end) and '#' start a comment
//     to the end of the line; /* … */ is a comment (also the /*! … */ form).
//
// Statements with nothing but white space and comments are dropped. An
// unterminated string or comment runs to the end of src; the parser reports
// it. The client-side DELIMITER command is not recognised.
func SplitStatements(src string) []Statement {
	var out []Statement
	start := -1 // offset of the current statement's first token, -1 if none yet
	line, col := 1, 1
	startLine, startCol := 0, 0

	// advance moves the position over src[from:to].
	pos := 0
	advance := func(to int) {
		for ; pos < to; pos++ {
			if src[pos] == '\n' {
				line++
				col = 1
			} else {
				col++
			}
		}
	}
	emit := func(end int) {
		if start >= 0 {
			sql := strings.TrimRight(src[start:end], " \t\r\n\f\v")
			out = append(out, Statement{SQL: sql, Line: startLine, Col: startCol, Offset: start})
		}
		start = -1
	}

	i := 0
	for i < len(src) {
		c := src[i]
		next := i + 1
		isToken := true
		switch {
		case c == ';':
			advance(i)
			emit(i)
			i++
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			isToken = false
		case c == '#':
			next = skipLine(src, i)
			isToken = false
		case c == '-' && strings.HasPrefix(src[i:], "--") && (i+2 == len(src) || isCommentSpace(src[i+2])):
			next = skipLine(src, i)
			isToken = false
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			if end := strings.Index(src[i+2:], "*/"); end >= 0 {
				next = i + 2 + end + 2
			} else {
				next = len(src)
			}
			isToken = false
		case c == '\'' || c == '"':
			next = skipQuoted(src, i, c, true)
		case c == '`':
			next = skipQuoted(src, i, c, false)
		}
		if isToken && start < 0 {
			advance(i)
			start, startLine, startCol = i, line, col
		}
		i = next
	}
	emit(len(src))
	return out
}

// isCommentSpace reports whether c may follow "--" to start a comment:
// MySQL wants white space or a control character there, so 1--1 is 1-(-1).
func isCommentSpace(c byte) bool { return c <= ' ' }

// skipLine returns the offset of the '\n' ending the line at i (or len(src)),
// leaving the newline to be read as white space.
func skipLine(src string, i int) int {
	if end := strings.IndexByte(src[i:], '\n'); end >= 0 {
		return i + end
	}
	return len(src)
}

// skipQuoted returns the offset just past the quoted text opening at i.
func skipQuoted(src string, i int, q byte, backslash bool) int {
	for k := i + 1; k < len(src); k++ {
		switch src[k] {
		case '\\':
			if backslash {
				k++
			}
		case q:
			if k+1 < len(src) && src[k+1] == q {
				k++
				continue
			}
			return k + 1
		}
	}
	return len(src)
}
