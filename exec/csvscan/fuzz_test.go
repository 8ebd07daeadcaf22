package csvscan

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzReader: any file either reads or fails with an error naming the
// file; never a panic, never a hang.
func FuzzReader(f *testing.F) {
	f.Add([]byte("a,b,c\n1,2.5,x\n3,,\"q,\"\"u\"\"\"\n"), int64(7))
	f.Add([]byte("id|d|ok\r\n1|2020-01-02|true\r\n2|2021-13-01|false\r\n"), int64(3))
	f.Add([]byte("x;y\n\"multi\nline\";2\n"), int64(100))
	f.Add([]byte("\xef\xbb\xbfh\n1\n2\nx\n"), int64(1))
	f.Fuzz(func(t *testing.T, data []byte, split int64) {
		if len(data) > 1<<16 {
			return
		}
		path := filepath.Join(t.TempDir(), "f.csv")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		format, err := Sniff(path)
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("sniff error without the path: %v", err)
			}
			return
		}
		if split < 1 {
			split = 1
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		cols := make([]int, len(format.Header))
		for i := range cols {
			cols[i] = i
		}
		for _, r := range Splits(format, int64(len(data)), split) {
			rd, err := NewReader(path, format, cols, r, mem, 3)
			if err != nil {
				if !strings.Contains(err.Error(), path) {
					t.Fatalf("reader error without the path: %v", err)
				}
				continue
			}
			for {
				_, err := rd.Next(context.Background())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					if !strings.Contains(err.Error(), path) {
						t.Fatalf("read error without the path: %v", err)
					}
					break
				}
			}
			rd.Close()
		}
	})
}
