package csvscan

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeFile writes content to a new file called name in a fresh temp dir.
func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSniff(t *testing.T) {
	cases := []struct {
		name, file, content string
		want                Format
	}{
		{
			name: "comma", file: "a.csv",
			content: "id,name,price\n1,apple,1.5\n2,pear,2\n",
			want:    Format{Delim: ',', Quoted: true, Header: []string{"id", "name", "price"}, Types: []Type{BigInt, Varchar, Double}, SampleRows: 2},
		},
		{
			name: "pipe", file: "a.csv",
			content: "a|b\n1|x,y\n2|z,w\n",
			want:    Format{Delim: '|', Quoted: true, Header: []string{"a", "b"}, Types: []Type{BigInt, Varchar}, SampleRows: 2},
		},
		{
			name: "semicolon", file: "a.txt",
			content: "a;b;c\n1,5;2;x\n3,5;4;y\n",
			want:    Format{Delim: ';', Quoted: true, Header: []string{"a", "b", "c"}, Types: []Type{Varchar, BigInt, Varchar}, SampleRows: 2},
		},
		{
			name: "tab", file: "a.csv",
			content: "a\tb\n1\ttrue\n2\tFALSE\n",
			want:    Format{Delim: '\t', Quoted: true, Header: []string{"a", "b"}, Types: []Type{BigInt, Boolean}, SampleRows: 2},
		},
		{
			name: "tsv forces tab", file: "a.TSV",
			content: "a,b,c\td\n1,2,3\t4\n",
			want:    Format{Delim: '\t', Quoted: true, Header: []string{"a,b,c", "d"}, Types: []Type{Varchar, BigInt}, SampleRows: 1},
		},
		{
			name: "single column", file: "a.csv",
			content: "word\nhello\nworld\n",
			want:    Format{Delim: ',', Quoted: true, Header: []string{"word"}, Types: []Type{Varchar}, SampleRows: 2},
		},
		{
			name: "types widen", file: "a.csv",
			content: "i,d,b,dt,v,e,big,sp,exp,q\n" +
				"1,1,true,2024-01-31,1,,1,1,1e3,\"7\"\n" +
				",2.5,,,true,,99999999999999999999, 2,1e400,\"8\"\n" +
				"-3,-3,False,1999-12-31,2024-01-01,,3,3,2,\n",
			want: Format{Delim: ',', Quoted: true,
				Header:     []string{"i", "d", "b", "dt", "v", "e", "big", "sp", "exp", "q"},
				Types:      []Type{BigInt, Double, Boolean, Date, Varchar, Varchar, Double, Varchar, Varchar, BigInt},
				SampleRows: 3},
		},
		{
			name: "quoted fields", file: "a.csv",
			content: "a,b\n\"x,y\",1\n\"say \"\"hi\"\"\",2\n",
			want:    Format{Delim: ',', Quoted: true, Header: []string{"a", "b"}, Types: []Type{Varchar, BigInt}, SampleRows: 2},
		},
		{
			name: "escaped quote makes text", file: "a.csv",
			content: "a\n\"1\"\"\"\n",
			want:    Format{Delim: ',', Quoted: true, Header: []string{"a"}, Types: []Type{Varchar}, SampleRows: 1},
		},
		{
			name: "multiline quotes", file: "a.csv",
			content: "a,b\n\"line1\nline2\",1\nx,2\n",
			want:    Format{Delim: ',', Quoted: true, MultilineQuotes: true, Header: []string{"a", "b"}, Types: []Type{Varchar, BigInt}, SampleRows: 2},
		},
		{
			name: "multiline header", file: "a.csv",
			content: "\"a\nb\",c\n1,2\n",
			want:    Format{Delim: ',', Quoted: true, MultilineQuotes: true, Header: []string{"a\nb", "c"}, Types: []Type{BigInt, BigInt}, SampleRows: 1},
		},
		{
			name: "stray quote means no quoting", file: "a.csv",
			content: "a,b\n\"x,1\ny,2\n",
			want:    Format{Delim: ',', Quoted: false, Header: []string{"a", "b"}, Types: []Type{Varchar, BigInt}, SampleRows: 2},
		},
		{
			name: "header names", file: "a.csv",
			content: "\xEF\xBB\xBF id , ,Name,name,NAME_2,\"q\"\"n\"\r\n1,2,3,4,5,6\r\n",
			want: Format{Delim: ',', Quoted: true,
				Header:     []string{"id", "column2", "Name", "name_2", "NAME_2_2", "q\"n"},
				Types:      []Type{BigInt, BigInt, BigInt, BigInt, BigInt, BigInt},
				SampleRows: 1},
		},
		{
			name: "header only", file: "a.csv",
			content: "a,b",
			want:    Format{Delim: ',', Quoted: true, Header: []string{"a", "b"}, Types: []Type{Varchar, Varchar}, SampleRows: 0},
		},
		{
			name: "CRLF and no final newline", file: "a.csv",
			content: "a,b\r\n1,x\r\n2,y",
			want:    Format{Delim: ',', Quoted: true, Header: []string{"a", "b"}, Types: []Type{BigInt, Varchar}, SampleRows: 2},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, c.file, c.content)
			got, err := Sniff(path)
			if err != nil {
				t.Fatal(err)
			}
			c.want.Source = path
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Sniff:\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestSniffErrors(t *testing.T) {
	cases := []struct {
		name, content, want string
	}{
		{"empty", "", "a.csv: empty file; a CSV file starts with a header line"},
		{"blank first line", "\nA,b\n1,2\n", "a.csv:1: blank first line; a CSV file starts with a header line naming its columns"},
		{"huge header", strings.Repeat("h", sampleBytes+10) + "\n1\n", "a.csv:1: header line is longer than 1048576 bytes"},
		{"ragged", "a,b,c\n1,2,3\n4,5\n", "a.csv:3: expected 3 fields as in the header, found 2"},
		{"bad row in sample", "a,b\n" + strings.Repeat("1,2\n", 150) + "1,2,3\n", "a.csv:152: expected 2 fields as in the header, found 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, "a.csv", c.content)
			_, err := Sniff(path)
			if err == nil {
				t.Fatal("no error")
			}
			if got := strings.ReplaceAll(err.Error(), filepath.Dir(path)+string(filepath.Separator), ""); got != c.want {
				t.Errorf("error %q\n     want %q", got, c.want)
			}
		})
	}
	_, err := Sniff(filepath.Join(t.TempDir(), "missing.csv"))
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("missing file: %v", err)
	}
}

