package sql

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // literal values for the parser

	"github.com/quernsql/quern/planner"
)

// Catalog resolves table names for the binder.
type Catalog interface {
	// Table returns the table registered under name, or, when name looks
	// like a file path or glob, the table read from those files. It returns
	// an error wrapping ErrNoTable when there is no such table.
	Table(name string) (*planner.Table, error)
	// TableNames lists the registered names (for suggestions).
	TableNames() []string
}

// ErrNoTable is matched (errors.Is) by Catalog.Table's error when a name
// is unknown; NoTable makes such an error.
var ErrNoTable = errors.New("no such table")

// NoTable returns an error with the given message that matches ErrNoTable.
func NoTable(format string, args ...any) error {
	return &noTableError{msg: fmt.Sprintf(format, args...)}
}

type noTableError struct{ msg string }

func (e *noTableError) Error() string        { return e.msg }
func (e *noTableError) Is(target error) bool { return target == ErrNoTable }

// Statement is a bound statement ready to run.
type Statement interface {
	// SQL is the statement's text.
	SQL() string
}

// ExplainMode says whether a query is run, explained, or run and explained.
type ExplainMode int

const (
	ExplainNone ExplainMode = iota
	ExplainPlan
	ExplainAnalyze
)

// Query is a SELECT (possibly under EXPLAIN): a logical plan whose first
// Width columns are what the client sees.
type Query struct {
	Text    string
	Plan    planner.Node
	Explain ExplainMode
}

func (q *Query) SQL() string { return q.Text }

// SetVariable is a SET statement; quern accepts the ones scripts commonly
// send and keeps the session's sql_mode.
type SetVariable struct {
	Text  string
	Name  string
	Value string
}

func (s *SetVariable) SQL() string { return s.Text }

// Session binds statements against a catalog. A session owns its parser (a
// TiDB parser is not safe for concurrent use) and its variables; it is not
// safe for concurrent use itself.
type Session struct {
	Catalog Catalog
	parser  *parser.Parser
	// SQLMode is the session's sql_mode, as MySQL 8 sets it by default.
	SQLMode string
	// DivPrecisionIncrement is the session's div_precision_increment: the
	// digits of scale that / and AVG add to an exact dividend (MySQL's
	// default, 4, unless SET).
	DivPrecisionIncrement int
}

// DefaultSQLMode is MySQL 8's default sql_mode.
const DefaultSQLMode = "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"

// NewSession returns a session over cat.
func NewSession(cat Catalog) *Session {
	return &Session{Catalog: cat, parser: parser.New(), SQLMode: DefaultSQLMode, DivPrecisionIncrement: planner.DivPrecisionIncrement}
}

func (s *Session) onlyFullGroupBy() bool {
	return strings.Contains(strings.ToUpper(s.SQLMode), "ONLY_FULL_GROUP_BY")
}

// Parse parses one or more statements separated by ';' and returns their
// texts without binding them, so that a caller can bind (and run) one at a
// time: a statement may depend on what an earlier one created.
func (s *Session) Parse(src string) ([]string, error) {
	stmts, err := s.parse(src)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(stmts))
	for i, st := range stmts {
		out[i] = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(st.Text()), ";"))
	}
	return out, nil
}

// Bind parses and binds exactly one statement.
func (s *Session) Bind(src string) (Statement, error) {
	stmts, err := s.parse(src)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, &Error{Kind: ErrSyntax, Msg: fmt.Sprintf("expected one statement, got %d", len(stmts))}
	}
	b := &binder{s: s, src: src}
	return b.statement(stmts[0])
}

// parse runs TiDB's parser; the literal driver it uses panics on a few
// inputs (decimal literals of more than 81 digits), which become errors.
func (s *Session) parse(src string) (stmts []ast.StmtNode, err error) {
	defer func() {
		if r := recover(); r != nil {
			stmts = nil
			err = &Error{Kind: ErrSyntax, Msg: "syntax error: a number literal is too long or malformed"}
			s.parser = parser.New() // its state is unknown after a panic
		}
	}()
	stmts, _, err = s.parser.ParseSQL(src)
	if err != nil {
		// A reserved word used as an alias after AS (`count(*) AS groups`,
		// which other engines accept) is read as the alias it must be.
		if fixed, ok := quoteAlias(src, err); ok {
			if st, _, err2 := s.parser.ParseSQL(fixed); err2 == nil {
				return st, nil
			}
		}
		return nil, syntaxError(src, err)
	}
	return stmts, nil
}

