package planner

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Format names a table's storage.
type Format string

const (
	FormatCSV     Format = "csv"
	FormatText    Format = "text"
	FormatJSONL   Format = "jsonl"
	FormatParquet Format = "parquet"
	FormatMemory  Format = "memory"
)

// File is one input file of a table with what split planning needs to know.
type File struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	// RowGroups holds the row count of each Parquet row group.
	RowGroups []int64 `json:"row_groups,omitempty"`
}

// Table is a bound table: where its rows come from and their schema.
type Table struct {
	Name   string `json:"name"`
	Format Format `json:"format"`
	Files  []File `json:"files,omitempty"`
	Schema Schema `json:"schema"`
	// Options holds the reader's own settings (delimiter, inferred types …),
	// opaque to the planner.
	Options json.RawMessage `json:"options,omitempty"`
	// Unsplittable files are read whole by one task each (a CSV file whose
	// quoted fields span lines, a compressed file).
	Unsplittable bool `json:"unsplittable,omitempty"`
	// MemID names an in-memory table held by the engine; MemRows is its size.
	MemID   string `json:"mem_id,omitempty"`
	MemRows int64  `json:"mem_rows,omitempty"`
}

// Bytes is the table's total input size.
func (t *Table) Bytes() int64 {
	var n int64
	for _, f := range t.Files {
		n += f.Size
	}
	return n
}

// Node is a logical plan node. Nodes are immutable values; rewrites build
// new trees.
type Node interface {
	Schema() Schema
	Children() []Node
	// WithChildren returns a copy of the node over new children.
	WithChildren(children []Node) Node
	// Describe prints the node alone, for EXPLAIN.
	Describe() string
}

// Scan reads Columns (indexes into Table.Schema) of a table and keeps the
// rows where Filter (over the scanned columns) is true.
type Scan struct {
	Table   *Table
	Columns []int
	Filter  *Expr
}

// Filter keeps the rows where Cond is true.
type Filter struct {
	Input Node
	Cond  *Expr
}

// Project computes Exprs over its input.
type Project struct {
	Input Node
	Exprs []*Expr
	Names []string
}

// Aggregate groups by Groups and computes Aggs; its output is the group
// columns followed by the aggregates.
type Aggregate struct {
	Input  Node
	Groups []*Expr
	Names  []string // names of the group columns
	Aggs   []AggCall
}

// SortKey orders by one column of the input.
type SortKey struct {
	Col  int  `json:"col"`
	Desc bool `json:"desc,omitempty"`
}

// Sort orders its input. NULLs sort first ascending and last descending,
// as MySQL orders them.
type Sort struct {
	Input Node
	Keys  []SortKey
}

// Limit skips Offset rows and keeps at most Count (Count < 0: all).
type Limit struct {
	Input  Node
	Offset int64
	Count  int64
}

// Values produces literal rows (SELECT without FROM is one empty row).
type Values struct {
	Cols Schema
	Rows [][]*Expr
}

func (n *Scan) Schema() Schema {
	s := make(Schema, len(n.Columns))
	for i, c := range n.Columns {
		s[i] = n.Table.Schema[c]
	}
	return s
}
func (n *Filter) Schema() Schema { return n.Input.Schema() }
func (n *Project) Schema() Schema {
	s := make(Schema, len(n.Exprs))
	for i, e := range n.Exprs {
		s[i] = Column{Name: n.Names[i], Type: e.Type}
	}
	return s
}
func (n *Aggregate) Schema() Schema {
	s := make(Schema, 0, len(n.Groups)+len(n.Aggs))
	for i, g := range n.Groups {
		s = append(s, Column{Name: n.Names[i], Type: g.Type})
	}
	for _, a := range n.Aggs {
		s = append(s, Column{Name: a.Name, Type: a.Type})
	}
	return s
}
func (n *Sort) Schema() Schema   { return n.Input.Schema() }
func (n *Limit) Schema() Schema  { return n.Input.Schema() }
func (n *Values) Schema() Schema { return n.Cols }

func (n *Scan) Children() []Node      { return nil }
func (n *Filter) Children() []Node    { return []Node{n.Input} }
func (n *Project) Children() []Node   { return []Node{n.Input} }
func (n *Aggregate) Children() []Node { return []Node{n.Input} }
func (n *Sort) Children() []Node      { return []Node{n.Input} }
func (n *Limit) Children() []Node     { return []Node{n.Input} }
func (n *Values) Children() []Node    { return nil }

func (n *Scan) WithChildren([]Node) Node { c := *n; return &c }
func (n *Filter) WithChildren(ch []Node) Node {
	c := *n
	c.Input = ch[0]
	return &c
}
func (n *Project) WithChildren(ch []Node) Node {
	c := *n
	c.Input = ch[0]
	return &c
}
func (n *Aggregate) WithChildren(ch []Node) Node {
	c := *n
	c.Input = ch[0]
	return &c
}
func (n *Sort) WithChildren(ch []Node) Node {
	c := *n
	c.Input = ch[0]
	return &c
}
func (n *Limit) WithChildren(ch []Node) Node {
	c := *n
	c.Input = ch[0]
	return &c
}
func (n *Values) WithChildren([]Node) Node { c := *n; return &c }