func TestFormatJSON(t *testing.T) {
	f := Format{Delim: '|', Quoted: true, MultilineQuotes: true, Header: []string{"a", "b"}, Types: []Type{Date, Double}, SampleRows: 7}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var g Format
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f, g) {
		t.Errorf("round trip through %s gave %+v", b, g)
	}
	if s := f.Schema().String(); !strings.Contains(s, "a: type=date32, nullable") || !strings.Contains(s, "b: type=float64, nullable") {
		t.Errorf("schema %s", s)
	}
}

func TestSplits(t *testing.T) {
	cases := []struct {
		size, target int64
		multiline    bool
		want         []Range
	}{
		{10, 3, false, []Range{{0, 3}, {3, 6}, {6, 8}, {8, 10}}},
		{9, 3, false, []Range{{0, 3}, {3, 6}, {6, 9}}},
		{10, 100, false, []Range{{0, 10}}},
		{0, 100, false, []Range{{0, 0}}},
		{10, 0, false, []Range{{0, 10}}},
		{10, 3, true, []Range{{0, 10}}},
	}
	for _, c := range cases {
		f := Format{MultilineQuotes: c.multiline}
		if got := Splits(f, c.size, c.target); !reflect.DeepEqual(got, c.want) {
			t.Errorf("Splits(%d, %d, multiline=%v) = %v, want %v", c.size, c.target, c.multiline, got, c.want)
		}
	}
	// Large sizes and tiny targets must neither overflow nor leave gaps.
	rs := Splits(Format{}, 1<<40+13, 1<<20)
	for i, r := range rs {
		if (i == 0 && r.Start != 0) || (i > 0 && r.Start != rs[i-1].End) || r.End-r.Start < 1<<20-1 || r.End-r.Start > 1<<20 {
			t.Fatalf("range %d: %v", i, r)
		}
	}
	if rs[len(rs)-1].End != 1<<40+13 {
		t.Fatalf("last range %v", rs[len(rs)-1])
	}
}
