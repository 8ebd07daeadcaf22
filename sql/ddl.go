package sql

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/types"

	"github.com/quernsql/quern/planner"
)

// ColumnDef is a column of an in-memory table with the rules its values
// must follow.
type ColumnDef struct {
	Name    string
	Type    planner.Type
	NotNull bool
	// Default is the value when an INSERT leaves the column out (nil: NULL).
	Default *planner.Expr
	// Min and Max bound integer columns (as declared: TINYINT, INT …).
	Min, Max int64
	// UMax bounds unsigned integer columns.
	UMax uint64
	// MaxChars bounds VARCHAR(n)/CHAR(n) columns (0: no bound).
	MaxChars int
	// Declared is the type as written, for DESCRIBE.
	Declared string
}

// CreateTable is CREATE TABLE, with columns or AS SELECT.
type CreateTable struct {
	Text        string
	Name        string
	Columns     []ColumnDef
	IfNotExists bool
	// AsSelect is the query of CREATE TABLE … AS SELECT (nil otherwise).
	AsSelect planner.Node
}

func (s *CreateTable) SQL() string { return s.Text }

// Insert is INSERT INTO t [(cols)] VALUES … or INSERT INTO t SELECT ….
type Insert struct {
	Text  string
	Table *planner.Table
	// Targets lists, for each value position, the table column it fills.
	Targets []int
	// Rows are the VALUES rows: constant expressions, one per target.
	Rows [][]*planner.Expr
	// Select is the query of INSERT … SELECT (nil otherwise).
	Select planner.Node
}

func (s *Insert) SQL() string { return s.Text }

// DropTable is DROP TABLE [IF EXISTS] t, ….
type DropTable struct {
	Text     string
	Names    []string
	IfExists bool
}

func (s *DropTable) SQL() string { return s.Text }

// ShowTables is SHOW TABLES.
type ShowTables struct{ Text string }

func (s *ShowTables) SQL() string { return s.Text }

// Describe is DESCRIBE t (also SHOW COLUMNS FROM t).
type Describe struct {
	Text  string
	Table *planner.Table
}

func (s *Describe) SQL() string { return s.Text }

func (b *binder) createTable(n *ast.CreateTableStmt, text string) (Statement, error) {
	if n.ReferTable != nil {
		return nil, b.unsupported(n, "CREATE TABLE … LIKE")
	}
	if n.Table.Schema.O != "" {
		return nil, b.unsupported(n, "database-qualified table names")
	}
	st := &CreateTable{Text: text, Name: n.Table.Name.O, IfNotExists: n.IfNotExists}
	if n.Select != nil {
		sel, ok := n.Select.(*ast.SelectStmt)
		if !ok {
			return nil, b.unsupported(n, "this CREATE TABLE … AS form")
		}
		if len(n.Cols) > 0 {
			return nil, b.unsupported(n, "column definitions with CREATE TABLE … AS SELECT")
		}
		plan, err := b.selectStmt(sel)
		if err != nil {
			return nil, err
		}
		st.AsSelect = plan
		return st, nil
	}
	seen := map[string]bool{}
	for _, c := range n.Cols {
		name := c.Name.Name.O
		if seen[strings.ToLower(name)] {
			return nil, b.errAt(c, ErrName, "duplicate column name '%s'", name)
		}
		seen[strings.ToLower(name)] = true
		def, err := b.columnDef(c)
		if err != nil {
			return nil, err
		}
		st.Columns = append(st.Columns, def)
	}
	if len(st.Columns) == 0 {
		return nil, b.errAt(n, ErrSyntax, "a table must have at least one column")
	}
	return st, nil
}

// intRanges are the value ranges of MySQL's integer types.
var intRanges = map[byte][2]int64{
	mysql.TypeTiny:     {-1 << 7, 1<<7 - 1},
	mysql.TypeShort:    {-1 << 15, 1<<15 - 1},
	mysql.TypeInt24:    {-1 << 23, 1<<23 - 1},
	mysql.TypeLong:     {-1 << 31, 1<<31 - 1},
	mysql.TypeLonglong: {-1 << 63, 1<<63 - 1},
}