var aliasWord = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*`)

// quoteAlias backquotes the word the parser choked on when it follows AS.
func quoteAlias(src string, err error) (string, bool) {
	m := tidbSyntax.FindStringSubmatch(err.Error())
	if m == nil || m[3] == "" {
		return "", false
	}
	at := strings.LastIndex(src, m[3])
	if at < 0 {
		return "", false
	}
	word := aliasWord.FindString(src[at:])
	before := strings.TrimRight(src[:at], " \t\r\n")
	if word == "" || len(before) < 3 || !strings.EqualFold(before[len(before)-2:], "as") ||
		strings.ContainsAny(before[len(before)-3:len(before)-2], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") {
		return "", false
	}
	return src[:at] + "`" + word + "`" + src[at+len(word):], true
}

type binder struct {
	s   *Session
	src string
	// ctes are the WITH names in scope.
	ctes map[string]cte
	// outer is the enclosing query's scope when binding a subquery; its
	// first outerDirect columns are the immediately enclosing query's, which
	// a correlated reference may name.
	outer       *scope
	outerDirect int
}

func (b *binder) errAt(n ast.Node, kind ErrorKind, format string, args ...any) *Error {
	e := &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		off := n.OriginTextPosition()
		if off == 0 {
			// Only expressions carry positions; find other nodes by their text.
			off = b.locate(n)
		} else if c, ok := n.(*ast.ColumnNameExpr); ok && off < len(b.src) {
			// The parser may point a little before a column's name.
			name := strings.ToLower(c.Name.Name.O)
			if i := strings.Index(asciiLower(b.src[off:]), name); i >= 0 && i < 8 {
				off += i
			}
		}
		e.Line, e.Col = position(b.src, off)
	}
	return e
}

// locate finds a node's text in the statement (case-insensitively), or 0.
func (b *binder) locate(n ast.Node) int {
	text := restore(n)
	if j, ok := n.(*ast.Join); ok && j.Right != nil {
		text = restore(j.Right)
		if i := strings.Index(asciiLower(b.src), "join"); i >= 0 {
			return i
		}
	}
	if text == "" {
		return 0
	}
	i := strings.Index(asciiLower(b.src), asciiLower(text))
	if i < 0 {
		return 0
	}
	if i > 0 && b.src[i-1] == '`' {
		i--
	}
	return i
}

func (b *binder) unsupported(n ast.Node, what string) *Error {
	return b.errAt(n, ErrUnsupported, "not supported: %s", what)
}

func (b *binder) statement(st ast.StmtNode) (Statement, error) {
	text := strings.TrimSpace(st.Text())
	switch n := st.(type) {
	case *ast.SelectStmt:
		plan, err := b.selectStmt(n)
		if err != nil {
			return nil, err
		}
		return &Query{Text: text, Plan: plan}, nil
	case *ast.ExplainStmt:
		if show, ok := n.Stmt.(*ast.ShowStmt); ok {
			return b.show(show, text)
		}
		switch n.Stmt.(type) {
		case *ast.SelectStmt, *ast.SetOprStmt:
		default:
			return nil, b.unsupported(n, "EXPLAIN of this statement")
		}
		plan, err := b.query(n.Stmt, nil)
		if err != nil {
			return nil, err
		}
		mode := ExplainPlan
		if n.Analyze {
			mode = ExplainAnalyze
		}
		return &Query{Text: text, Plan: plan, Explain: mode}, nil
	case *ast.SetStmt:
		return b.setStmt(n, text)
	case *ast.CreateTableStmt:
		return b.createTable(n, text)
	case *ast.InsertStmt:
		return b.insert(n, text)
	case *ast.DropTableStmt:
		return b.dropTable(n, text)
	case *ast.ShowStmt:
		return b.show(n, text)
	case *ast.SetOprStmt:
		plan, err := b.setOpr(n)
		if err != nil {
			return nil, err
		}
		return &Query{Text: text, Plan: plan}, nil
	}
	return nil, b.unsupported(st, statementName(st))
}

func statementName(st ast.StmtNode) string {
	name := fmt.Sprintf("%T", st)
	name = strings.TrimPrefix(name, "*ast.")
	name = strings.TrimSuffix(name, "Stmt")
	return strings.ToUpper(name) + " statement"
}

