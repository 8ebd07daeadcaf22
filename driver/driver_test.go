package driver_test

import (
	"context"
	"database/sql"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/quernsql/quern"
	"github.com/quernsql/quern/driver"
)

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("quern", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestTypedValues(t *testing.T) {
	db := openDB(t, "../testdata/tables?workers=2")
	rows, err := db.Query(`SELECT 1 AS i, CAST(18446744073709551615 AS UNSIGNED) AS u, 1.5e0 AS d, 3.50 AS decv,
		'x' AS s, 1 = 1 AS b, CAST('2021-03-04' AS DATE) AS dt,
		CAST('2021-03-04 05:06:07.25' AS DATETIME) AS ts, NULL AS n, age AS nullint
		FROM people WHERE id = 3`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()

	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := []struct {
		db   string
		scan any
	}{
		{"BIGINT", sql.NullInt64{}}, {"BIGINT UNSIGNED", sql.Null[uint64]{}}, {"DOUBLE", sql.NullFloat64{}},
		{"DECIMAL", sql.NullString{}}, {"VARCHAR", sql.NullString{}}, {"BOOLEAN", sql.NullBool{}},
		{"DATE", sql.NullTime{}}, {"DATETIME", sql.NullTime{}}, {"NULL", new(any)}, {"BIGINT", sql.NullInt64{}},
	}
	for i, ct := range types {
		want := wantTypes[i]
		wantScan := reflect.TypeOf(want.scan)
		if p, ok := want.scan.(*any); ok && p != nil {
			wantScan = reflect.TypeFor[any]()
		}
		if ct.DatabaseTypeName() != want.db || ct.ScanType() != wantScan {
			t.Errorf("column %s: type %s scanning into %v; want %s, %v", ct.Name(), ct.DatabaseTypeName(), ct.ScanType(), want.db, wantScan)
		}
		if nullable, ok := ct.Nullable(); !nullable || !ok {
			t.Errorf("column %s: Nullable() = %v, %v", ct.Name(), nullable, ok)
		}
	}
	if p, s, ok := types[3].DecimalSize(); !ok || p != 3 || s != 2 {
		t.Errorf("DecimalSize of 3.50 = %d, %d, %v; want 3, 2, true", p, s, ok)
	}

	got := make([]any, len(types))
	ptrs := make([]any, len(got))
	for i := range got {
		ptrs[i] = &got[i]
	}
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	want := []any{
		int64(1), uint64(18446744073709551615), 1.5, "3.50", "x", true,
		time.Date(2021, 3, 4, 0, 0, 0, 0, time.UTC), time.Date(2021, 3, 4, 5, 6, 7, 250e6, time.UTC), nil, nil,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("values\n%#v\nwant\n%#v", got, want)
	}
	if rows.Next() {
		t.Error("more than one row")
	}
	if err := rows.Err(); err != nil {
		t.Error(err)
	}
}

func TestScanConversions(t *testing.T) {
	db := openDB(t, "?workers=1")
	var f float64
	var s string
	var r big.Rat
	if err := db.QueryRow("SELECT 12.345, 12.345").Scan(&f, &s); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.SetString(s); !ok || f != 12.345 || r.Cmp(big.NewRat(12345, 1000)) != 0 {
		t.Errorf("DECIMAL scanned as %v and %q (%v)", f, s, r.String())
	}
	var i int64
	err := db.QueryRow("SELECT CAST(18446744073709551615 AS UNSIGNED)").Scan(&i)
	if err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Errorf("scanning 2^64-1 into int64: err = %v, want out of range", err)
	}
	var n sql.NullInt64
	if err := db.QueryRow("SELECT age FROM `../testdata/tables/people.csv` WHERE id = 3").Scan(&n); err != nil || n.Valid {
		t.Errorf("NULL age scanned as %+v, %v", n, err)
	}
}

func TestPlaceholders(t *testing.T) {
	db := openDB(t, "../testdata/tables?workers=2")
	rows, err := db.Query("SELECT name FROM people WHERE city = ? AND age > ? ORDER BY name", "Oslo", 20)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(names, []string{"Ann"}) {
		t.Errorf("names = %q, want [Ann]", names)
	}

	// Values come back unchanged through a literal.
	tricky := "it's a \\ test \"quoted\"\n\r\x00\x1a -- ? /* */ é \xff"
	when := time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC)
	var s, qmark string
	var d float64
	var u uint64
	var b bool
	var ts time.Time
	var null sql.NullString
	err = db.QueryRow("SELECT ?, '?', ? * 2, ?, ?, CAST(? AS DATETIME), ? /* ? */ -- ?\n",
		tricky, 2.0, uint64(1<<63+5), true, when, nil).Scan(&s, &qmark, &d, &u, &b, &ts, &null)
	if err != nil {
		t.Fatal(err)
	}
	if s != tricky || qmark != "?" || d != 4 || u != 1<<63+5 || !b || !ts.Equal(when) || null.Valid {
		t.Errorf("got %q %q %v %v %v %v %+v", s, qmark, d, u, b, ts, null)
	}

	for _, tc := range []struct {
		query string
		args  []any
		want  string
	}{
		{"SELECT ?, ?", []any{1}, "more '?' placeholders than the 1 argument"},
		{"SELECT ?", []any{1, 2}, "2 argument(s) given for 1 '?' placeholder"},
		{"SELECT ?", []any{sql.Named("x", 1)}, "only '?' placeholders"},
		{"SELECT ?", []any{struct{}{}}, "argument 1"},
	} {
		_, err := db.Query(tc.query, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Query(%q, %v): err = %v, want %q", tc.query, tc.args, err, tc.want)
		}
	}
}

