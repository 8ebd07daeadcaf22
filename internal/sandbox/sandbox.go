package sandbox

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Dirs is a set of directories file access is allowed under. A nil *Dirs
// allows everything. It is immutable and safe for concurrent use.
type Dirs struct {
	dirs []string // absolute, symbolic links resolved, cleaned
	all  bool     // "/" is one of them
}

// ErrDenied matches every *DeniedError with errors.Is.
var ErrDenied = errors.New("access denied")

// DeniedError is a path outside the allowed directories.
type DeniedError struct {
	Path     string   // as given
	Resolved string   // absolute, with symbolic links resolved
	Allowed  []string // the allowed directories
}

func (e *DeniedError) Error() string {
	shown := e.Path
	if e.Resolved != "" && e.Resolved != e.Path {
		shown = fmt.Sprintf("%s (which resolves to %s)", e.Path, e.Resolved)
	}
	return fmt.Sprintf("access denied: %s is outside the allowed directories (%s); start quern with --allow-dir DIR to widen",
		shown, strings.Join(e.Allowed, ", "))
}

func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// New returns the set of dirs, each of which must be an existing
// directory. No dirs at all means no restriction: New returns nil.
func New(dirs []string) (*Dirs, error) {
	if len(dirs) == 0 {
		return nil, nil
	}
	d := &Dirs{}
	for _, dir := range dirs {
		r, err := resolve(dir)
		if err == nil {
			var st os.FileInfo
			if st, err = os.Stat(r); err == nil && !st.IsDir() {
				err = errors.New("not a directory")
			}
		}
		if err != nil {
			return nil, fmt.Errorf("--allow-dir %s: %w", dir, err)
		}
		if r == string(filepath.Separator) {
			d.all = true
		}
		d.dirs = append(d.dirs, r)
	}
	return d, nil
}

// List returns the allowed directories, resolved (nil: no restriction).
func (d *Dirs) List() []string {
	if d == nil {
		return nil
	}
	return append([]string(nil), d.dirs...)
}

// Check returns nil if path, once resolved, lies inside an allowed
// directory, and a *DeniedError otherwise.
func (d *Dirs) Check(path string) error {
	if d == nil || d.all {
		return nil
	}
	r, err := resolve(path)
	if err != nil {
		return fmt.Errorf("%s: checking access: %w", path, err)
	}
	for _, dir := range d.dirs {
		if inside(r, dir) {
			return nil
		}
	}
	return d.denied(path, r)
}

// CheckGlob vets a glob pattern before it is expanded: the directory its
// matches start from (the part before the first wildcard) must be inside
// an allowed directory or contain one. Each match must still be checked.
func (d *Dirs) CheckGlob(pattern string) error {
	if d == nil || d.all {
		return nil
	}
	base := globBase(pattern)
	r, err := resolve(base)
	if err != nil {
		return fmt.Errorf("%s: checking access: %w", pattern, err)
	}
	for _, dir := range d.dirs {
		if inside(r, dir) || inside(dir, r) {
			return nil
		}
	}
	return d.denied(pattern, r)
}

func (d *Dirs) denied(path, resolved string) error {
	return &DeniedError{Path: path, Resolved: resolved, Allowed: d.List()}
}

// inside reports whether path is dir or lies below it; both are clean and
// absolute.
func inside(path, dir string) bool {
	if path == dir || dir == string(filepath.Separator) {
		return true
	}
	return strings.HasPrefix(path, dir) && path[len(dir)] == filepath.Separator
}

// globBase is the directory part of pattern before its first wildcard.
func globBase(pattern string) string {
	i := strings.IndexAny(pattern, "*?[")
	if i < 0 {
		return pattern
	}
	j := strings.LastIndexByte(pattern[:i], filepath.Separator)
	switch {
	case j < 0:
		return "."
	case j == 0:
		return string(filepath.Separator)
	}
	return pattern[:j]
}

// maxLinks bounds the dangling symbolic links resolve follows itself.
const maxLinks = 64

// resolve returns the absolute path path names, symbolic links resolved.
// `..` is applied after the links before it are followed, as the kernel
// does (lexical cleaning first would let dir/link/.. escape). Components
// that do not exist are appended as they are: they cannot be links.
func resolve(path string) (string, error) {
	return resolveDepth(path, 0)
}

func resolveDepth(path string, depth int) (string, error) {
	if depth > maxLinks {
		return "", errors.New("too many levels of symbolic links")
	}
	if path == "" {
		path = "."
	}
	r, err := filepath.EvalSymlinks(path)
	if err == nil {
		return filepath.Abs(r)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	parent, base := ".", path
	if i := strings.LastIndexByte(path, filepath.Separator); i == 0 {
		parent, base = string(filepath.Separator), path[1:]
	} else if i > 0 {
		parent, base = path[:i], path[i+1:]
	}
	if parent == path { // "/" itself missing: cannot happen
		return "", err
	}
	rp, err := resolveDepth(parent, depth)
	if err != nil {
		return "", err
	}
	joined := filepath.Join(rp, base) // rp has no links, so `..` is safe here
	if fi, lerr := os.Lstat(joined); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
		// A dangling link: judge where it points, which is what a later
		// create or a swapped-in target would reach.
		target, err := os.Readlink(joined)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			// Not Join: it would clean target's `..` before its links.
			target = rp + string(filepath.Separator) + target
		}
		return resolveDepth(target, depth+1)
	}
	return joined, nil
}