func (b *binder) setStmt(n *ast.SetStmt, text string) (Statement, error) {
	if len(n.Variables) != 1 {
		return nil, b.unsupported(n, "SET of several variables")
	}
	v := n.Variables[0]
	name := strings.ToLower(v.Name)
	switch name {
	case "sql_mode":
		mode, err := b.sqlModeValue(v.Value)
		if err != nil {
			return nil, err
		}
		b.s.SQLMode = mode
		return &SetVariable{Text: text, Name: name, Value: mode}, nil
	case "div_precision_increment":
		num, ok := signedInt(v.Value)
		if !ok || num < 0 || num > planner.MaxDecimalScale {
			return nil, b.errAt(n, ErrType, "SET div_precision_increment takes a number of digits from 0 to %d", planner.MaxDecimalScale)
		}
		b.s.DivPrecisionIncrement = int(num)
		return &SetVariable{Text: text, Name: name, Value: fmt.Sprint(num)}, nil
	case "broadcast_join_bytes":
		num, ok := signedInt(v.Value)
		if !ok {
			return nil, b.errAt(n, ErrType, "SET broadcast_join_bytes takes a number of bytes (0: always broadcast, -1: never)")
		}
		return &SetVariable{Text: text, Name: name, Value: fmt.Sprint(num)}, nil
	case "memory_limit":
		// A size ('2GB', 512MB as a string, or bytes); 0 or -1 lifts the limit.
		if num, ok := signedInt(v.Value); ok {
			return &SetVariable{Text: text, Name: name, Value: fmt.Sprint(max(num, -1))}, nil
		}
		if str, ok := stringLiteral(v.Value); ok {
			switch strings.ToLower(strings.TrimSpace(str)) {
			case "-1", "none", "unlimited":
				return &SetVariable{Text: text, Name: name, Value: "-1"}, nil
			}
			if num, err := planner.ParseBytes(str); err == nil {
				return &SetVariable{Text: text, Name: name, Value: fmt.Sprint(num)}, nil
			}
		}
		return nil, b.errAt(n, ErrType, "SET memory_limit takes a size such as '2GB' or '512MB' (-1: no limit)")
	case "query_timeout", "max_execution_time":
		// A duration ('30s', '5m') or, as MySQL's max_execution_time, a
		// number of milliseconds; 0 lifts the limit.
		if ms, ok := signedInt(v.Value); ok && ms >= 0 {
			return &SetVariable{Text: text, Name: "query_timeout", Value: (time.Duration(ms) * time.Millisecond).String()}, nil
		}
		if str, ok := stringLiteral(v.Value); ok {
			if d, err := time.ParseDuration(strings.TrimSpace(str)); err == nil && d >= 0 {
				return &SetVariable{Text: text, Name: "query_timeout", Value: d.String()}, nil
			}
		}
		return nil, b.errAt(n, ErrType, "SET query_timeout takes a duration such as '30s' or '5m', or milliseconds (0: no limit)")
	case "csv_ignore_errors":
		// 1/ON: CSV tables skip malformed rows and count them.
		if num, ok := signedInt(v.Value); ok && (num == 0 || num == 1) {
			return &SetVariable{Text: text, Name: name, Value: fmt.Sprint(num)}, nil
		}
		if str, ok := stringLiteral(v.Value); ok {
			switch strings.ToLower(str) {
			case "on", "true":
				return &SetVariable{Text: text, Name: name, Value: "1"}, nil
			case "off", "false":
				return &SetVariable{Text: text, Name: name, Value: "0"}, nil
			}
		}
		if c, ok := v.Value.(*ast.ColumnNameExpr); ok {
			switch c.Name.Name.L {
			case "on", "true":
				return &SetVariable{Text: text, Name: name, Value: "1"}, nil
			case "off", "false":
				return &SetVariable{Text: text, Name: name, Value: "0"}, nil
			}
		}
		return nil, b.errAt(n, ErrType, "SET csv_ignore_errors takes 1 or 0 (ON or OFF)")
	case "max_result_rows":
		if rows, ok := signedInt(v.Value); ok && rows >= 0 {
			return &SetVariable{Text: text, Name: name, Value: fmt.Sprint(rows)}, nil
		}
		return nil, b.errAt(n, ErrType, "SET max_result_rows takes a number of rows (0: no limit)")
	case "names", "character_set_client", "character_set_results", "character_set_connection", "autocommit", "time_zone":
		return &SetVariable{Text: text, Name: name}, nil
	}
	return nil, b.unsupported(n, "SET "+v.Name)
}

// sqlModeValue evaluates the forms scripts send: a string literal, or
// REPLACE(@@sql_mode, 'X', ”) possibly wrapped in a scalar subquery.
func (b *binder) sqlModeValue(e ast.ExprNode) (string, error) {
	switch n := e.(type) {
	case *ast.SubqueryExpr:
		if sel, ok := n.Query.(*ast.SelectStmt); ok && sel.From == nil && sel.Fields != nil && len(sel.Fields.Fields) == 1 {
			return b.sqlModeValue(sel.Fields.Fields[0].Expr)
		}
	case *ast.VariableExpr:
		if strings.EqualFold(n.Name, "sql_mode") {
			return b.s.SQLMode, nil
		}
	case *ast.FuncCallExpr:
		if n.FnName.L == "replace" && len(n.Args) == 3 {
			base, err := b.sqlModeValue(n.Args[0])
			if err != nil {
				return "", err
			}
			from, ok1 := stringLiteral(n.Args[1])
			to, ok2 := stringLiteral(n.Args[2])
			if ok1 && ok2 {
				return strings.ReplaceAll(base, from, to), nil
			}
		}
	default:
		if s, ok := stringLiteral(e); ok {
			return s, nil
		}
	}
	return "", b.unsupported(e, "this form of SET sql_mode")
}

// signedInt reads an integer literal, with a leading minus if any.
func signedInt(e ast.ExprNode) (int64, bool) {
	neg := false
	if u, ok := e.(*ast.UnaryOperationExpr); ok && u.Op == opcode.Minus {
		e, neg = u.V, true
	}
	v, ok := intLiteral(e)
	if neg {
		v = -v
	}
	return v, ok
}
