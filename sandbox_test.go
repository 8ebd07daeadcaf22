package quern_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/internal/sandbox"
)

// sandboxTree makes allowed/ (a table, a link to secret/ and a glob
// directory with one file inside and one link out) next to secret/.
func sandboxTree(t *testing.T) (allowed, secret string) {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	allowed, secret = filepath.Join(root, "allowed"), filepath.Join(root, "secret")
	for _, d := range []string{allowed, filepath.Join(allowed, "g"), filepath.Join(allowed, "clean"), secret} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(allowed, "t.csv"), "a,b\n1,x\n2,y\n")
	write(filepath.Join(allowed, "g", "in.csv"), "a,b\n3,z\n")
	write(filepath.Join(allowed, "clean", "c1.csv"), "a,b\n4,w\n")
	write(filepath.Join(secret, "s.csv"), "a,b\n42,secret\n")
	for link, target := range map[string]string{
		filepath.Join(allowed, "link.csv"):     filepath.Join(secret, "s.csv"),
		filepath.Join(allowed, "g", "out.csv"): "../../secret/s.csv",
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	return allowed, secret
}

func openSandboxed(t *testing.T, dirs ...string) *quern.DB {
	t.Helper()
	cfg := quern.DefaultConfig()
	cfg.Workers, cfg.Reducers, cfg.TempDir = 2, 2, t.TempDir()
	cfg.AllowDirs = dirs
	db, err := quern.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// count runs SELECT count(*) over a file table.
func count(db *quern.DB, table string) (int64, error) {
	rr, err := db.Query(context.Background(), "SELECT count(*) FROM `"+table+"`")
	if err != nil {
		return 0, err
	}
	defer rr.Release()
	var n int64
	for rr.Next() {
		n = rr.RecordBatch().Column(0).(interface{ Value(int) int64 }).Value(0)
	}
	return n, rr.Err()
}

func wantDenied(t *testing.T, what string, err error, path string) {
	t.Helper()
	if !errors.Is(err, sandbox.ErrDenied) || !strings.Contains(err.Error(), "access denied: "+path) ||
		!strings.Contains(err.Error(), "--allow-dir") {
		t.Errorf("%s: err = %v, want access denied naming %s", what, err, path)
	}
}

func TestSandboxAtPlanTime(t *testing.T) {
	allowed, secret := sandboxTree(t)
	db := openSandboxed(t, allowed)
	ctx := context.Background()

	if n, err := count(db, filepath.Join(allowed, "t.csv")); err != nil || n != 2 {
		t.Fatalf("allowed file: %d rows, %v", n, err)
	}
	if n, err := count(db, filepath.Join(allowed, "clean", "*.csv")); err != nil || n != 1 {
		t.Fatalf("allowed glob: %d rows, %v", n, err)
	}
	for _, tc := range []struct{ what, table, denied string }{
		{"a file outside", filepath.Join(secret, "s.csv"), ""},
		{"a file that does not exist outside (no hint that it does not)", filepath.Join(secret, "none.csv"), ""},
		{"..", allowed + "/../secret/s.csv", ""},
		{"a symbolic link out", filepath.Join(allowed, "link.csv"), ""},
		{"a glob outside", filepath.Join(secret, "*.csv"), ""},
		{"a glob matching a link out", filepath.Join(allowed, "g", "*.csv"), filepath.Join(allowed, "g", "out.csv")},
		{"/etc/passwd", "/etc/passwd.csv", ""},
	} {
		_, err := count(db, tc.table)
		if tc.denied == "" {
			tc.denied = tc.table
		}
		wantDenied(t, tc.what, err, tc.denied)
	}
	// Every way a statement names a file goes through the same check.
	s := filepath.Join(secret, "s.csv")
	for _, q := range []string{
		"DESCRIBE `" + s + "`",
		"CREATE TABLE c AS SELECT * FROM `" + s + "`",
		"SELECT * FROM `" + filepath.Join(allowed, "t.csv") + "` JOIN `" + s + "` USING (a)",
		"SELECT a FROM `" + filepath.Join(allowed, "t.csv") + "` WHERE a IN (SELECT a FROM `" + s + "`)",
	} {
		wantDenied(t, q, db.Exec(ctx, q), s)
	}
	if err := db.Exec(ctx, "CREATE TABLE m (a BIGINT, b VARCHAR(10))"); err != nil {
		t.Fatal(err)
	}
	wantDenied(t, "INSERT … SELECT", db.Exec(ctx, "INSERT INTO m SELECT * FROM `"+s+"`"), s)
	wantDenied(t, "RegisterFile", db.RegisterFile("x", s), s)
	wantDenied(t, "RegisterDir", db.RegisterDir(secret), secret)
	if _, err := db.TableSchema(s); !errors.Is(err, sandbox.ErrDenied) {
		t.Errorf("TableSchema: %v", err)
	}
}

func TestSandboxConfig(t *testing.T) {
	allowed, secret := sandboxTree(t)
	// No AllowDirs: the embedded library reads anywhere.
	if n, err := count(openSandboxed(t), filepath.Join(allowed, "link.csv")); err != nil || n != 1 {
		t.Fatalf("unrestricted: %d rows, %v", n, err)
	}
	// "/" allows everything, explicitly.
	if n, err := count(openSandboxed(t, "/"), filepath.Join(secret, "s.csv")); err != nil || n != 1 {
		t.Fatalf("--allow-dir /: %d rows, %v", n, err)
	}
	// Several directories.
	if n, err := count(openSandboxed(t, allowed, secret), filepath.Join(allowed, "link.csv")); err != nil || n != 1 {
		t.Fatalf("two dirs: %d rows, %v", n, err)
	}
	cfg := quern.DefaultConfig()
	cfg.TempDir = t.TempDir()
	cfg.AllowDirs = []string{filepath.Join(secret, "missing")}
	if _, err := quern.Open(cfg); err == nil || !strings.Contains(err.Error(), "--allow-dir "+filepath.Join(secret, "missing")) {
		t.Fatalf("a missing allowed dir: %v", err)
	}
	cfg.AllowDirs = []string{allowed}
	cfg.DataDirs = []string{secret}
	if _, err := quern.Open(cfg); !errors.Is(err, sandbox.ErrDenied) {
		t.Fatalf("--data outside: %v", err)
	}
}

// TestSandboxAtTaskTime: a registered table whose file became a link out
// after it was planned is refused by the task that would open it.
func TestSandboxAtTaskTime(t *testing.T) {
	allowed, secret := sandboxTree(t)
	db := openSandboxed(t, allowed)
	f := filepath.Join(allowed, "swap.csv")
	if err := os.WriteFile(f, []byte("a,b\n7,q\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterFile("swap", f); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(secret, "s.csv"), f); err != nil {
		t.Fatal(err)
	}
	rr, err := db.Query(context.Background(), "SELECT a, b FROM swap")
	if err == nil {
		for rr.Next() {
			t.Errorf("read a row through the swapped link: %v", rr.RecordBatch())
		}
		err = rr.Err()
		rr.Release()
	}
	wantDenied(t, "swapped link", err, f)
}
