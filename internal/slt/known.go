package slt

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// KnownEntry names one record that is known to differ, and why. It names
// the record by File and either Line (the line of its "query"/"statement"
// command) or SQL.
type KnownEntry struct {
	File   string
	Line   int    // 0 when the entry names the record by SQL
	SQL    string // "" when the entry names the record by line
	Reason string
	// Source is where the entry was read ("known.txt:12"), for messages.
	Source string
}

// Known is a list of known differences. Build it with ParseKnown,
// LoadKnown or Add; it is read-only during Run, so runs may share it.
//
// The text format has one entry per line; '#' starts a comment line and
// blank lines are ignored:
//
//	random/groupby/slt_good_2.test:498  MySQL's DIV rounds differently
//	select3.test:"SELECT a FROM t1 WHERE x = 1"  needs correlated subqueries
//
// The key is a script path, ':', then a line number or a Go-quoted SQL
// text (compared with runs of white space collapsed); white space, then
// the reason, which is required. A path matches a record's file when it
// is equal to it or is a suffix of it after a '/'.
type Known struct {
	entries []*KnownEntry
	byLine  map[int][]*KnownEntry
	bySQL   map[string][]*KnownEntry
}

// LoadKnown reads a known-differences file.
func LoadKnown(path string) (*Known, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("slt: known differences: %w", err)
	}
	defer f.Close()
	return ParseKnown(path, f)
}

// ParseKnown reads known differences in the text format; name is used in
// errors.
func ParseKnown(name string, r io.Reader) (*Known, error) {
	k := &Known{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseKnownLine(line)
		if err != nil {
			return nil, fmt.Errorf("slt: %s:%d: %v", name, n, err)
		}
		e.Source = name + ":" + strconv.Itoa(n)
		k.Add(e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("slt: reading %s: %w", name, err)
	}
	return k, nil
}

func parseKnownLine(line string) (KnownEntry, error) {
	const want = `want "path:line  reason" or "path:\"SQL\"  reason"`
	var e KnownEntry
	var rest string
	if i := strings.Index(line, `:"`); i > 0 {
		q, err := strconv.QuotedPrefix(line[i+1:])
		if err != nil {
			return e, fmt.Errorf("bad quoted SQL: %v (%s)", err, want)
		}
		e.File = line[:i]
		e.SQL, _ = strconv.Unquote(q)
		rest = line[i+1+len(q):]
	} else {
		key, after, _ := strings.Cut(line, " ")
		if t := strings.IndexByte(key, '\t'); t >= 0 {
			key, after = line[:t], line[t:]
		}
		colon := strings.LastIndexByte(key, ':')
		n, err := strconv.Atoi(key[colon+1:])
		if colon <= 0 || err != nil || n <= 0 {
			return e, fmt.Errorf("bad key %q: %s", key, want)
		}
		e.File, e.Line, rest = key[:colon], n, after
	}
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return e, fmt.Errorf("want white space after the key: %s", want)
	}
	e.Reason = strings.TrimSpace(rest)
	if e.Reason == "" {
		return e, fmt.Errorf("no reason given: %s", want)
	}
	e.File = filepath.ToSlash(e.File)
	return e, nil
}

// Add appends an entry.
func (k *Known) Add(e KnownEntry) {
	p := &e
	k.entries = append(k.entries, p)
	if e.SQL != "" {
		if k.bySQL == nil {
			k.bySQL = map[string][]*KnownEntry{}
		}
		key := normalizeSQL(e.SQL)
		k.bySQL[key] = append(k.bySQL[key], p)
		return
	}
	if k.byLine == nil {
		k.byLine = map[int][]*KnownEntry{}
	}
	k.byLine[e.Line] = append(k.byLine[e.Line], p)
}

// Entries returns the entries in the order added.
func (k *Known) Entries() []KnownEntry {
	out := make([]KnownEntry, len(k.entries))
	for i, e := range k.entries {
		out[i] = *e
	}
	return out
}

// Lookup returns the entry naming rec, or nil.
func (k *Known) Lookup(rec *Record) *KnownEntry {
	for _, e := range k.byLine[rec.Line] {
		if fileMatches(e.File, rec.File) {
			return e
		}
	}
	if len(k.bySQL) > 0 {
		for _, e := range k.bySQL[normalizeSQL(rec.SQL)] {
			if fileMatches(e.File, rec.File) {
				return e
			}
		}
	}
	return nil
}

// Unused returns the entries for scripts that were run in res but that
// matched no record: stale entries to delete.
func (k *Known) Unused(res *Result) []KnownEntry {
	hit := map[*KnownEntry]bool{}
	for _, s := range res.Skips {
		hit[s.entry] = true
	}
	var out []KnownEntry
	for _, e := range k.entries {
		if hit[e] {
			continue
		}
		for _, f := range res.Files {
			if fileMatches(e.File, f.File) {
				out = append(out, *e)
				break
			}
		}
	}
	return out
}

func fileMatches(entry, file string) bool {
	file = filepath.ToSlash(file)
	return file == entry || strings.HasSuffix(file, "/"+entry)
}

func normalizeSQL(s string) string { return strings.Join(strings.Fields(s), " ") }
