package shuffle

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// The partitioning hash is part of quern's on-disk and on-wire contract: map
// tasks in different processes (and different builds) must send a key to the
// same reducer. Every constant below is fixed forever; TestPartitionGolden
// fails if any of them, or the canonical bytes of a type, change.
//
// The hash of a row is built from the hashes of its key values in order:
//
//	h = rowSeed
//	for each key: h = combine(h, valueHash)
//
// where valueHash is hashBytes of the value's canonical bytes (int64, uint64,
// timestamp: 8 bytes little-endian; float64: its bits, -0 as 0 and every NaN
// as one NaN; decimal128: low then high word, 16 bytes; date32: 4 bytes;
// bool: 1 byte; string: its bytes, the length being mixed in by hashBytes),
// and a NULL's valueHash is nullHash. The constants are hexadecimal digits of
// e, odd where they multiply.
const (
	pk0 = 0xb7e151628aed2a6b
	pk1 = 0xbf7158809cf4f3c7
	pk2 = 0x62e7160f38b4da57
	pk3 = 0xa784d9045190cfef
	pk4 = 0x324e7738926cfbe5

	rowSeed  = 0xf4bf8d8d8c31d763
	nullHash = 0xda06c80abb1185eb
)

func fold(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// hashBytes hashes a canonical byte string.
func hashBytes(b []byte) uint64 {
	h := lenSeed(len(b))
	for len(b) > 16 {
		h = fold(binary.LittleEndian.Uint64(b)^pk1, binary.LittleEndian.Uint64(b[8:])^h)
		b = b[16:]
	}
	var x, y uint64
	switch n := len(b); {
	case n > 8:
		x = binary.LittleEndian.Uint64(b)
		y = binary.LittleEndian.Uint64(b[n-8:])
	case n >= 4:
		x = uint64(binary.LittleEndian.Uint32(b))
		y = uint64(binary.LittleEndian.Uint32(b[n-4:]))
	case n > 0:
		x = uint64(b[0])<<16 | uint64(b[n/2])<<8 | uint64(b[n-1])
	}
	return finish(h, x, y)
}

// lenSeed starts a byte string's hash from its length (wrapping multiply).
func lenSeed(n int) uint64 { return uint64(n)*pk2 ^ pk0 }

func finish(h, x, y uint64) uint64 {
	return fold(fold(x^pk3, y^h^pk4), h^pk1)
}

// The fixed-width paths below compute exactly hashBytes of the canonical
// bytes without building them (TestFixedWidthHashesMatchBytes).

var h1, h4, h8, h16 = lenSeed(1), lenSeed(4), lenSeed(8), lenSeed(16)

func hash1(v uint8) uint64 {
	x := uint64(v)
	return finish(h1, x<<16|x<<8|x, 0)
}

func hash4(v uint32) uint64 {
	return finish(h4, uint64(v), uint64(v))
}

func hash8(v uint64) uint64 {
	return finish(h8, v&0xffffffff, v>>32)
}

func hash16(lo, hi uint64) uint64 {
	return finish(h16, lo, hi)
}

func floatBits(f float64) uint64 {
	switch {
	case f == 0:
		return 0
	case f != f:
		return 0x7ff8000000000001
	}
	return math.Float64bits(f)
}

// combine mixes the hash of the next key value into a row hash.
func combine(h, v uint64) uint64 {
	return fold(h^pk1, v^pk4)
}
