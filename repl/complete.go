package repl

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/quernsql/quern/planner"
)

// keywords are the SQL words completion offers, besides function names.
var keywords = []string{
	"ALL", "ANALYZE", "AND", "AS", "ASC", "BETWEEN", "BIGINT", "BOOLEAN", "BY", "CASE", "CAST",
	"CHAR", "CREATE", "DATE", "DATETIME", "DECIMAL", "DESC", "DESCRIBE", "DISTINCT", "DIV", "DOUBLE",
	"DROP", "ELSE", "END", "EXISTS", "EXPLAIN", "FALSE", "FROM", "GROUP", "HAVING", "IF", "IN",
	"INSERT", "INTERVAL", "INTO", "IS", "LIKE", "LIMIT", "MOD", "NOT", "NULL", "OFFSET", "OR",
	"ORDER", "REGEXP", "SELECT", "SET", "SHOW", "SIGNED", "TABLE", "TABLES", "THEN", "TRUE",
	"UNSIGNED", "VALUES", "VARCHAR", "WHEN", "WHERE", "XOR",
}

// tableFileExts are the extensions quern reads as tables.
var tableFileExts = map[string]bool{".csv": true, ".tsv": true, ".txt": true, ".jsonl": true, ".ndjson": true, ".parquet": true}

// maxPathCandidates bounds a directory listing offered for completion.
const maxPathCandidates = 500

// complete is the shell's tab completion: for the line being typed and the
// cursor's position in it (in runes), it returns what each candidate would
// add after the cursor and the length in runes of the word it completes.
// What is completed depends on where the cursor is:
//
//   - in the first word of a line starting with '.': a dot command, and
//     after it the command's argument (a file, a directory, a table, a mode);
//   - inside backquotes: a file path (directories end in '/', table files
//     close the quote);
//   - after FROM, JOIN, INTO, TABLE or DESCRIBE: a table name;
//   - elsewhere: a column of a table the statement mentions, a keyword, a
//     function or a table. Keywords take the case of what was typed.
func (s *shell) complete(line string, pos int) ([]string, int) {
	rs := []rune(line)
	pos = min(max(pos, 0), len(rs))
	before := string(rs[:pos])
	if s.pending == "" {
		if t := strings.TrimLeft(before, " \t"); strings.HasPrefix(t, ".") {
			return s.completeDot(t)
		}
	}
	return s.completeSQL(s.pending+before, s.pending+line)
}

// completeDot completes a dot command or its argument.
func (s *shell) completeDot(text string) ([]string, int) {
	name, arg, hasArg := strings.Cut(text[1:], " ")
	if !hasArg {
		var out []string
		for _, c := range dotCommands {
			if strings.HasPrefix(c.name, strings.ToLower(name)) {
				suffix := c.name[len(name):]
				if c.args != "" {
					suffix += " "
				}
				out = append(out, suffix)
			}
		}
		return out, utf8.RuneCountInString(name)
	}
	cmd := lookupDot(strings.ToLower(name))
	if cmd == nil {
		return nil, 0
	}
	arg = strings.TrimLeft(arg, " ")
	switch cmd.arg {
	case argFile:
		return completePath(arg, pathAny)
	case argDir:
		return completePath(arg, pathDirs)
	case argTable:
		return completeWords(arg, s.db.Tables(), "")
	case argMode:
		return completeWords(arg, formatNames[:], "")
	case argOnOff:
		return completeWords(arg, []string{"on", "off"}, "")
	case argSQL:
		return s.completeSQL(arg, arg)
	}
	return nil, 0
}

