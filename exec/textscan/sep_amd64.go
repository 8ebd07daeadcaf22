package textscan

// sepWindows classifies n windows of 64 bytes from p into out[0:n], bit q of
// out[k] set when p[64k+q] is a separator: SSSE3's byte shuffle looks up
// both nibbles of 16 bytes at once in two 16-entry tables (about 50
// instructions a window instead of about 200 for sepBits).
//
//go:noescape
func sepWindows(p *byte, n int, out *uint64)

func cpuid1ECX() uint32

// hasSSSE3 is CPUID leaf 1, ECX bit 9 (PSHUFB).
var hasSSSE3 = cpuid1ECX()&(1<<9) != 0

// classify fills out[:nw] with the separator bitmaps of the nw windows of
// 64 bytes at the start of b (which may run past len(b) into its padding).
func classify(b []byte, nw int, out *[windows]uint64) {
	if hasSSSE3 {
		sepWindows(&b[0], nw, &out[0])
		return
	}
	classifyGeneric(b, nw, out)
}