func (n *Scan) Describe() string {
	s := "Scan " + n.Table.Name + " [" + n.Table.Schema.names(n.Columns) + "]"
	if n.Filter != nil {
		s += " filter " + n.Filter.String()
	}
	return s
}
func (n *Filter) Describe() string { return "Filter " + n.Cond.String() }
func (n *Project) Describe() string {
	return "Project " + exprList(n.Exprs, n.Names)
}
func (n *Aggregate) Describe() string {
	parts := make([]string, len(n.Aggs))
	for i, a := range n.Aggs {
		parts[i] = a.String()
	}
	return "Aggregate group by [" + exprList(n.Groups, nil) + "] compute [" + strings.Join(parts, ", ") + "]"
}
func (n *Sort) Describe() string  { return "Sort " + sortKeys(n.Keys, n.Input.Schema()) }
func (n *Limit) Describe() string { return "Limit " + limitString(n.Offset, n.Count) }
func (n *Values) Describe() string {
	return "Values " + itoa(len(n.Rows)) + " row(s)"
}

// FormatPlan prints a logical plan as an indented tree.
func FormatPlan(n Node) string {
	var b strings.Builder
	var walk func(Node, int)
	walk = func(n Node, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(n.Describe())
		b.WriteByte('\n')
		for _, c := range n.Children() {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

func (s Schema) names(cols []int) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = s[c].Name
	}
	return strings.Join(parts, ", ")
}

func exprList(es []*Expr, names []string) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
		if names != nil && names[i] != "" && names[i] != parts[i] {
			parts[i] += " AS " + names[i]
		}
	}
	return strings.Join(parts, ", ")
}

func sortKeys(keys []SortKey, s Schema) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		name := "#" + itoa(k.Col)
		if k.Col < len(s) {
			name = s[k.Col].Name
		}
		if k.Desc {
			name += " DESC"
		}
		parts[i] = name
	}
	return strings.Join(parts, ", ")
}

func limitString(off, n int64) string {
	s := ""
	if n >= 0 {
		s = itoa(int(n))
	} else {
		s = "all"
	}
	if off > 0 {
		s += " offset " + itoa(int(off))
	}
	return s
}

func itoa(i int) string { return strconv.Itoa(i) }

func upper(s string) string { return strings.ToUpper(s) }

// JoinKind is the kind of a join; RIGHT joins are bound as LEFT joins with
// the inputs swapped.
type JoinKind string

const (
	JoinInner JoinKind = "inner"
	JoinLeft  JoinKind = "left"
)

// Join pairs the rows of Left and Right. LeftKeys[i] = RightKeys[i] (plain
// columns of each side, the same type) are the equi-join keys; Cond, over
// the output (Left's columns then Right's), must hold too. An inner join
// without keys is a cross join filtered by Cond.
type Join struct {
	Left, Right         Node
	Kind                JoinKind
	LeftKeys, RightKeys []*Expr
	Cond                *Expr
}

func (n *Join) Schema() Schema {
	return append(append(Schema(nil), n.Left.Schema()...), n.Right.Schema()...)
}
func (n *Join) Children() []Node { return []Node{n.Left, n.Right} }
func (n *Join) WithChildren(ch []Node) Node {
	c := *n
	c.Left, c.Right = ch[0], ch[1]
	return &c
}
func (n *Join) Describe() string {
	s := strings.ToUpper(string(n.Kind)) + " Join"
	for i := range n.LeftKeys {
		if i == 0 {
			s += " on "
		} else {
			s += " and "
		}
		s += n.LeftKeys[i].String() + " = " + n.RightKeys[i].String()
	}
	if n.Cond != nil {
		s += " where " + n.Cond.String()
	}
	return s
}

// Union is UNION ALL of two inputs with the same column types.
type Union struct {
	Left, Right Node
}

func (n *Union) Schema() Schema   { return n.Left.Schema() }
func (n *Union) Children() []Node { return []Node{n.Left, n.Right} }
func (n *Union) WithChildren(ch []Node) Node {
	return &Union{Left: ch[0], Right: ch[1]}
}
func (n *Union) Describe() string { return "Union all" }

// RewriteExprs returns n with f applied to every expression of every node
// (Rewrite order within each expression), children first.
func RewriteExprs(n Node, f func(*Expr) (*Expr, error)) (Node, error) {
	ch := n.Children()
	if len(ch) > 0 {
		nc := make([]Node, len(ch))
		for i, c := range ch {
			r, err := RewriteExprs(c, f)
			if err != nil {
				return nil, err
			}
			nc[i] = r
		}
		n = n.WithChildren(nc)
	}
	one := func(e *Expr) (*Expr, error) { return e.Rewrite(f) }
	many := func(es []*Expr) ([]*Expr, error) {
		out := make([]*Expr, len(es))
		for i, e := range es {
			r, err := one(e)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	var err error
	switch x := n.(type) {
	case *Scan:
		c := *x
		c.Filter, err = one(x.Filter)
		return &c, err
	case *Filter:
		c := *x
		c.Cond, err = one(x.Cond)
		return &c, err
	case *Project:
		c := *x
		c.Exprs, err = many(x.Exprs)
		return &c, err
	case *Aggregate:
		c := *x
		if c.Groups, err = many(x.Groups); err != nil {
			return nil, err
		}
		c.Aggs = make([]AggCall, len(x.Aggs))
		for i, a := range x.Aggs {
			if a.Args, err = many(a.Args); err != nil {
				return nil, err
			}
			c.Aggs[i] = a
		}
		return &c, nil
	case *Join:
		c := *x
		c.Cond, err = one(x.Cond)
		return &c, err
	case *Values:
		c := *x
		c.Rows = make([][]*Expr, len(x.Rows))
		for i, r := range x.Rows {
			if c.Rows[i], err = many(r); err != nil {
				return nil, err
			}
		}
		return &c, nil
	}
	return n, nil
}