// completeSQL completes the end of stmt (the statement up to the cursor);
// whole is the statement including what follows the cursor, searched for
// the tables it mentions.
func (s *shell) completeSQL(stmt, whole string) ([]string, int) {
	quote, start := lexStateAtEnd(stmt)
	switch quote {
	case '`':
		return completePath(stmt[start+1:], pathTables)
	case 0:
	default:
		return nil, 0 // inside a string or a comment
	}
	word := trailingWord(stmt)
	rest := stmt[:len(stmt)-len(word)]
	qualified := strings.HasSuffix(rest, ".")
	prev := strings.ToUpper(trailingWord(strings.TrimRight(rest, " \t\r\n")))

	var cands []candidate
	switch {
	case !qualified && (prev == "FROM" || prev == "JOIN" || prev == "INTO" || prev == "TABLE" || prev == "DESCRIBE"):
		for _, t := range s.db.Tables() {
			cands = append(cands, candidate{t, " "})
		}
	default:
		for _, c := range s.mentionedColumns(whole) {
			cands = append(cands, candidate{c, ""})
		}
		if qualified || word == "" {
			break // after "t." only columns; on nothing typed, columns are the useful list
		}
		lower := isLower(word)
		for _, k := range keywords {
			if lower {
				k = strings.ToLower(k)
			}
			cands = append(cands, candidate{k, " "})
		}
		for _, f := range functionNames() {
			if !lower {
				f = strings.ToUpper(f)
			}
			cands = append(cands, candidate{f, "("})
		}
		for _, t := range s.db.Tables() {
			cands = append(cands, candidate{t, " "})
		}
	}
	return suffixes(word, cands)
}

type candidate struct{ text, after string }

// suffixes keeps the candidates that extend word (ignoring case: SQL names
// are case-insensitive), without repeats, and returns what each adds and
// the length of word in runes.
func suffixes(word string, cands []candidate) ([]string, int) {
	n := utf8.RuneCountInString(word)
	seen := map[string]bool{}
	var out []string
	for _, c := range cands {
		rs := []rune(c.text)
		if len(rs) < n || !strings.EqualFold(string(rs[:n]), word) {
			continue
		}
		sfx := string(rs[n:]) + c.after
		if seen[sfx] {
			continue
		}
		seen[sfx] = true
		out = append(out, sfx)
	}
	return out, n
}

func completeWords(word string, words []string, after string) ([]string, int) {
	cands := make([]candidate, len(words))
	for i, w := range words {
		cands[i] = candidate{w, after}
	}
	return suffixes(word, cands)
}

// functionNames are the scalar and aggregate functions, lower case, sorted.
func functionNames() []string {
	names := append(planner.FunctionNames(), planner.AggNames()...)
	sort.Strings(names)
	return names
}

// mentionedColumns returns the columns of the tables stmt names: registered
// tables written as words, and file paths written in backquotes.
func (s *shell) mentionedColumns(stmt string) []string {
	registered := map[string]string{}
	for _, t := range s.db.Tables() {
		registered[strings.ToLower(t)] = t
	}
	var cols []string
	seen := map[string]bool{}
	add := func(table string) {
		if seen[table] || len(seen) >= 8 {
			return
		}
		seen[table] = true
		schema, err := s.db.TableSchema(table)
		if err != nil {
			return
		}
		cols = append(cols, columnNames(schema)...)
	}
	for _, tok := range tokens(stmt) {
		switch {
		case tok.quoted && strings.ContainsAny(tok.text, "./"):
			if _, err := os.Stat(tok.text); err == nil || strings.ContainsAny(tok.text, "*?[") {
				add(tok.text)
			}
		case registered[strings.ToLower(tok.text)] != "":
			add(registered[strings.ToLower(tok.text)])
		}
	}
	sort.Strings(cols)
	return cols
}

func columnNames(schema *arrow.Schema) []string {
	names := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		names[i] = f.Name
	}
	return names
}

type token struct {
	text   string
	quoted bool // was in backquotes
}

// tokens returns the identifiers and backquoted names of src, skipping
// strings and comments.
func tokens(src string) []token {
	var out []token
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '#' || (c == '-' && strings.HasPrefix(src[i:], "--") && (i+2 == len(src) || isCommentSpace(src[i+2]))):
			i = skipLine(src, i)
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			if k := strings.Index(src[i+2:], "*/"); k >= 0 {
				i += 2 + k + 2
			} else {
				i = len(src)
			}
		case c == '\'' || c == '"':
			i = skipQuoted(src, i, c, true)
		case c == '`':
			end := skipQuoted(src, i, c, false)
			text := src[i+1 : end]
			if strings.HasSuffix(text, "`") {
				text = text[:len(text)-1]
			}
			out = append(out, token{strings.ReplaceAll(text, "``", "`"), true})
			i = end
		case isWordByte(c):
			j := i
			for j < len(src) && isWordByte(src[j]) {
				j++
			}
			out = append(out, token{src[i:j], false})
			i = j
		default:
			i++
		}
	}
	return out
}

