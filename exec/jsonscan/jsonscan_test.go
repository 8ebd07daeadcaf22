package jsonscan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var batchSizes = []int{1, 2, 3, 7, 1024}

func writeFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// render turns a record's rows into "a|b|c" strings, NULL for nulls.
func render(rec arrow.Record) []string {
	rows := make([]string, rec.NumRows())
	for r := range rows {
		parts := make([]string, rec.NumCols())
		for c := range parts {
			col := rec.Column(c)
			if col.IsNull(r) {
				parts[c] = "NULL"
				continue
			}
			switch a := col.(type) {
			case *array.Int64:
				parts[c] = strconv.FormatInt(a.Value(r), 10)
			case *array.Float64:
				parts[c] = strconv.FormatFloat(a.Value(r), 'g', -1, 64)
			case *array.Boolean:
				parts[c] = strconv.FormatBool(a.Value(r))
			case *array.String:
				parts[c] = a.Value(r)
			default:
				parts[c] = "?" + col.DataType().String()
			}
		}
		rows[r] = strings.Join(parts, "|")
	}
	return rows
}

// readAll drains a reader, checking batch bounds, and returns the rows and
// the total row count.
func readAll(t *testing.T, rd *Reader, batchSize int) ([]string, int64, error) {
	t.Helper()
	var rows []string
	var n int64
	for {
		rec, err := rd.Next(context.Background())
		if err == io.EOF {
			return rows, n, nil
		}
		if err != nil {
			return rows, n, err
		}
		if rec.NumRows() > int64(batchSize) {
			t.Fatalf("record of %d rows exceeds batch size %d", rec.NumRows(), batchSize)
		}
		if !rec.Schema().Equal(rd.Schema()) {
			t.Fatalf("record schema %v differs from reader schema %v", rec.Schema(), rd.Schema())
		}
		n += rec.NumRows()
		rows = append(rows, render(rec)...)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    Format
	}{
		{
			name:    "scalar kinds",
			content: `{"i":1,"f":1.5,"b":true,"s":"x","d":"2024-01-02","n":null}` + "\n" + `{"i":-7,"f":2,"b":false,"s":"y","d":"2024-01-03","n":null}` + "\n",
			want: Format{
				Columns: []string{"i", "f", "b", "s", "d", "n"},
				Types:   []Type{BigInt, Double, Boolean, Varchar, Varchar, Null},
			},
		},
		{
			name:    "union of keys in first-seen order",
			content: "{\"a\":1}\n\n{\"c\":true,\"a\":2}\n{\"b\":\"z\"}\n",
			want:    Format{Columns: []string{"a", "c", "b"}, Types: []Type{BigInt, Boolean, Varchar}},
		},
		{
			name:    "ints then a float is DOUBLE; exponent is a float",
			content: "{\"x\":1,\"y\":1}\n{\"x\":2.25,\"y\":1e3}\n",
			want:    Format{Columns: []string{"x", "y"}, Types: []Type{Double, Double}},
		},
		{
			name:    "integer too large for BIGINT is DOUBLE",
			content: "{\"x\":99999999999999999999}\n",
			want:    Format{Columns: []string{"x"}, Types: []Type{Double}},
		},
		{
			name:    "nested and mixed are VARCHAR",
			content: "{\"o\":{\"k\":[1,2]},\"a\":[],\"m\":1,\"bs\":true}\n{\"m\":\"one\",\"bs\":0}\n",
			want:    Format{Columns: []string{"o", "a", "m", "bs"}, Types: []Type{Varchar, Varchar, Varchar, Varchar}},
		},
		{
			name:    "null then value",
			content: "{\"x\":null}\n{\"x\":3}\n",
			want:    Format{Columns: []string{"x"}, Types: []Type{BigInt}},
		},
		{
			name:    "escaped key",
			content: `{"a\u00e9":1}` + "\n",
			want:    Format{Columns: []string{"aé"}, Types: []Type{BigInt}},
		},
		{
			name:    "byte order mark",
			content: "\xEF\xBB\xBF{\"a\":1}\n{\"b\":\"\xEF\xBB\xBF\"}\n",
			want:    Format{Columns: []string{"a", "b"}, Types: []Type{BigInt, Varchar}},
		},
		{
			name:    "empty file",
			content: "",
			want:    Format{Columns: nil, Types: []Type{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "t.jsonl", tt.content)
			got, err := Sniff(path)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Source = path
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Sniff = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSniffSampleBound(t *testing.T) {
	// A key that first appears after the sample is not a column, and a
	// value after the sample does not widen a type.
	var b strings.Builder
	for i := range sniffLines {
		fmt.Fprintf(&b, "{\"x\":%d}\n", i)
	}
	b.WriteString("{\"x\":1.5,\"late\":1}\n")
	path := writeFile(t, "t.jsonl", b.String())
	got, err := Sniff(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Format{Columns: []string{"x"}, Types: []Type{BigInt}, Source: path}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Sniff = %+v, want %+v", got, want)
	}
}

func TestSniffError(t *testing.T) {
	path := writeFile(t, "bad.jsonl", "{\"a\":1}\n\n{\"a\":}\n")
	_, err := Sniff(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":3: ") || !errors.Is(err, ErrMalformed) {
		t.Fatalf("Sniff error = %v, want %s:3: malformed JSON", err, path)
	}
}

func TestFormatJSONRoundTrip(t *testing.T) {
	f := Format{Columns: []string{"a", "b", "c", "d", "e"}, Types: []Type{Null, BigInt, Double, Boolean, Varchar}}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"Columns":["a","b","c","d","e"],"Types":["NULL","BIGINT","DOUBLE","BOOLEAN","VARCHAR"]}`; string(b) != want {
		t.Fatalf("json = %s, want %s", b, want)
	}
	var back Format
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, f) {
		t.Fatalf("round trip = %+v, want %+v", back, f)
	}
	wantSchema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.Null, Nullable: true},
		{Name: "b", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "c", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "d", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "e", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	if !f.Schema().Equal(wantSchema) {
		t.Fatalf("Schema = %v, want %v", f.Schema(), wantSchema)
	}
}

const sample = `{"id":1,"name":"ann","score":9.5,"ok":true,"tags":["a","b"],"mixed":1}
{"id":2,"name":"bob\nby","score":7,"ok":false,"tags":{"k": "v"},"mixed":"two"}

{"name":"caf\u00e9 \ud83d\ude00 \ud800 \/","id":3,"ok":null,"mixed":true}
   {"id":4, "score":-0.25e1 , "mixed":null, "id":5}
{"id":null,"unknown":{"deep":[[[]]]},"name":""}` + "\r\n" + `{}`

func TestReader(t *testing.T) {
	path := writeFile(t, "s.jsonl", sample)
	f, err := Sniff(path)
	if err != nil {
		t.Fatal(err)
	}
	wantFormat := Format{
		Columns: []string{"id", "name", "score", "ok", "tags", "mixed", "unknown"},
		Types:   []Type{BigInt, Varchar, Double, Boolean, Varchar, Varchar, Varchar},
		Source:  path,
	}
	if !reflect.DeepEqual(f, wantFormat) {
		t.Fatalf("Sniff = %+v, want %+v", f, wantFormat)
	}
	tests := []struct {
		name    string
		columns []int
		want    []string
	}{
		{
			name:    "all columns",
			columns: []int{0, 1, 2, 3, 4, 5, 6},
			want: []string{
				`1|ann|9.5|true|["a","b"]|1|NULL`,
				"2|bob\nby|7|false|{\"k\": \"v\"}|two|NULL",
				"3|café 😀 \uFFFD /|NULL|NULL|NULL|true|NULL",
				"5|NULL|-2.5|NULL|NULL|NULL|NULL",
				`NULL||NULL|NULL|NULL|NULL|{"deep":[[[]]]}`,
				"NULL|NULL|NULL|NULL|NULL|NULL|NULL",
			},
		},
		{
			name:    "projection reorders",
			columns: []int{3, 0},
			want:    []string{"true|1", "false|2", "NULL|3", "NULL|5", "NULL|NULL", "NULL|NULL"},
		},
		{
			name:    "a column twice",
			columns: []int{0, 5, 0},
			want:    []string{"1|1|1", "2|two|2", "3|true|3", "5|NULL|5", "NULL|NULL|NULL", "NULL|NULL|NULL"},
		},
		{
			name:    "no columns",
			columns: nil,
			want:    []string{"", "", "", "", "", ""},
		},
	}
	for _, tt := range tests {
		for _, bs := range batchSizes {
			t.Run(fmt.Sprintf("%s/batch=%d", tt.name, bs), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				rd, err := NewReader(path, f, tt.columns, Range{0, int64(len(sample))}, mem, bs)
				if err != nil {
					t.Fatal(err)
				}
				defer rd.Close()
				got, n, err := readAll(t, rd, bs)
				if err != nil {
					t.Fatal(err)
				}
				if n != int64(len(tt.want)) {
					t.Fatalf("read %d rows, want %d", n, len(tt.want))
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("rows:\n%q\nwant:\n%q", got, tt.want)
				}
				if err := rd.Close(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestSplits reads files in many ranges and checks that together they read
// exactly the rows of one whole-file read, in order.
func TestSplits(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	var b strings.Builder
	for i := range 500 {
		switch rng.Intn(6) {
		case 0:
			b.WriteString("\n") // blank line
		case 1:
			fmt.Fprintf(&b, "{\"i\":%d,\"pad\":%q}\n", i, strings.Repeat("x", rng.Intn(300)))
		default:
			fmt.Fprintf(&b, "{\"i\":%d}\n", i)
		}
	}
	content := b.String()
	path := writeFile(t, "splits.jsonl", content)
	f, err := Sniff(path)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(content))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	read := func(r Range, bs int) []string {
		rd, err := NewReader(path, f, []int{0}, r, mem, bs)
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		rows, _, err := readAll(t, rd, bs)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	whole := read(Range{0, size}, 1024)
	if len(whole) == 0 {
		t.Fatal("no rows")
	}
	for _, target := range []int64{1, 2, 3, 7, 10, 64, 100, 1000, size - 1, size, size + 1} {
		for _, bs := range []int{3, 1024} {
			ranges := Splits(size, target)
			var got []string
			prev := int64(0)
			for _, r := range ranges {
				if r.Start != prev || r.End < r.Start {
					t.Fatalf("target %d: ranges %v do not tile the file", target, ranges)
				}
				prev = r.End
				got = append(got, read(r, bs)...)
			}
			if prev != size {
				t.Fatalf("target %d: ranges end at %d, want %d", target, prev, size)
			}
			if !reflect.DeepEqual(got, whole) {
				t.Fatalf("target %d batch %d: %d split rows differ from %d whole-file rows", target, bs, len(got), len(whole))
			}
		}
	}
}

func TestSplitsShape(t *testing.T) {
	tests := []struct {
		size, target int64
		want         []Range
	}{
		{0, 10, []Range{{0, 0}}},
		{5, 0, []Range{{0, 5}}},
		{5, 10, []Range{{0, 5}}},
		{10, 5, []Range{{0, 5}, {5, 10}}},
		{11, 5, []Range{{0, 3}, {3, 7}, {7, 11}}},
	}
	for _, tt := range tests {
		if got := Splits(tt.size, tt.target); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Splits(%d, %d) = %v, want %v", tt.size, tt.target, got, tt.want)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	good := "{\"a\":1,\"b\":\"x\",\"c\":true}\n"
	lines := strings.Repeat(good, 40) // the bad line is line 41
	tests := []struct {
		name    string
		bad     string
		columns []int
		kind    error
		msg     string
	}{
		{"truncated object", `{"a":1`, []int{0}, ErrMalformed, "unexpected end of line"},
		{"trailing comma", `{"a":1,}`, []int{0}, ErrMalformed, "expected a string key"},
		{"not an object", `[1,2]`, []int{0}, ErrMalformed, "must hold one JSON object"},
		{"garbage after object", `{"a":1} x`, []int{0}, ErrMalformed, "after the object"},
		{"bad literal", `{"a":tru}`, []int{0}, ErrMalformed, "expected true"},
		{"bad number", `{"a":01}`, []int{0}, ErrMalformed, "expected ',' or '}'"},
		{"bad escape", `{"b":"\x"}`, []int{1}, ErrMalformed, "invalid escape"},
		{"raw control char", "{\"b\":\"a\tb\"}", []int{1}, ErrMalformed, "control character"},
		{"malformed in unprojected column", `{"a":1,"z":[1,}`, []int{0}, ErrMalformed, "expected a value"},
		{"malformed with no columns", `{"a":1,"z":[1,}`, nil, ErrMalformed, "expected a value"},
		{"string for BIGINT", `{"a":"1"}`, []int{0}, ErrType, `column "a": value "1" is not a BIGINT`},
		{"float for BIGINT", `{"a":1.5}`, []int{0}, ErrType, `value 1.5 is not a BIGINT`},
		{"BIGINT overflow", `{"a":9223372036854775808}`, []int{0}, ErrType, "out of range for BIGINT"},
		{"number for BOOLEAN", `{"c":1}`, []int{2}, ErrType, "is not a BOOLEAN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			content := lines + tt.bad + "\n" + good
			path := writeFile(t, "e.jsonl", content)
			f := Format{Columns: []string{"a", "b", "c"}, Types: []Type{BigInt, Varchar, Boolean}}
			size := int64(len(content))
			// Read the file as one split and as a later split that starts
			// part-way through, to check the line number is the file's.
			for _, r := range []Range{{0, size}, {int64(len(lines)) - 5, size}} {
				for _, bs := range []int{1, 7, 1024} {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					rd, err := NewReader(path, f, tt.columns, r, mem, bs)
					if err != nil {
						t.Fatal(err)
					}
					_, _, err = readAll(t, rd, bs)
					rd.Close()
					mem.AssertSize(t, 0)
					if err == nil {
						t.Fatalf("range %v: no error", r)
					}
					var le *LineError
					if !errors.As(err, &le) || le.Line != 41 || le.Path != path {
						t.Fatalf("range %v: error %v, want a LineError at %s:41", r, err, path)
					}
					if !strings.HasPrefix(err.Error(), path+":41: ") || !strings.Contains(err.Error(), tt.msg) {
						t.Fatalf("range %v: error %q, want prefix %s:41: and %q", r, err, path, tt.msg)
					}
					if !errors.Is(err, tt.kind) {
						t.Fatalf("range %v: error %v is not %v", r, err, tt.kind)
					}
				}
			}
		})
	}
}

func TestNullColumnRejectsValues(t *testing.T) {
	path := writeFile(t, "n.jsonl", "{\"n\":null}\n{\"n\":2}\n")
	f := Format{Columns: []string{"n"}, Types: []Type{Null}}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rd, err := NewReader(path, f, []int{0}, Range{0, 100}, mem, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rec, err := rd.Next(context.Background())
	if err != nil || rec.NumRows() != 1 || rec.Column(0).DataType().ID() != arrow.NULL || rec.Column(0).NullN() != 1 {
		t.Fatalf("first batch = %v, %v; want one null row", rec, err)
	}
	if _, err = rd.Next(context.Background()); err == nil || !strings.HasPrefix(err.Error(), path+":2: ") || !errors.Is(err, ErrType) {
		t.Fatalf("error = %v, want %s:2: type error", err, path)
	}
}

func TestReaderNoTrailingNewlineAndLongLines(t *testing.T) {
	long := strings.Repeat("é", readBufferSize) // longer than the read buffer
	content := "{\"s\":\"" + long + "\"}\n{\"s\":\"end\"}"
	path := writeFile(t, "l.jsonl", content)
	f := Format{Columns: []string{"s"}, Types: []Type{Varchar}}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rd, err := NewReader(path, f, []int{0}, Range{0, int64(len(content))}, mem, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	rows, _, err := readAll(t, rd, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0] != long || rows[1] != "end" {
		t.Fatalf("got %d rows, want the long string and \"end\"", len(rows))
	}
}

func TestReaderCancelledAndClosed(t *testing.T) {
	path := writeFile(t, "c.jsonl", "{\"a\":1}\n")
	f := Format{Columns: []string{"a"}, Types: []Type{BigInt}}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rd, err := NewReader(path, f, []int{0}, Range{0, 8}, mem, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := rd.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next on a cancelled context = %v", err)
	}
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rd.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if _, err := rd.Next(context.Background()); err == nil {
		t.Fatal("Next after Close succeeded")
	}
}

func TestNewReaderErrors(t *testing.T) {
	f := Format{Columns: []string{"a"}, Types: []Type{BigInt}}
	if _, err := NewReader(filepath.Join(t.TempDir(), "missing.jsonl"), f, nil, Range{0, 1}, nil, 1); err == nil || !strings.Contains(err.Error(), "missing.jsonl") {
		t.Fatalf("missing file error = %v", err)
	}
	path := writeFile(t, "x.jsonl", "{}\n")
	if _, err := NewReader(path, f, []int{1}, Range{0, 1}, nil, 1); err == nil {
		t.Fatal("out-of-range column accepted")
	}
	if _, err := NewReader(path, Format{Columns: []string{"a"}}, nil, Range{0, 1}, nil, 1); err == nil {
		t.Fatal("format without types accepted")
	}
	if _, err := NewReader(path, Format{Columns: []string{"a"}, Types: []Type{"JSON"}}, nil, Range{0, 1}, nil, 1); err == nil {
		t.Fatal("unknown type accepted")
	}
	if _, err := NewReader(path, Format{Columns: []string{"a", "a"}, Types: []Type{BigInt, BigInt}}, nil, Range{0, 1}, nil, 1); err == nil {
		t.Fatal("format naming a column twice accepted")
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct{ in, want string }{
		{`plain`, "plain"},
		{`a\"b\\c\/d`, `a"b\c/d`},
		{`\b\f\n\r\t`, "\b\f\n\r\t"},
		{`\u0041\u00e9\u4e2d`, "Aé中"},
		{`\ud83d\ude00`, "😀"},
		{`\ud83dx`, "\uFFFDx"},
		{`\ude00\ud83d`, "\uFFFD\uFFFD"},
		{`\ud83d\u0041`, "\uFFFDA"},
	}
	for _, tt := range tests {
		if got := string(appendUnescaped(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("unescape(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func BenchmarkReader(b *testing.B) {
	var sb strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&sb, `{"l_orderkey":%d,"l_quantity":%d.0,"l_returnflag":"%c","l_shipdate":"1996-03-%02d","l_comment":"carefully final deposits \"detect\""}`+"\n",
			i, i%50, "ANR"[i%3], i%28+1)
	}
	content := sb.String()
	path := writeFile(b, "bench.jsonl", content)
	f, err := Sniff(path)
	if err != nil {
		b.Fatal(err)
	}
	cols := make([]int, len(f.Columns))
	for i := range cols {
		cols[i] = i
	}
	b.SetBytes(int64(len(content)))
	b.ReportAllocs()
	for b.Loop() {
		rd, err := NewReader(path, f, cols, Range{0, int64(len(content))}, memory.DefaultAllocator, 16*1024)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := rd.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		rd.Close()
	}
}
