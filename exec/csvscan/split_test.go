package csvscan

import (
	"reflect"
	"testing"
)

// TestSplitterPrefixes: given any prefix of its input that is not known to
// be the whole file, record must either ask for more or give exactly what it
// gives on the whole input. This is what lets the reader stop a buffer
// anywhere.
func TestSplitterPrefixes(t *testing.T) {
	inputs := []string{
		"a,b,c\n",
		"a,\"b\",c\r\n",
		"\"x\"\"\",\"\"\n",
		"\"multi\nline\",\"q\"\"\"\r\n",
		"\"\r\n\"\n",
		"1,2\n\n",
		"\"a\"\"\"\"\",b,\"\"\"\"\n",
		"\"a\"x,b\n",
	}
	for _, in := range inputs {
		for _, multiline := range []bool{false, true} {
			for _, quoted := range []bool{false, true} {
				sp := newSplitter(',', quoted, multiline)
				sp.all = true
				buf := []byte(in + "next,line\n")
				wantNext, wantN, wantRes := sp.record(buf, 0, true, 0, nil)
				wantFields := append([]span(nil), sp.fields...)
				wantErr := sp.errKind
				for l := 1; l < len(buf); l++ {
					next, n, res := sp.record(buf[:l], 0, false, 0, nil)
					if res == recMore {
						continue
					}
					if next != wantNext || n != wantN || res != wantRes ||
						(res == recOK && !reflect.DeepEqual(sp.fields, wantFields)) ||
						(res == recErr && sp.errKind != wantErr) {
						t.Errorf("%q quoted=%v multiline=%v prefix %d: got (%d, %d, %d, %v), whole input gives (%d, %d, %d, %v)",
							in, quoted, multiline, l, next, n, res, sp.fields, wantNext, wantN, wantRes, wantFields)
					}
				}
			}
		}
	}
}
