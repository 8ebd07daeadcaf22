package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree makes allowed/ and secret/ side by side, with links from inside
// allowed/ pointing out, and returns the temp root (symlinks resolved).
func tree(t *testing.T) string {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"allowed/sub", "allowed2", "secret"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"allowed/a.csv", "allowed/sub/b.csv", "allowed2/c.csv", "secret/s.csv"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte("x\n1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"allowed/out.csv":     "../secret/s.csv",             // file link escaping
		"allowed/outdir":      filepath.Join(root, "secret"), // directory link escaping
		"allowed/in.csv":      "sub/b.csv",                   // link staying inside
		"allowed/dangling":    "../secret/new.csv",           // dangling link pointing out
		"allowed/dangling-in": "sub/new.csv",                 // dangling link staying inside
		"allowed/loop":        "loop",
		"allowed/sub/up":      "..", // a link to the parent
		"secret/back":         filepath.Join(root, "allowed"),
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestCheck(t *testing.T) {
	root := tree(t)
	d, err := New([]string{filepath.Join(root, "allowed")})
	if err != nil {
		t.Fatal(err)
	}
	// Not filepath.Join: it would clean the `..` away before Check sees it.
	j := func(p string) string { return root + "/" + p }
	for _, tc := range []struct {
		path  string
		allow bool
	}{
		{j("allowed/a.csv"), true},
		{j("allowed/sub/b.csv"), true},
		{j("allowed"), true},
		{j("allowed/new-file.csv"), true},      // not yet existing
		{j("allowed/no/such/dir/x.csv"), true}, // nor its parents
		{j("allowed/in.csv"), true},            // a link that stays inside
		{j("allowed/dangling-in"), true},       // a dangling link that stays inside
		{j("allowed/sub/up/a.csv"), true},      // through a link to the parent, still inside
		{j("secret/back/a.csv"), true},         // judged by where it leads
		{j("allowed2/c.csv"), false},           // a sibling sharing the prefix "allowed"
		{j("secret/s.csv"), false},
		{j("allowed/../secret/s.csv"), false}, // ..
		{j("allowed/sub/../../secret/s.csv"), false},
		{j("allowed/out.csv"), false},                // a file link escaping
		{j("allowed/outdir/s.csv"), false},           // a directory link escaping
		{j("allowed/outdir/../allowed/a.csv"), true}, // secret/.. is root: root/allowed/a.csv
		{j("allowed/outdir/../secret/s.csv"), false}, // lexically allowed/secret/s.csv
		{j("allowed/dangling"), false},               // a dangling link pointing out
		{j("allowed/no/../../secret/s.csv"), false},
		{"/etc/passwd", false},
		{"/", false},
	} {
		err := d.Check(tc.path)
		if tc.allow && err != nil {
			t.Errorf("Check(%s) = %v, want allowed", tc.path, err)
		}
		if !tc.allow && !errors.Is(err, ErrDenied) {
			t.Errorf("Check(%s) = %v, want denied", tc.path, err)
		}
	}
}

func TestRelativePaths(t *testing.T) {
	root := tree(t)
	t.Chdir(filepath.Join(root, "allowed"))
	d, err := New([]string{"."})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.List(); len(got) != 1 || got[0] != filepath.Join(root, "allowed") {
		t.Fatalf("List() = %v", got)
	}
	for _, p := range []string{"a.csv", "sub/b.csv", "./sub/../a.csv", "new.csv"} {
		if err := d.Check(p); err != nil {
			t.Errorf("Check(%s) = %v", p, err)
		}
	}
	for _, p := range []string{"../secret/s.csv", "out.csv", "../allowed2/c.csv", ".."} {
		if err := d.Check(p); !errors.Is(err, ErrDenied) {
			t.Errorf("Check(%s) = %v, want denied", p, err)
		}
	}
}

func TestDeniedMessage(t *testing.T) {
	root := tree(t)
	d, _ := New([]string{filepath.Join(root, "allowed"), filepath.Join(root, "allowed2")})
	err := d.Check("/etc/passwd")
	want := "access denied: /etc/passwd is outside the allowed directories (" + filepath.Join(root, "allowed") + ", " +
		filepath.Join(root, "allowed2") + "); start quern with --allow-dir DIR to widen"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", err, want)
	}
	var de *DeniedError
	if !errors.As(err, &de) || de.Path != "/etc/passwd" {
		t.Fatalf("not a *DeniedError naming the path: %#v", err)
	}
	link := filepath.Join(root, "allowed/out.csv")
	err = d.Check(link)
	if err == nil || !strings.Contains(err.Error(), link+" (which resolves to "+filepath.Join(root, "secret/s.csv")+")") {
		t.Fatalf("link: err = %v, want the path and where it leads", err)
	}
}

func TestCheckGlob(t *testing.T) {
	root := tree(t)
	d, _ := New([]string{filepath.Join(root, "allowed")})
	for _, tc := range []struct {
		pattern string
		allow   bool
	}{
		{filepath.Join(root, "allowed/*.csv"), true},
		{filepath.Join(root, "allowed/sub/b*.csv"), true},
		{filepath.Join(root, "*/a.csv"), true}, // from a parent of allowed/: the matches decide
		{filepath.Join(root, "secret/*.csv"), false},
		{filepath.Join(root, "allowed/../secret/*.csv"), false},
		{filepath.Join(root, "allowed/outdir/*.csv"), false},
		{"/etc/*.conf", false},
	} {
		err := d.CheckGlob(tc.pattern)
		if tc.allow != (err == nil) || (!tc.allow && !errors.Is(err, ErrDenied)) {
			t.Errorf("CheckGlob(%s) = %v, want allowed=%v", tc.pattern, err, tc.allow)
		}
	}
}

func TestNew(t *testing.T) {
	root := tree(t)
	if d, err := New(nil); d != nil || err != nil {
		t.Fatalf("New(nil) = %v, %v; want no restriction", d, err)
	}
	var none *Dirs
	if err := none.Check("/etc/passwd"); err != nil || none.CheckGlob("/etc/*") != nil {
		t.Fatalf("a nil *Dirs must allow everything: %v", err)
	}
	all, err := New([]string{"/"})
	if err != nil || all.Check("/etc/passwd") != nil {
		t.Fatalf("--allow-dir / must allow everything: %v", err)
	}
	for _, bad := range []string{filepath.Join(root, "missing"), filepath.Join(root, "allowed/a.csv")} {
		if _, err := New([]string{bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("New(%s) = %v, want an error naming it", bad, err)
		}
	}
	// An allowed directory given through a link is the link's target.
	d, err := New([]string{filepath.Join(root, "secret/back")})
	if err != nil || d.Check(filepath.Join(root, "allowed/a.csv")) != nil || d.Check(filepath.Join(root, "secret/s.csv")) == nil {
		t.Fatalf("allowed dir through a link: %v %v", d.List(), err)
	}
	if err := (&Dirs{dirs: []string{root}}).Check(filepath.Join(root, "allowed/loop")); err == nil || errors.Is(err, ErrDenied) {
		t.Fatalf("a link loop: err = %v, want a resolution error", err)
	}
}