func (b *binder) columnDef(c *ast.ColumnDef) (ColumnDef, error) {
	d := ColumnDef{Name: c.Name.Name.O}
	tp := c.Tp
	d.Declared = strings.ToUpper(tp.CompactStr())
	switch tp.GetType() {
	case mysql.TypeTiny, mysql.TypeShort, mysql.TypeInt24, mysql.TypeLong, mysql.TypeLonglong:
		r := intRanges[tp.GetType()]
		if mysql.HasUnsignedFlag(tp.GetFlag()) {
			d.Type = planner.Uint
			d.UMax = uint64(r[1])*2 + 1
		} else {
			d.Type = planner.Int
			d.Min, d.Max = r[0], r[1]
		}
		if tp.GetType() == mysql.TypeTiny && tp.GetFlen() == 1 && strings.HasPrefix(d.Declared, "TINYINT(1)") {
			d.Declared = "TINYINT(1)"
		}
	case mysql.TypeNewDecimal:
		p, s := tp.GetFlen(), tp.GetDecimal()
		if p <= 0 {
			p = 10
		}
		if s < 0 {
			s = 0
		}
		if p > planner.MaxDecimalPrecision {
			return d, b.unsupported(c, fmt.Sprintf("DECIMAL(%d,%d): quern holds at most %d digits", p, s, planner.MaxDecimalPrecision))
		}
		d.Type = planner.Decimal(p, s)
	case mysql.TypeDouble, mysql.TypeFloat:
		d.Type = planner.Float
	case mysql.TypeVarchar, mysql.TypeString, mysql.TypeVarString:
		d.Type = planner.String
		if tp.GetFlen() > 0 {
			d.MaxChars = tp.GetFlen()
		}
	case mysql.TypeBlob, mysql.TypeTinyBlob, mysql.TypeMediumBlob, mysql.TypeLongBlob:
		d.Type = planner.String
	case mysql.TypeDate:
		d.Type = planner.Date
	case mysql.TypeDatetime, mysql.TypeTimestamp:
		d.Type = planner.Datetime
	default:
		return d, b.unsupported(c, "column type "+strings.ToUpper(types.TypeToStr(tp.GetType(), tp.GetCharset())))
	}
	for _, o := range c.Options {
		switch o.Tp {
		case ast.ColumnOptionNotNull, ast.ColumnOptionPrimaryKey:
			d.NotNull = true
		case ast.ColumnOptionNull:
			d.NotNull = false
		case ast.ColumnOptionDefaultValue:
			x := &exprBinder{b: b, scope: &scope{}, where: "DEFAULT"}
			e, err := x.bind(o.Expr)
			if err != nil {
				return d, err
			}
			d.Default = planner.Cast(e, d.Type)
		case ast.ColumnOptionUniqKey, ast.ColumnOptionComment, ast.ColumnOptionCollate:
			// Accepted and not enforced: quern has no indexes.
		default:
			return d, b.unsupported(o, "column option")
		}
	}
	return d, nil
}

