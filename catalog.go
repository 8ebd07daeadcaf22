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

	"github.com/quernsql/quern/exec/compressed"
	"github.com/quernsql/quern/exec/csvscan"
	"github.com/quernsql/quern/exec/jsonscan"
	"github.com/quernsql/quern/exec/parquetscan"
	"github.com/quernsql/quern/internal/sandbox"
	"github.com/quernsql/quern/planner"
	"github.com/quernsql/quern/sql"
)

// catalog knows the registered tables and reads file tables on demand.
// Sniffed file schemas are cached by path, size and modification time.
type catalog struct {
	mu     sync.Mutex
	tables map[string]*planner.Table // by lower-case name
	files  map[fileKey]cachedFile
	access *sandbox.Dirs // the files it may read (nil: any; sandbox.go)
	opts   fileOptions   // the session's reading settings (SET csv_ignore_errors)
}

// fileKey names a sniffed file: its path and the options it was read with.
type fileKey struct {
	path string
	opts fileOptions
}

// fileOptions are the settings a file table is sniffed and read with.
type fileOptions struct {
	// csvIgnoreErrors sniffs and reads CSV files skipping malformed rows
	// (csvscan.SniffOptions.IgnoreErrors, Format.IgnoreErrors).
	csvIgnoreErrors bool
}

type cachedFile struct {
	size, mtime int64
	table       *planner.Table
}

func newCatalog() *catalog {
	return &catalog{tables: map[string]*planner.Table{}, files: map[fileKey]cachedFile{}}
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
	opts := c.options()
	if ok {
		if opts.csvIgnoreErrors {
			return csvIgnoringErrors(t)
		}
		return t, nil
	}
	if !looksLikePath(name) {
		return nil, sql.NoTable("unknown table '%s'", name)
	}
	return c.fileTableWith(name, opts)
}

func (c *catalog) options() fileOptions {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opts
}

// setIgnoreErrors is SET csv_ignore_errors: CSV tables read from then on
// skip malformed rows and count them instead of failing.
func (c *catalog) setIgnoreErrors(on bool) {
	c.mu.Lock()
	c.opts.csvIgnoreErrors = on
	c.mu.Unlock()
}

// formatOf maps a file name's extension to its format. A .gz or .zst
// suffix is the compression, and the extension before it the format.
func formatOf(path string) (planner.Format, error) {
	ext := filepath.Ext(compressed.Strip(path))
	switch strings.ToLower(ext) {
	case ".txt":
		return planner.FormatText, nil
	case ".csv", ".tsv":
		return planner.FormatCSV, nil
	case ".jsonl", ".ndjson":
		return planner.FormatJSONL, nil
	case ".parquet":
		if compressed.Of(path) != compressed.None {
			return "", fmt.Errorf("%s: a compressed Parquet file is not read (Parquet compresses its own pages; store it as .parquet)", path)
		}
		return planner.FormatParquet, nil
	}
	return "", fmt.Errorf("%s: unknown file type %q (quern reads .csv, .tsv, .txt, .jsonl, .ndjson and .parquet, and all but .parquet compressed as .gz or .zst)", path, ext)
}

// fileTable reads the table named by a path or glob. Every file of a glob
// must have the same format and columns.
//
// Only the first file (in name order) is sniffed for the schema, so that a
// glob over thousands of files plans in milliseconds; the others are
// stat'ed. The readers check each other file when they open it (a CSV
// header naming other columns, a JSON-lines file with keys the table lacks,
// a Parquet file with other columns is an error naming it), except that big
// Parquet files are inspected here, since cutting them into tasks needs
// their row groups.
func (c *catalog) fileTable(pattern string) (*planner.Table, error) {
	return c.fileTableWith(pattern, fileOptions{})
}

