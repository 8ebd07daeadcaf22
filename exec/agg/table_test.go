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

// TestBytesTableEmitted emits a sealed table's groups in uneven steps, as
// the operator does: the keys still to come must read back intact, every
// page holding none of them must be gone (a freed page is nil, so reading
// it fails), and by the end nothing of the pages may be held.
func TestBytesTableEmitted(t *testing.T) {
	for _, tc := range []struct {
		name  string
		width int
		long  func(i int) bool // whether key i is longer than inlineKey
	}{
		{"variable", 0, func(i int) bool { return i%5 == 0 }},
		{"variable-few-long", 0, func(i int) bool { return i%997 == 3 }},
		{"variable-all-short", 0, func(int) bool { return false }},
		{"fixed-20", 20, func(int) bool { return true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := newBytesTable(tc.width)
			defer tb.free()
			var keys [][]byte
			var pageOf []int // the page of key i's paged bytes, -1 for an inline key
			for i := range 20_000 {
				n := tc.width
				if n == 0 {
					n = 8
					if tc.long(i) {
						n = 13 + i%60
					}
				}
				k := make([]byte, n)
				copy(k, fmt.Sprintf("%020d", i))
				binary.LittleEndian.PutUint16(k, uint16(i)) // unique within the first bytes too
				if g, added := tb.find(hashBytes(k), k); !added || int(g) != i {
					t.Fatalf("key %d: group %d, added %v", i, g, added)
				}
				keys = append(keys, k)
				if n > inlineKey {
					pageOf = append(pageOf, len(tb.pages)-1) // a new key goes into the last page
				} else {
					pageOf = append(pageOf, -1)
				}
			}
			tb.seal()
			pages := len(tb.pages)
			for from := 0; from < len(keys); {
				to := min(from+1+from/3, len(keys))
				for g := from; g < to; g++ {
					if got := tb.key(g); !bytes.Equal(got, keys[g]) {
						t.Fatalf("key(%d) = %q, want %q", g, got, keys[g])
					}
				}
				tb.emitted(to)
				from = to
				// The page of every key still to come is there; every page
				// before the first of them is gone.
				first := len(tb.pages)
				for _, p := range pageOf[to:] {
					if p >= 0 {
						first = p
						break
					}
				}
				for p, pg := range tb.pages {
					if gone := pg == nil; gone != (p < first) {
						t.Fatalf("emitted %d: page %d of %d gone %v, first page still needed %d", to, p, pages, gone, first)
					}
				}
			}
			if tb.pagedCap != 0 {
				t.Errorf("all emitted: %d bytes of pages still held", tb.pagedCap)
			}
		})
	}
}