// lexStateAtEnd tells whether the end of src is inside a quote or comment:
// it returns the opening quote (a single, double or back quote), '-' for a
// comment, or 0, and the offset where that quote or comment opened.
func lexStateAtEnd(src string) (byte, int) {
	for i := 0; i < len(src); {
		c := src[i]
		var end int
		var kind byte
		switch {
		case c == '#' || (c == '-' && strings.HasPrefix(src[i:], "--") && (i+2 == len(src) || isCommentSpace(src[i+2]))):
			end, kind = skipLine(src, i), '-'
			if end == len(src) {
				return kind, i
			}
		case c == '/' && strings.HasPrefix(src[i:], "/*"):
			k := strings.Index(src[i+2:], "*/")
			if k < 0 {
				return '-', i
			}
			end = i + 2 + k + 2
		case c == '\'' || c == '"' || c == '`':
			end = skipQuoted(src, i, c, c != '`')
			if !closedAt(src, i, end, c) {
				return c, i
			}
		default:
			end = i + 1
		}
		i = end
	}
	return 0, 0
}

// closedAt reports whether the quote opened at i and scanned to end was
// closed (skipQuoted returns len(src) for both a quote closed by the last
// byte and one never closed).
func closedAt(src string, i, end int, q byte) bool {
	if end < len(src) {
		return true
	}
	if end-i < 2 || src[end-1] != q {
		return false
	}
	// The last byte is the quote: it closes unless it is escaped by a
	// backslash (strings) or the opening quote itself.
	n := 0
	for k := end - 2; k > i && src[k] == '\\' && q != '`'; k-- {
		n++
	}
	return n%2 == 0
}

// trailingWord returns the identifier characters at the end of s.
func trailingWord(s string) string {
	i := len(s)
	for i > 0 {
		r, size := utf8.DecodeLastRuneInString(s[:i])
		if !(r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r)) {
			break
		}
		i -= size
	}
	return s[i:]
}

func isWordByte(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// isLower reports whether word has a lower-case letter and no upper-case
// one, so that keywords are offered in lower case.
func isLower(word string) bool {
	return strings.ToUpper(word) != word && strings.ToLower(word) == word
}

// pathKind says which directory entries a path completion offers.
type pathKind int

const (
	pathAny    pathKind = iota // files and directories
	pathDirs                   // directories only
	pathTables                 // directories and table files, inside backquotes
)

// completePath completes the file-system path prefix. Directories get a
// '/'; inside backquotes a table file gets the closing backquote.
func completePath(prefix string, kind pathKind) ([]string, int) {
	dir, base := "", prefix
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		dir, base = prefix[:i+1], prefix[i+1:]
	}
	list := dir
	if list == "" {
		list = "."
	}
	entries, err := os.ReadDir(expandHome(list))
	if err != nil {
		return nil, 0
	}
	var cands []candidate
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, base) || (strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		isDir := e.IsDir()
		if e.Type()&os.ModeSymlink != 0 {
			if st, err := os.Stat(filepath.Join(expandHome(list), name)); err == nil {
				isDir = st.IsDir()
			}
		}
		switch {
		case isDir:
			cands = append(cands, candidate{name, "/"})
		case kind == pathDirs:
		case kind == pathTables:
			if tableFileExts[strings.ToLower(filepath.Ext(name))] {
				cands = append(cands, candidate{name, "`"})
			}
		default:
			cands = append(cands, candidate{name, ""})
		}
		if len(cands) >= maxPathCandidates {
			break
		}
	}
	return suffixes(base, cands)
}