func TestContextCancel(t *testing.T) {
	// A file whose scan takes seconds with one worker.
	path := filepath.Join(t.TempDir(), "words.txt")
	line := strings.Repeat("w123 w456 w789 w1011 ", 5) + "\n"
	if err := os.WriteFile(path, []byte(strings.Repeat(line, 40000)), 0o644); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, "?workers=1&batch=1024")
	slow := "SELECT count(*) FROM `" + path + "` WHERE regexp_like(repeat(word, 40), '(w[0-9]+)*7x')"

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.QueryContext(ctx, "SELECT 1"); !errors.Is(err, context.Canceled) {
		t.Errorf("query on a cancelled context: err = %v", err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	var n int64
	err := db.QueryRowContext(ctx, slow).Scan(&n)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow query with a 150 ms deadline: n = %d, err = %v", n, err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("cancelling took %v", d)
	}
	// The connection pool and the engine are fine afterwards.
	if err := db.QueryRow("SELECT 41 + 1").Scan(&n); err != nil || n != 42 {
		t.Errorf("after cancel: %d, %v", n, err)
	}
}

func TestRawArrow(t *testing.T) {
	db := openDB(t, "../testdata/tables?workers=2")
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var rows int64
	var schema string
	err = conn.Raw(func(dc any) error {
		res, err := dc.(*driver.Conn).QueryArrow(ctx, "SELECT id, name FROM people WHERE age >= ?", 30)
		if err != nil {
			return err
		}
		defer res.Release()
		schema = res.Schema().String()
		for res.Next() {
			rows += res.Record().NumRows()
		}
		return res.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 4 || !strings.Contains(schema, "id: type=int64") {
		t.Errorf("Raw query: %d rows, schema %s; want 4 rows of int64 id", rows, schema)
	}
}

func TestExecAndTransactions(t *testing.T) {
	db := openDB(t, "?workers=1")
	res, err := db.Exec("SET autocommit = 1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.RowsAffected(); err == nil {
		t.Error("RowsAffected: want an error (no count)")
	}
	if _, err := db.Exec("SELECT nope FROM `../testdata/tables/people.csv`"); err == nil || !strings.Contains(err.Error(), "unknown column 'nope'") {
		t.Errorf("Exec of a bad query: %v", err)
	}
	if _, err := db.Begin(); !errors.Is(err, driver.ErrNoTransactions) {
		t.Errorf("Begin: %v", err)
	}
	stmt, err := db.Prepare("SELECT ? + 1")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close()
	var n int64
	if err := stmt.QueryRow(1).Scan(&n); err != nil || n != 2 {
		t.Errorf("prepared statement: %d, %v", n, err)
	}
}

func TestNewConnector(t *testing.T) {
	qdb, err := quern.Open(quern.Config{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer qdb.Close()
	if err := qdb.RegisterFile("sales", "../testdata/tables/sales.tsv"); err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(driver.NewConnector(qdb))
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM sales").Scan(&n); err != nil || n != 6 {
		t.Errorf("count(*) = %d, %v", n, err)
	}
	db.Close()
	// The engine is its owner's: still open.
	if err := qdb.Exec(context.Background(), "SELECT 1"); err != nil {
		t.Errorf("engine closed with the sql.DB: %v", err)
	}
}

func TestParseDSN(t *testing.T) {
	for _, tc := range []struct {
		dsn  string
		want func(c quern.Config) bool
		err  string
	}{
		{"", func(c quern.Config) bool { return c.Workers > 0 && len(c.DataDirs) == 0 }, ""},
		{"/data?workers=4", func(c quern.Config) bool {
			return c.Workers == 4 && c.Reducers == 4 && reflect.DeepEqual(c.DataDirs, []string{"/data"})
		}, ""},
		{"?workers=4&reducers=8&data=/a&data=/b&batch=100&split=4096&tmp=/t", func(c quern.Config) bool {
			return c.Workers == 4 && c.Reducers == 8 && reflect.DeepEqual(c.DataDirs, []string{"/a", "/b"}) &&
				c.BatchSize == 100 && c.SplitSize == 4096 && c.TempDir == "/t"
		}, ""},
		{"?workers=0", nil, "workers=\"0\": want a positive integer"},
		{"?worker=2", nil, "unknown data source parameter \"worker\""},
		{"?a=%zz", nil, "bad data source name"},
	} {
		c, err := driver.ParseDSN(tc.dsn)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseDSN(%q): err = %v, want %q", tc.dsn, err, tc.err)
			}
			continue
		}
		if err != nil || !tc.want(c) {
			t.Errorf("ParseDSN(%q) = %+v, %v", tc.dsn, c, err)
		}
	}
	if _, err := sql.Open("quern", "?nope=1"); err == nil {
		t.Error("sql.Open with a bad DSN: no error")
	}
}
