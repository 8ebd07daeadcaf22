package quern

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/quernsql/quern/exec/csvscan"
	"github.com/quernsql/quern/exec/jsonscan"
	"github.com/quernsql/quern/exec/parquetscan"
	"github.com/quernsql/quern/planner"
	"github.com/quernsql/quern/sql"
)

// catalog knows the registered tables and reads file tables on demand.
// Sniffed file schemas are cached by path, size and modification time.
type catalog struct {
	mu     sync.Mutex
	tables map[string]*planner.Table // by lower-case name
	files  map[string]cachedFile
}

type cachedFile struct {
	size, mtime int64
	table       *planner.Table
}

func newCatalog() *catalog {
	return &catalog{tables: map[string]*planner.Table{}, files: map[string]cachedFile{}}
}

func (c *catalog) register(name string, t *planner.Table) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t.Name = name
	c.tables[strings.ToLower(name)] = t
}

func (c *catalog) drop(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.tables[strings.ToLower(name)]
	delete(c.tables, strings.ToLower(name))
	return ok
}

func (c *catalog) TableNames() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.tables))
	for _, t := range c.tables {
		out = append(out, t.Name)
	}
	sort.Strings(out)
	return out
}

// looksLikePath tells a file table name (`data/x.csv`, `*.txt`) from a
// registered table name.
func looksLikePath(name string) bool {
	return strings.ContainsAny(name, "/.*?[\\")
}

func (c *catalog) Table(name string) (*planner.Table, error) {
	c.mu.Lock()
	t, ok := c.tables[strings.ToLower(name)]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	if !looksLikePath(name) {
		return nil, sql.NoTable("unknown table '%s'", name)
	}
	return c.fileTable(name)
}

// formatOf maps a file name's extension to its format.
func formatOf(path string) (planner.Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".txt":
		return planner.FormatText, nil
	case ".csv", ".tsv":
		return planner.FormatCSV, nil
	case ".jsonl", ".ndjson":
		return planner.FormatJSONL, nil
	case ".parquet":
		return planner.FormatParquet, nil
	}
	return "", fmt.Errorf("%s: unknown file type %q (quern reads .csv, .tsv, .txt, .jsonl, .ndjson and .parquet)", path, filepath.Ext(path))
}

// fileTable reads the table named by a path or glob. Every file of a glob
// must have the same format and columns.
func (c *catalog) fileTable(pattern string) (*planner.Table, error) {
	if _, err := formatOf(pattern); err != nil {
		return nil, err
	}
	paths, err := expand(pattern)
	if err != nil {
		return nil, err
	}
	var t *planner.Table
	for _, p := range paths {
		ft, err := c.file(p)
		if err != nil {
			return nil, err
		}
		if t == nil {
			cp := *ft
			cp.Name = pattern
			cp.Files = append([]planner.File(nil), ft.Files...)
			t = &cp
			continue
		}
		if ft.Format != t.Format || !sameColumns(ft.Schema, t.Schema) {
			return nil, fmt.Errorf("%s: its columns (%s) differ from those of %s (%s); the files of a glob must share a schema",
				p, columnList(ft.Schema), t.Files[0].Path, columnList(t.Schema))
		}
		t.Files = append(t.Files, ft.Files...)
		t.Unsplittable = t.Unsplittable || ft.Unsplittable
	}
	return t, nil
}

func expand(pattern string) ([]string, error) {
	if !strings.ContainsAny(pattern, "*?[") {
		st, err := os.Stat(pattern)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, sql.NoTable("%s: no such file", pattern)
			}
			return nil, fmt.Errorf("%s: %w", pattern, err)
		}
		if st.IsDir() {
			return nil, fmt.Errorf("%s: is a directory, not a table file", pattern)
		}
		return []string{pattern}, nil
	}
	paths, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: bad glob pattern: %w", pattern, err)
	}
	var files []string
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			files = append(files, p)
		}
	}
	if len(files) == 0 {
		return nil, sql.NoTable("%s: no files match", pattern)
	}
	sort.Strings(files)
	return files, nil
}

func sameColumns(a, b planner.Schema) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			return false
		}
	}
	return true
}

func columnList(s planner.Schema) string {
	names := make([]string, len(s))
	for i, c := range s {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// file reads one file's schema (cached while the file is unchanged).
func (c *catalog) file(path string) (*planner.Table, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.mu.Lock()
	if cf, ok := c.files[path]; ok && cf.size == st.Size() && cf.mtime == st.ModTime().UnixNano() {
		c.mu.Unlock()
		return cf.table, nil
	}
	c.mu.Unlock()
	t, err := sniffFile(path, st.Size())
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.files[path] = cachedFile{size: st.Size(), mtime: st.ModTime().UnixNano(), table: t}
	c.mu.Unlock()
	return t, nil
}

func sniffFile(path string, size int64) (*planner.Table, error) {
	format, err := formatOf(path)
	if err != nil {
		return nil, err
	}
	t := &planner.Table{Name: path, Format: format, Files: []planner.File{{Path: path, Size: size}}}
	switch format {
	case planner.FormatText:
		t.Schema = planner.Schema{{Name: "word", Type: planner.String}}
	case planner.FormatCSV:
		f, err := csvscan.Sniff(path)
		if err != nil {
			return nil, err
		}
		if t.Schema, err = planner.SchemaFromArrow(f.Schema()); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		t.Unsplittable = f.MultilineQuotes
		if t.Options, err = json.Marshal(f); err != nil {
			return nil, err
		}
	case planner.FormatJSONL:
		f, err := jsonscan.Sniff(path)
		if err != nil {
			return nil, err
		}
		if t.Schema, err = planner.SchemaFromArrow(f.Schema()); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if t.Options, err = json.Marshal(f); err != nil {
			return nil, err
		}
	case planner.FormatParquet:
		info, err := parquetscan.Inspect(path)
		if err != nil {
			return nil, err
		}
		if t.Schema, err = planner.SchemaFromArrow(info.Schema()); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, g := range info.RowGroups {
			t.Files[0].RowGroups = append(t.Files[0].RowGroups, g.NumRows)
		}
	}
	return t, nil
}

// registerDir names each table file in dir by its stem (`--data DIR`).
func (c *catalog) registerDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("--data %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if _, err := formatOf(p); err != nil {
			continue
		}
		t, err := c.file(p)
		if err != nil {
			return err
		}
		cp := *t
		c.register(strings.TrimSuffix(e.Name(), filepath.Ext(e.Name())), &cp)
	}
	return nil
}