// fileTableWith is fileTable with reading options: the hook for settings
// such as `SET csv_ignore_errors = 1`.
func (c *catalog) fileTableWith(pattern string, o fileOptions) (*planner.Table, error) {
	// A glob's own suffix may not say the format (`logs/*.csv*` matches
	// plain and compressed files); its first file's name does.
	if _, err := formatOf(pattern); err != nil && !strings.ContainsAny(pattern, "*?[") {
		return nil, err
	}
	if err := c.checkPattern(pattern); err != nil {
		return nil, err
	}
	files, err := expand(pattern)
	if err != nil {
		return nil, err
	}
	first, err := c.fileWith(files[0].Path, o)
	if err != nil {
		return nil, err
	}
	t := *first
	t.Name = pattern
	t.Files = make([]planner.File, 0, len(files))
	t.Files = append(t.Files, first.Files...)
	for _, f := range files[1:] {
		if err := c.access.Check(f.Path); err != nil {
			return nil, err
		}
		if format, err := formatOf(f.Path); err != nil || format != t.Format {
			return nil, fmt.Errorf("%s: not a %s file like %s; the files of a glob must share a format", f.Path, t.Format, files[0].Path)
		}
		if compressed.Of(f.Path) != compressed.None {
			t.Unsplittable = true
		}
		if t.Format != planner.FormatParquet || f.Size <= parquetInspectBytes {
			t.Files = append(t.Files, f)
			continue
		}
		ft, err := c.fileWith(f.Path, o)
		if err != nil {
			return nil, err
		}
		if !sameSchema(ft.Schema, t.Schema) {
			return nil, fmt.Errorf("%s: its columns (%s) differ from those of %s (%s); the files of a glob must share a schema",
				f.Path, columnList(ft.Schema), files[0].Path, columnList(t.Schema))
		}
		t.Files = append(t.Files, ft.Files...)
	}
	return &t, nil
}

// parquetInspectBytes: Parquet files of a glob bigger than this are
// inspected at planning, for their row groups; smaller ones are read whole
// by one task, which checks their columns.
const parquetInspectBytes = 16 << 20

// expand lists the files a path or glob names, in name order, with their
// sizes.
func expand(pattern string) ([]planner.File, error) {
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
		return []planner.File{{Path: pattern, Size: st.Size()}}, nil
	}
	paths, err := filepath.Glob(pattern)
	if err != nil {
		return nil, fmt.Errorf("%s: bad glob pattern: %w", pattern, err)
	}
	var files []planner.File
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			files = append(files, planner.File{Path: p, Size: st.Size()})
		}
	}
	if len(files) == 0 {
		return nil, sql.NoTable("%s: no files match", pattern)
	}
	// Glob returns names in order already; the sort keeps that a contract.
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

func sameSchema(a, b planner.Schema) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Type != b[i].Type {
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
func (c *catalog) file(path string) (*planner.Table, error) { return c.fileWith(path, fileOptions{}) }

func (c *catalog) fileWith(path string, o fileOptions) (*planner.Table, error) {
	if err := c.access.Check(path); err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c.mu.Lock()
	key := fileKey{path, o}
	if cf, ok := c.files[key]; ok && cf.size == st.Size() && cf.mtime == st.ModTime().UnixNano() {
		c.mu.Unlock()
		return cf.table, nil
	}
	c.mu.Unlock()
	t, err := sniffFile(path, st.Size(), o)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.files[key] = cachedFile{size: st.Size(), mtime: st.ModTime().UnixNano(), table: t}
	c.mu.Unlock()
	return t, nil
}

func sniffFile(path string, size int64, o fileOptions) (*planner.Table, error) {
	format, err := formatOf(path)
	if err != nil {
		return nil, err
	}
	t := &planner.Table{Name: path, Format: format, Files: []planner.File{{Path: path, Size: size}}}
	// A compressed file reads only from its start: one task reads it.
	t.Unsplittable = compressed.Of(path) != compressed.None
	switch format {
	case planner.FormatText:
		t.Schema = planner.Schema{{Name: "word", Type: planner.String}}
	case planner.FormatCSV:
		f, err := csvscan.SniffWith(path, csvscan.SniffOptions{IgnoreErrors: o.csvIgnoreErrors})
		if err != nil {
			return nil, err
		}
		if t.Schema, err = planner.SchemaFromArrow(f.Schema()); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		t.Unsplittable = t.Unsplittable || f.MultilineQuotes
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
	if err := c.access.Check(dir); err != nil {
		return err
	}
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
		stem := compressed.Strip(e.Name())
		c.register(strings.TrimSuffix(stem, filepath.Ext(stem)), &cp)
	}
	return nil
}

// csvIgnoringErrors returns a copy of t whose CSV reader skips malformed
// rows and counts them instead of failing (csvscan.Format.IgnoreErrors):
// the hook for `SET csv_ignore_errors = 1` and a per-table option. Other
// formats are returned unchanged.
func csvIgnoringErrors(t *planner.Table) (*planner.Table, error) {
	if t.Format != planner.FormatCSV {
		return t, nil
	}
	var f csvscan.Format
	if err := json.Unmarshal(t.Options, &f); err != nil {
		return nil, fmt.Errorf("internal: CSV options of %s: %w", t.Name, err)
	}
	f.IgnoreErrors = true
	opts, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	cp := *t
	cp.Options = opts
	return &cp, nil
}