func (b *binder) insert(n *ast.InsertStmt, text string) (Statement, error) {
	if n.IsReplace {
		return nil, b.unsupported(n, "REPLACE")
	}
	if len(n.OnDuplicate) > 0 {
		return nil, b.unsupported(n, "ON DUPLICATE KEY UPDATE")
	}
	if n.Setlist {
		return nil, b.unsupported(n, "INSERT … SET")
	}
	ts, ok := n.Table.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return nil, b.unsupported(n, "this INSERT target")
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return nil, b.unsupported(n, "this INSERT target")
	}
	t, err := b.lookupTable(tn)
	if err != nil {
		return nil, err
	}
	if t.Format != planner.FormatMemory {
		return nil, b.errAt(tn, ErrType, "cannot INSERT into %s: it is a %s file, not an in-memory table", t.Name, t.Format)
	}
	st := &Insert{Text: text, Table: t}
	if len(n.Columns) == 0 {
		for i := range t.Schema {
			st.Targets = append(st.Targets, i)
		}
	} else {
		used := map[int]bool{}
		for _, c := range n.Columns {
			idx := -1
			for i, col := range t.Schema {
				if strings.EqualFold(col.Name, c.Name.O) {
					idx = i
				}
			}
			if idx < 0 {
				e := b.errAt(c, ErrName, "unknown column '%s' in field list", c.Name.O)
				if e.Line == 0 {
					e.Line, e.Col = b.findWord(c.Name.O)
				}
				names := make([]string, len(t.Schema))
				for i, col := range t.Schema {
					names[i] = col.Name
				}
				if s := nearest(c.Name.O, names); s != "" {
					e.Hint = fmt.Sprintf("did you mean '%s'?", s)
				}
				return nil, e
			}
			if used[idx] {
				return nil, b.errAt(c, ErrName, "column '%s' specified twice", c.Name.O)
			}
			used[idx] = true
			st.Targets = append(st.Targets, idx)
		}
	}
	if n.Select != nil {
		sel, ok := n.Select.(*ast.SelectStmt)
		if !ok {
			return nil, b.unsupported(n, "this INSERT … SELECT form")
		}
		plan, err := b.selectStmt(sel)
		if err != nil {
			return nil, err
		}
		if len(plan.Schema()) != len(st.Targets) {
			return nil, b.errAt(n, ErrType, "column count doesn't match value count: %d columns, the SELECT gives %d", len(st.Targets), len(plan.Schema()))
		}
		st.Select = plan
		return st, nil
	}
	x := &exprBinder{b: b, scope: &scope{}, where: "VALUES"}
	for i, row := range n.Lists {
		if len(row) != len(st.Targets) {
			return nil, b.errAt(n, ErrType, "column count doesn't match value count at row %d", i+1)
		}
		vals := make([]*planner.Expr, len(row))
		for j, v := range row {
			if _, isDefault := v.(*ast.DefaultExpr); isDefault {
				vals[j] = nil
				continue
			}
			e, err := x.bind(v)
			if err != nil {
				return nil, err
			}
			vals[j] = e
		}
		st.Rows = append(st.Rows, vals)
	}
	return st, nil
}

func (b *binder) lookupTable(tn *ast.TableName) (*planner.Table, error) {
	name := tn.Name.O
	if tn.Schema.O != "" {
		name = tn.Schema.O + "." + name
	}
	t, err := b.s.Catalog.Table(name)
	if err != nil {
		e := b.errAt(tn, ErrName, "%s", err.Error())
		if _, ok := err.(*noTableError); ok {
			if s := nearest(name, b.s.Catalog.TableNames()); s != "" {
				e.Hint = fmt.Sprintf("did you mean %s?", s)
			}
			return nil, e
		}
		return nil, err
	}
	return t, nil
}

func (b *binder) dropTable(n *ast.DropTableStmt, text string) (Statement, error) {
	if n.IsView {
		return nil, b.unsupported(n, "DROP VIEW")
	}
	st := &DropTable{Text: text, IfExists: n.IfExists}
	for _, t := range n.Tables {
		st.Names = append(st.Names, t.Name.O)
	}
	return st, nil
}

func (b *binder) show(n *ast.ShowStmt, text string) (Statement, error) {
	switch n.Tp {
	case ast.ShowTables:
		return &ShowTables{Text: text}, nil
	case ast.ShowColumns:
		t, err := b.lookupTable(n.Table)
		if err != nil {
			return nil, err
		}
		return &Describe{Text: text, Table: t}, nil
	}
	return nil, b.unsupported(n, "this SHOW statement")
}
