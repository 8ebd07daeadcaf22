package repl

import (
	"reflect"
	"testing"
)

func TestSplitStatements(t *testing.T) {
	type st = Statement
	tests := []struct {
		name string
		src  string
		want []Statement
	}{
		{"empty", "", nil},
		{"only space and semicolons", " ;\n ; ;", nil},
		{"one without semicolon", "SELECT 1", []st{{"SELECT 1", 1, 1, 0}}},
		{"two", "SELECT 1; SELECT 2;", []st{{"SELECT 1", 1, 1, 0}, {"SELECT 2", 1, 11, 10}}},
		{"positions across lines", "SELECT 1;\n\n  SELECT\n 2 ;\n",
			[]st{{"SELECT 1", 1, 1, 0}, {"SELECT\n 2", 3, 3, 13}}},
		{"semicolon in single quotes", "SELECT 'a;b'; SELECT 2",
			[]st{{"SELECT 'a;b'", 1, 1, 0}, {"SELECT 2", 1, 15, 14}}},
		{"doubled single quote", "SELECT 'it''s;'; X",
			[]st{{"SELECT 'it''s;'", 1, 1, 0}, {"X", 1, 18, 17}}},
		{"backslash escaped quote", `SELECT 'a\';b'; X`,
			[]st{{`SELECT 'a\';b'`, 1, 1, 0}, {"X", 1, 17, 16}}},
		{"escaped backslash ends string", `SELECT 'a\\'; X`,
			[]st{{`SELECT 'a\\'`, 1, 1, 0}, {"X", 1, 15, 14}}},
		{"double quotes", `SELECT "x;""y"; X`,
			[]st{{`SELECT "x;""y"`, 1, 1, 0}, {"X", 1, 17, 16}}},
		{"backquoted identifier", "SELECT `a;``b` FROM `t;`; X",
			[]st{{"SELECT `a;``b` FROM `t;`", 1, 1, 0}, {"X", 1, 27, 26}}},
		{"backslash does not escape in backquotes", "SELECT `a\\`; X",
			[]st{{"SELECT `a\\`", 1, 1, 0}, {"X", 1, 14, 13}}},
		{"dash comment", "SELECT 1 -- a;b\n; X",
			[]st{{"SELECT 1 -- a;b", 1, 1, 0}, {"X", 2, 3, 18}}},
		{"dashes without space are minus", "SELECT 1--1; X",
			[]st{{"SELECT 1--1", 1, 1, 0}, {"X", 1, 14, 13}}},
		{"dash comment at end of input", "SELECT 1 --", []st{{"SELECT 1 --", 1, 1, 0}}},
		{"hash comment", "SELECT 1 # x;y\n, 2; X",
			[]st{{"SELECT 1 # x;y\n, 2", 1, 1, 0}, {"X", 2, 6, 20}}},
		{"block comment", "SELECT /* ; */ 1; X",
			[]st{{"SELECT /* ; */ 1", 1, 1, 0}, {"X", 1, 19, 18}}},
		{"leading comments dropped", "-- setup\n/* c;\n */ # more\n  SELECT 1;",
			[]st{{"SELECT 1", 4, 3, 28}}},
		{"comment-only statement dropped", "SELECT 1; -- done\n/* bye */", []st{{"SELECT 1", 1, 1, 0}}},
		{"quote inside comment ignored", "-- don't\nSELECT 1; X",
			[]st{{"SELECT 1", 2, 1, 9}, {"X", 2, 11, 19}}},
		{"comment markers inside string", "SELECT '-- #/*'; X",
			[]st{{"SELECT '-- #/*'", 1, 1, 0}, {"X", 1, 18, 17}}},
		{"unterminated string runs to end", "SELECT 'abc; SELECT 2", []st{{"SELECT 'abc; SELECT 2", 1, 1, 0}}},
		{"unterminated comment runs to end", "SELECT 1 /* x; y", []st{{"SELECT 1 /* x; y", 1, 1, 0}}},
		{"crlf", "SELECT 1;\r\nSELECT 2;\r\n", []st{{"SELECT 1", 1, 1, 0}, {"SELECT 2", 2, 1, 11}}},
		{"utf8 counts bytes", "SELECT 'é'; X", []st{{"SELECT 'é'", 1, 1, 0}, {"X", 1, 14, 13}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SplitStatements(tc.src)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("SplitStatements(%q)\n got %+v\nwant %+v", tc.src, got, tc.want)
			}
			for _, s := range got {
				if tc.src[s.Offset:s.Offset+len(s.SQL)] != s.SQL {
					t.Errorf("Offset %d does not point at %q", s.Offset, s.SQL)
				}
			}
		})
	}
}
