package agg

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// TestBytesTableKeys checks that every key shape round-trips through a
// bytesTable: inline keyRefs (0–12 bytes), long keys split between keyRef
// and pages, and fixed widths on both sides of inlineKey, across growth.
func TestBytesTableKeys(t *testing.T) {
	for _, tc := range []struct {
		name  string
		width int // 0: keys of every length 0..40
	}{
		{"variable", 0},
		{"fixed-3", 3},
		{"fixed-12", 12},
		{"fixed-13", 13},
		{"fixed-40", 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newBytesTable(tc.width)
			defer tb.free()
			var keys [][]byte
			for i := range 3000 {
				n := tc.width
				if n == 0 {
					n = i % 41
				}
				k := make([]byte, n)
				// Keys share long prefixes and differ late, and the same
				// bytes come back at several lengths.
				copy(k, fmt.Sprintf("%040d", i/41))
				if n > 0 {
					k[n-1] ^= byte(i)
				}
				keys = append(keys, k)
			}
			want := map[string]uint32{}
			for _, k := range keys {
				g, added := tb.find(hashBytes(k), k)
				prev, seen := want[string(k)]
				if added == seen || (seen && g != prev) {
					t.Fatalf("key %q: group %d added %v, want group %d seen %v", k, g, added, prev, seen)
				}
				want[string(k)] = g
			}
			if tb.groups() != len(want) {
				t.Fatalf("groups = %d, want %d", tb.groups(), len(want))
			}
			total := 0
			for k, g := range want {
				if got := tb.key(int(g)); !bytes.Equal(got, []byte(k)) {
					t.Fatalf("key(%d) = %q, want %q", g, got, k)
				}
				if g2, added := tb.find(hashBytes([]byte(k)), []byte(k)); added || g2 != g {
					t.Fatalf("find(%q) again = %d, %v; want %d", k, g2, added, g)
				}
				total += len(k)
			}
			if got := tb.keyBytes(0, tb.groups()); got != total {
				t.Fatalf("keyBytes = %d, want %d", got, total)
			}
		})
	}
}

// TestRefWords checks the probe's words against a keyRef built byte by byte.
func TestRefWords(t *testing.T) {
	for n := 0; n <= 20; n++ {
		k := make([]byte, n)
		for i := range k {
			k[i] = byte(0xa0 + i)
		}
		var r keyRef
		binary.LittleEndian.PutUint32(r[:4], uint32(n))
		copy(r[4:], k)
		w0, w1 := refWords(k)
		if w0 != binary.LittleEndian.Uint64(r[:8]) || (n <= inlineKey && w1 != binary.LittleEndian.Uint64(r[8:])) {
			t.Errorf("len %d: words %#x %#x, keyRef %x", n, w0, w1, r)
		}
	}
}
