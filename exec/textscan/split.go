package textscan

// Range is the byte range [Start, End) of a file that one scan task reads.
// See the package documentation for which words a range yields.
type Range struct{ Start, End int64 }

// DefaultSplitSize is the range length Splits uses when asked for none.
const DefaultSplitSize = 64 << 20

// Splits cuts a file of fileSize bytes into contiguous ranges of about target
// bytes (DefaultSplitSize when target <= 0). It always returns at least one
// range; an empty file gives the single range {0, 0}. Ranges have equal
// lengths to within one byte, so none is a sliver.
func Splits(fileSize, target int64) []Range {
	if target <= 0 {
		target = DefaultSplitSize
	}
	if fileSize <= 0 {
		return []Range{{0, 0}}
	}
	n := fileSize / target
	if fileSize%target != 0 {
		n++
	}
	out := make([]Range, n)
	var start int64
	for i := int64(0); i < n; i++ {
		// (i+1)*fileSize can overflow for absurd sizes; divide first.
		end := fileSize/n*(i+1) + fileSize%n*(i+1)/n
		out[i] = Range{start, end}
		start = end
	}
	return out
}

// isSep reports the bytes that separate words: C-locale ispunct or isspace.
var isSep = func() (t [256]bool) {
	for _, c := range []byte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \t\n\v\f\r") {
		t[c] = true
	}
	return t
}()
